package testbed

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
)

// condition is one poll of a wait. It returns done when the wait is over,
// and otherwise a short note of what it saw (for the time-out message). An
// error ends the wait: a condition returns one only for what waiting cannot
// fix.
type condition func(ctx context.Context) (done bool, saw string, err error)

// waiter polls conditions while watching the cluster's children: a
// component that exits during a wait ends it with that component's log.
type waiter struct {
	clock    clock.Clock
	timeout  time.Duration
	interval time.Duration
	cluster  *Cluster // nil: no children to watch
}

// WaitError says a wait timed out: what was awaited, what was last seen and
// where the logs are.
type WaitError struct {
	What    string
	Timeout time.Duration
	Saw     string
	LogDir  string
}

func (e *WaitError) Error() string {
	msg := fmt.Sprintf("timed out after %s waiting for %s", e.Timeout, e.What)
	if e.Saw != "" {
		msg += " (last seen: " + e.Saw + ")"
	}
	if e.LogDir != "" {
		msg += "; see the component logs in " + e.LogDir
	}
	return msg
}

func (w *waiter) until(ctx context.Context, what string, cond condition) error {
	deadline := w.clock.Now().Add(w.timeout)
	var saw string
	for {
		if err := w.childrenAlive(); err != nil {
			return err
		}
		done, s, err := cond(ctx)
		if err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if done {
			return nil
		}
		if s != "" {
			saw = s
		}
		if !w.clock.Now().Before(deadline) {
			e := &WaitError{What: what, Timeout: w.timeout, Saw: saw}
			if w.cluster != nil {
				e.LogDir = w.cluster.LogDir
			}
			return e
		}
		t := w.clock.NewTimer(w.interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wait for %s: %w", what, ctx.Err())
		case <-t.C():
		}
	}
}

// childrenAlive returns a *ComponentError for the first child that exited.
func (w *waiter) childrenAlive() error {
	if w.cluster == nil {
		return nil
	}
	w.cluster.mu.Lock()
	children := append([]*child(nil), w.cluster.children...)
	w.cluster.mu.Unlock()
	for _, c := range children {
		if done, err := c.exited(); done {
			return &ComponentError{Component: c.Name, Log: c.Log, Err: fmt.Errorf("exited during start-up: %v", err)}
		}
	}
	return nil
}

// probeClient is for health probes of components on loopback that serve
// HTTPS with certificates they signed themselves a moment ago.
var probeClient = &http.Client{
	Timeout: 2 * time.Second,
	Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback health probe of our own child
		Proxy:           nil,
	},
}

// getOK probes url; a connection error or a non-200 answer means "not yet",
// which is what a starting process gives.
func getOK(ctx context.Context, client *http.Client, url string) (bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close() // read path
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Sprintf("%s: %s", resp.Status, firstLine(string(body)))
	}
	return true, ""
}

func etcdHealthy(port int) condition {
	return func(ctx context.Context) (bool, string, error) {
		ok, saw := getOK(ctx, probeClient, httpURL(port)+"/health")
		return ok, saw, nil
	}
}

func controllerManagerHealthy(port int) condition {
	return func(ctx context.Context) (bool, string, error) {
		ok, saw := getOK(ctx, probeClient, httpsURL(port)+"/healthz")
		return ok, saw, nil
	}
}

// apiServerReady probes /readyz with the admin credentials and the real CA.
func apiServerReady(cfg *rest.Config) condition {
	var client *http.Client
	return func(ctx context.Context) (bool, string, error) {
		if client == nil {
			c, err := rest.HTTPClientFor(cfg)
			if err != nil {
				return false, "", fmt.Errorf("build API client: %w", err)
			}
			c.Timeout = 2 * time.Second
			client = c
		}
		ok, saw := getOK(ctx, client, cfg.Host+"/readyz")
		return ok, saw, nil
	}
}

// listening is done once something accepts TCP connections on port.
func listening(port int) condition {
	return func(ctx context.Context) (bool, string, error) {
		d := net.Dialer{Timeout: time.Second}
		conn, err := d.DialContext(ctx, "tcp", hostPort(port))
		if err != nil {
			return false, err.Error(), nil
		}
		conn.Close() // only probing
		return true, "", nil
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func clockOrReal(c clock.Clock) clock.Clock {
	if c == nil {
		return clock.RealClock{}
	}
	return c
}
