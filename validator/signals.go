package validator

import (
	"strings"
	"time"

	"github.com/scalegate/scalegate/timeline"
)

// interval is a stretch of time [Start, End) in which a condition held.
// Open is true when it still held at the last sample.
type interval struct {
	Start, End time.Time
	Open       bool
	// Peak holds each metric's highest (for triggers) or latest value in it.
	Values map[string]float64
}

func (iv interval) Duration() time.Duration { return iv.End.Sub(iv.Start) }

// state is the latest sampled average of each metric.
type state map[string]float64

// source says where metric values come from: our own samples of the
// custom metrics API, or the HPA's status (the values it computed with, one
// update per sync).
type source int

const (
	fromSamples source = iota
	fromHPA
)

// values returns the metric values an entry carries from src, if any.
func (src source) values(e timeline.Entry) map[string]float64 {
	switch {
	case src == fromSamples && e.Kind == timeline.KindSample && e.Sample.Err == "":
		return map[string]float64{e.Sample.Metric: e.Sample.Average}
	case src == fromHPA && e.Kind == timeline.KindHPA && len(e.HPA.Metrics) > 0:
		out := map[string]float64{}
		for _, m := range e.HPA.Metrics {
			out[m.Name] = m.AverageValue
		}
		return out
	}
	return nil
}

// runs walks the values from src in order and returns the intervals in
// which hold(state) was true. A state is evaluated once every metric in
// metrics has a value; a failed sample leaves the metric's last value in
// place (the HPA keeps acting on what it last saw too).
func runs(tl timeline.Timeline, src source, metrics []string, hold func(state) bool) []interval {
	want := map[string]bool{}
	for _, m := range metrics {
		want[m] = true
	}
	cur := state{}
	var out []interval
	var open *interval
	var last time.Time
	for _, e := range tl {
		vals := src.values(e)
		seen := false
		for k, v := range vals {
			if want[k] {
				cur[k], seen = v, true
			}
		}
		if !seen {
			continue
		}
		last = e.At
		if len(cur) < len(want) {
			continue
		}
		if hold(cur) {
			if open == nil {
				open = &interval{Start: e.At, Values: map[string]float64{}}
			}
			for k, v := range cur {
				if v > open.Values[k] {
					open.Values[k] = v
				}
			}
			continue
		}
		if open != nil {
			open.End = e.At
			out = append(out, *open)
			open = nil
		}
	}
	if open != nil {
		open.End, open.Open = last, true
		out = append(out, *open)
	}
	return out
}

// containing returns the interval that holds at t: it started by t and
// still held at t (or at the last value, when open).
func containing(ivs []interval, t time.Time) (interval, bool) {
	for _, iv := range ivs {
		if !iv.Start.After(t) && (iv.Open || !iv.End.Before(t)) {
			return iv, true
		}
	}
	return interval{}, false
}

// valuesAt returns each metric's latest sampled average at or before t.
func valuesAt(tl timeline.Timeline, t time.Time) state {
	s := state{}
	for _, e := range tl {
		if e.At.After(t) {
			break
		}
		if e.Kind == timeline.KindSample && e.Sample.Err == "" {
			s[e.Sample.Metric] = e.Sample.Average
		}
	}
	return s
}

// decision is one change of the Deployment's spec.replicas: the HPA's write
// of the scale subresource (or anyone else's).
type decision struct {
	At       time.Time
	From, To int32
	// Reason is the matching SuccessfulRescale event's reason, when seen.
	Reason string
}

func (d decision) Up() bool { return d.To > d.From }

// decisions returns the changes of spec.replicas after the first observed
// value, each matched with the SuccessfulRescale event for the same size
// seen within match of it.
func decisions(tl timeline.Timeline, match time.Duration) []decision {
	var out []decision
	var have bool
	var cur int32
	for _, e := range tl {
		if e.Kind != timeline.KindDeployment {
			continue
		}
		spec := e.Deployment.SpecReplicas
		if !have {
			have, cur = true, spec
			continue
		}
		if spec != cur {
			out = append(out, decision{At: e.At, From: cur, To: spec})
			cur = spec
		}
	}
	for i := range out {
		for _, e := range tl.Of(timeline.KindRescale) {
			if e.Rescale.NewSize == out[i].To && absDur(e.At.Sub(out[i].At)) <= match {
				out[i].Reason = rescaleReason(e.Rescale.Message)
				break
			}
		}
	}
	return out
}

// rescaleReason extracts R from the controller's "New size: N; reason: R".
func rescaleReason(msg string) string {
	if _, reason, ok := strings.Cut(msg, "reason: "); ok {
		return reason
	}
	return msg
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// hpaSawAfter returns the metrics of the first HPA status at or after t that
// reports desired == size, within limit: the values the controller computed
// in the reconcile that made the decision.
func hpaSawAfter(tl timeline.Timeline, t time.Time, size int32, limit time.Duration) ([]timeline.MetricValue, time.Time, bool) {
	for _, e := range tl {
		if e.Kind != timeline.KindHPA || e.At.Before(t.Add(-limit)) {
			continue
		}
		if e.At.After(t.Add(limit)) {
			break
		}
		if e.HPA.DesiredReplicas == size && len(e.HPA.Metrics) > 0 {
			return e.HPA.Metrics, e.At, true
		}
	}
	return nil, time.Time{}, false
}

// readyAt returns the first time at or after t when the Deployment had at
// least n ready replicas.
func readyAt(tl timeline.Timeline, t time.Time, n int32) (time.Time, bool) {
	for _, e := range tl {
		if e.Kind != timeline.KindDeployment || e.At.Before(t) {
			continue
		}
		if e.Deployment.ReadyReplicas >= n {
			return e.At, true
		}
	}
	return time.Time{}, false
}

// lastDeployment returns the last Deployment observation before t.
func lastDeployment(tl timeline.Timeline, t time.Time) (*timeline.Deployment, time.Time, bool) {
	var d *timeline.Deployment
	var at time.Time
	for _, e := range tl {
		if !e.At.Before(t) {
			break
		}
		if e.Kind == timeline.KindDeployment {
			d, at = e.Deployment, e.At
		}
	}
	return d, at, d != nil
}

// lastHPA returns the last HPA status observed before t.
func lastHPA(tl timeline.Timeline, t time.Time) (*timeline.HPA, bool) {
	var h *timeline.HPA
	for _, e := range tl {
		if !e.At.Before(t) {
			break
		}
		if e.Kind == timeline.KindHPA {
			h = e.HPA
		}
	}
	return h, h != nil
}
