package mocknim

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func mustAssign(t *testing.T, s *Server) *ticket {
	t.Helper()
	tk, err := s.assign()
	if err != nil {
		t.Fatalf("assign: %v", err)
	}
	return tk
}

func TestRouting(t *testing.T) {
	s := newServer(t, Config{Slots: 1}, Deps{Clock: clocktesting.NewFakeClock(t0)})
	for _, name := range []string{"c", "a", "b"} {
		s.SetPod(name, true)
	}
	var got []string
	var tickets []*ticket
	for range 6 {
		tk := mustAssign(t, s)
		tickets = append(tickets, tk)
		got = append(got, tk.pod.name)
	}
	// Equal queues: fewest routed first, then the first name.
	if want := []string{"a", "b", "c", "a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("routed to %v, want %v", got, want)
	}

	// c's running request finishes; its queued one takes the slot, so c now
	// holds one request and is the shortest queue.
	s.release(tickets[2], true, 1, 1)
	if tk := mustAssign(t, s); tk.pod.name != "c" {
		t.Errorf("after c freed a slot: routed to %s, want c", tk.pod.name)
	}
	// An unready pod takes nothing, however short its queue.
	s.SetPod("a", false)
	s.SetPod("b", false)
	if tk := mustAssign(t, s); tk.pod.name != "c" {
		t.Errorf("with a and b unready: routed to %s, want c", tk.pod.name)
	}
	s.SetPod("c", false)
	if _, err := s.assign(); !errors.Is(err, errNoPod) {
		t.Errorf("with no ready pod: err %v, want errNoPod", err)
	}
}

func TestFIFO(t *testing.T) {
	s := newServer(t, Config{Slots: 2}, Deps{Clock: clocktesting.NewFakeClock(t0)})
	s.SetPod("p", true)
	tk := make([]*ticket, 6)
	for i := range tk {
		tk[i] = mustAssign(t, s)
	}
	granted := func() []int {
		var out []int
		for i, x := range tk {
			select {
			case <-x.ready:
				out = append(out, i)
			default:
			}
		}
		return out
	}
	if got := granted(); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("granted %v, want [0 1]", got)
	}

	// Request 3 gives up while queued: it leaves the queue, and 2, 4, 5 keep
	// their order.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.wait(ctx, tk[3]); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with a cancelled context: %v", err)
	}
	if st := s.snapshot()[0]; st.waiting != 3 || st.failed != 1 {
		t.Errorf("after a queued request left: waiting %d failed %d, want 3 and 1", st.waiting, st.failed)
	}

	s.release(tk[1], true, 0, 0)
	if got := granted(); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("after one release: granted %v, want [0 1 2]", got)
	}
	s.release(tk[0], true, 0, 0)
	s.release(tk[2], true, 0, 0)
	if got := granted(); !slices.Equal(got, []int{0, 1, 2, 4, 5}) {
		t.Errorf("after three releases: granted %v, want [0 1 2 4 5]", got)
	}
	if err := s.wait(t.Context(), tk[4]); err != nil {
		t.Errorf("wait on a granted ticket: %v", err)
	}
}

func TestOccupancy(t *testing.T) {
	type change struct {
		at      time.Duration
		running int
	}
	tests := []struct {
		name    string
		changes []change
		at      time.Duration
		want    float64
	}{
		{name: "idle", changes: []change{{0, 0}}, at: 5 * time.Second, want: 0},
		{name: "half the slots for the whole window", changes: []change{{0, 0}, {0, 4}}, at: 2 * time.Second, want: 0.5},
		{name: "all slots for half the window", changes: []change{{0, 0}, {1 * time.Second, 8}}, at: 2 * time.Second, want: 0.5},
		{name: "young pod counts time before it as idle", changes: []change{{0, 8}}, at: 1 * time.Second, want: 0.5},
		{name: "busy then idle slides out", changes: []change{{0, 8}, {1 * time.Second, 0}}, at: 3 * time.Second, want: 0},
		{name: "mixed", changes: []change{{0, 4}, {2 * time.Second, 8}, {3 * time.Second, 2}}, at: 4 * time.Second, want: (8 + 2) / 16.0},
		{name: "many steps, trimmed", changes: []change{{0, 1}, {time.Second, 2}, {2 * time.Second, 3}, {3 * time.Second, 4}, {4 * time.Second, 5}},
			at: 5 * time.Second, want: (4 + 5) / 16.0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := occupancy{window: 2 * time.Second}
			for _, c := range tc.changes {
				o.set(t0.Add(c.at), c.running)
			}
			if got := o.fraction(t0.Add(tc.at), 8); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("fraction %v, want %v", got, tc.want)
			}
			if len(o.steps) > 3 {
				t.Errorf("kept %d steps; older ones should be trimmed", len(o.steps))
			}
		})
	}
}

// scrape fetches /metrics (or /v1/metrics) and parses it.
func scrape(t *testing.T, s *Server, path string) map[string]*dto.MetricFamily {
	t.Helper()
	rec := do(s, t.Context(), http.MethodGet, path, "")
	if rec.Code != 200 {
		t.Fatalf("GET %s: %d", path, rec.Code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return mfs
}

// series returns the value of name for pod, checking its exact label set.
func series(t *testing.T, mfs map[string]*dto.MetricFamily, name, pod string) (float64, bool) {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["pod"] != pod {
			continue
		}
		want := map[string]string{"namespace": "production", "pod": pod, "model_name": modelID}
		if name == MetricQueueDepth || name == MetricGPUUtilization {
			delete(want, "model_name")
		}
		if len(labels) != len(want) {
			t.Errorf("%s{pod=%q} labels %v, want %v", name, pod, labels, want)
		}
		for k, v := range want {
			if labels[k] != v {
				t.Errorf("%s{pod=%q} label %s=%q, want %q", name, pod, k, labels[k], v)
			}
		}
		switch mf.GetType() {
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		}
		t.Fatalf("%s has type %v", name, mf.GetType())
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	s := newServer(t, Config{Slots: 2}, Deps{Clock: clk})
	s.SetPod("a", true)
	s.SetPod("b", true)
	// Five requests over two pods of two slots: a runs 2 and queues 1, b runs 2.
	tk := make([]*ticket, 5)
	for i := range tk {
		tk[i] = mustAssign(t, s)
	}
	clk.Step(2 * time.Second)
	s.release(tk[1], true, 10, 300) // b frees a slot: b now runs 1
	clk.Step(time.Second)

	want := map[string]map[string]float64{
		"a": {
			MetricQueueDepth: 1, MetricRequestsWaiting: 1, MetricRequestsRunning: 2, MetricRequestMax: 2,
			MetricCacheUsage: 1, MetricGPUUtilization: 100,
			MetricRequestSuccess: 0, MetricRequestFailure: 0, MetricPromptTokens: 0, MetricGenerationTokens: 0,
		},
		"b": {
			MetricQueueDepth: 0, MetricRequestsWaiting: 0, MetricRequestsRunning: 1, MetricRequestMax: 2,
			MetricCacheUsage: 0.5, MetricGPUUtilization: 75, // 1 s of 2 slots, 1 s of 1 slot
			MetricRequestSuccess: 1, MetricRequestFailure: 0, MetricPromptTokens: 10, MetricGenerationTokens: 300,
		},
	}
	for _, path := range []string{"/metrics", "/v1/metrics"} {
		t.Run(path, func(t *testing.T) {
			mfs := scrape(t, s, path)
			for pod, metrics := range want {
				for name, v := range metrics {
					got, ok := series(t, mfs, name, pod)
					if !ok {
						t.Errorf("%s{pod=%q} missing", name, pod)
						continue
					}
					if math.Abs(got-v) > 1e-9 {
						t.Errorf("%s{pod=%q} = %v, want %v", name, pod, got, v)
					}
				}
			}
			if n := len(mfs); n != 10 {
				t.Errorf("%d metric families, want 10", n)
			}
		})
	}
}

func TestUtilizationTimeScale(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	// At time-scale 4 the 2 s window is 500 ms.
	s := newServer(t, Config{Slots: 8, TimeScale: 4}, Deps{Clock: clk})
	s.SetPod("p", true)
	for range 4 {
		mustAssign(t, s)
	}
	clk.Step(250 * time.Millisecond)
	if got := s.snapshot()[0].utilization; math.Abs(got-25) > 1e-9 {
		t.Errorf("after 250 ms of 4/8 slots in a 500 ms window: %v%%, want 25%%", got)
	}
	clk.Step(time.Second)
	if got := s.snapshot()[0].utilization; math.Abs(got-50) > 1e-9 {
		t.Errorf("after a full window of 4/8 slots: %v%%, want 50%%", got)
	}
}

func TestDrain(t *testing.T) {
	s := newServer(t, Config{Slots: 1}, Deps{Clock: clocktesting.NewFakeClock(t0)})
	s.SetPod("a", true)
	running, queued := mustAssign(t, s), mustAssign(t, s)

	s.RemovePod("a")
	if s.Ready() {
		t.Error("ready with the only pod deleted")
	}
	s.SetPod("a", false) // a late update for the deleted pod changes nothing
	if _, err := s.assign(); !errors.Is(err, errNoPod) {
		t.Errorf("assign to a deleted pod: %v, want errNoPod", err)
	}
	pods := func() []string {
		var out []string
		for _, st := range s.snapshot() {
			out = append(out, st.name)
		}
		return out
	}
	if got := pods(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("draining pod missing from metrics: %v", got)
	}
	s.release(running, true, 0, 0)
	if got := pods(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("pod with a queued request gone early: %v", got)
	}
	select {
	case <-queued.ready:
	default:
		t.Fatal("queued request not granted while draining")
	}
	s.release(queued, true, 0, 0)
	if got := pods(); len(got) != 0 {
		t.Errorf("drained pod still listed: %v", got)
	}
	if mfs := scrape(t, s, "/metrics"); len(mfs) != 0 {
		t.Errorf("metrics after drain: %v", mfs)
	}
}
