package loadgen

import (
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Summary aggregates records in HDR histograms: memory stays flat however
// long the run.
type Summary struct {
	requests  int64
	errors    map[Fail]int64
	tokens    int64
	first     time.Time
	last      time.Time
	ttft      *hdrhistogram.Histogram // microseconds, from Sent
	e2e       *hdrhistogram.Histogram // microseconds, from Sent
	late      *hdrhistogram.Histogram // microseconds
	pods      map[string]int64
	usageMiss int64
}

// NewSummary returns an empty summary.
func NewSummary() *Summary {
	const maxMicros = int64(time.Hour / time.Microsecond)
	return &Summary{
		errors: map[Fail]int64{},
		pods:   map[string]int64{},
		ttft:   hdrhistogram.New(1, maxMicros, 3),
		e2e:    hdrhistogram.New(1, maxMicros, 3),
		late:   hdrhistogram.New(1, maxMicros, 3),
	}
}

// Add counts one record.
func (s *Summary) Add(r Record) {
	s.requests++
	if s.first.IsZero() || r.Sent.Before(s.first) {
		s.first = r.Sent
	}
	if end := r.Sent.Add(r.Total); end.After(s.last) {
		s.last = end
	}
	_ = s.late.RecordValue(max(r.Lateness().Microseconds(), 0)) // clamped to the range
	if r.Pod != "" {
		s.pods[r.Pod]++
	}
	if !r.OK() {
		s.errors[r.Fail]++
		return
	}
	s.tokens += int64(r.OutTokens)
	if !r.UsageReported {
		s.usageMiss++
	}
	_ = s.ttft.RecordValue(r.FirstToken.Microseconds()) // clamped to the range
	_ = s.e2e.RecordValue(r.Total.Microseconds())
}

// Latency is a distribution's quantiles.
type Latency struct {
	P50 time.Duration `json:"p50"`
	P90 time.Duration `json:"p90"`
	P95 time.Duration `json:"p95"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
}

// Totals is the summary's result.
type Totals struct {
	Requests     int64            `json:"requests"`
	Errors       map[Fail]int64   `json:"errors,omitempty"`
	OutTokens    int64            `json:"outTokens"`
	TokensPerSec float64          `json:"tokensPerSec"`
	Duration     time.Duration    `json:"duration"`
	TTFT         Latency          `json:"ttft"`
	EndToEnd     Latency          `json:"endToEnd"`
	Lateness     Latency          `json:"lateness"`
	Pods         map[string]int64 `json:"pods,omitempty"`
	// UsageMissing counts successful requests whose token count was not
	// reported by the server and was counted from chunks instead.
	UsageMissing int64 `json:"usageMissing,omitempty"`
}

// Totals computes the quantiles once.
func (s *Summary) Totals() Totals {
	t := Totals{
		Requests:     s.requests,
		Errors:       s.errors,
		OutTokens:    s.tokens,
		TTFT:         quantiles(s.ttft),
		EndToEnd:     quantiles(s.e2e),
		Lateness:     quantiles(s.late),
		Pods:         s.pods,
		UsageMissing: s.usageMiss,
	}
	if !s.first.IsZero() {
		t.Duration = s.last.Sub(s.first)
		if t.Duration > 0 {
			t.TokensPerSec = float64(s.tokens) / t.Duration.Seconds()
		}
	}
	return t
}

// ErrorCount returns the number of failed requests.
func (t Totals) ErrorCount() int64 {
	var n int64
	for _, c := range t.Errors {
		n += c
	}
	return n
}

// ErrorClasses returns the failure classes seen, sorted.
func (t Totals) ErrorClasses() []Fail {
	var out []Fail
	for f := range t.Errors {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func quantiles(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return Latency{
		P50: us(h.ValueAtQuantile(50)),
		P90: us(h.ValueAtQuantile(90)),
		P95: us(h.ValueAtQuantile(95)),
		P99: us(h.ValueAtQuantile(99)),
		Max: us(h.Max()),
	}
}
