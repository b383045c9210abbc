package loadgen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Arrival is one request the workload wants sent.
type Arrival struct {
	At           time.Duration // offset from the start of the load
	User         int
	Kind         string
	PromptTokens int
	MaxTokens    int
}

// RequestKind is one kind of IDE request with its token sizes.
type RequestKind struct {
	Name string
	// Weight is the kind's share of requests, relative to the other kinds.
	Weight float64
	// PromptTokens and MaxTokens are drawn uniformly from [Min, Max].
	PromptTokens [2]int
	MaxTokens    [2]int
}

// Developers models IDE users: each alternates between bursts of several
// requests a few seconds apart and quiet periods of minutes with a heavy
// tail. Every duration is in real time; TimeScale divides them all.
type Developers struct {
	Users int
	Seed  uint64
	// StartSpread is the window in which each user's first burst begins:
	// a small one makes the whole team hit at once.
	StartSpread time.Duration
	// BurstRequests is drawn uniformly from [min, max].
	BurstRequests [2]int
	// BurstGap, between requests of a burst, is drawn uniformly from [min, max].
	BurstGap [2]time.Duration
	// QuietMedian and QuietSigma give the log-normal quiet period between
	// bursts: median QuietMedian, shape QuietSigma (heavy tailed).
	QuietMedian time.Duration
	QuietSigma  float64
	Kinds       []RequestKind
	// TimeScale N divides every duration, for testbeds that run at 1/N of
	// real time. 0 means 1.
	TimeScale float64
}

// DefaultDevelopers returns the IDE model's defaults for n users.
func DefaultDevelopers(n int) Developers {
	return Developers{
		Users:         n,
		Seed:          1,
		StartSpread:   10 * time.Second,
		BurstRequests: [2]int{2, 6},
		BurstGap:      [2]time.Duration{time.Second, 5 * time.Second},
		QuietMedian:   2 * time.Minute,
		QuietSigma:    1.0,
		Kinds: []RequestKind{
			{Name: "completion", Weight: 0.6, PromptTokens: [2]int{300, 1500}, MaxTokens: [2]int{200, 400}},
			{Name: "debug", Weight: 0.25, PromptTokens: [2]int{800, 3000}, MaxTokens: [2]int{250, 450}},
			{Name: "refactor", Weight: 0.15, PromptTokens: [2]int{1000, 4000}, MaxTokens: [2]int{300, 500}},
		},
		TimeScale: 1,
	}
}

// Validate reports the first thing wrong with d.
func (d Developers) Validate() error {
	switch {
	case d.Users < 1:
		return fmt.Errorf("users %d: want at least 1", d.Users)
	case d.BurstRequests[0] < 1 || d.BurstRequests[1] < d.BurstRequests[0]:
		return fmt.Errorf("burst requests %v: want 1 <= min <= max", d.BurstRequests)
	case d.BurstGap[0] < 0 || d.BurstGap[1] < d.BurstGap[0]:
		return fmt.Errorf("burst gap %v: want 0 <= min <= max", d.BurstGap)
	case d.QuietMedian <= 0 || d.QuietSigma < 0:
		return errors.New("quiet period: want a positive median and a non-negative sigma")
	case d.StartSpread < 0:
		return errors.New("start spread cannot be negative")
	case len(d.Kinds) == 0:
		return errors.New("no request kinds")
	case d.TimeScale < 0:
		return errors.New("time scale cannot be negative")
	}
	for _, k := range d.Kinds {
		if k.Weight <= 0 || k.PromptTokens[0] < 1 || k.PromptTokens[1] < k.PromptTokens[0] || k.MaxTokens[0] < 1 || k.MaxTokens[1] < k.MaxTokens[0] {
			return fmt.Errorf("request kind %q: want a positive weight and 1 <= min <= max token ranges", k.Name)
		}
	}
	return nil
}

// Schedule returns every arrival in [0, duration), sorted by time. It is a
// pure function of d and duration: the same seed gives the same schedule.
func (d Developers) Schedule(duration time.Duration) []Arrival {
	scale := d.TimeScale
	if scale <= 0 {
		scale = 1
	}
	var out []Arrival
	var total float64
	for _, k := range d.Kinds {
		total += k.Weight
	}
	for u := range d.Users {
		// One stream per user, so adding users never changes the others.
		rng := rand.New(rand.NewPCG(d.Seed, uint64(u)))
		t := time.Duration(rng.Float64() * float64(d.StartSpread) / scale)
		for t < duration {
			n := d.BurstRequests[0] + rng.IntN(d.BurstRequests[1]-d.BurstRequests[0]+1)
			for i := 0; i < n && t < duration; i++ {
				k := pickKind(rng, d.Kinds, total)
				out = append(out, Arrival{At: t, User: u, Kind: k.Name,
					PromptTokens: uniformInt(rng, k.PromptTokens), MaxTokens: uniformInt(rng, k.MaxTokens)})
				gap := d.BurstGap[0] + time.Duration(rng.Float64()*float64(d.BurstGap[1]-d.BurstGap[0]))
				t += time.Duration(float64(gap) / scale)
			}
			quiet := float64(d.QuietMedian) * math.Exp(d.QuietSigma*rng.NormFloat64())
			t += time.Duration(quiet / scale)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

func pickKind(rng *rand.Rand, kinds []RequestKind, total float64) RequestKind {
	x := rng.Float64() * total
	for _, k := range kinds {
		if x < k.Weight {
			return k
		}
		x -= k.Weight
	}
	return kinds[len(kinds)-1]
}

func uniformInt(rng *rand.Rand, r [2]int) int {
	return r[0] + rng.IntN(r[1]-r[0]+1)
}
