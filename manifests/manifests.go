package manifests

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

//go:embed *.yaml testbed/*.yaml
var files embed.FS

// The pod annotations kwok's pod-ready stage reads to hold a new pod back
// before it turns Ready, the way a NIM pod is held while it loads the model
// (kwok keeps it Pending, ContainerCreating, in the meantime, so the HPA
// counts it as unready). kwok takes min(delay, jitter) when the jitter is not
// above the delay, and its default jitter is 5 s, so both are set.
const (
	ReadyDelayAnnotation  = "pod-ready.stage.kwok.x-k8s.io/delay"
	ReadyJitterAnnotation = "pod-ready.stage.kwok.x-k8s.io/jitter-delay"
)

// Params shape the rendered objects. The zero value renders the production
// objects exactly as the YAML has them.
type Params struct {
	// Namespace replaces the YAML's namespace ("production") when set.
	Namespace string
	// TimeScale N divides every HPA stabilization window and policy period,
	// so a test can keep the production shape at 1/N of the time. 0 means 1.
	// Windows round to the nearest second and policy periods to at least 1 s.
	TimeScale int
	// ReadyDelay, when positive, is set as the kwok pod-ready delay (and
	// jitter, so it is exact) on the pod template: the model-load time
	// before a pod turns Ready. It is already in
	// scaled time (the caller divides by TimeScale).
	ReadyDelay time.Duration
	// NodeName pins the pods to a node, for clusters without a scheduler.
	NodeName string
}

// Workload is the inference service: what scalegate validates.
type Workload struct {
	Deployment *appsv1.Deployment
	Service    *corev1.Service
	HPA        *autoscalingv2.HorizontalPodAutoscaler
}

// Render decodes the embedded workload and applies p.
func Render(p Params) (*Workload, error) {
	if p.TimeScale < 0 {
		return nil, fmt.Errorf("time scale %d: must be 1 or more", p.TimeScale)
	}
	var w Workload
	if err := decodeFile("deployment.yaml", &w.Deployment); err != nil {
		return nil, err
	}
	if err := decodeFile("service.yaml", &w.Service); err != nil {
		return nil, err
	}
	if err := decodeFile("hpa.yaml", &w.HPA); err != nil {
		return nil, err
	}
	if p.Namespace != "" {
		w.Deployment.Namespace = p.Namespace
		w.Service.Namespace = p.Namespace
		w.HPA.Namespace = p.Namespace
	}
	if p.TimeScale > 1 {
		ScaleBehavior(w.HPA, p.TimeScale)
	}
	tpl := &w.Deployment.Spec.Template
	if p.ReadyDelay > 0 {
		if tpl.Annotations == nil {
			tpl.Annotations = map[string]string{}
		}
		tpl.Annotations[ReadyDelayAnnotation] = p.ReadyDelay.String()
		tpl.Annotations[ReadyJitterAnnotation] = p.ReadyDelay.String()
	}
	if p.NodeName != "" {
		tpl.Spec.NodeName = p.NodeName
	}
	return &w, nil
}

// Objects returns the workload in the order it should be applied.
func (w *Workload) Objects() []runtime.Object {
	return []runtime.Object{w.Deployment, w.Service, w.HPA}
}

// ScaleBehavior divides the HPA's stabilization windows and policy periods by n.
func ScaleBehavior(hpa *autoscalingv2.HorizontalPodAutoscaler, n int) {
	b := hpa.Spec.Behavior
	if b == nil || n <= 1 {
		return
	}
	for _, rules := range []*autoscalingv2.HPAScalingRules{b.ScaleUp, b.ScaleDown} {
		if rules == nil {
			continue
		}
		if w := rules.StabilizationWindowSeconds; w != nil {
			scaled := divRound(*w, n, 0)
			rules.StabilizationWindowSeconds = &scaled
		}
		for i := range rules.Policies {
			rules.Policies[i].PeriodSeconds = divRound(rules.Policies[i].PeriodSeconds, n, 1)
		}
	}
}

func divRound(v int32, n int, floor int32) int32 {
	r := int32(math.Round(float64(v) / float64(n)))
	return max(r, floor)
}

// Testbed returns the objects the local testbed applies before the workload:
// the namespace, a fake GPU node named nodeName and the APIService that
// routes custom.metrics.k8s.io to an adapter on 127.0.0.1:adapterPort.
func Testbed(namespace, nodeName string, adapterPort int) ([]*unstructured.Unstructured, error) {
	names, err := fs.Glob(files, "testbed/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, name := range names {
		objs, err := decodeUnstructured(name)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			switch o.GetKind() {
			case "Namespace":
				if o.GetName() == "production" && namespace != "" {
					o.SetName(namespace)
				}
			case "Node":
				if nodeName != "" {
					o.SetName(nodeName)
					if err := unstructured.SetNestedField(o.Object, nodeName, "metadata", "labels", "kubernetes.io/hostname"); err != nil {
						return nil, err
					}
				}
			case "APIService":
				if err := unstructured.SetNestedField(o.Object, int64(adapterPort), "spec", "service", "port"); err != nil {
					return nil, err
				}
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// File returns an embedded manifest as it is stored, for users who want to
// apply it themselves.
func File(name string) ([]byte, error) {
	return files.ReadFile(name)
}

func decodeFile(name string, into any) error {
	raw, err := files.ReadFile(name)
	if err != nil {
		return err
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(raw, nil, nil)
	if err != nil {
		return fmt.Errorf("decode %s: %w", name, err)
	}
	switch dst := into.(type) {
	case **appsv1.Deployment:
		return assign(name, obj, dst)
	case **corev1.Service:
		return assign(name, obj, dst)
	case **autoscalingv2.HorizontalPodAutoscaler:
		return assign(name, obj, dst)
	}
	return fmt.Errorf("decode %s: unsupported target %T", name, into)
}

func assign[T runtime.Object](name string, obj runtime.Object, dst *T) error {
	v, ok := obj.(T)
	if !ok {
		return fmt.Errorf("decode %s: got %T, want %T", name, obj, *dst)
	}
	*dst = v
	return nil
}

func decodeUnstructured(name string) ([]*unstructured.Unstructured, error) {
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decode %s: %w", name, err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}
