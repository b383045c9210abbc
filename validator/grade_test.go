package validator

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scalegate/scalegate/timeline"
)

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// run builds a timeline: samples every second from 0 to end of (queue, gpu)
// given by load(t), the Deployment's spec/ready replicas given by steps
// (time → replicas, ready one second later), and phases.
type run struct {
	end      float64
	loadAt   float64
	load     func(t float64) (queue, gpu float64)
	steps    map[float64]int32
	hpaSaw   map[float64][2]float64 // decision time → metrics in the HPA status
	noEvents bool
	// noHPAStatus leaves out the HPA's per-sync status, as when its updates
	// were not observed: grading falls back to the samples.
	noHPAStatus bool
}

func (r run) timeline() timeline.Timeline {
	var es []timeline.Entry
	add := func(e timeline.Entry) { es = append(es, e) }
	add(timeline.Entry{At: sec(0), Kind: timeline.KindPhase, Phase: &timeline.Phase{Name: timeline.PhaseBaseline}})
	add(timeline.Entry{At: sec(r.loadAt), Kind: timeline.KindPhase, Phase: &timeline.Phase{Name: timeline.PhaseLoad}})
	add(timeline.Entry{At: sec(0), Kind: timeline.KindDeployment, Deployment: &timeline.Deployment{SpecReplicas: 2, Replicas: 2, ReadyReplicas: 2}})
	add(timeline.Entry{At: sec(0.1), Kind: timeline.KindHPA, HPA: &timeline.HPA{CurrentReplicas: 2, DesiredReplicas: 2}})
	// Each second: our samples, then the HPA's status for its sync, with the
	// same values (both read the same custom metrics API).
	for s := 0.5; s <= r.end; s++ {
		q, g := r.load(s)
		add(timeline.Entry{At: sec(s), Kind: timeline.KindSample, Sample: &timeline.Sample{Metric: "nim_queue_depth", Average: q}})
		add(timeline.Entry{At: sec(s), Kind: timeline.KindSample, Sample: &timeline.Sample{Metric: "nim_gpu_utilization_percent", Average: g}})
		if !r.noHPAStatus {
			add(timeline.Entry{At: sec(s + 0.3), Kind: timeline.KindHPA, HPA: &timeline.HPA{Metrics: []timeline.MetricValue{
				{Name: "nim_queue_depth", AverageValue: q}, {Name: "nim_gpu_utilization_percent", AverageValue: g}}}})
		}
	}
	cur := int32(2)
	for _, at := range slices.Sorted(maps.Keys(r.steps)) {
		n := r.steps[at]
		reason := "pods metric nim_queue_depth above target"
		if n < cur {
			reason = "All metrics below target"
		}
		add(timeline.Entry{At: sec(at), Kind: timeline.KindDeployment, Deployment: &timeline.Deployment{SpecReplicas: n, Replicas: n, ReadyReplicas: min(n, cur)}})
		add(timeline.Entry{At: sec(at + 1), Kind: timeline.KindDeployment, Deployment: &timeline.Deployment{SpecReplicas: n, Replicas: n, ReadyReplicas: n}})
		if !r.noEvents {
			add(timeline.Entry{At: sec(at + 0.2), Kind: timeline.KindRescale, Rescale: &timeline.Rescale{NewSize: n, Message: "New size: " + string(rune('0'+n)) + "; reason: " + reason}})
		}
		if saw, ok := r.hpaSaw[at]; ok {
			add(timeline.Entry{At: sec(at + 0.3), Kind: timeline.KindHPA, HPA: &timeline.HPA{DesiredReplicas: n, Metrics: []timeline.MetricValue{{Name: "nim_queue_depth", AverageValue: saw[0]}, {Name: "nim_gpu_utilization_percent", AverageValue: saw[1]}}}})
		}
		cur = n
	}
	return timeline.Sorted(es)
}

// testSpec is the seed's HPA at a tenth of real time.
func testSpec() HPASpec {
	return HPASpec{
		Name: "coding-assistant-hpa", MinReplicas: 2, MaxReplicas: 15,
		Metrics: []MetricTarget{{Name: "nim_queue_depth", AverageValue: 20}, {Name: "nim_gpu_utilization_percent", AverageValue: 80}},
		ScaleUp: Rules{Window: 6 * time.Second, Tolerance: 0.1, SelectPolicy: "Max",
			Policies: []Policy{{Type: "Percent", Value: 100, Period: 6 * time.Second}, {Type: "Pods", Value: 2, Period: 6 * time.Second}}},
		ScaleDown: Rules{Window: 30 * time.Second, Tolerance: 0.1, SelectPolicy: "Max",
			Policies: []Policy{{Type: "Percent", Value: 10, Period: 6 * time.Second}}},
	}
}

func testProfile() Profile {
	p := DefaultProfile()
	p = p.ScaleTime(10)
	p.SyncPeriod = Duration(time.Second)
	return p
}

// burst is high load from 12 s to 40 s, then idle.
func burst(t float64) (float64, float64) {
	if t >= 12 && t < 40 {
		return 50, 95
	}
	return 0, 0
}

func TestGrade(t *testing.T) {
	healthy := run{end: 90, loadAt: 10, load: burst, steps: map[float64]int32{19: 4, 26: 5, 71: 4},
		hpaSaw: map[float64][2]float64{71: {0, 0}}}
	tests := []struct {
		name string
		run  run
		spec func(*HPASpec)
		want map[int]Status
		// wantObserved maps a promise to text its Observed must contain.
		wantObserved map[int]string
		// wantNote maps a promise to text one of its Notes must contain.
		wantNote map[int]string
	}{
		{
			name:         "healthy run passes every promise",
			run:          healthy,
			want:         map[int]Status{1: Pass, 2: Pass, 3: Pass, 4: Pass, 5: Pass},
			wantObserved: map[int]string{4: "decision 6.5s after the trigger (2→4), pods Ready 7.5s after it", 5: "waited 30.2s after the metrics dropped below the HPA's scale-down point (5→4); 30.5s after they fell below"},
		},
		{
			name: "scale-down window cut to a third fails promise 5 with the wait",
			run: run{end: 90, loadAt: 10, load: burst, steps: map[float64]int32{19: 4, 26: 5, 51: 4},
				hpaSaw: map[float64][2]float64{51: {0, 0}}},
			want:         map[int]Status{1: Pass, 2: Pass, 3: Pass, 4: Pass, 5: Fail},
			wantObserved: map[int]string{5: "waited 10.2s after the metrics dropped below the HPA's scale-down point"},
		},
		{
			name:         "maxReplicas 2 fails promise 2: trigger held, no scale-up",
			run:          run{end: 90, loadAt: 10, load: burst, steps: map[float64]int32{}},
			spec:         func(s *HPASpec) { s.MaxReplicas = 2 },
			want:         map[int]Status{1: Pass, 2: Fail, 3: Inconclusive, 4: Fail, 5: Inconclusive},
			wantObserved: map[int]string{2: "nim_queue_depth above 20 (peak 50.0) and nim_gpu_utilization_percent above 80 (peak 95.0) for 28s from 12.5s, no scale-up"},
			wantNote:     map[int]string{2: "the HPA's maxReplicas is 2, below the 15 replicas the promises cover"},
		},
		{
			name: "scale-up window longer than the latency bound fails promise 4",
			run: run{end: 120, loadAt: 10, load: burst, steps: map[float64]int32{33: 4, 100: 3},
				hpaSaw: map[float64][2]float64{100: {0, 0}}},
			want:         map[int]Status{1: Pass, 2: Pass, 4: Fail},
			wantObserved: map[int]string{4: "decision 20.5s after the trigger"},
		},
		{
			name: "scale-down with queue between 10 and 20 fails promise 3 with the numbers",
			run: run{end: 120, loadAt: 10,
				load: func(t float64) (float64, float64) {
					switch {
					case t >= 12 && t < 40:
						return 50, 95
					case t >= 40:
						return 15, 45
					}
					return 0, 0
				},
				steps:  map[float64]int32{19: 4, 26: 5, 71: 4},
				hpaSaw: map[float64][2]float64{71: {15, 45}}},
			// The HPA waited its full window after its own scale-down point
			// (queue < 18 AND GPU < 72): promise 5 holds, promise 3 does not.
			want:         map[int]Status{3: Fail, 5: Pass},
			wantObserved: map[int]string{3: "nim_queue_depth 15.0, nim_gpu_utilization_percent 45.0", 5: "the metrics never fell below nim_queue_depth < 10"},
		},
		{
			name: "the HPA's scale-down point above the promised thresholds is noted",
			run: run{end: 120, loadAt: 10,
				load: func(t float64) (float64, float64) {
					switch {
					case t >= 12 && t < 40:
						return 50, 95
					case t >= 40 && t < 45:
						return 15, 45 // below 18/72, not yet below 10/50
					}
					return 0, 0
				},
				steps: map[float64]int32{19: 4, 26: 5, 71: 4}},
			want:         map[int]Status{5: Pass},
			wantObserved: map[int]string{5: "waited 30.2s after the metrics dropped below the HPA's scale-down point (5→4); 25.5s after they fell below"},
			wantNote:     map[int]string{5: "counted from the promised thresholds the wait was 25.5s"},
		},
		{
			name:         "without the HPA's status, the samples stand in",
			run:          run{end: 90, loadAt: 10, load: burst, steps: map[float64]int32{19: 4, 26: 5, 71: 4}, noHPAStatus: true},
			want:         map[int]Status{5: Pass},
			wantObserved: map[int]string{5: "waited 30.5s after the metrics dropped below the HPA's scale-down point"},
		},
		{
			name: "a run that ends under load says the metrics never dropped",
			run: run{end: 60, loadAt: 10, load: func(t float64) (float64, float64) {
				if t >= 12 {
					return 50, 95
				}
				return 0, 0
			}, steps: map[float64]int32{19: 4}},
			want:         map[int]Status{5: Inconclusive},
			wantObserved: map[int]string{5: "no pod was removed before the run ended; the metrics never dropped below the HPA's scale-down point after the last scale-up"},
		},
		{
			name:         "a scale-up with no trigger is spurious",
			run:          run{end: 60, loadAt: 10, load: func(float64) (float64, float64) { return 0, 0 }, steps: map[float64]int32{30: 4}},
			want:         map[int]Status{2: Fail},
			wantObserved: map[int]string{2: "spurious scale-up 2→4 at 30s"},
		},
		{
			name:         "a baseline below the promise fails promise 1",
			run:          healthy,
			spec:         func(s *HPASpec) { s.MinReplicas = 1 },
			want:         map[int]Status{1: Pass},
			wantObserved: map[int]string{1: "before load: spec 2, desired 2, ready 2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := testSpec()
			if tc.spec != nil {
				tc.spec(&spec)
			}
			v := Grade(Input{Timeline: tc.run.timeline(), HPA: spec, Profile: testProfile(), SampleInterval: time.Second})
			for _, f := range v.Findings {
				if want, ok := tc.want[f.Promise]; ok && f.Status != want {
					t.Errorf("promise %d (%s) = %s, want %s\n  observed: %s\n  evidence: %v\n  notes: %v", f.Promise, f.Name, f.Status, want, f.Observed, f.Evidence, f.Notes)
				}
				if want, ok := tc.wantObserved[f.Promise]; ok && !strings.Contains(f.Observed, want) {
					t.Errorf("promise %d observed = %q, want it to contain %q", f.Promise, f.Observed, want)
				}
				if want, ok := tc.wantNote[f.Promise]; ok && !strings.Contains(strings.Join(f.Notes, "\n"), want) {
					t.Errorf("promise %d notes = %q, want one to contain %q", f.Promise, f.Notes, want)
				}
			}
		})
	}
}

func TestGradeEmptyTimelineIsInconclusive(t *testing.T) {
	v := Grade(Input{HPA: testSpec(), Profile: testProfile(), SampleInterval: time.Second})
	for _, f := range v.Findings {
		if f.Status != Inconclusive {
			t.Errorf("promise %d = %s (%s), want Inconclusive", f.Promise, f.Status, f.Observed)
		}
	}
	if v.Status() != Inconclusive {
		t.Errorf("verdict = %s, want Inconclusive", v.Status())
	}
}

func TestScaleDownToleranceNote(t *testing.T) {
	got := toleranceNote(testSpec(), testProfile())
	for _, want := range []string{"nim_queue_depth below 18", "nim_gpu_utilization_percent below 72"} {
		if !strings.Contains(got, want) {
			t.Errorf("note %q lacks %q", got, want)
		}
	}
}

func TestReplicaSteps(t *testing.T) {
	r := run{end: 90, loadAt: 10, load: burst, steps: map[float64]int32{19: 4, 26: 5, 71: 4}}
	if got, want := ReplicaSteps(r.timeline(), t0), "0s 2 → 19s 4 → 26s 5 → 71s 4"; got != want {
		t.Errorf("ReplicaSteps = %q, want %q", got, want)
	}
}

func TestScaleDownSteps(t *testing.T) {
	s := testSpec()
	// 10 % per 6 s from 15: 15→13→11→9→8→7→6→5→4→3→2 is 10 periods.
	if got, want := s.ScaleDownSteps(15), 60*time.Second; got != want {
		t.Errorf("ScaleDownSteps(15) = %s, want %s", got, want)
	}
	if got := s.ScaleDownSteps(2); got != 0 {
		t.Errorf("ScaleDownSteps(2) = %s, want 0", got)
	}
}
