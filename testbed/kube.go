package testbed

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/scalegate/scalegate/manifests"
)

// Annotations of kwok's "general" pod stages. A stage's delay is
// min(delay, jitter-delay) when the jitter is not above the delay, and the
// default jitter is 5 s, so both are set (manifests.Render does the same for
// the ready delay).
const (
	podCreateDelayAnnotation  = "pod-create.stage.kwok.x-k8s.io/delay"
	podCreateJitterAnnotation = "pod-create.stage.kwok.x-k8s.io/jitter-delay"
	// podCreateDelay is how long a new pod takes to be created (Pending, with
	// an IP), fixed instead of kwok's default of 1–5 s so scale-up timing is
	// repeatable.
	podCreateDelay = "1s"
)

// renderWorkload renders the embedded workload for the testbed: scaled
// behaviour, pods pinned to the fake node, and exact kwok delays.
func renderWorkload(cfg Config) (*manifests.Workload, error) {
	p := manifests.Params{Namespace: cfg.Namespace, TimeScale: cfg.TimeScale, NodeName: NodeName}
	if cfg.ReadyDelay > 0 {
		p.ReadyDelay = cfg.ReadyDelay
	}
	wl, err := manifests.Render(p)
	if err != nil {
		return nil, fmt.Errorf("render workload: %w", err)
	}
	tpl := &wl.Deployment.Spec.Template
	if tpl.Annotations == nil {
		tpl.Annotations = map[string]string{}
	}
	tpl.Annotations[podCreateDelayAnnotation] = podCreateDelay
	tpl.Annotations[podCreateJitterAnnotation] = podCreateDelay
	return wl, nil
}

// podMetricNames lists the Pods-type metrics hpa scales on.
func podMetricNames(hpa *autoscalingv2.HorizontalPodAutoscaler) []string {
	var names []string
	for _, m := range hpa.Spec.Metrics {
		if m.Type == autoscalingv2.PodsMetricSourceType && m.Pods != nil {
			names = append(names, m.Pods.Metric.Name)
		}
	}
	return names
}

// kube is the testbed's API client.
type kube struct {
	cs  kubernetes.Interface
	dyn dynamic.Interface
	cfg *rest.Config
}

func newKube(cfg *rest.Config) (*kube, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build API client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build API client: %w", err)
	}
	return &kube{cs: cs, dyn: dyn, cfg: cfg}, nil
}

// applyTestbed creates the namespace, the fake node and the APIService. The
// cluster is new, so it creates; an object that exists already is left as
// it is.
func (k *kube) applyTestbed(ctx context.Context, namespace string, adapterPort int) error {
	port := adapterPort
	if port == 0 {
		port = 1 // no adapter: the APIService stays unavailable, which is harmless
	}
	objs, err := manifests.Testbed(namespace, NodeName, port)
	if err != nil {
		return fmt.Errorf("render testbed objects: %w", err)
	}
	if adapterPort == 0 {
		objs = without(objs, "APIService")
	}
	groups, err := restmapper.GetAPIGroupResources(k.cs.Discovery())
	if err != nil {
		return fmt.Errorf("discover API resources: %w", err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("map %s: %w", gvk, err)
		}
		var ri dynamic.ResourceInterface = k.dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = k.dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		if _, err := ri.Create(ctx, o, metav1.CreateOptions{FieldManager: fieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %s %s: %w", o.GetKind(), objName(o.GetNamespace(), o.GetName()), err)
		}
	}
	return nil
}

func without(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	out := objs[:0:0]
	for _, o := range objs {
		if o.GetKind() != kind {
			out = append(out, o)
		}
	}
	return out
}

const fieldManager = "scalegate-testbed"

func (k *kube) applyWorkload(ctx context.Context, wl *manifests.Workload) error {
	opts := metav1.CreateOptions{FieldManager: fieldManager}
	d, s, h := wl.Deployment, wl.Service, wl.HPA
	if _, err := k.cs.AppsV1().Deployments(d.Namespace).Create(ctx, d, opts); err != nil {
		return fmt.Errorf("create deployment %s: %w", objName(d.Namespace, d.Name), err)
	}
	if _, err := k.cs.CoreV1().Services(s.Namespace).Create(ctx, s, opts); err != nil {
		return fmt.Errorf("create service %s: %w", objName(s.Namespace, s.Name), err)
	}
	if _, err := k.cs.AutoscalingV2().HorizontalPodAutoscalers(h.Namespace).Create(ctx, h, opts); err != nil {
		return fmt.Errorf("create horizontalpodautoscaler %s: %w", objName(h.Namespace, h.Name), err)
	}
	return nil
}

func objName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

func (k *kube) nodeReady(name string) condition {
	return func(ctx context.Context) (bool, string, error) {
		n, err := k.cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, "no node yet", nil
		}
		if err != nil {
			return false, "", err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue, fmt.Sprintf("Ready=%s %s", c.Status, c.Reason), nil
			}
		}
		return false, "no Ready condition yet", nil
	}
}

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// apiServicesAvailable is done when every custom.metrics.k8s.io APIService
// reports Available=True.
func (k *kube) apiServicesAvailable() condition {
	return func(ctx context.Context) (bool, string, error) {
		list, err := k.dyn.Resource(apiServiceGVR).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		var notYet []string
		found := 0
		for _, o := range list.Items {
			if !strings.HasSuffix(o.GetName(), ".custom.metrics.k8s.io") {
				continue
			}
			found++
			status, reason := apiServiceAvailable(&o)
			if status != "True" {
				notYet = append(notYet, fmt.Sprintf("%s Available=%s %s", o.GetName(), status, reason))
			}
		}
		if found == 0 {
			return false, "no custom.metrics.k8s.io APIService", nil
		}
		return len(notYet) == 0, strings.Join(notYet, "; "), nil
	}
}

func apiServiceAvailable(o *unstructured.Unstructured) (status, reason string) {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Available" {
			continue
		}
		s, _ := m["status"].(string)
		r, _ := m["reason"].(string)
		return s, r
	}
	return "Unknown", "no condition yet"
}

func (k *kube) serviceAccount(ns, name string) condition {
	return func(ctx context.Context) (bool, string, error) {
		_, err := k.cs.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, "not created yet", nil
		}
		return err == nil, "", err
	}
}

func (k *kube) deploymentReady(ns, name string, want int32) condition {
	return func(ctx context.Context) (bool, string, error) {
		d, err := k.cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, "no deployment yet", nil
		}
		if err != nil {
			return false, "", err
		}
		saw := fmt.Sprintf("%d/%d ready", d.Status.ReadyReplicas, want)
		return d.Status.ReadyReplicas >= want, saw, nil
	}
}

// podMetricsServed is done when the custom metrics API returns a value of
// every metric for every live pod of d.
func (k *kube) podMetricsServed(d *appsv1.Deployment, metrics []string) condition {
	return func(ctx context.Context) (bool, string, error) {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			return false, "", fmt.Errorf("deployment selector: %w", err)
		}
		pods, err := k.cs.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return false, "", err
		}
		var names []string
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil {
				names = append(names, p.Name)
			}
		}
		if len(names) == 0 {
			return false, "no pods yet", nil
		}
		var missing []string
		for _, m := range metrics {
			got, err := k.podMetric(ctx, d.Namespace, m, sel)
			if err != nil {
				if apierrors.IsNotFound(err) || apierrors.IsServiceUnavailable(err) {
					missing = append(missing, m+": "+err.Error())
					continue
				}
				return false, "", err
			}
			for _, n := range names {
				if !got[n] {
					missing = append(missing, m+" of "+n)
				}
			}
		}
		sort.Strings(missing)
		return len(missing) == 0, "missing " + strings.Join(missing, ", "), nil
	}
}

// podMetric asks custom.metrics.k8s.io for metric on the pods sel matches and
// returns the names of the pods it has a value for.
func (k *kube) podMetric(ctx context.Context, ns, metric string, sel labels.Selector) (map[string]bool, error) {
	path := fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/pods/*/%s", url.PathEscape(ns), url.PathEscape(metric))
	raw, err := k.cs.Discovery().RESTClient().Get().AbsPath(path).Param("labelSelector", sel.String()).DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []struct {
			DescribedObject struct {
				Name string `json:"name"`
			} `json:"describedObject"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("decode custom metric %s: %w", metric, err)
	}
	got := map[string]bool{}
	for _, it := range list.Items {
		got[it.DescribedObject.Name] = true
	}
	return got, nil
}

func (k *kube) hpaActive(ns, name string) condition {
	return func(ctx context.Context) (bool, string, error) {
		h, err := k.cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, "no HPA yet", nil
		}
		if err != nil {
			return false, "", err
		}
		for _, c := range h.Status.Conditions {
			if c.Type == autoscalingv2.ScalingActive {
				return c.Status == corev1.ConditionTrue, fmt.Sprintf("ScalingActive=%s %s: %s", c.Status, c.Reason, c.Message), nil
			}
		}
		return false, "no ScalingActive condition yet", nil
	}
}
