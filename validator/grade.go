package validator

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/scalegate/scalegate/timeline"
)

// Status is a promise's verdict.
type Status string

// The verdicts. Inconclusive means the run did not produce the data to
// decide; it is never counted as a pass.
const (
	Pass         Status = "Pass"
	Fail         Status = "Fail"
	Inconclusive Status = "Inconclusive"
)

// Evidence is one observation that supports a finding, at an offset from
// the start of the run.
type Evidence struct {
	At   time.Duration `json:"at"`
	Text string        `json:"text"`
}

// Finding is the verdict on one promise.
type Finding struct {
	Promise  int        `json:"promise"`
	Name     string     `json:"name"`
	Status   Status     `json:"status"`
	Observed string     `json:"observed"`
	Limit    string     `json:"limit"`
	Evidence []Evidence `json:"evidence,omitempty"`
	Notes    []string   `json:"notes,omitempty"`
}

// Input is everything Grade reads.
type Input struct {
	Timeline timeline.Timeline
	HPA      HPASpec
	Profile  Profile
	// SampleInterval is how often the metrics were sampled: the resolution of
	// every time measured from samples.
	SampleInterval time.Duration
}

// Verdict is the graded run.
type Verdict struct {
	Start    time.Time `json:"start"`
	Findings []Finding `json:"findings"`
	// Slack is the measurement allowance stated with the timing promises:
	// one sync period plus the sample interval.
	Slack time.Duration `json:"slack"`
}

// Status is Fail if any promise failed, else Inconclusive if any promise
// could not be decided, else Pass.
func (v Verdict) Status() Status {
	out := Pass
	for _, f := range v.Findings {
		switch f.Status {
		case Fail:
			return Fail
		case Inconclusive:
			out = Inconclusive
		}
	}
	return out
}

// grader carries what every check needs.
type grader struct {
	in    Input
	t0    time.Time
	slack time.Duration
	decs  []decision
	up    []interval // trigger intervals: any scale-up threshold exceeded
	down  []interval // scale-down condition intervals: all below
	// hpaDown are the intervals in which the values the HPA saw were below
	// its own scale-down point on every metric: when it wants fewer pods.
	hpaDown []interval
}

// Grade grades the five promises over a run's timeline.
func Grade(in Input) Verdict {
	tl := in.Timeline
	// Offsets count from the first observation: the watch's initial list,
	// just before the baseline phase starts.
	t0 := tl.Start()
	g := &grader{
		in:    in,
		t0:    t0,
		slack: time.Duration(in.Profile.SyncPeriod) + in.SampleInterval,
	}
	g.decs = decisions(tl, time.Duration(in.Profile.SyncPeriod)+2*time.Second)
	g.up = runs(tl, fromSamples, thresholdMetrics(in.Profile.ScaleUpAbove), func(s state) bool { return anyAbove(s, in.Profile.ScaleUpAbove) })
	g.down = runs(tl, fromSamples, thresholdMetrics(in.Profile.ScaleDownBelow), func(s state) bool { return allBelow(s, in.Profile.ScaleDownBelow) })
	g.hpaDown = hpaLowRuns(tl, in.HPA)
	return Verdict{
		Start: t0,
		Slack: g.slack,
		Findings: []Finding{
			g.baseline(),
			g.scaleUpTrigger(),
			g.scaleDownCondition(),
			g.scaleUpLatency(),
			g.scaleDownWait(),
		},
	}
}

func thresholdMetrics(ts []Threshold) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Metric)
	}
	return out
}

func anyAbove(s state, ts []Threshold) bool {
	for _, t := range ts {
		if v, ok := s[t.Metric]; ok && v > t.Value {
			return true
		}
	}
	return false
}

func allBelow(s state, ts []Threshold) bool {
	for _, t := range ts {
		if v, ok := s[t.Metric]; !ok || v >= t.Value {
			return false
		}
	}
	return true
}

func (g *grader) at(t time.Time) time.Duration { return t.Sub(g.t0).Round(100 * time.Millisecond) }

func (g *grader) ev(t time.Time, format string, args ...any) Evidence {
	return Evidence{At: g.at(t), Text: fmt.Sprintf(format, args...)}
}

// describe renders metric values in the profile's order, e.g.
// "nim_queue_depth 42.0, nim_gpu_utilization_percent 97.5".
func describe(s state, order []string) string {
	var parts []string
	for _, m := range order {
		if v, ok := s[m]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1f", m, v))
		}
	}
	return strings.Join(parts, ", ")
}

func thresholds(ts []Threshold, op string) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s %s %g", t.Metric, op, t.Value))
	}
	return strings.Join(parts, map[string]string{">": " OR ", "<": " AND "}[op])
}

// baseline grades promise 1: before load the Deployment holds the baseline
// replicas, desired and ready; it never goes below it during the run.
func (g *grader) baseline() Finding {
	p := g.in.Profile
	f := Finding{Promise: 1, Name: "baseline replicas", Limit: fmt.Sprintf("= %d before load, never fewer", p.BaselineReplicas)}
	if g.in.HPA.MinReplicas != p.BaselineReplicas {
		f.Notes = append(f.Notes, fmt.Sprintf("the HPA's minReplicas is %d, the profile's baseline %d: the HPA does not hold this promise by itself", g.in.HPA.MinReplicas, p.BaselineReplicas))
	}
	tl := g.in.Timeline
	loadStart, ok := tl.PhaseStart(timeline.PhaseLoad)
	if !ok {
		f.Status, f.Observed = Inconclusive, "the run never started its load phase"
		return f
	}
	d, at, ok := lastDeployment(tl, loadStart)
	if !ok {
		f.Status, f.Observed = Inconclusive, "no observation of the Deployment before load"
		return f
	}
	desired := d.SpecReplicas
	if h, ok := lastHPA(tl, loadStart); ok {
		desired = h.DesiredReplicas
		if h.DesiredReplicas == 0 {
			desired = d.SpecReplicas // the HPA has not reconciled yet
		}
	}
	f.Observed = fmt.Sprintf("before load: spec %d, desired %d, ready %d", d.SpecReplicas, desired, d.ReadyReplicas)
	f.Evidence = append(f.Evidence, g.ev(at, "Deployment spec %d, ready %d", d.SpecReplicas, d.ReadyReplicas))
	f.Status = Pass
	if d.SpecReplicas != p.BaselineReplicas || d.ReadyReplicas != p.BaselineReplicas || desired != p.BaselineReplicas {
		f.Status = Fail
	}
	minSpec, minReady := int32(-1), int32(-1)
	var minSpecAt, minReadyAt time.Time
	for _, e := range tl.Between(loadStart, time.Time{}).Of(timeline.KindDeployment) {
		if minSpec < 0 || e.Deployment.SpecReplicas < minSpec {
			minSpec, minSpecAt = e.Deployment.SpecReplicas, e.At
		}
		if minReady < 0 || e.Deployment.ReadyReplicas < minReady {
			minReady, minReadyAt = e.Deployment.ReadyReplicas, e.At
		}
	}
	if minSpec >= 0 && minSpec < p.BaselineReplicas {
		f.Status = Fail
		f.Observed += fmt.Sprintf("; fell to %d replicas during the run", minSpec)
		f.Evidence = append(f.Evidence, g.ev(minSpecAt, "Deployment spec %d", minSpec))
	}
	if minReady >= 0 && minReady < p.BaselineReplicas {
		f.Notes = append(f.Notes, fmt.Sprintf("ready replicas dipped to %d at %s (pods not Ready, not a scaling decision)", minReady, g.at(minReadyAt)))
	}
	return f
}

// scaleUpTrigger grades promise 2: every stretch in which a trigger holds
// longer than the scale-up window plus the allowance, below maxReplicas, is
// followed by a scale-up; every scale-up is preceded by a trigger.
func (g *grader) scaleUpTrigger() Finding {
	p, hpa := g.in.Profile, g.in.HPA
	allow := hpa.ScaleUp.Window + g.slack
	f := Finding{Promise: 2, Name: "scale-up trigger",
		Limit: fmt.Sprintf("scale up when %s for longer than %s (window %s + slack %s), below %d replicas", thresholds(p.ScaleUpAbove, ">"), allow, hpa.ScaleUp.Window, g.slack, g.capacity())}
	if hpa.MaxReplicas < g.capacity() {
		f.Notes = append(f.Notes, fmt.Sprintf("the HPA's maxReplicas is %d, below the %d replicas the promises cover: it cannot keep this promise", hpa.MaxReplicas, g.capacity()))
	}
	if len(g.up) == 0 && len(g.upDecisions()) == 0 {
		f.Status = Inconclusive
		f.Observed = "the metrics never went above a scale-up threshold, and nothing scaled up"
		if len(g.in.Timeline.Of(timeline.KindSample)) == 0 {
			f.Observed = "no metric samples were recorded"
		}
		return f
	}
	f.Status = Pass
	var observed []string
	for _, iv := range g.up {
		f.Evidence = append(f.Evidence, g.ev(iv.Start, "above threshold for %s (peak %s)", iv.Duration().Round(100*time.Millisecond), describe(iv.Values, p.Metrics())))
		if iv.Duration() <= allow {
			continue
		}
		if g.specAt(iv.Start) >= g.capacity() {
			f.Notes = append(f.Notes, fmt.Sprintf("at %s the trigger held with the Deployment already at %d replicas, the most the promises cover", g.at(iv.Start), g.capacity()))
			continue
		}
		d, ok := g.firstUpIn(iv.Start, iv.End.Add(allow))
		if !ok {
			f.Status = Fail
			observed = append(observed, fmt.Sprintf("%s for %s from %s, no scale-up", exceeded(iv.Values, p.ScaleUpAbove), iv.Duration().Round(time.Second), g.at(iv.Start)))
			continue
		}
		observed = append(observed, fmt.Sprintf("scaled %d→%d %s after the trigger", d.From, d.To, d.At.Sub(iv.Start).Round(100*time.Millisecond)))
	}
	for _, d := range g.upDecisions() {
		f.Evidence = append(f.Evidence, g.ev(d.At, "scaled up %d→%d (%s)", d.From, d.To, orUnknown(d.Reason)))
		if strings.Contains(d.Reason, "below Spec.MinReplicas") {
			continue
		}
		if !g.triggeredBefore(d.At, allow+g.slack) {
			f.Status = Fail
			observed = append(observed, fmt.Sprintf("spurious scale-up %d→%d at %s: no trigger in the %s before it", d.From, d.To, g.at(d.At), allow+g.slack))
		}
	}
	if len(observed) == 0 {
		observed = append(observed, "no trigger lasted long enough to require a scale-up")
		if f.Status == Pass {
			f.Status = Inconclusive
		}
	}
	f.Observed = strings.Join(observed, "; ")
	return f
}

// scaleDownCondition grades promise 3: at every scale-down decision the
// values the HPA saw were all below the scale-down thresholds.
func (g *grader) scaleDownCondition() Finding {
	p, hpa := g.in.Profile, g.in.HPA
	f := Finding{Promise: 3, Name: "scale-down condition", Limit: "scale down only when " + thresholds(p.ScaleDownBelow, "<")}
	downs := g.downDecisions()
	if len(downs) == 0 {
		f.Status, f.Observed = Inconclusive, "no scale-down happened during the run"
		return f
	}
	f.Status = Pass
	var observed []string
	for _, d := range downs {
		saw := state{}
		source := "HPA status"
		if ms, at, ok := hpaSawAfter(g.in.Timeline, d.At, d.To, time.Duration(p.SyncPeriod)+2*time.Second); ok {
			for _, m := range ms {
				saw[m.Name] = m.AverageValue
			}
			f.Evidence = append(f.Evidence, g.ev(at, "HPA status with desired %d: %s", d.To, describe(saw, p.Metrics())))
		} else {
			saw = valuesAt(g.in.Timeline, d.At)
			source = "last samples"
		}
		f.Evidence = append(f.Evidence, g.ev(d.At, "scaled down %d→%d (%s)", d.From, d.To, orUnknown(d.Reason)))
		if allBelow(saw, p.ScaleDownBelow) {
			observed = append(observed, fmt.Sprintf("%d→%d at %s with %s", d.From, d.To, g.at(d.At), describe(saw, p.Metrics())))
			continue
		}
		f.Status = Fail
		observed = append(observed, fmt.Sprintf("scaled down %d→%d at %s while %s (%s) did not meet %s",
			d.From, d.To, g.at(d.At), describe(saw, p.Metrics()), source, thresholds(p.ScaleDownBelow, "<")))
	}
	if f.Status == Fail {
		f.Notes = append(f.Notes, toleranceNote(hpa, p))
	}
	f.Observed = strings.Join(observed, "; ")
	return f
}

// toleranceNote says where the HPA really proposes fewer pods: below
// target x (1 - scale-down tolerance) per metric, not at the profile's
// thresholds.
func toleranceNote(hpa HPASpec, p Profile) string {
	var parts []string
	for _, t := range p.ScaleDownBelow {
		if target, ok := hpa.TargetOf(t.Metric); ok {
			parts = append(parts, fmt.Sprintf("%s below %.4g (target %g × (1 − %g))", t.Metric, target*(1-hpa.ScaleDown.Tolerance), target, hpa.ScaleDown.Tolerance))
		}
	}
	return "the HPA itself proposes fewer pods once every metric is " + strings.Join(parts, " and ") + "; the promised thresholds are not in the HPA"
}

// scaleUpLatency grades promise 4: from the first sample above a trigger to
// the HPA's scale-up decision. Time until the new pods are Ready is reported
// as a separate figure, bounded only when the profile says so.
func (g *grader) scaleUpLatency() Finding {
	p := g.in.Profile
	limit := time.Duration(p.MaxScaleUpLatency)
	f := Finding{Promise: 4, Name: "scale-up latency", Limit: fmt.Sprintf("decision ≤ %s after the trigger", limit)}
	if p.MaxReadyLatency > 0 {
		f.Limit += fmt.Sprintf("; pods Ready ≤ %s", time.Duration(p.MaxReadyLatency))
	}
	var observed []string
	for _, iv := range g.up {
		d, ok := g.firstUpIn(iv.Start, iv.End.Add(limit+g.slack))
		if !ok {
			if iv.Duration() > limit+g.slack && g.specAt(iv.Start) < g.capacity() {
				f.Status = Fail
				observed = append(observed, fmt.Sprintf("trigger at %s held %s with no scale-up", g.at(iv.Start), iv.Duration().Round(time.Second)))
			}
			continue
		}
		lat := d.At.Sub(iv.Start)
		f.Evidence = append(f.Evidence, g.ev(iv.Start, "first sample above threshold: %s", describe(iv.Values, p.Metrics())), g.ev(d.At, "scale-up decision %d→%d", d.From, d.To))
		text := fmt.Sprintf("decision %s after the trigger (%d→%d)", lat.Round(100*time.Millisecond), d.From, d.To)
		if lat > limit {
			f.Status = Fail
		} else if f.Status == "" {
			f.Status = Pass
		}
		if r, ok := readyAt(g.in.Timeline, d.At, d.To); ok {
			ready := r.Sub(iv.Start)
			text += fmt.Sprintf(", pods Ready %s after it", ready.Round(100*time.Millisecond))
			f.Evidence = append(f.Evidence, g.ev(r, "%d pods Ready", d.To))
			if p.MaxReadyLatency > 0 && ready > time.Duration(p.MaxReadyLatency) {
				f.Status = Fail
			}
		} else {
			text += ", new pods never all Ready during the run"
			if p.MaxReadyLatency > 0 {
				f.Status = Fail
			}
		}
		observed = append(observed, text)
	}
	if f.Status == "" {
		f.Status = Inconclusive
		observed = append(observed, "no scale-up followed a trigger during the run")
	}
	f.Observed = strings.Join(observed, "; ")
	return f
}

// scaleDownWait grades promise 5: the first pod removal after a scale-up
// comes no sooner than the promised wait, less the measurement slack, after
// the metrics dropped. "Dropped" is where the HPA itself starts counting
// its window: the first sync whose values were below its own scale-down
// point (target × (1 − scale-down tolerance)) on every metric. The wait
// from the promised thresholds is reported beside it; where the two differ,
// promise 3 explains why.
func (g *grader) scaleDownWait() Finding {
	p, hpa := g.in.Profile, g.in.HPA
	limit := hpa.ScaleDown.Window
	source := "the HPA's scale-down window"
	if p.MinScaleDownWait > 0 {
		limit, source = time.Duration(p.MinScaleDownWait), "the profile"
	}
	f := Finding{Promise: 5, Name: "scale-down wait",
		Limit: fmt.Sprintf("≥ %s after the drop (%s; measured with slack %s)", limit, source, g.slack)}
	if hpa.ScaleDown.Window < limit {
		f.Notes = append(f.Notes, fmt.Sprintf("the HPA's scale-down stabilization window is %s, shorter than the promised %s: the HPA cannot keep this promise by itself", hpa.ScaleDown.Window, limit))
	}
	point := scaleDownPoint(hpa)
	var observed []string
	for _, d := range g.firstDownsAfterUps() {
		f.Evidence = append(f.Evidence, g.ev(d.At, "first scale-down %d→%d (%s)", d.From, d.To, orUnknown(d.Reason)))
		// The HPA's status for the deciding sync lands just after the scale.
		low, ok := containing(g.hpaDown, d.At.Add(time.Duration(p.SyncPeriod)))
		if !ok {
			f.Status = Fail
			observed = append(observed, fmt.Sprintf("scaled down %d→%d at %s while the HPA's values were not below its own scale-down point (%s)", d.From, d.To, g.at(d.At), point))
			continue
		}
		wait := d.At.Sub(low.Start)
		f.Evidence = append(f.Evidence, g.ev(low.Start, "the HPA's values fell below its scale-down point (%s)", point))
		text := fmt.Sprintf("waited %s after the metrics dropped below the HPA's scale-down point (%d→%d)", wait.Round(100*time.Millisecond), d.From, d.To)
		if promised, ok := containing(g.down, d.At); ok {
			pw := d.At.Sub(promised.Start)
			text += fmt.Sprintf("; %s after they fell below %s", pw.Round(100*time.Millisecond), thresholds(p.ScaleDownBelow, "<"))
			f.Evidence = append(f.Evidence, g.ev(promised.Start, "metrics below %s: %s", thresholds(p.ScaleDownBelow, "<"), describe(valuesAt(g.in.Timeline, promised.Start), p.Metrics())))
			if pw < limit-g.slack {
				f.Notes = append(f.Notes, fmt.Sprintf("counted from the promised thresholds the wait was %s: the HPA starts its window at its own scale-down point (%s), above them (see promise 3)", pw.Round(100*time.Millisecond), point))
			}
		} else {
			text += fmt.Sprintf("; the metrics never fell below %s before it", thresholds(p.ScaleDownBelow, "<"))
		}
		observed = append(observed, text)
		if wait < limit-g.slack {
			f.Status = Fail
		} else if f.Status == "" {
			f.Status = Pass
		}
	}
	if f.Status == "" {
		f.Status = Inconclusive
		if len(g.upDecisions()) == 0 {
			observed = append(observed, "nothing scaled up, so nothing could scale down")
		} else {
			ups := g.upDecisions()
			lastUp := ups[len(ups)-1].At
			text := "no pod was removed before the run ended"
			if n := len(g.hpaDown); n > 0 && g.hpaDown[n-1].Open && g.hpaDown[n-1].Start.After(lastUp) {
				text += fmt.Sprintf(" (%s after the metrics dropped below the HPA's scale-down point)", g.hpaDown[n-1].Duration().Round(time.Second))
			} else {
				text += "; the metrics never dropped below the HPA's scale-down point after the last scale-up"
			}
			observed = append(observed, text)
		}
	}
	f.Observed = strings.Join(observed, "; ")
	return f
}

// hpaLowRuns returns the intervals in which the values the HPA saw were
// below its scale-down point on every metric. It reads the HPA's status,
// and falls back to our samples when the status carried no metrics.
func hpaLowRuns(tl timeline.Timeline, hpa HPASpec) []interval {
	var names []string
	for _, m := range hpa.Metrics {
		names = append(names, m.Name)
	}
	low := func(s state) bool {
		for _, m := range hpa.Metrics {
			if v, ok := s[m.Name]; !ok || v >= m.AverageValue*(1-hpa.ScaleDown.Tolerance) {
				return false
			}
		}
		return true
	}
	if out := runs(tl, fromHPA, names, low); len(out) > 0 {
		return out
	}
	return runs(tl, fromSamples, names, low)
}

// scaleDownPoint renders where the HPA proposes fewer pods, e.g.
// "nim_queue_depth < 18, nim_gpu_utilization_percent < 72".
func scaleDownPoint(hpa HPASpec) string {
	var parts []string
	for _, m := range hpa.Metrics {
		parts = append(parts, fmt.Sprintf("%s < %.4g", m.Name, m.AverageValue*(1-hpa.ScaleDown.Tolerance)))
	}
	return strings.Join(parts, " AND ")
}

// capacity is the replica count up to which the promises owe a scale-up:
// the profile's maxReplicas, else the HPA's.
func (g *grader) capacity() int32 {
	if g.in.Profile.MaxReplicas > 0 {
		return g.in.Profile.MaxReplicas
	}
	return g.in.HPA.MaxReplicas
}

// exceeded names the thresholds an interval's peak values went past, e.g.
// "nim_queue_depth above 20 (peak 95.0)".
func exceeded(peak state, ts []Threshold) string {
	var parts []string
	for _, t := range ts {
		if v, ok := peak[t.Metric]; ok && v > t.Value {
			parts = append(parts, fmt.Sprintf("%s above %g (peak %.1f)", t.Metric, t.Value, v))
		}
	}
	return strings.Join(parts, " and ")
}

func orUnknown(reason string) string {
	if reason == "" {
		return "no matching SuccessfulRescale event seen"
	}
	return reason
}

func (g *grader) upDecisions() []decision {
	var out []decision
	for _, d := range g.decs {
		if d.Up() {
			out = append(out, d)
		}
	}
	return out
}

func (g *grader) downDecisions() []decision {
	var out []decision
	for _, d := range g.decs {
		if !d.Up() {
			out = append(out, d)
		}
	}
	return out
}

// firstDownsAfterUps returns, for each scale-up episode, the first
// scale-down after it: the removals promise 5 is about.
func (g *grader) firstDownsAfterUps() []decision {
	var out []decision
	armed := false
	for _, d := range g.decs {
		switch {
		case d.Up():
			armed = true
		case armed:
			out = append(out, d)
			armed = false
		}
	}
	return out
}

func (g *grader) firstUpIn(from, to time.Time) (decision, bool) {
	for _, d := range g.decs {
		if d.Up() && !d.At.Before(from) && !d.At.After(to) {
			return d, true
		}
	}
	return decision{}, false
}

// triggeredBefore reports whether a trigger held at some point in the
// lookback before t.
func (g *grader) triggeredBefore(t time.Time, lookback time.Duration) bool {
	for _, iv := range g.up {
		if !iv.Start.After(t) && !iv.End.Before(t.Add(-lookback)) {
			return true
		}
	}
	return false
}

// specAt returns the Deployment's spec.replicas at t.
func (g *grader) specAt(t time.Time) int32 {
	d, _, ok := lastDeployment(g.in.Timeline, t.Add(time.Nanosecond))
	if !ok {
		return 0
	}
	return d.SpecReplicas
}

// ReplicaSteps renders the Deployment's replica path compactly, e.g.
// "0s 2 → 75s 5 → 410s 4".
func ReplicaSteps(tl timeline.Timeline, t0 time.Time) string {
	var parts []string
	var last int32 = -1
	for _, e := range tl.Of(timeline.KindDeployment) {
		if e.Deployment.SpecReplicas == last {
			continue
		}
		last = e.Deployment.SpecReplicas
		at := e.At.Sub(t0)
		if at < 0 {
			at = 0
		}
		parts = append(parts, fmt.Sprintf("%.0fs %d", at.Seconds(), last))
	}
	return strings.Join(parts, " → ")
}

// Sort orders findings by promise number.
func (v *Verdict) Sort() {
	sort.Slice(v.Findings, func(i, j int) bool { return v.Findings[i].Promise < v.Findings[j].Promise })
}
