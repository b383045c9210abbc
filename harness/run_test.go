package harness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	cmfake "k8s.io/metrics/pkg/client/custom_metrics/fake"

	"github.com/scalegate/scalegate/loadgen"
	"github.com/scalegate/scalegate/manifests"
	"github.com/scalegate/scalegate/mocknim"
	"github.com/scalegate/scalegate/timeline"
)

// cancelOn cancels a context as soon as a line containing want is logged.
type cancelOn struct {
	mu     sync.Mutex
	want   string
	cancel context.CancelFunc
	log    strings.Builder
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log.Write(p)
	if strings.Contains(string(p), c.want) {
		c.cancel()
	}
	return len(p), nil
}

// TestInterruptedRunKeepsItsRecord interrupts a run during its load phase
// and checks that it is still graded, its report written and its journals
// kept, with the interruption said.
func TestInterruptedRunKeepsItsRecord(t *testing.T) {
	wl, err := manifests.Render(manifests.Params{})
	if err != nil {
		t.Fatal(err)
	}
	kube := fake.NewSimpleClientset(wl.Deployment, wl.HPA)
	kube.PrependReactor("create", "selfsubjectaccessreviews", func(a clienttesting.Action) (bool, runtime.Object, error) {
		r := a.(clienttesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		r.Status.Allowed = true
		return true, r, nil
	})
	mc := &cmfake.FakeCustomMetricsClient{}
	mc.AddReactor("get", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, &v1beta2.MetricValueList{Items: []v1beta2.MetricValue{
			{DescribedObject: corev1.ObjectReference{Kind: "Pod", Name: "p1"}, Value: resource.MustParse("4")}}}, nil
	})
	nim, err := mocknim.New(mocknim.Config{TimeScale: 1000}, mocknim.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	nim.SetPod("p1", true)
	srv := httptest.NewServer(nim.Handler())
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &cancelOn{want: "load phase started", cancel: cancel}
	dir := filepath.Join(t.TempDir(), "run")
	cfg := baseConfig()
	// Credentials in the endpoint URL must not reach the run folder either.
	endpoint := strings.Replace(srv.URL, "http://", "http://alice:pw-s3cret@", 1) + "?token=s3cret-token"
	cfg.Endpoint, cfg.Dir, cfg.Users, cfg.Duration = endpoint, dir, 3, time.Hour
	cfg.Baseline, cfg.SampleInterval = time.Millisecond, 5*time.Millisecond
	cfg.APIKey = "s3cret-key"
	run, err := Run(ctx, cfg, Deps{Kube: kube, Metrics: mc, Client: &loadgen.Client{HTTP: &http.Client{}}, Log: log})
	if err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if run == nil || !run.Interrupted {
		t.Fatalf("run = %+v, want an interrupted run", run)
	}
	if run.Load <= 0 || run.Cooldown != 0 {
		t.Errorf("phases: load %s, cool-down %s; want the load cut short by the interruption and no cool-down", run.Load, run.Cooldown)
	}
	if len(run.Verdict.Findings) != 5 {
		t.Errorf("%d findings, want all 5 graded", len(run.Verdict.Findings))
	}
	for _, name := range []string{"timeline.jsonl", "records.jsonl", "report.json", "junit.xml", "hpa.yaml", "profile.yaml", "run.yaml"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("run folder lacks %s: %v", name, err)
			continue
		}
		for _, secret := range []string{"s3cret-key", "pw-s3cret", "s3cret-token"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("%s contains the secret %q", name, secret)
			}
		}
	}
	f, err := os.Open(filepath.Join(dir, "timeline.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // read path
	res, err := timeline.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []timeline.PhaseName{timeline.PhaseBaseline, timeline.PhaseLoad, timeline.PhaseEnd} {
		if _, ok := res.Timeline.PhaseStart(p); !ok {
			t.Errorf("timeline lacks the %s phase", p)
		}
	}
	if len(res.Timeline.Of(timeline.KindDeployment)) == 0 || len(res.Timeline.Of(timeline.KindHPA)) == 0 {
		t.Errorf("timeline lacks the watched objects: %d entries", len(res.Timeline))
	}
}

func TestRedactURL(t *testing.T) {
	tests := map[string]string{
		"http://127.0.0.1:8000":                    "http://127.0.0.1:8000",
		"https://alice:pw@nim.example:443/v1":      "https://REDACTED@nim.example:443/v1",
		"http://127.0.0.1:8000/v1?api_key=abc&x=1": "http://127.0.0.1:8000/v1?REDACTED",
	}
	for in, want := range tests {
		if got := loadgen.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
