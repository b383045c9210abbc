package mocknim

import (
	"context"
	"fmt"
)

// PodSink is told which pods exist and whether they take requests. A Server
// is one.
type PodSink interface {
	// SetPod adds a pod or updates whether it is ready.
	SetPod(name string, ready bool)
	// RemovePod marks a pod deleted; it drains, then disappears.
	RemovePod(name string)
}

// PodSource feeds a PodSink until ctx ends. Run may return nil early when it
// has nothing more to say (a fixed set of pods); an error stops the Server.
type PodSource interface {
	Run(ctx context.Context, sink PodSink) error
}

// FixedPods is N pods named Prefix-0 … Prefix-(N-1), all ready from the
// start and never deleted.
type FixedPods struct {
	Prefix string // e.g. "coding-assistant-mock"
	N      int
}

// Run sets every pod ready and returns.
func (f FixedPods) Run(_ context.Context, sink PodSink) error {
	for i := range f.N {
		sink.SetPod(fmt.Sprintf("%s-%d", f.Prefix, i), true)
	}
	return nil
}
