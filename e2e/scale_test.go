//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"

	"github.com/scalegate/scalegate/testbed"
)

// loadStreams is how many streaming requests are kept in flight. With two
// pods of 8 slots each, 120 leave (120-16)/2 = 52 queued per pod, well above
// the HPA's target of 20.
const loadStreams = 120

type loadKey struct{}

// load keeps n streaming chat requests in flight against the mock NIM until
// stopped.
type load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	ok     int
	errs   int
	last   error
}

func startLoad(endpoint string, n int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0}}
	body := []byte(`{"messages":[{"role":"user","content":"write a binary search in Go"}],"max_tokens":300,"stream":true}`)
	for range n {
		l.wg.Go(func() {
			for ctx.Err() == nil {
				err := streamOnce(ctx, client, endpoint+"/v1/chat/completions", body)
				l.mu.Lock()
				if err == nil {
					l.ok++
				} else if ctx.Err() == nil {
					l.errs++
					l.last = err
				}
				l.mu.Unlock()
				if err != nil && ctx.Err() == nil {
					time.Sleep(100 * time.Millisecond) // do not spin on a refusing server
				}
			}
		})
	}
	return l
}

func streamOnce(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close() // read path
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// stop ends the load and reports how it went.
func (l *load) stop() (ok, errs int, last error) {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok, l.errs, l.last
}

func TestScaleUpAndDown(t *testing.T) {
	ns := testbed.DefaultNamespace
	var (
		peak     int32
		stopped  time.Time
		behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
		minRepl  int32
	)
	f := features.New("the HPA follows queue depth up and back down").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			hpa := getHPA(ctx, t, cfg, ns)
			behavior, minRepl = hpa.Spec.Behavior, *hpa.Spec.MinReplicas
			if behavior == nil || behavior.ScaleDown == nil || behavior.ScaleDown.StabilizationWindowSeconds == nil {
				t.Fatalf("HPA has no scale-down stabilization window: %+v", behavior)
			}
			if cluster == nil || cluster.Endpoint == "" {
				t.Fatal("no mock NIM endpoint")
			}
			return context.WithValue(ctx, loadKey{}, startLoad(cluster.Endpoint, loadStreams))
		}).
		Assess("queue depth above target scales the deployment up", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			cs := clientset(t, cfg)
			since := time.Now().Add(-time.Second)
			deadline := time.Now().Add(2 * time.Minute)
			for {
				hpa := getHPA(ctx, t, cfg, ns)
				ev, err := rescaleEvents(ctx, cs, ns, since)
				if err != nil {
					t.Fatalf("list events: %v", err)
				}
				if hpa.Status.DesiredReplicas > minRepl && len(ev) > 0 {
					t.Logf("scaled up: desiredReplicas %d; event %q", hpa.Status.DesiredReplicas, ev[0].Message)
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no scale-up within 2m: desiredReplicas %d, %d SuccessfulRescale events, conditions %+v",
						hpa.Status.DesiredReplicas, len(ev), hpa.Status.Conditions)
				}
				time.Sleep(500 * time.Millisecond)
			}
			// Let it climb a little more, then note the peak.
			time.Sleep(10 * time.Second)
			peak = getHPA(ctx, t, cfg, ns).Status.DesiredReplicas
			l := ctx.Value(loadKey{}).(*load)
			ok, errs, last := l.stop()
			stopped = time.Now()
			t.Logf("load stopped at peak %d replicas: %d requests done, %d failed (last: %v)", peak, ok, errs, last)
			if ok == 0 {
				t.Errorf("no request succeeded under load (last error: %v)", last)
			}
			return ctx
		}).
		Assess("without load it returns to minReplicas, no sooner than the scale-down window", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			window := time.Duration(*behavior.ScaleDown.StabilizationWindowSeconds) * time.Second
			earliest := window - suite.SyncPeriod
			var firstDown time.Duration
			high := peak // metrics lag: it may still rise a little after the load stops
			deadline := stopped.Add(window + 3*time.Minute)
			for {
				hpa := getHPA(ctx, t, cfg, ns)
				elapsed := time.Since(stopped)
				high = max(high, hpa.Status.DesiredReplicas)
				if firstDown == 0 && hpa.Status.DesiredReplicas < high {
					firstDown = elapsed
					t.Logf("first scale-down %s after the load stopped (window %s)", elapsed.Round(100*time.Millisecond), window)
				}
				if hpa.Status.DesiredReplicas == minRepl && hpa.Status.CurrentReplicas == minRepl {
					t.Logf("back to %d replicas %s after the load stopped", minRepl, elapsed.Round(100*time.Millisecond))
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not back to %d replicas %s after the load stopped: desired %d current %d",
						minRepl, elapsed.Round(time.Second), hpa.Status.DesiredReplicas, hpa.Status.CurrentReplicas)
				}
				time.Sleep(250 * time.Millisecond)
			}
			if firstDown < earliest {
				t.Errorf("scaled down %s after the load stopped, sooner than the window %s minus one sync period %s",
					firstDown.Round(100*time.Millisecond), window, suite.SyncPeriod)
			}
			return ctx
		}).
		Teardown(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			if l, ok := ctx.Value(loadKey{}).(*load); ok {
				l.stop()
			}
			return ctx
		}).
		Feature()
	testenv.Test(t, f)
}

func getHPA(ctx context.Context, t *testing.T, cfg *envconf.Config, ns string) *autoscalingv2.HorizontalPodAutoscaler {
	t.Helper()
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if err := cfg.Client().Resources(ns).Get(ctx, hpaName, ns, &hpa); err != nil {
		t.Fatalf("get hpa %s/%s: %v", ns, hpaName, err)
	}
	return &hpa
}

func clientset(t *testing.T, cfg *envconf.Config) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg.Client().RESTConfig())
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return cs
}

// rescaleEvents lists the HPA's SuccessfulRescale events since a time.
func rescaleEvents(ctx context.Context, cs kubernetes.Interface, ns string, since time.Time) ([]corev1.Event, error) {
	sel := fields.AndSelectors(
		fields.OneTermEqualSelector("involvedObject.name", hpaName),
		fields.OneTermEqualSelector("reason", "SuccessfulRescale"),
	)
	list, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	var out []corev1.Event
	for _, e := range list.Items {
		at := e.LastTimestamp.Time
		if at.IsZero() {
			at = e.EventTime.Time
		}
		if !at.Before(since.Truncate(time.Second)) {
			out = append(out, e)
		}
	}
	return out, nil
}
