package metricsadapter

import (
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
)

// Key names one served value: a metric of one pod.
type Key struct {
	Metric    string
	Namespace string
	Pod       string
}

// Point is a served value and the time of the scrape that produced it.
type Point struct {
	Value float64
	At    time.Time
}

// Store keeps the newest scrape of every source and answers lookups from the
// ones still younger than the maximum age. A source's scrape replaces its
// previous one whole, so a pod that vanished from a source stops being served
// at once; a failed scrape changes nothing, so the previous values are served
// until they age out. The zero value is not usable; call NewStore.
type Store struct {
	clock  clock.PassiveClock
	maxAge time.Duration
	window time.Duration

	mu      sync.RWMutex
	scrapes map[string]scrape // by source URL
	seen    map[string]struct{}
}

type scrape struct {
	at     time.Time
	series map[Key][]series
}

type series struct {
	labels labels.Set
	value  float64
}

// NewStore returns an empty store. maxAge is how long after its scrape a value
// is served; window is the WindowSeconds reported with every value (the scrape
// interval). A nil clk means the real clock.
func NewStore(maxAge, window time.Duration, clk clock.PassiveClock) *Store {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Store{
		clock:   clk,
		maxAge:  maxAge,
		window:  window,
		scrapes: make(map[string]scrape),
		seen:    make(map[string]struct{}),
	}
}

// Window is the span a value stands for, the scrape interval.
func (s *Store) Window() time.Duration { return s.window }

// Put records the samples of one successful scrape of source, taken at at,
// replacing that source's previous scrape. It also forgets the scrapes of
// other sources that have aged out.
func (s *Store) Put(source string, at time.Time, samples []Sample) {
	byKey := make(map[Key][]series, len(samples))
	for _, sm := range samples {
		k := Key{Metric: sm.Metric, Namespace: sm.Namespace, Pod: sm.Pod}
		byKey[k] = append(byKey[k], series{labels: labels.Set(sm.Labels), value: sm.Value})
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.scrapes[source] = scrape{at: at, series: byKey}
	for k := range byKey {
		s.seen[k.Metric] = struct{}{}
	}
	now := s.clock.Now()
	for src, sc := range s.scrapes {
		if !s.fresh(sc, now) {
			delete(s.scrapes, src)
		}
	}
}

// Lookup returns the value of k: the sum of every series of k, across all
// fresh sources, whose other labels match sel (nil matches all). Its time is
// the oldest contributing scrape. ok is false when no fresh series matches.
func (s *Store) Lookup(k Key, sel labels.Selector) (p Point, ok bool) {
	if sel == nil {
		sel = labels.Everything()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.clock.Now()
	for _, sc := range s.scrapes {
		if !s.fresh(sc, now) {
			continue
		}
		for _, sr := range sc.series[k] {
			if !sel.Matches(sr.labels) {
				continue
			}
			p.Value += sr.value
			if !ok || sc.at.Before(p.At) {
				p.At = sc.at
			}
			ok = true
		}
	}
	return p, ok
}

// Known reports whether metric was ever seen in a scrape, fresh or not.
func (s *Store) Known(metric string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.seen[metric]
	return ok
}

// Metrics returns, sorted, every metric name ever seen in a scrape. Names stay
// listed after their values age out, so discovery does not flap while a
// source is down.
func (s *Store) Metrics() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make([]string, 0, len(s.seen))
	for n := range s.seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// fresh reports whether sc may still be served at now. A scrape exactly
// maxAge old is still served.
func (s *Store) fresh(sc scrape, now time.Time) bool {
	return now.Sub(sc.at) <= s.maxAge
}
