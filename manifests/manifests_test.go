package manifests

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestRenderProductionIsTheSeed(t *testing.T) {
	w, err := Render(Params{})
	if err != nil {
		t.Fatal(err)
	}
	h := w.HPA.Spec
	if *h.MinReplicas != 2 || h.MaxReplicas != 15 || len(h.Metrics) != 2 {
		t.Fatalf("hpa spec = %+v", h)
	}
	if got := *h.Behavior.ScaleUp.StabilizationWindowSeconds; got != 60 {
		t.Errorf("scale-up window = %d, want 60", got)
	}
	if got := *h.Behavior.ScaleDown.StabilizationWindowSeconds; got != 300 {
		t.Errorf("scale-down window = %d, want 300", got)
	}
	if w.Deployment.Namespace != "production" || w.Deployment.Spec.Template.Annotations[ReadyDelayAnnotation] != "" {
		t.Errorf("deployment = %s with annotations %v", w.Deployment.Namespace, w.Deployment.Spec.Template.Annotations)
	}
	if gpu := w.Deployment.Spec.Template.Spec.Containers[0].Resources.Limits["nvidia.com/gpu"]; gpu.Value() != 1 {
		t.Errorf("gpu limit = %s, want 1", gpu.String())
	}
}

func TestRenderForTheTestbed(t *testing.T) {
	w, err := Render(Params{Namespace: "ml", TimeScale: 10, ReadyDelay: 10 * time.Second, NodeName: "gpu-0"})
	if err != nil {
		t.Fatal(err)
	}
	b := w.HPA.Spec.Behavior
	if *b.ScaleUp.StabilizationWindowSeconds != 6 || *b.ScaleDown.StabilizationWindowSeconds != 30 {
		t.Errorf("windows = %d/%d, want 6/30", *b.ScaleUp.StabilizationWindowSeconds, *b.ScaleDown.StabilizationWindowSeconds)
	}
	for _, p := range append(b.ScaleUp.Policies, b.ScaleDown.Policies...) {
		if p.PeriodSeconds != 6 {
			t.Errorf("policy %+v: period %d, want 6", p, p.PeriodSeconds)
		}
	}
	tpl := w.Deployment.Spec.Template
	if tpl.Annotations[ReadyDelayAnnotation] != "10s" || tpl.Annotations[ReadyJitterAnnotation] != "10s" || tpl.Spec.NodeName != "gpu-0" {
		t.Errorf("template annotations %v, node %q", tpl.Annotations, tpl.Spec.NodeName)
	}
	if w.HPA.Namespace != "ml" || w.Service.Namespace != "ml" {
		t.Errorf("namespaces %s/%s, want ml", w.HPA.Namespace, w.Service.Namespace)
	}
}

func TestTestbedObjects(t *testing.T) {
	objs, err := Testbed("ml", "gpu-0", 7443)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
		switch o.GetKind() {
		case "APIService":
			if port, _, _ := unstructured.NestedInt64(o.Object, "spec", "service", "port"); port != 7443 {
				t.Errorf("%s port = %d, want 7443", o.GetName(), port)
			}
		case "Node":
			if o.GetName() != "gpu-0" {
				t.Errorf("node name %s", o.GetName())
			}
		}
	}
	if kinds["APIService"] != 2 || kinds["Node"] != 1 || kinds["Namespace"] != 2 {
		t.Errorf("kinds = %v", kinds)
	}
}
