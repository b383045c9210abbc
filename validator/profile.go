package validator

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Duration is a time.Duration that reads "90s", "2m" or a bare number of
// seconds from a profile.
type Duration time.Duration

// UnmarshalJSON accepts a Go duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%v", err) // plain text: the decoder adds no type names to it
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// ParseDuration reads "90s", "2m30s" or a bare number of seconds ("120").
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a number of seconds or a duration such as 90s or 2m", s)
	}
	return d, nil
}

// Threshold is a bound on one metric's per-pod average.
type Threshold struct {
	// Metric is the name the HPA uses for it (a Pods metric).
	Metric string `json:"metric"`
	// Value is the bound: scale-up thresholds trigger above it, scale-down
	// thresholds hold below it.
	Value float64 `json:"value"`
}

// Profile is the set of promises a run is graded against. The zero value is
// not useful; start from DefaultProfile.
type Profile struct {
	SchemaVersion int    `json:"schemaVersion"`
	Name          string `json:"name,omitempty"`

	// BaselineReplicas is the replica count the Deployment holds before
	// load, and never falls below (promise 1).
	BaselineReplicas int32 `json:"baselineReplicas"`
	// MaxReplicas is the capacity the promises cover: a trigger that holds
	// with this many replicas needs no scale-up. Zero means the HPA's own
	// maxReplicas.
	MaxReplicas int32 `json:"maxReplicas,omitempty"`
	// ScaleUpAbove lists the triggers of promise 2: the HPA must scale up
	// when ANY of these metrics is above its value.
	ScaleUpAbove []Threshold `json:"scaleUpAbove"`
	// ScaleDownBelow lists the condition of promise 3: the HPA may scale down
	// only when ALL of these metrics are below their values.
	ScaleDownBelow []Threshold `json:"scaleDownBelow"`
	// MaxScaleUpLatency bounds promise 4: from the first sample above a
	// trigger to the HPA's scale-up decision.
	MaxScaleUpLatency Duration `json:"maxScaleUpLatency"`
	// MaxReadyLatency, when set, bounds the time from the first sample above
	// a trigger until the new pods are Ready. Zero reports it without a bound.
	MaxReadyLatency Duration `json:"maxReadyLatency,omitempty"`
	// MinScaleDownWait bounds promise 5: from the metrics dropping below the
	// scale-down condition to the first pod removal. Zero means the HPA's own
	// scale-down stabilization window.
	MinScaleDownWait Duration `json:"minScaleDownWait,omitempty"`
	// SyncPeriod is the HPA controller's sync period
	// (--horizontal-pod-autoscaler-sync-period), which is not visible through
	// the API. Every timing allowance includes one.
	SyncPeriod Duration `json:"syncPeriod"`
}

//go:embed default-profile.yaml
var defaultProfileYAML []byte

// DefaultProfile returns the five promises of the coding-assistant service.
func DefaultProfile() Profile {
	p, err := ParseProfile(defaultProfileYAML)
	if err != nil {
		panic("embedded default profile: " + err.Error())
	}
	return p
}

// DefaultProfileYAML returns the embedded default profile as written.
func DefaultProfileYAML() []byte { return defaultProfileYAML }

// ParseProfile reads a profile. Unknown fields are errors, so a typo never
// silently falls back to a default.
func ParseProfile(raw []byte) (Profile, error) {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return Profile{}, errors.New("profile: the file is empty (start from the output of scalegate profile)")
	}
	var p Profile
	if err := yaml.UnmarshalStrict(raw, &p); err != nil {
		return Profile{}, profileError(err)
	}
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// profileError turns a decoding error into one that names the problem
// without the decoder's layers, and lists the known fields when a field is
// unknown.
func profileError(err error) error {
	msg := err.Error()
	for _, layer := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.ReplaceAll(msg, layer, "")
	}
	switch {
	case strings.Contains(msg, "unknown field"):
		return fmt.Errorf("profile: %s (known fields: %s)", msg, strings.Join(profileFields, ", "))
	case strings.Contains(msg, "cannot unmarshal"):
		// "cannot unmarshal string into Go struct field Threshold.scaleUpAbove.value of type float64"
		if _, field, ok := strings.Cut(msg, "Go struct field "); ok {
			field, typ, _ := strings.Cut(field, " of type ")
			if i := strings.Index(field, "."); i >= 0 {
				field = field[i+1:]
			}
			return fmt.Errorf("profile: field %s has the wrong type (want %s)", field, typ)
		}
	}
	return fmt.Errorf("profile: %s", msg)
}

var profileFields = []string{"schemaVersion", "name", "baselineReplicas", "maxReplicas", "scaleUpAbove", "scaleDownBelow",
	"maxScaleUpLatency", "maxReadyLatency", "minScaleDownWait", "syncPeriod"}

// ProfileSchemaVersion is the profile format this scalegate reads.
const ProfileSchemaVersion = 1

// Validate reports the first thing wrong with p.
func (p Profile) Validate() error {
	switch {
	case p.SchemaVersion != ProfileSchemaVersion:
		return fmt.Errorf("profile: schemaVersion %d, want %d", p.SchemaVersion, ProfileSchemaVersion)
	case p.BaselineReplicas < 1:
		return fmt.Errorf("profile: baselineReplicas %d, want 1 or more", p.BaselineReplicas)
	case p.MaxReplicas != 0 && p.MaxReplicas < p.BaselineReplicas:
		return fmt.Errorf("profile: maxReplicas %d is below baselineReplicas %d", p.MaxReplicas, p.BaselineReplicas)
	case len(p.ScaleUpAbove) == 0:
		return errors.New("profile: scaleUpAbove lists no metric")
	case len(p.ScaleDownBelow) == 0:
		return errors.New("profile: scaleDownBelow lists no metric")
	case p.MaxScaleUpLatency <= 0:
		return errors.New("profile: maxScaleUpLatency must be positive")
	case p.MaxReadyLatency < 0 || p.MinScaleDownWait < 0:
		return errors.New("profile: maxReadyLatency and minScaleDownWait cannot be negative")
	case p.SyncPeriod <= 0:
		return errors.New("profile: syncPeriod must be positive (the controller's --horizontal-pod-autoscaler-sync-period, 15s by default)")
	}
	for _, t := range append(append([]Threshold{}, p.ScaleUpAbove...), p.ScaleDownBelow...) {
		if t.Metric == "" {
			return errors.New("profile: a threshold has no metric name")
		}
	}
	return nil
}

// ScaleTime returns p with every time bound and the sync period divided by
// n, for testbeds that run at 1/n of real time. n <= 1 returns p.
func (p Profile) ScaleTime(n int) Profile {
	if n <= 1 {
		return p
	}
	div := func(d Duration) Duration { return Duration(time.Duration(d) / time.Duration(n)) }
	p.MaxScaleUpLatency = div(p.MaxScaleUpLatency)
	p.MaxReadyLatency = div(p.MaxReadyLatency)
	p.MinScaleDownWait = div(p.MinScaleDownWait)
	p.SyncPeriod = div(p.SyncPeriod)
	if n > 1 {
		p.Name = fmt.Sprintf("%s at 1/%d time", p.Name, n)
	}
	return p
}

// Metrics returns every metric the profile names, in order, without repeats.
func (p Profile) Metrics() []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range append(append([]Threshold{}, p.ScaleUpAbove...), p.ScaleDownBelow...) {
		if !seen[t.Metric] {
			seen[t.Metric] = true
			out = append(out, t.Metric)
		}
	}
	return out
}
