package watcher

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	cmfake "k8s.io/metrics/pkg/client/custom_metrics/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/scalegate/scalegate/timeline"
)

type collector struct {
	mu      sync.Mutex
	entries []timeline.Entry
}

func (c *collector) add(e timeline.Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append(c.entries, e)
}

func (c *collector) of(k timeline.Kind) []timeline.Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []timeline.Entry
	for _, e := range c.entries {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls the collector briefly: informer handlers run on their own
// goroutines, so the test waits for them, never for wall-clock behaviour.
func (c *collector) waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; entries: %+v", what, c.entries)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const ns = "production"

func objects() []runtime.Object {
	two := int32(2)
	sel := map[string]string{"app": "coding-assistant"}
	return []runtime.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "coding-assistant"},
			Spec:   appsv1.DeploymentSpec{Replicas: &two, Selector: &metav1.LabelSelector{MatchLabels: sel}},
			Status: appsv1.DeploymentStatus{Replicas: 2, ReadyReplicas: 2}},
		&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hpa"},
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, DesiredReplicas: 2}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p1", Labels: sel},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other", Labels: map[string]string{"app": "other"}}},
	}
}

func TestWatcherRecordsChanges(t *testing.T) {
	client := fake.NewSimpleClientset(objects()...)
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	var c collector
	w, err := New(Config{Namespace: ns, Deployment: "coding-assistant", HPA: "hpa",
		Selector: labels.SelectorFromSet(labels.Set{"app": "coding-assistant"})},
		Deps{Client: client, Clock: clk, Sink: c.add})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	<-w.Synced()

	c.waitFor(t, "initial deployment, hpa and pod", func() bool {
		return len(c.of(timeline.KindDeployment)) == 1 && len(c.of(timeline.KindHPA)) == 1 && len(c.of(timeline.KindPod)) == 1
	})

	// The HPA scales to 5: its status, the Deployment's spec and an event.
	hpa, _ := client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "hpa", metav1.GetOptions{})
	hpa.Status.DesiredReplicas = 5
	q := resource.MustParse("42500m")
	hpa.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{Type: autoscalingv2.PodsMetricSourceType,
		Pods: &autoscalingv2.PodsMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: "nim_queue_depth"}, Current: autoscalingv2.MetricValueStatus{AverageValue: &q}}}}
	if _, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).UpdateStatus(ctx, hpa, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	dep, _ := client.AppsV1().Deployments(ns).Get(ctx, "coding-assistant", metav1.GetOptions{})
	five := int32(5)
	dep.Spec.Replicas = &five
	if _, err := client.AppsV1().Deployments(ns).Update(ctx, dep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Events(ns).Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "e1"},
		InvolvedObject: corev1.ObjectReference{Kind: "HorizontalPodAutoscaler", Namespace: ns, Name: "hpa"},
		Reason:         "SuccessfulRescale", Message: "New size: 5; reason: pods metric nim_queue_depth above target", Count: 1}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().Pods(ns).Delete(ctx, "p1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	c.waitFor(t, "the scale-up", func() bool {
		return len(c.of(timeline.KindRescale)) == 1 && len(c.of(timeline.KindDeployment)) == 2 && len(c.of(timeline.KindHPA)) == 2 && len(c.of(timeline.KindPod)) == 2
	})
	r := c.of(timeline.KindRescale)[0].Rescale
	if r.NewSize != 5 {
		t.Errorf("rescale new size = %d, want 5", r.NewSize)
	}
	h := c.of(timeline.KindHPA)[1].HPA
	if h.DesiredReplicas != 5 || len(h.Metrics) != 1 || h.Metrics[0].AverageValue != 42.5 {
		t.Errorf("hpa entry = %+v, want desired 5 with nim_queue_depth 42.5", h)
	}
	if d := c.of(timeline.KindDeployment)[1].Deployment; d.SpecReplicas != 5 {
		t.Errorf("deployment entry = %+v, want spec 5", d)
	}
	if p := c.of(timeline.KindPod)[1].Pod; p.Phase != "Deleted" || p.Deleted.IsZero() {
		t.Errorf("pod entry = %+v, want a deletion", p)
	}
	for _, e := range c.of(timeline.KindPod) {
		if e.Pod.Name == "other" {
			t.Error("recorded a pod outside the selector")
		}
	}
}

func TestSampleOnce(t *testing.T) {
	mc := &cmfake.FakeCustomMetricsClient{}
	mc.AddReactor("get", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		name := a.(cmfake.GetForAction).GetMetricName()
		if name == "nim_gpu_utilization_percent" {
			return true, nil, errors.New(`the server could not find the metric nim_gpu_utilization_percent for pods`)
		}
		return true, &v1beta2.MetricValueList{Items: []v1beta2.MetricValue{
			{DescribedObject: corev1.ObjectReference{Name: "p1"}, Value: resource.MustParse("50")},
			{DescribedObject: corev1.ObjectReference{Name: "p2"}, Value: resource.MustParse("25500m")},
		}}, nil
	})
	var c collector
	w, err := New(Config{Namespace: ns, Deployment: "d", HPA: "h", Selector: labels.SelectorFromSet(labels.Set{"app": "x"}),
		Metrics: []string{"nim_queue_depth", "nim_gpu_utilization_percent"}},
		Deps{Client: fake.NewSimpleClientset(), Metrics: mc, Clock: clocktesting.NewFakeClock(time.Now()), Sink: c.add})
	if err != nil {
		t.Fatal(err)
	}
	w.SampleOnce()
	got := c.of(timeline.KindSample)
	if len(got) != 2 {
		t.Fatalf("got %d samples, want 2", len(got))
	}
	if s := got[0].Sample; s.Metric != "nim_queue_depth" || s.Pods["p2"] != 25.5 || s.Average != 37.75 {
		t.Errorf("queue sample = %+v, want p2 25.5 and average 37.75", s)
	}
	if s := got[1].Sample; s.Err == "" || len(s.Pods) != 0 {
		t.Errorf("gpu sample = %+v, want the error recorded", s)
	}
}
