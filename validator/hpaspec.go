package validator

import (
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// DefaultTolerance is kube-controller-manager's
// --horizontal-pod-autoscaler-tolerance default, used for a direction whose
// per-HPA tolerance is unset.
const DefaultTolerance = 0.1

// DefaultScaleDownWindow is the controller's default scale-down
// stabilization (--horizontal-pod-autoscaler-downscale-stabilization).
const DefaultScaleDownWindow = 5 * time.Minute

// HPASpec is what the HorizontalPodAutoscaler promises about itself: the
// figures the grader reads instead of assuming production numbers.
type HPASpec struct {
	Namespace   string         `json:"namespace"`
	Name        string         `json:"name"`
	Target      string         `json:"target"` // the scaleTargetRef's name
	MinReplicas int32          `json:"minReplicas"`
	MaxReplicas int32          `json:"maxReplicas"`
	Metrics     []MetricTarget `json:"metrics"`
	ScaleUp     Rules          `json:"scaleUp"`
	ScaleDown   Rules          `json:"scaleDown"`
	// Legacy is true when the HPA has no behavior: the controller then uses
	// its legacy limits (2x or +4 per sync, 5 min stabilization both ways).
	Legacy bool `json:"legacy,omitempty"`
}

// MetricTarget is one Pods metric with an AverageValue target.
type MetricTarget struct {
	Name         string  `json:"name"`
	AverageValue float64 `json:"averageValue"`
}

// Rules are one direction's behavior.
type Rules struct {
	Window       time.Duration `json:"window"`
	Tolerance    float64       `json:"tolerance"`
	SelectPolicy string        `json:"selectPolicy"`
	Policies     []Policy      `json:"policies"`
}

// Policy is one scaling policy.
type Policy struct {
	Type   string        `json:"type"` // Pods or Percent
	Value  int32         `json:"value"`
	Period time.Duration `json:"period"`
}

// UnsupportedMetricError names an HPA metric the grader cannot read.
type UnsupportedMetricError struct {
	Index  int
	Type   string
	Detail string
}

func (e *UnsupportedMetricError) Error() string {
	return fmt.Sprintf("hpa metric %d (%s): %s", e.Index, e.Type, e.Detail)
}

// SpecFromHPA reads an autoscaling/v2 HPA. Only Pods metrics with
// AverageValue targets are graded; any other metric is an error that names
// it, never silently ignored.
func SpecFromHPA(hpa *autoscalingv2.HorizontalPodAutoscaler) (HPASpec, error) {
	s := HPASpec{
		Namespace:   hpa.Namespace,
		Name:        hpa.Name,
		Target:      hpa.Spec.ScaleTargetRef.Name,
		MinReplicas: 1,
		MaxReplicas: hpa.Spec.MaxReplicas,
	}
	if hpa.Spec.MinReplicas != nil {
		s.MinReplicas = *hpa.Spec.MinReplicas
	}
	for i, m := range hpa.Spec.Metrics {
		if m.Type != autoscalingv2.PodsMetricSourceType || m.Pods == nil {
			return HPASpec{}, &UnsupportedMetricError{Index: i, Type: string(m.Type), Detail: "only Pods metrics are graded"}
		}
		if m.Pods.Target.AverageValue == nil {
			return HPASpec{}, &UnsupportedMetricError{Index: i, Type: string(m.Type), Detail: fmt.Sprintf("metric %s has no averageValue target", m.Pods.Metric.Name)}
		}
		s.Metrics = append(s.Metrics, MetricTarget{
			Name:         m.Pods.Metric.Name,
			AverageValue: float64(m.Pods.Target.AverageValue.MilliValue()) / 1000,
		})
	}
	b := hpa.Spec.Behavior
	if b == nil {
		s.Legacy = true
		s.ScaleUp = Rules{Window: 0, Tolerance: DefaultTolerance, SelectPolicy: "Max"}
		s.ScaleDown = Rules{Window: DefaultScaleDownWindow, Tolerance: DefaultTolerance, SelectPolicy: "Max"}
		return s, nil
	}
	s.ScaleUp = rulesOf(b.ScaleUp, 0, []Policy{{Type: "Pods", Value: 4, Period: 15 * time.Second}, {Type: "Percent", Value: 100, Period: 15 * time.Second}})
	s.ScaleDown = rulesOf(b.ScaleDown, DefaultScaleDownWindow, []Policy{{Type: "Percent", Value: 100, Period: 15 * time.Second}})
	return s, nil
}

// rulesOf applies the API server's behavior defaults to one direction.
func rulesOf(r *autoscalingv2.HPAScalingRules, window time.Duration, policies []Policy) Rules {
	out := Rules{Window: window, Tolerance: DefaultTolerance, SelectPolicy: "Max", Policies: policies}
	if r == nil {
		return out
	}
	if r.StabilizationWindowSeconds != nil {
		out.Window = time.Duration(*r.StabilizationWindowSeconds) * time.Second
	}
	if r.SelectPolicy != nil {
		out.SelectPolicy = string(*r.SelectPolicy)
	}
	if r.Tolerance != nil {
		out.Tolerance = r.Tolerance.AsApproximateFloat64()
	}
	if len(r.Policies) > 0 {
		out.Policies = nil
		for _, p := range r.Policies {
			out.Policies = append(out.Policies, Policy{Type: string(p.Type), Value: p.Value, Period: time.Duration(p.PeriodSeconds) * time.Second})
		}
	}
	return out
}

// TargetOf returns the HPA's target for a metric, and whether it has one.
func (s HPASpec) TargetOf(metric string) (float64, bool) {
	for _, m := range s.Metrics {
		if m.Name == metric {
			return m.AverageValue, true
		}
	}
	return 0, false
}

// ScaleDownSteps returns the longest time the HPA's scale-down policies take
// to bring from replicas down to its minimum once the window has passed: the
// number of policy periods, times the period. It is used to bound a run's
// cool-down.
func (s HPASpec) ScaleDownSteps(from int32) time.Duration {
	if s.Legacy || len(s.ScaleDown.Policies) == 0 || s.ScaleDown.SelectPolicy == "Disabled" {
		return 0
	}
	var total time.Duration
	for cur := from; cur > s.MinReplicas; {
		var next int32 = -1
		var period time.Duration
		for _, p := range s.ScaleDown.Policies {
			var limit int32
			switch p.Type {
			case "Pods":
				limit = cur - p.Value
			default:
				limit = int32(float64(cur) * (1 - float64(p.Value)/100))
			}
			better := next < 0 || (s.ScaleDown.SelectPolicy == "Min" && limit > next) || (s.ScaleDown.SelectPolicy != "Min" && limit < next)
			if better {
				next, period = limit, p.Period
			}
		}
		next = max(next, s.MinReplicas)
		if next >= cur {
			next = cur - 1
		}
		cur = next
		total += period
	}
	return total
}
