package metricsadapter

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// source is a scrape target whose answer a test can change.
type source struct {
	mu     sync.Mutex
	body   string
	status int
	hits   chan struct{}
}

func newSource(t *testing.T, body string) (*source, *httptest.Server) {
	t.Helper()
	src := &source{body: body, status: http.StatusOK, hits: make(chan struct{}, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		src.mu.Lock()
		body, status := src.body, src.status
		src.mu.Unlock()
		select {
		case src.hits <- struct{}{}:
		default:
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body)) // the test checks what the scraper made of it
	}))
	t.Cleanup(srv.Close)
	return src, srv
}

func (s *source) set(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

// syncBuffer is a log sink safe for the scraper's concurrent goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestScraperValuesAgeOutAfterFailures(t *testing.T) {
	src, srv := newSource(t, exposition)
	clk := clocktesting.NewFakeClock(t0)
	var logs syncBuffer
	sc, err := NewScraper(Config{Sources: []string{srv.URL + "/metrics"}}, Deps{
		Clock: clk,
		Log:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatalf("NewScraper: %v", err)
	}
	st := sc.Store()
	queueA := Key{Metric: "nim_queue_depth", Namespace: "prod", Pod: "nim-a"}
	ctx := context.Background()

	lookup := func(k Key) (Point, bool) { return st.Lookup(k, nil) }

	sc.ScrapeOnce(ctx)
	if p, ok := lookup(queueA); !ok || p.Value != 7 || !p.At.Equal(t0) {
		t.Fatalf("after first scrape: %+v %v, want 7 at t0", p, ok)
	}
	waiting := Key{Metric: "num_requests_waiting", Namespace: "prod", Pod: "nim-a"}
	if p, ok := lookup(waiting); !ok || p.Value != 7 {
		t.Fatalf("two model_name series: %+v %v, want their sum 7", p, ok)
	}
	if got := st.Metrics(); !strings.Contains(strings.Join(got, ","), "nim_gpu_utilization_percent,nim_queue_depth") {
		t.Errorf("Metrics() = %v", got)
	}

	// The source fails: the old values stay for up to three intervals.
	src.set(http.StatusInternalServerError, "boom")
	for i := 1; i <= 3; i++ {
		clk.Step(time.Second)
		sc.ScrapeOnce(ctx)
		if p, ok := lookup(queueA); !ok || p.Value != 7 || !p.At.Equal(t0) {
			t.Fatalf("%ds into the outage: %+v %v, want the t0 value kept", i, p, ok)
		}
	}
	clk.Step(time.Millisecond)
	if p, ok := lookup(queueA); ok {
		t.Fatalf("past max age: still served %+v", p)
	}
	if n := strings.Count(logs.String(), "scrape failed"); n != 1 {
		t.Errorf("a steady failure logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "500 Internal Server Error") {
		t.Errorf("log lacks the status:\n%s", logs.String())
	}

	// Recovery: the new scrape's time, and pods missing from it are gone.
	src.set(http.StatusOK, "# TYPE nim_queue_depth gauge\nnim_queue_depth{namespace=\"prod\",pod=\"nim-a\"} 2\n")
	clk.Step(time.Second)
	sc.ScrapeOnce(ctx)
	if p, ok := lookup(queueA); !ok || p.Value != 2 || !p.At.Equal(clk.Now()) {
		t.Fatalf("after recovery: %+v %v, want 2 at %v", p, ok, clk.Now())
	}
	if p, ok := lookup(Key{Metric: "nim_queue_depth", Namespace: "prod", Pod: "nim-b"}); ok {
		t.Errorf("nim-b vanished from the source but is still served: %+v", p)
	}
	if !strings.Contains(logs.String(), "scrape recovered") {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}
	if !st.Known("nim_gpu_utilization_percent") {
		t.Errorf("a metric seen once should stay known for discovery")
	}
}

func TestScraperTimeoutKeepsValues(t *testing.T) {
	release := make(chan struct{})
	hang := false
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hang
		mu.Unlock()
		if h {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		_, _ = w.Write([]byte(exposition)) // the test checks what the scraper made of it
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	clk := clocktesting.NewFakeClock(t0)
	var logs syncBuffer
	sc, err := NewScraper(Config{
		Sources:       []string{srv.URL},
		ScrapeTimeout: 50 * time.Millisecond,
	}, Deps{Clock: clk, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("NewScraper: %v", err)
	}
	sc.ScrapeOnce(context.Background())
	mu.Lock()
	hang = true
	mu.Unlock()
	clk.Step(time.Second)
	sc.ScrapeOnce(context.Background())
	p, ok := sc.Store().Lookup(Key{Metric: "nim_queue_depth", Namespace: "prod", Pod: "nim-a"}, nil)
	if !ok || !p.At.Equal(t0) {
		t.Fatalf("after a timed-out scrape: %+v %v, want the t0 value", p, ok)
	}
	if !strings.Contains(logs.String(), "deadline exceeded") {
		t.Errorf("timeout not logged:\n%s", logs.String())
	}
}

func TestScraperRunTicksOnTheClock(t *testing.T) {
	src, srv := newSource(t, exposition)
	clk := clocktesting.NewFakeClock(t0)
	sc, err := NewScraper(Config{Sources: []string{srv.URL}, ScrapeInterval: 15 * time.Second}, Deps{Clock: clk})
	if err != nil {
		t.Fatalf("NewScraper: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx) }()

	wait := func(what string) {
		t.Helper()
		select {
		case <-src.hits:
		case <-time.After(5 * time.Second):
			t.Fatalf("no scrape %s", what)
		}
	}
	wait("at start")
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond) // the ticker is made before the first scrape; this rarely spins
	}
	clk.Step(15 * time.Second)
	wait("after one interval")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil on cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
	if w := sc.Store().Window(); w != 15*time.Second {
		t.Errorf("window = %v, want the scrape interval", w)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring; "" means valid
	}{
		{name: "defaults", cfg: Config{Sources: []string{"http://127.0.0.1:8000/metrics"}}},
		{name: "no source", cfg: Config{}, wantErr: "no metrics source"},
		{name: "not a url", cfg: Config{Sources: []string{"127.0.0.1:8000"}}, wantErr: "want an http(s) URL"},
		{
			name:    "max age below interval",
			cfg:     Config{Sources: []string{"http://x/m"}, ScrapeInterval: 15 * time.Second, MaxAge: 10 * time.Second},
			wantErr: "metrics max age 10s is shorter than the scrape interval 15s",
		},
		{
			name: "max age equal to interval",
			cfg:  Config{Sources: []string{"http://x/m"}, ScrapeInterval: 15 * time.Second, MaxAge: 15 * time.Second},
		},
		{
			name:    "default interval and short max age",
			cfg:     Config{Sources: []string{"http://x/m"}, MaxAge: 500 * time.Millisecond},
			wantErr: "shorter than the scrape interval 1s",
		},
		{
			name:    "timeout above interval",
			cfg:     Config{Sources: []string{"http://x/m"}, ScrapeTimeout: 2 * time.Second},
			wantErr: "scrape timeout 2s exceeds the scrape interval 1s",
		},
		{name: "empty rename", cfg: Config{Sources: []string{"http://x/m"}, Renames: map[string]string{"a": ""}}, wantErr: "both names are required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
