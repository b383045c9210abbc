package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/metrics/pkg/client/custom_metrics"

	"github.com/scalegate/scalegate/loadgen"
	"github.com/scalegate/scalegate/validator"
)

// EnvironmentError is a pre-flight failure: the cluster, the endpoint or
// the permissions are not what a run needs. Fix says what to do.
type EnvironmentError struct {
	Check string
	Err   error
	Fix   string
}

func (e *EnvironmentError) Error() string {
	msg := fmt.Sprintf("pre-flight %s: %v", e.Check, e.Err)
	if e.Fix != "" {
		msg += " (" + e.Fix + ")"
	}
	return msg
}

func (e *EnvironmentError) Unwrap() error { return e.Err }

// Target is what pre-flight found: the objects a run watches and the model
// it sends to.
type Target struct {
	Deployment *appsv1.Deployment
	HPA        *autoscalingv2.HorizontalPodAutoscaler
	Spec       validator.HPASpec
	Selector   labels.Selector
	Model      string
}

// Preflight checks, before any load is sent, everything a run needs, and
// returns the first problem with its fix.
func Preflight(ctx context.Context, cfg Config, kube kubernetes.Interface, metrics custom_metrics.CustomMetricsClient, client *loadgen.Client) (*Target, error) {
	t := &Target{}
	if err := checkRBAC(ctx, kube, cfg.Namespace); err != nil {
		return nil, err
	}
	dep, err := kube.AppsV1().Deployments(cfg.Namespace).Get(ctx, cfg.Deployment, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &EnvironmentError{Check: "deployment", Err: fmt.Errorf("deployment %s not found in namespace %s", cfg.Deployment, cfg.Namespace),
				Fix: "check -n/--namespace and --deployment"}
		}
		return nil, &EnvironmentError{Check: "deployment", Err: err, Fix: "check --kubeconfig and --context"}
	}
	t.Deployment = dep
	if t.Selector, err = metav1.LabelSelectorAsSelector(dep.Spec.Selector); err != nil || t.Selector.Empty() {
		return nil, &EnvironmentError{Check: "deployment", Err: fmt.Errorf("deployment %s has no usable pod selector", cfg.Deployment)}
	}
	if t.HPA, err = findHPA(ctx, kube, cfg); err != nil {
		return nil, err
	}
	if t.Spec, err = validator.SpecFromHPA(t.HPA); err != nil {
		return nil, &EnvironmentError{Check: "hpa", Err: err, Fix: "scalegate grades HPAs on Pods metrics with AverageValue targets"}
	}
	var missing []string
	for _, m := range cfg.Profile.Metrics() {
		if _, ok := t.Spec.TargetOf(m); !ok {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		return nil, &EnvironmentError{Check: "hpa",
			Err: fmt.Errorf("hpa %s does not scale on %s, which the profile's promises are about", t.HPA.Name, strings.Join(missing, ", ")),
			Fix: "point --hpa at the right HPA, or use a --profile whose thresholds name the HPA's metrics"}
	}
	for _, m := range t.Spec.Metrics {
		list, err := metrics.NamespacedMetrics(cfg.Namespace).GetForObjects(podKind, t.Selector, m.Name, labels.Everything())
		if err == nil && len(list.Items) == 0 {
			err = errors.New("no values returned for the deployment's pods")
		}
		if err != nil {
			return nil, &EnvironmentError{Check: "custom metrics",
				Err: fmt.Errorf("metric %s is not served by custom.metrics.k8s.io for %s's pods: %w", m.Name, cfg.Deployment, err),
				Fix: "the custom-metrics adapter is the likely cause: check its APIService (v1beta1.custom.metrics.k8s.io) is Available and that its rules export this metric per pod"}
		}
	}
	if err := client.Ready(ctx); err != nil {
		return nil, &EnvironmentError{Check: "endpoint", Err: err, Fix: endpointFix(err)}
	}
	models, err := client.Models(ctx)
	if err != nil {
		return nil, &EnvironmentError{Check: "endpoint", Err: err, Fix: endpointFix(err)}
	}
	switch {
	case cfg.Model == "" && len(models) == 0:
		return nil, &EnvironmentError{Check: "endpoint", Err: errors.New("the endpoint lists no model at /v1/models")}
	case cfg.Model == "":
		t.Model = models[0]
	case !slices.Contains(models, cfg.Model):
		return nil, &EnvironmentError{Check: "endpoint", Err: fmt.Errorf("model %q is not served; the endpoint lists %s", cfg.Model, strings.Join(models, ", ")), Fix: "fix --model"}
	default:
		t.Model = cfg.Model
	}
	return t, nil
}

// endpointFix says what to do about an endpoint that failed a check.
func endpointFix(err error) string {
	var se *loadgen.StatusError
	if !errors.As(err, &se) {
		return "is the endpoint reachable from here? port-forward the Service and point --endpoint at it"
	}
	switch {
	case se.Code == http.StatusUnauthorized || se.Code == http.StatusForbidden:
		return "put the API key in the environment variable --api-key-env names"
	case se.Code == http.StatusNotFound:
		return "--endpoint must be the OpenAI-compatible base URL, the one /v1/models hangs off"
	case se.Code == http.StatusServiceUnavailable:
		return "the model may still be loading: NIM answers 503 on /v1/health/ready until it is ready"
	}
	return "check --endpoint and the service's logs"
}

// findHPA returns the HPA named in cfg, or the one whose scaleTargetRef is
// the deployment.
func findHPA(ctx context.Context, kube kubernetes.Interface, cfg Config) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	hpas := kube.AutoscalingV2().HorizontalPodAutoscalers(cfg.Namespace)
	if cfg.HPA != "" {
		h, err := hpas.Get(ctx, cfg.HPA, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, &EnvironmentError{Check: "hpa", Err: fmt.Errorf("hpa %s not found in namespace %s", cfg.HPA, cfg.Namespace), Fix: "check --hpa and -n"}
		}
		if err != nil {
			return nil, &EnvironmentError{Check: "hpa", Err: err}
		}
		if ref := h.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != cfg.Deployment {
			return nil, &EnvironmentError{Check: "hpa", Err: fmt.Errorf("hpa %s targets %s %s, not deployment %s", h.Name, ref.Kind, ref.Name, cfg.Deployment)}
		}
		return h, nil
	}
	list, err := hpas.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, &EnvironmentError{Check: "hpa", Err: err}
	}
	var found []autoscalingv2.HorizontalPodAutoscaler
	for _, h := range list.Items {
		if ref := h.Spec.ScaleTargetRef; ref.Kind == "Deployment" && ref.Name == cfg.Deployment {
			found = append(found, h)
		}
	}
	switch len(found) {
	case 0:
		return nil, &EnvironmentError{Check: "hpa", Err: fmt.Errorf("no HPA in namespace %s targets deployment %s", cfg.Namespace, cfg.Deployment), Fix: "apply the HPA, or name it with --hpa"}
	case 1:
		return &found[0], nil
	}
	var names []string
	for _, h := range found {
		names = append(names, h.Name)
	}
	return nil, &EnvironmentError{Check: "hpa", Err: fmt.Errorf("several HPAs target deployment %s: %s", cfg.Deployment, strings.Join(names, ", ")), Fix: "name one with --hpa"}
}

// access is one permission the watcher needs.
type access struct {
	verb, group, resource string
}

// needed is what the read-only RBAC manifest grants.
var needed = []access{
	{"get", "apps", "deployments"}, {"list", "apps", "deployments"}, {"watch", "apps", "deployments"},
	{"list", "apps", "replicasets"}, {"watch", "apps", "replicasets"},
	{"get", "autoscaling", "horizontalpodautoscalers"}, {"list", "autoscaling", "horizontalpodautoscalers"}, {"watch", "autoscaling", "horizontalpodautoscalers"},
	{"list", "", "pods"}, {"watch", "", "pods"},
	{"list", "", "events"}, {"watch", "", "events"},
	{"get", "custom.metrics.k8s.io", "pods"},
}

// checkRBAC asks the API server, with SelfSubjectAccessReviews, whether we
// may do what the watcher needs, and lists every missing permission.
func checkRBAC(ctx context.Context, kube kubernetes.Interface, ns string) error {
	var missing []string
	for _, a := range needed {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: a.verb, Group: a.group, Resource: a.resource}}}
		res, err := kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return &EnvironmentError{Check: "rbac", Err: fmt.Errorf("ask the API server for permissions: %w", err), Fix: "check --kubeconfig, --context and that the cluster is reachable"}
		}
		if !res.Status.Allowed {
			name := a.resource
			if a.group != "" {
				name += "." + a.group
			}
			missing = append(missing, a.verb+" "+name)
		}
	}
	if len(missing) > 0 {
		return &EnvironmentError{Check: "rbac", Err: fmt.Errorf("not allowed in namespace %s: %s", ns, strings.Join(missing, ", ")),
			Fix: "bind the read-only role scalegate ships (scalegate manifests rbac) to this identity"}
	}
	return nil
}
