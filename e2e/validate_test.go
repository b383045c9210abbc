//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"

	"github.com/scalegate/scalegate/manifests"
	"github.com/scalegate/scalegate/reports"
	"github.com/scalegate/scalegate/timeline"
	"github.com/scalegate/scalegate/validator"
)

// variant is one HPA that validate runs against, and the verdicts the real
// controller's behaviour must earn.
type variant struct {
	name   string
	mutate func(*autoscalingv2.HorizontalPodAutoscaler)
	// want maps a promise to its verdict; wantObserved to text its Observed
	// must contain (any one of the alternatives).
	want         map[int]validator.Status
	wantObserved map[int][]string
	wantExit     int
}

// The variants run at the testbed's time scale (10): a 12 s load stands for
// the seed's 120 s, and the profile's bounds are a tenth of the promises.
var variants = []variant{
	{
		// The seed's HPA keeps promises 1, 2, 4 and 5; promise 3 is checked
		// against the samples.
		name:     "seed HPA",
		want:     map[int]validator.Status{1: validator.Pass, 2: validator.Pass, 4: validator.Pass, 5: validator.Pass},
		wantExit: -1, // 0 or 1: promise 3 is checked against the samples
	},
	{
		// Fails promise 5 with the observed wait.
		name: "scale-down window cut to a third",
		mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			w := *h.Spec.Behavior.ScaleDown.StabilizationWindowSeconds / 3
			h.Spec.Behavior.ScaleDown.StabilizationWindowSeconds = &w
		},
		want:         map[int]validator.Status{5: validator.Fail},
		wantObserved: map[int][]string{5: {"after the metrics dropped below the HPA's scale-down point"}},
		wantExit:     1,
	},
	{
		// Fails promise 2: the queue stays high with no scale-up.
		name:         "maxReplicas 2",
		mutate:       func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 2 },
		want:         map[int]validator.Status{1: validator.Pass, 2: validator.Fail},
		wantObserved: map[int][]string{2: {"no scale-up"}},
		wantExit:     1,
	},
	{
		// Fails promise 4: the decision comes after the bound.
		name: "scale-up window longer than the latency bound",
		mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			w := int32(15) // the bound is 90 s / 10 = 9 s
			h.Spec.Behavior.ScaleUp.StabilizationWindowSeconds = &w
		},
		want:         map[int]validator.Status{4: validator.Fail},
		wantObserved: map[int][]string{4: {"after the trigger", "no scale-up"}},
		wantExit:     1,
	},
}

func TestValidate(t *testing.T) {
	var fs []features.Feature
	for _, v := range variants {
		fs = append(fs, features.New(v.name).
			Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
				resetWorkload(ctx, t, cfg, v.mutate)
				return ctx
			}).
			Assess("validate grades what the real controller did", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
				run, dir, code := runValidate(t)
				t.Logf("run folder %s, exit %d, replicas %s", dir, code, run.Replicas)
				for _, f := range run.Verdict.Findings {
					t.Logf("promise %d %s: %s — %s (limit %s)", f.Promise, f.Name, f.Status, f.Observed, f.Limit)
				}
				for _, f := range run.Verdict.Findings {
					if want, ok := v.want[f.Promise]; ok && f.Status != want {
						t.Errorf("promise %d (%s) = %s, want %s: %s\nevidence: %+v", f.Promise, f.Name, f.Status, want, f.Observed, f.Evidence)
					}
					if alts, ok := v.wantObserved[f.Promise]; ok && !containsAny(f.Observed, alts) {
						t.Errorf("promise %d observed %q, want it to say %q", f.Promise, f.Observed, alts)
					}
				}
				if v.mutate == nil {
					checkScaleDownAgainstSamples(t, dir, run)
				}
				if v.wantExit >= 0 && code != v.wantExit {
					t.Errorf("exit code %d, want %d", code, v.wantExit)
				}
				if run.Requests.Requests == 0 || run.Requests.ErrorCount() > 0 {
					t.Errorf("load: %d requests, %d errors %v; want requests and no errors", run.Requests.Requests, run.Requests.ErrorCount(), run.Requests.Errors)
				}
				return ctx
			}).
			Feature())
	}
	testenv.Test(t, fs...)
}

// runValidate runs the scalegate binary the testbed built against the
// testbed, as a user would, and returns its JSON report.
func runValidate(t *testing.T) (reports.Run, string, int) {
	t.Helper()
	if cluster == nil || cluster.Scalegate == "" {
		t.Fatal("no testbed")
	}
	dir := filepath.Join(cluster.Dir, "runs", strings.NewReplacer("/", "_", " ", "-").Replace(t.Name()))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cluster.Scalegate, "validate",
		"--kubeconfig", cluster.Kubeconfig, "-n", cluster.Namespace,
		"--endpoint", cluster.Endpoint, "--profile", cluster.Profile,
		"--users", "100", "--duration", "12", "--time-scale", "10",
		"--sample-interval", "1s", "--out", dir, "-o", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run validate: %v\nstderr:\n%s", err, stderr.String())
	}
	t.Logf("validate stderr:\n%s", stderr.String())
	var run reports.Run
	if err := json.Unmarshal(stdout.Bytes(), &run); err != nil {
		t.Fatalf("validate exit %d printed no JSON report (%v):\n%s\nstderr:\n%s", code, err, stdout.String(), stderr.String())
	}
	if code != 0 && code != 1 {
		t.Fatalf("validate exit %d, want 0 or 1 (a decided run)", code)
	}
	return run, dir, code
}

// checkScaleDownAgainstSamples checks promise 3's verdict against the
// samples recorded before each scale-down: if every scale-down came with
// every sampled metric below its threshold, the verdict must be Pass;
// otherwise Fail.
func checkScaleDownAgainstSamples(t *testing.T, dir string, run reports.Run) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "timeline.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // read path
	res, err := timeline.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	window := time.Duration(run.Profile.SyncPeriod) + time.Second
	below := map[string]float64{}
	for _, th := range run.Profile.ScaleDownBelow {
		below[th.Metric] = th.Value
	}
	wantPass := true
	downs := 0
	var spec int32 = -1
	for _, e := range res.Timeline.Of(timeline.KindDeployment) {
		if spec >= 0 && e.Deployment.SpecReplicas < spec {
			downs++
			for _, s := range res.Timeline.Between(e.At.Add(-window), e.At).Of(timeline.KindSample) {
				if limit, ok := below[s.Sample.Metric]; ok && s.Sample.Err == "" && s.Sample.Average >= limit {
					t.Logf("scale-down %d→%d at %s: sample %s = %.1f (threshold %g)", spec, e.Deployment.SpecReplicas, e.At.Format(time.StampMilli), s.Sample.Metric, s.Sample.Average, limit)
					wantPass = false
				}
			}
		}
		spec = e.Deployment.SpecReplicas
	}
	got := run.Verdict.Findings[2]
	switch {
	case downs == 0:
		t.Errorf("no scale-down was recorded; promise 3 = %s", got.Status)
	case wantPass && got.Status != validator.Pass:
		t.Errorf("every scale-down came with the samples below the thresholds, but promise 3 = %s: %s", got.Status, got.Observed)
	case !wantPass && got.Status != validator.Fail:
		t.Errorf("a scale-down came with a sample above its threshold, but promise 3 = %s: %s", got.Status, got.Observed)
	}
}

// resetWorkload puts the cluster back where a run starts: the HPA deleted
// (which also clears the controller's memory of it), the Deployment at 2
// ready replicas, and the HPA recreated, with mutate applied, and reading
// valid metrics.
func resetWorkload(ctx context.Context, t *testing.T, cfg *envconf.Config, mutate func(*autoscalingv2.HorizontalPodAutoscaler)) {
	t.Helper()
	cs := clientset(t, cfg)
	ns := cluster.Namespace
	err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Delete(ctx, hpaName, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("delete hpa: %v", err)
	}
	wl, err := manifests.Render(manifests.Params{Namespace: ns, TimeScale: suite.TimeScale})
	if err != nil {
		t.Fatal(err)
	}
	scale, err := cs.AppsV1().Deployments(ns).GetScale(ctx, wl.Deployment.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get scale: %v", err)
	}
	scale.Spec.Replicas = *wl.HPA.Spec.MinReplicas
	if _, err := cs.AppsV1().Deployments(ns).UpdateScale(ctx, wl.Deployment.Name, scale, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("scale to %d: %v", scale.Spec.Replicas, err)
	}
	waitUntil(t, 2*time.Minute, "the deployment back at 2 ready pods and nothing else", func() (bool, string) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, wl.Deployment.Name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=coding-assistant"})
		if err != nil {
			return false, err.Error()
		}
		return settled(d) && len(pods.Items) == 2, podSummary(d, len(pods.Items))
	})
	hpa := wl.HPA
	if mutate != nil {
		mutate(hpa)
	}
	if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create hpa: %v", err)
	}
	waitUntil(t, time.Minute, "the new HPA to read both metrics", func() (bool, string) {
		h, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, hpaName, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, c := range h.Status.Conditions {
			if c.Type == autoscalingv2.ScalingActive && c.Status == "True" && len(h.Status.CurrentMetrics) == 2 {
				return true, ""
			}
		}
		return false, "conditions " + condSummary(h)
	})
}

func settled(d *appsv1.Deployment) bool {
	return d.Spec.Replicas != nil && *d.Spec.Replicas == 2 && d.Status.Replicas == 2 && d.Status.ReadyReplicas == 2 && d.Status.UpdatedReplicas == 2
}

func podSummary(d *appsv1.Deployment, pods int) string {
	return "spec " + itoa(*d.Spec.Replicas) + ", ready " + itoa(d.Status.ReadyReplicas) + ", pods " + itoa(int32(pods))
}

func condSummary(h *autoscalingv2.HorizontalPodAutoscaler) string {
	var parts []string
	for _, c := range h.Status.Conditions {
		parts = append(parts, string(c.Type)+"="+string(c.Status)+"/"+c.Reason)
	}
	return strings.Join(parts, ", ")
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// waitUntil polls cond every 250 ms until it holds, or fails the test with
// the last state it described.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, state)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func containsAny(s string, alts []string) bool {
	for _, a := range alts {
		if strings.Contains(s, a) {
			return true
		}
	}
	return false
}
