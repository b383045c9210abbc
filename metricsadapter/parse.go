package metricsadapter

import (
	"fmt"
	"io"
	"math"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Label names that tie a series to a pod.
const (
	LabelNamespace = "namespace"
	LabelPod       = "pod"
)

// Sample is one gauge or untyped series of a scrape that names a pod.
type Sample struct {
	Metric    string            // served name, after any rename
	Namespace string            // value of the namespace label
	Pod       string            // value of the pod label
	Labels    map[string]string // the other labels, such as model_name; nil if none
	Value     float64
}

// Parse reads a Prometheus text exposition and returns its per-pod samples.
// Only gauges and untyped series that carry both a namespace and a pod label
// are kept; counters, summaries and histograms are skipped, because a
// cumulative value is not a per-pod load signal. Non-finite values are
// skipped too, since they have no quantity. renames maps source names to
// served names and may be nil. Several series for one (metric, namespace,
// pod) are all returned; the Store sums them when it serves the value.
func Parse(r io.Reader, renames map[string]string) ([]Sample, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse exposition: %w", err)
	}
	var out []Sample
	for name, mf := range families {
		if to, ok := renames[name]; ok {
			name = to
		}
		for _, m := range mf.GetMetric() {
			v, ok := gaugeValue(mf.GetType(), m)
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			s := Sample{Metric: name, Value: v}
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case LabelNamespace:
					s.Namespace = lp.GetValue()
				case LabelPod:
					s.Pod = lp.GetValue()
				default:
					if s.Labels == nil {
						s.Labels = make(map[string]string)
					}
					s.Labels[lp.GetName()] = lp.GetValue()
				}
			}
			if s.Namespace == "" || s.Pod == "" {
				continue
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func gaugeValue(t dto.MetricType, m *dto.Metric) (float64, bool) {
	switch t {
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue(), m.GetGauge() != nil
	case dto.MetricType_UNTYPED:
		return m.GetUntyped().GetValue(), m.GetUntyped() != nil
	default:
		return 0, false
	}
}
