package loadgen

import (
	"context"
	"sync"
	"sync/atomic"

	"k8s.io/utils/clock"
)

// Runner sends a schedule of arrivals open loop: each at its intended time,
// whatever the server is doing with the previous ones.
type Runner struct {
	Client *Client
	Clock  clock.Clock

	sent     atomic.Int64
	inFlight atomic.Int64
}

// Run sends every arrival and emits one Record per request on out, in
// completion order, then closes out. Cancelling ctx stops scheduling, and
// the requests in flight end as FailCanceled.
func (r *Runner) Run(ctx context.Context, arrivals []Arrival, out chan<- Record) {
	defer close(out)
	start := r.Clock.Now()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i, a := range arrivals {
		due := start.Add(a.At)
		if wait := due.Sub(r.Clock.Now()); wait > 0 {
			t := r.Clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C():
			}
		}
		if ctx.Err() != nil {
			return
		}
		wg.Add(1)
		r.sent.Add(1)
		r.inFlight.Add(1)
		go func() {
			defer wg.Done()
			defer r.inFlight.Add(-1)
			rec := r.Client.Do(ctx, a)
			rec.Seq, rec.Scheduled = uint64(i+1), due
			if rec.Sent.IsZero() {
				rec.Sent = due
			}
			out <- rec
		}()
	}
}

// Sent returns how many requests have been sent so far.
func (r *Runner) Sent() int64 { return r.sent.Load() }

// InFlight returns how many requests are in flight now.
func (r *Runner) InFlight() int64 { return r.inFlight.Load() }
