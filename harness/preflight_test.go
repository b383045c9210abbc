package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	cmfake "k8s.io/metrics/pkg/client/custom_metrics/fake"
	"k8s.io/utils/clock"

	"github.com/scalegate/scalegate/loadgen"
	"github.com/scalegate/scalegate/manifests"
	"github.com/scalegate/scalegate/validator"
)

// world is a cluster and an endpoint for pre-flight to check.
type world struct {
	objects   []runtime.Object
	denied    map[string]bool // "verb resource" pairs RBAC refuses
	served    map[string]bool // metrics the adapter serves
	status    int             // the endpoint's answer to health and models
	models    string
	mutateHPA func(*autoscalingv2.HorizontalPodAutoscaler)
}

func seedWorld() world {
	return world{
		served: map[string]bool{"nim_queue_depth": true, "nim_gpu_utilization_percent": true},
		status: http.StatusOK,
		models: `{"object":"list","data":[{"id":"meta/codellama-13b-instruct","object":"model"}]}`,
	}
}

func (w world) preflight(t *testing.T, cfg Config) (*Target, error) {
	t.Helper()
	wl, err := manifests.Render(manifests.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if w.mutateHPA != nil {
		w.mutateHPA(wl.HPA)
	}
	objs := append([]runtime.Object{wl.Deployment, wl.HPA}, w.objects...)
	kube := fake.NewSimpleClientset(objs...)
	kube.PrependReactor("create", "selfsubjectaccessreviews", func(a clienttesting.Action) (bool, runtime.Object, error) {
		r := a.(clienttesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		attr := r.Spec.ResourceAttributes
		r.Status.Allowed = !w.denied[attr.Verb+" "+attr.Resource]
		return true, r, nil
	})
	mc := &cmfake.FakeCustomMetricsClient{}
	mc.AddReactor("get", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		name := a.(cmfake.GetForAction).GetMetricName()
		if !w.served[name] {
			return true, nil, fmt.Errorf("the server could not find the metric %s for pods", name)
		}
		return true, &v1beta2.MetricValueList{Items: []v1beta2.MetricValue{
			{DescribedObject: corev1.ObjectReference{Kind: "Pod", Name: "p1"}, Value: resource.MustParse("3")}}}, nil
	})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(w.status)
		if w.status != http.StatusOK {
			fmt.Fprintf(rw, `{"error":{"message":"nope","code":%d}}`, w.status)
			return
		}
		if r.URL.Path == "/v1/models" {
			fmt.Fprint(rw, w.models)
		}
	}))
	t.Cleanup(srv.Close)
	client := &loadgen.Client{BaseURL: srv.URL, HTTP: srv.Client(), Clock: clock.RealClock{}}
	return Preflight(context.Background(), cfg, kube, mc, client)
}

func baseConfig() Config {
	return Config{Namespace: "production", Deployment: "coding-assistant", Profile: validator.DefaultProfile()}
}

func TestPreflight(t *testing.T) {
	tests := []struct {
		name    string
		world   func(*world)
		cfg     func(*Config)
		wantErr string // empty: pre-flight passes
		check   string // which check failed
	}{
		{name: "the seed passes"},
		{name: "wrong namespace", cfg: func(c *Config) { c.Namespace = "staging" }, check: "deployment",
			wantErr: "deployment coding-assistant not found in namespace staging (check -n/--namespace and --deployment)"},
		{name: "missing deployment", cfg: func(c *Config) { c.Deployment = "chat" }, check: "deployment", wantErr: "deployment chat not found"},
		{name: "no HPA targets the deployment", world: func(w *world) {
			w.mutateHPA = func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.ScaleTargetRef.Name = "other" }
		}, check: "hpa", wantErr: "no HPA in namespace production targets deployment coding-assistant"},
		{name: "named HPA missing", cfg: func(c *Config) { c.HPA = "nope" }, check: "hpa", wantErr: "hpa nope not found"},
		{name: "HPA without the expected metrics", world: func(w *world) {
			w.mutateHPA = func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.Metrics = h.Spec.Metrics[:1] }
		}, check: "hpa", wantErr: "does not scale on nim_gpu_utilization_percent"},
		{name: "metric not served", world: func(w *world) { delete(w.served, "nim_gpu_utilization_percent") }, check: "custom metrics",
			wantErr: "metric nim_gpu_utilization_percent is not served by custom.metrics.k8s.io"},
		{name: "rbac lists every missing verb", world: func(w *world) {
			w.denied = map[string]bool{"watch pods": true, "list events": true}
		}, check: "rbac", wantErr: "not allowed in namespace production: watch pods, list events"},
		{name: "endpoint 404", world: func(w *world) { w.status = 404 }, check: "endpoint", wantErr: "answered 404"},
		{name: "endpoint 401", world: func(w *world) { w.status = 401 }, check: "endpoint", wantErr: "API key"},
		{name: "endpoint 503", world: func(w *world) { w.status = 503 }, check: "endpoint", wantErr: "may still be loading"},
		{name: "model not listed", cfg: func(c *Config) { c.Model = "llama" }, check: "endpoint",
			wantErr: `model "llama" is not served; the endpoint lists meta/codellama-13b-instruct`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := seedWorld()
			if tc.world != nil {
				tc.world(&w)
			}
			cfg := baseConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			target, err := w.preflight(t, cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if target.Model != "meta/codellama-13b-instruct" || target.Spec.MaxReplicas != 15 || target.Selector.String() != "app=coding-assistant" {
					t.Errorf("target = model %q, spec %+v, selector %s", target.Model, target.Spec, target.Selector)
				}
				return
			}
			var env *EnvironmentError
			if !errors.As(err, &env) {
				t.Fatalf("err = %v (%T), want an EnvironmentError", err, err)
			}
			if env.Check != tc.check || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %q (check %s), want check %s and %q", err, env.Check, tc.check, tc.wantErr)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	c := baseConfig()
	c.Endpoint, c.Dir, c.Users, c.Duration = "http://x", "d", 0, 1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "users 0") {
		t.Errorf("err = %v, want the users named", err)
	}
	c.Users, c.Duration = 1, -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "duration") {
		t.Errorf("err = %v, want the duration named", err)
	}
}
