package mocknim

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"k8s.io/utils/clock"
)

// Defaults. They model one NIM pod serving CodeLlama-13B on an A100-80GB
// with code-generation requests: 60–250 ms to the first token, 20–24 ms per
// output token and 250–350 output tokens (mean 300), which puts one request
// at 5.0–8.6 s of service time, about 6.7 s on average.
const (
	DefaultModel             = "meta/codellama-13b-instruct"
	DefaultNamespace         = "production"
	DefaultSlots             = 8
	DefaultMaxModelLen       = 8192    // NIM_MAX_MODEL_LEN in the seed Deployment
	DefaultMaxBodyBytes      = 1 << 20 // 1 MiB
	DefaultUtilizationWindow = 2 * time.Second
	DefaultShutdownTimeout   = 15 * time.Second
)

// Default distributions; see the constants above for where they come from.
var (
	DefaultPrefill      = DurationRange{Min: 60 * time.Millisecond, Max: 250 * time.Millisecond}
	DefaultPerToken     = DurationRange{Min: 20 * time.Millisecond, Max: 24 * time.Millisecond}
	DefaultOutputTokens = IntRange{Min: 250, Max: 350}
)

// DurationRange is a uniform distribution over [Min, Max]. Min == Max gives a
// constant; the zero value means "use the default" where a Config says so.
type DurationRange struct {
	Min, Max time.Duration
}

func (r DurationRange) draw(rng *rand.Rand) time.Duration {
	if r.Max <= r.Min {
		return r.Min
	}
	return r.Min + time.Duration(rng.Int64N(int64(r.Max-r.Min)+1))
}

func (r DurationRange) validate(name string) error {
	if r.Min < 0 || r.Max < r.Min {
		return fmt.Errorf("%s: want 0 <= min <= max, got %v..%v", name, r.Min, r.Max)
	}
	return nil
}

// IntRange is a uniform distribution over the integers in [Min, Max].
type IntRange struct {
	Min, Max int
}

func (r IntRange) draw(rng *rand.Rand) int {
	if r.Max <= r.Min {
		return r.Min
	}
	return r.Min + rng.IntN(r.Max-r.Min+1)
}

// Config describes the mock service. Every zero value means the default
// named in its comment, so Config{} is a valid, realistic configuration.
type Config struct {
	// Model is the only model id served; requests naming another get 404.
	// Zero: DefaultModel. A request without a model gets this one.
	Model string
	// Namespace labels every pod's metrics. Zero: DefaultNamespace.
	Namespace string
	// Slots is how many requests one pod generates at once; the rest wait
	// in the pod's FIFO queue. Zero: DefaultSlots.
	Slots int
	// TimeScale divides every simulated duration (Prefill, PerToken,
	// UtilizationWindow), so 10 runs the service ten times faster than real
	// time. It does not touch ShutdownTimeout. Zero: 1.
	TimeScale float64
	// Seed seeds the one random source behind every drawn duration, token
	// count and response id. Zero is a seed like any other.
	Seed uint64
	// Prefill is the time from a request taking a slot to its first token
	// (TTFT without queueing), drawn per request. Zero: DefaultPrefill.
	Prefill DurationRange
	// PerToken is the time per further output token (TPOT), drawn once per
	// request. Zero: DefaultPerToken.
	PerToken DurationRange
	// OutputTokens is how many tokens a request would generate unasked;
	// max_tokens in the request caps it (finish_reason "length"). Both
	// bounds must be at least 1. Zero: DefaultOutputTokens.
	OutputTokens IntRange
	// MaxModelLen is the context window: prompt plus output tokens. Requests
	// whose prompt plus max_tokens exceed it get 400, as vLLM answers.
	// Zero: DefaultMaxModelLen.
	MaxModelLen int
	// MaxBodyBytes limits a request body; larger bodies get 413.
	// Zero: DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// UtilizationWindow is the sliding window over which GPU utilization
	// (slot occupancy) is averaged, before TimeScale divides it.
	// Zero: DefaultUtilizationWindow.
	UtilizationWindow time.Duration
	// ShutdownTimeout bounds how long Serve waits, once its context ends,
	// for in-flight requests to finish before cutting them off. It is wall
	// time and ignores TimeScale. Zero: DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// DefaultConfig returns the zero Config with its defaults written out, for
// flag defaults and documentation.
func DefaultConfig() Config {
	return Config{}.withDefaults()
}

func (c Config) withDefaults() Config {
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	if c.Slots == 0 {
		c.Slots = DefaultSlots
	}
	if c.TimeScale == 0 {
		c.TimeScale = 1
	}
	if c.Prefill == (DurationRange{}) {
		c.Prefill = DefaultPrefill
	}
	if c.PerToken == (DurationRange{}) {
		c.PerToken = DefaultPerToken
	}
	if c.OutputTokens == (IntRange{}) {
		c.OutputTokens = DefaultOutputTokens
	}
	if c.MaxModelLen == 0 {
		c.MaxModelLen = DefaultMaxModelLen
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.UtilizationWindow == 0 {
		c.UtilizationWindow = DefaultUtilizationWindow
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	return c
}

// Validate reports every problem with the Config at once.
func (c Config) Validate() error {
	var errs []error
	if c.Slots < 0 {
		errs = append(errs, fmt.Errorf("slots: want >= 1, got %d", c.Slots))
	}
	if c.TimeScale < 0 || c.TimeScale != c.TimeScale {
		errs = append(errs, fmt.Errorf("time scale: want > 0, got %v", c.TimeScale))
	}
	errs = append(errs, c.Prefill.validate("prefill"), c.PerToken.validate("per-token time"))
	if c.OutputTokens != (IntRange{}) && (c.OutputTokens.Min < 1 || c.OutputTokens.Max < c.OutputTokens.Min) {
		errs = append(errs, fmt.Errorf("output tokens: want 1 <= min <= max, got %d..%d", c.OutputTokens.Min, c.OutputTokens.Max))
	}
	if c.MaxModelLen < 0 {
		errs = append(errs, fmt.Errorf("max model length: want >= 1, got %d", c.MaxModelLen))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max body bytes: want >= 1, got %d", c.MaxBodyBytes))
	}
	if c.UtilizationWindow < 0 {
		errs = append(errs, fmt.Errorf("utilization window: want > 0, got %v", c.UtilizationWindow))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout: want > 0, got %v", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// Deps are what a Server takes from the outside world.
type Deps struct {
	// Clock drives every simulated duration and timestamp. Nil: the real clock.
	Clock clock.WithTicker
	// Pods says which pods exist and are ready; Serve runs it. Nil: none,
	// until the caller calls SetPod.
	Pods PodSource
	// Log receives pod changes and shutdown trouble. Nil: discarded.
	Log *slog.Logger
}
