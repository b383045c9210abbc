package testbed

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"k8s.io/utils/clock"
)

func TestWaiter(t *testing.T) {
	tests := []struct {
		name    string
		cond    func(polls int) (bool, string, error)
		wantErr string // substring; "" for success
	}{
		{name: "done on the third poll", cond: func(n int) (bool, string, error) { return n >= 3, "not yet", nil }},
		{name: "times out naming what and where", cond: func(int) (bool, string, error) { return false, "1/2 ready", nil },
			wantErr: "timed out after 10s waiting for the thing (last seen: 1/2 ready); see the component logs in /logs"},
		{name: "an error ends the wait", cond: func(int) (bool, string, error) { return false, "", errors.New("forbidden") },
			wantErr: "wait for the thing: forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := &waiter{clock: clock.RealClock{}, timeout: 10 * time.Second, interval: 200 * time.Millisecond,
					cluster: &Cluster{LogDir: "/logs"}}
				polls := 0
				err := w.until(context.Background(), "the thing", func(context.Context) (bool, string, error) {
					polls++
					return tc.cond(polls)
				})
				if tc.wantErr == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
			})
		})
	}
}

func TestWaiterCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		w := &waiter{clock: clock.RealClock{}, timeout: time.Minute, interval: time.Second}
		go func() {
			time.Sleep(3 * time.Second)
			cancel()
		}()
		err := w.until(ctx, "the thing", func(context.Context) (bool, string, error) { return false, "", nil })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
}
