package mocknim

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"
)

// errNoPod is returned by assign when no pod takes new requests.
var errNoPod = errors.New("no ready pod")

// pod is one simulated serving pod. Every field is guarded by Server.mu.
type pod struct {
	name    string
	ready   bool // takes new requests (Ready condition true, not deleted)
	removed bool // deleted: drains its queue and slots, then disappears

	running int       // requests holding a slot
	queue   []*ticket // requests waiting for a slot, oldest first

	assigned  uint64 // requests ever routed here; breaks routing ties
	succeeded uint64 // requests that finished generating
	failed    uint64 // requests abandoned by their client, queued or running

	promptTokens     uint64
	generationTokens uint64

	busy occupancy
}

func (p *pod) load() int { return p.running + len(p.queue) }

// ticket is one request's place at a pod: queued until granted.
type ticket struct {
	pod     *pod
	granted bool          // holds a slot; set under Server.mu
	ready   chan struct{} // closed when granted
}

// SetPod adds the named pod or updates its readiness. A pod first appears
// (in routing and on /metrics) when it is first ready, as a real NIM only
// serves metrics once its model is loaded; a pod that is not ready takes no
// new requests but finishes those it holds.
func (s *Server) SetPod(name string, ready bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pods[name]
	if !ok {
		if !ready {
			return
		}
		p = &pod{name: name, ready: true, busy: occupancy{window: s.window}}
		p.busy.set(s.clock.Now(), 0)
		s.pods[name] = p
		s.log.Info("pod ready", "pod", name)
		return
	}
	if p.removed && !ready {
		return // still draining; readiness of a deleted pod changes nothing
	}
	if p.ready != ready || p.removed {
		s.log.Info("pod readiness", "pod", name, "ready", ready)
	}
	p.ready, p.removed = ready, false
}

// RemovePod marks the named pod deleted: it takes no new requests, finishes
// the ones it holds (queued ones included), then leaves /metrics.
func (s *Server) RemovePod(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pods[name]
	if !ok || p.removed {
		return
	}
	p.ready, p.removed = false, true
	s.log.Info("pod removed; draining", "pod", name, "running", p.running, "waiting", len(p.queue))
	s.reapLocked(p)
}

// Ready reports whether at least one pod takes new requests.
func (s *Server) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pickLocked() != nil
}

// pickLocked chooses the ready pod with the shortest queue (waiting plus
// running); ties go to the pod that was routed fewest requests, then to the
// first name, so routing is deterministic.
func (s *Server) pickLocked() *pod {
	var best *pod
	for _, p := range s.pods {
		if !p.ready {
			continue
		}
		if best == nil || cmp.Or(
			cmp.Compare(p.load(), best.load()),
			cmp.Compare(p.assigned, best.assigned),
			cmp.Compare(p.name, best.name),
		) < 0 {
			best = p
		}
	}
	return best
}

// assign routes a request to a pod and either gives it a slot at once or
// queues it there.
func (s *Server) assign() (*ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pickLocked()
	if p == nil {
		return nil, errNoPod
	}
	p.assigned++
	t := &ticket{pod: p, ready: make(chan struct{})}
	if p.running < s.cfg.Slots && len(p.queue) == 0 {
		s.grantLocked(t)
	} else {
		p.queue = append(p.queue, t)
	}
	return t, nil
}

func (s *Server) grantLocked(t *ticket) {
	t.pod.running++
	t.pod.busy.set(s.clock.Now(), t.pod.running)
	t.granted = true
	close(t.ready)
}

// wait blocks until t holds a slot. If ctx ends first the request leaves the
// queue, or gives its slot back if it was granted meanwhile.
func (s *Server) wait(ctx context.Context, t *ticket) error {
	select {
	case <-t.ready:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := t.pod
	if t.granted {
		s.releaseLocked(p, false)
		return ctx.Err()
	}
	p.queue = slices.DeleteFunc(p.queue, func(q *ticket) bool { return q == t })
	p.failed++
	s.reapLocked(p)
	return ctx.Err()
}

// release gives back a granted slot. ok says whether the request finished
// generating (else its client went away).
func (s *Server) release(t *ticket, ok bool, promptTokens, generated int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.pod.promptTokens += uint64(promptTokens)
	t.pod.generationTokens += uint64(generated)
	s.releaseLocked(t.pod, ok)
}

func (s *Server) releaseLocked(p *pod, ok bool) {
	if ok {
		p.succeeded++
	} else {
		p.failed++
	}
	p.running--
	p.busy.set(s.clock.Now(), p.running)
	if len(p.queue) > 0 && p.running < s.cfg.Slots {
		next := p.queue[0]
		p.queue = p.queue[1:]
		s.grantLocked(next)
	}
	s.reapLocked(p)
}

// reapLocked forgets a deleted pod once it has drained.
func (s *Server) reapLocked(p *pod) {
	if p.removed && p.load() == 0 {
		delete(s.pods, p.name)
		s.log.Info("pod drained", "pod", p.name)
	}
}

// podStats is a consistent snapshot of one pod, for /metrics.
type podStats struct {
	name             string
	waiting, running int
	utilization      float64 // percent, 0–100
	succeeded        uint64
	failed           uint64
	promptTokens     uint64
	generationTokens uint64
}

func (s *Server) snapshot() []podStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	out := make([]podStats, 0, len(s.pods))
	for _, p := range s.pods {
		out = append(out, podStats{
			name:             p.name,
			waiting:          len(p.queue),
			running:          p.running,
			utilization:      100 * p.busy.fraction(now, s.cfg.Slots),
			succeeded:        p.succeeded,
			failed:           p.failed,
			promptTokens:     p.promptTokens,
			generationTokens: p.generationTokens,
		})
	}
	slices.SortFunc(out, func(a, b podStats) int { return cmp.Compare(a.name, b.name) })
	return out
}

// occupancy integrates a step function, the number of busy slots, over a
// sliding window. GPU utilization is that integral divided by the window
// times the slot count: the time-weighted fraction of busy slots.
type occupancy struct {
	window time.Duration
	steps  []step // ascending; steps[0] may start before the window
}

type step struct {
	at      time.Time
	running int
}

func (o *occupancy) set(now time.Time, running int) {
	o.steps = append(o.steps, step{at: now, running: running})
	start := now.Add(-o.window)
	// Keep the last step that began before the window: it covers the start.
	i := 0
	for i+1 < len(o.steps) && !o.steps[i+1].at.After(start) {
		i++
	}
	o.steps = o.steps[i:]
}

// fraction is the busy share of slots over [now-window, now], in 0..1. Time
// before the pod appeared counts as idle.
func (o *occupancy) fraction(now time.Time, slots int) float64 {
	if o.window <= 0 || slots <= 0 {
		return 0
	}
	start := now.Add(-o.window)
	var busy float64 // slot-nanoseconds
	for i, st := range o.steps {
		from, to := st.at, now
		if i+1 < len(o.steps) {
			to = o.steps[i+1].at
		}
		if from.Before(start) {
			from = start
		}
		if to.After(from) {
			busy += float64(st.running) * float64(to.Sub(from))
		}
	}
	return min(1, max(0, busy/(float64(slots)*float64(o.window))))
}
