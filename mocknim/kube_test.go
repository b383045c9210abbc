package mocknim

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

const ns = "production"

func deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "coding-assistant", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "coding-assistant"}},
		},
	}
}

func kpod(name, app string, ready bool) *corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": app}},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}},
		},
	}
}

// recorder is a PodSink that lists every call.
type recorder struct {
	ch chan string
}

func newRecorder() *recorder { return &recorder{ch: make(chan string, 100)} }

func (r *recorder) SetPod(name string, ready bool) { r.ch <- fmt.Sprintf("set %s %v", name, ready) }
func (r *recorder) RemovePod(name string)          { r.ch <- "remove " + name }

// expect waits (bounded) for the next call and checks it.
func (r *recorder) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-r.ch:
		if got != want {
			t.Fatalf("sink got %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("sink never got %q", want)
	}
}

func run(t *testing.T, dp DeploymentPods, sink PodSink) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- dp.Run(ctx, sink) }()
	return func() error { cancel(); return <-errc }
}

func TestDeploymentPodsEvents(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset(deployment(), kpod("other", "something-else", true))
	rec := newRecorder()
	stop := run(t, DeploymentPods{Client: client, Namespace: ns, Deployment: "coding-assistant"}, rec)

	pods := client.CoreV1().Pods(ns)
	if _, err := pods.Create(ctx, kpod("ca-1", "coding-assistant", false), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "set ca-1 false")
	if _, err := pods.UpdateStatus(ctx, kpod("ca-1", "coding-assistant", true), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "set ca-1 true")

	terminating := kpod("ca-1", "coding-assistant", true)
	now := metav1.Now()
	terminating.DeletionTimestamp = &now
	if _, err := pods.Update(ctx, terminating, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "remove ca-1")
	if err := pods.Delete(ctx, "ca-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "remove ca-1")

	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	select {
	case got := <-rec.ch:
		t.Errorf("unexpected sink call %q (the pod outside the selector must be ignored)", got)
	default:
	}
}

func TestDeploymentPodsWaitsForDeployment(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	client := fake.NewClientset(kpod("ca-1", "coding-assistant", true))
	rec := newRecorder()
	stop := run(t, DeploymentPods{Client: client, Namespace: ns, Deployment: "coding-assistant", Clock: clk, PollInterval: time.Second}, rec)

	waitFor(t, "Run to wait for the deployment", clk.HasWaiters)
	if _, err := client.AppsV1().Deployments(ns).Create(t.Context(), deployment(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clk.Step(time.Second)
	rec.expect(t, "set ca-1 true")
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestDeploymentPodsDrive follows a Deployment into a real Server: a Ready
// pod serves, and a deleted one drains and leaves /metrics.
func TestDeploymentPodsDrive(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset(deployment())
	s := newServer(t, Config{Slots: 1}, Deps{Clock: clocktesting.NewFakeClock(t0)})
	stop := run(t, DeploymentPods{Client: client, Namespace: ns, Deployment: "coding-assistant"}, s)
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	pods := client.CoreV1().Pods(ns)
	if _, err := pods.Create(ctx, kpod("ca-1", "coding-assistant", true), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ca-1 to serve", s.Ready)
	tk := mustAssign(t, s)
	if tk.pod.name != "ca-1" {
		t.Fatalf("routed to %s", tk.pod.name)
	}
	if err := pods.Delete(ctx, "ca-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ca-1 to stop taking requests", func() bool { return !s.Ready() })
	if got := len(s.snapshot()); got != 1 {
		t.Fatalf("draining pod left metrics early: %d pods listed", got)
	}
	s.release(tk, true, 1, 1)
	if got := len(s.snapshot()); got != 0 {
		t.Errorf("drained pod still listed")
	}
}

// waitFor polls cond for up to 5 s: informers deliver on their own
// goroutines.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
