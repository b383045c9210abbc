package timeline

import (
	"sort"
	"time"
)

// Kind names the payload of an Entry.
type Kind string

// The kinds of entry. Their string values are part of the journal format.
const (
	KindPhase      Kind = "phase"      // the run moved to another phase
	KindHPA        Kind = "hpa"        // the HPA's status changed
	KindRescale    Kind = "rescale"    // a SuccessfulRescale event
	KindHPAEvent   Kind = "hpa-event"  // any other event about the HPA (warnings)
	KindDeployment Kind = "deployment" // the Deployment's spec or status changed
	KindReplicaSet Kind = "replicaset" // one of the Deployment's ReplicaSets changed
	KindPod        Kind = "pod"        // a pod changed state
	KindSample     Kind = "sample"     // per-pod values read from the custom metrics API
	KindWatchGap   Kind = "watch-gap"  // a watch dropped and was re-established
)

// Entry is one observation. At is our clock when it was observed; Server is
// the object's own timestamp when it has one (second-granular, maybe skewed).
type Entry struct {
	At     time.Time `json:"at"`
	Server time.Time `json:"server,omitzero"`
	Kind   Kind      `json:"kind"`
	Ref    string    `json:"ref,omitempty"` // "namespace/name" of the object

	Phase      *Phase      `json:"phase,omitempty"`
	HPA        *HPA        `json:"hpa,omitempty"`
	Rescale    *Rescale    `json:"rescale,omitempty"`
	Event      *Event      `json:"event,omitempty"`
	Deployment *Deployment `json:"deployment,omitempty"`
	ReplicaSet *ReplicaSet `json:"replicaSet,omitempty"`
	Pod        *Pod        `json:"pod,omitempty"`
	Sample     *Sample     `json:"sample,omitempty"`
	Gap        *Gap        `json:"gap,omitempty"`
}

// PhaseName names a phase of a validation run.
type PhaseName string

// The phases of a run, in order.
const (
	PhaseBaseline PhaseName = "baseline"
	PhaseLoad     PhaseName = "load"
	PhaseCooldown PhaseName = "cooldown"
	PhaseEnd      PhaseName = "end"
)

// Phase marks the start of a phase.
type Phase struct {
	Name PhaseName `json:"name"`
}

// HPA is the autoscaler's status as the API server reported it.
type HPA struct {
	CurrentReplicas int32         `json:"currentReplicas"`
	DesiredReplicas int32         `json:"desiredReplicas"`
	LastScaleTime   time.Time     `json:"lastScaleTime,omitzero"`
	Metrics         []MetricValue `json:"metrics,omitempty"`
	Conditions      []Condition   `json:"conditions,omitempty"`
}

// MetricValue is one metric's current per-pod average as the HPA saw it.
type MetricValue struct {
	Name         string  `json:"name"`
	AverageValue float64 `json:"averageValue"`
}

// Condition is one HPA status condition.
type Condition struct {
	Type    string    `json:"type"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message,omitempty"`
	Since   time.Time `json:"since,omitzero"`
}

// Rescale is a SuccessfulRescale event: the HPA changed the target's scale.
type Rescale struct {
	NewSize int32  `json:"newSize"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Event is any other Kubernetes event about the HPA, such as
// FailedGetPodsMetric.
type Event struct {
	Type    string `json:"type"` // Normal or Warning
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Count   int32  `json:"count,omitempty"`
}

// Deployment is the target's replica counts.
type Deployment struct {
	SpecReplicas      int32 `json:"specReplicas"`
	Replicas          int32 `json:"replicas"`
	ReadyReplicas     int32 `json:"readyReplicas"`
	AvailableReplicas int32 `json:"availableReplicas"`
}

// ReplicaSet is one of the Deployment's ReplicaSets.
type ReplicaSet struct {
	SpecReplicas  int32 `json:"specReplicas"`
	Replicas      int32 `json:"replicas"`
	ReadyReplicas int32 `json:"readyReplicas"`
}

// Pod is one pod's lifecycle so far. Times are the server's, zero when the
// pod has not reached that point.
type Pod struct {
	Name      string    `json:"name"`
	Phase     string    `json:"phase"`
	Ready     bool      `json:"ready"`
	Created   time.Time `json:"created,omitzero"`
	Scheduled time.Time `json:"scheduled,omitzero"`
	Running   time.Time `json:"running,omitzero"`
	ReadyAt   time.Time `json:"readyAt,omitzero"`
	Deleted   time.Time `json:"deleted,omitzero"`
}

// Sample is the per-pod values of one metric, read from the custom metrics
// API the way the HPA reads them. Err is set when the read failed, in which
// case Pods is empty.
type Sample struct {
	Metric  string             `json:"metric"`
	Pods    map[string]float64 `json:"pods,omitempty"`
	Average float64            `json:"average"`
	Err     string             `json:"err,omitempty"`
}

// Gap records a watch that dropped; the resource may have changed unseen
// between Since and the entry's At.
type Gap struct {
	Resource string    `json:"resource"`
	Since    time.Time `json:"since,omitzero"`
	Reason   string    `json:"reason"`
}

// Timeline is a run's entries sorted by At.
type Timeline []Entry

// Sorted returns the entries ordered by At; entries observed at the same
// instant keep their order.
func Sorted(entries []Entry) Timeline {
	tl := make(Timeline, len(entries))
	copy(tl, entries)
	sort.SliceStable(tl, func(i, j int) bool { return tl[i].At.Before(tl[j].At) })
	return tl
}

// Of returns the entries of one kind, in order.
func (tl Timeline) Of(k Kind) Timeline {
	var out Timeline
	for _, e := range tl {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// PhaseStart returns when phase p started, and whether it did.
func (tl Timeline) PhaseStart(p PhaseName) (time.Time, bool) {
	for _, e := range tl {
		if e.Kind == KindPhase && e.Phase.Name == p {
			return e.At, true
		}
	}
	return time.Time{}, false
}

// Between returns the entries with from <= At < to. A zero to means no end.
func (tl Timeline) Between(from, to time.Time) Timeline {
	var out Timeline
	for _, e := range tl {
		if e.At.Before(from) || (!to.IsZero() && !e.At.Before(to)) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Start returns the time of the first entry, or zero.
func (tl Timeline) Start() time.Time {
	if len(tl) == 0 {
		return time.Time{}
	}
	return tl[0].At
}

// End returns the time of the last entry, or zero.
func (tl Timeline) End() time.Time {
	if len(tl) == 0 {
		return time.Time{}
	}
	return tl[len(tl)-1].At
}
