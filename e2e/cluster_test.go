//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"

	"github.com/scalegate/scalegate/testbed"
)

const (
	deploymentName = "coding-assistant"
	hpaName        = "coding-assistant-hpa"
)

var hpaMetrics = []string{"nim_queue_depth", "nim_gpu_utilization_percent"}

// TestTestbedIsUp runs first (files run in name order): it checks the
// testbed as Up left it, before any feature changes the replica count.
func TestTestbedIsUp(t *testing.T) {
	ns := testbed.DefaultNamespace
	f := features.New("the testbed is up").
		Assess("the fake GPU node is Ready", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			var node corev1.Node
			if err := cfg.Client().Resources().Get(ctx, testbed.NodeName, "", &node); err != nil {
				t.Fatalf("get node %s: %v", testbed.NodeName, err)
			}
			if !nodeReady(&node) {
				t.Fatalf("node %s is not Ready: %+v", testbed.NodeName, node.Status.Conditions)
			}
			return ctx
		}).
		Assess("the deployment has 2 of 2 pods ready", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			var d appsv1.Deployment
			if err := cfg.Client().Resources(ns).Get(ctx, deploymentName, ns, &d); err != nil {
				t.Fatalf("get deployment: %v", err)
			}
			if d.Status.ReadyReplicas != 2 || d.Status.Replicas != 2 {
				t.Fatalf("deployment %s/%s: %d/%d ready, want 2/2", ns, deploymentName, d.Status.ReadyReplicas, d.Status.Replicas)
			}
			return ctx
		}).
		Assess("custom metrics are served for both pods", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			var pods corev1.PodList
			sel := labels.SelectorFromSet(labels.Set{"app": deploymentName}).String()
			if err := cfg.Client().Resources(ns).List(ctx, &pods, resources.WithLabelSelector(sel)); err != nil {
				t.Fatalf("list pods: %v", err)
			}
			var live []corev1.Pod
			for _, p := range pods.Items {
				if p.DeletionTimestamp == nil {
					live = append(live, p)
				}
			}
			if len(live) != 2 {
				t.Fatalf("%d live pods, want 2", len(live))
			}
			cs := kubernetes.NewForConfigOrDie(cfg.Client().RESTConfig())
			for _, metric := range hpaMetrics {
				got, err := podMetricValues(ctx, cs, ns, metric, sel)
				if err != nil {
					t.Fatalf("custom metric %s: %v", metric, err)
				}
				for _, p := range live {
					if _, ok := got[p.Name]; !ok {
						t.Errorf("custom metric %s has no value for pod %s (got %v)", metric, p.Name, got)
					}
				}
			}
			return ctx
		}).
		Assess("the HPA is active", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			var hpa autoscalingv2.HorizontalPodAutoscaler
			if err := cfg.Client().Resources(ns).Get(ctx, hpaName, ns, &hpa); err != nil {
				t.Fatalf("get hpa: %v", err)
			}
			if c := hpaCondition(&hpa, autoscalingv2.ScalingActive); c == nil || c.Status != corev1.ConditionTrue {
				t.Fatalf("HPA %s/%s ScalingActive: %+v", ns, hpaName, c)
			}
			return ctx
		}).
		Feature()
	testenv.Test(t, f)
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hpaCondition(h *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType) *autoscalingv2.HorizontalPodAutoscalerCondition {
	for i := range h.Status.Conditions {
		if h.Status.Conditions[i].Type == t {
			return &h.Status.Conditions[i]
		}
	}
	return nil
}

// podMetricValues reads one per-pod custom metric and returns its value by
// pod name, as the HPA controller reads it.
func podMetricValues(ctx context.Context, cs kubernetes.Interface, ns, metric, selector string) (map[string]string, error) {
	path := fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/pods/*/%s", ns, metric)
	raw, err := cs.Discovery().RESTClient().Get().AbsPath(path).Param("labelSelector", selector).DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []struct {
			DescribedObject struct {
				Name string `json:"name"`
			} `json:"describedObject"`
			Value string `json:"value"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	out := map[string]string{}
	for _, it := range list.Items {
		out[it.DescribedObject.Name] = it.Value
	}
	return out, nil
}
