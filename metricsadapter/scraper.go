package metricsadapter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"k8s.io/utils/clock"
)

// maxBody bounds one exposition; a NIM's is a few tens of kilobytes.
const maxBody = 16 << 20

// Deps are the scraper's links to the outside world. Every field may be nil.
type Deps struct {
	Clock  clock.WithTicker // nil means the real clock
	Client *http.Client     // nil means a plain client; Config.ScrapeTimeout bounds each fetch
	Log    *slog.Logger     // nil discards; scrape failures and recoveries are logged here
}

// Scraper fetches every source of a Config each scrape interval and records
// what it finds in its Store. A failed scrape is logged and leaves the
// source's previous values in place until they age out; it never stops the
// scraper.
type Scraper struct {
	cfg    Config
	clock  clock.WithTicker
	client *http.Client
	log    *slog.Logger
	store  *Store

	mu      sync.Mutex
	lastErr map[string]string // by source; "" when its last scrape succeeded
}

// NewScraper validates cfg and returns a scraper with an empty store.
func NewScraper(cfg Config, deps Deps) (*Scraper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if deps.Clock == nil {
		deps.Clock = clock.RealClock{}
	}
	if deps.Client == nil {
		deps.Client = &http.Client{}
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	return &Scraper{
		cfg:     cfg,
		clock:   deps.Clock,
		client:  deps.Client,
		log:     deps.Log,
		store:   NewStore(cfg.MaxAge, cfg.ScrapeInterval, deps.Clock),
		lastErr: make(map[string]string),
	}, nil
}

// Store is where the scraper records values; serve it with a Provider.
func (s *Scraper) Store() *Store { return s.store }

// Config is the scraper's configuration with its defaults filled in.
func (s *Scraper) Config() Config { return s.cfg }

// Run scrapes every source at once and then every scrape interval until ctx
// is done. It returns nil when ctx ends: scrape failures are data, not errors.
func (s *Scraper) Run(ctx context.Context) error {
	t := s.clock.NewTicker(s.cfg.ScrapeInterval)
	defer t.Stop()
	s.ScrapeOnce(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
			s.ScrapeOnce(ctx)
		}
	}
}

// ScrapeOnce fetches every source concurrently and returns when all are done.
// Calls must not overlap.
func (s *Scraper) ScrapeOnce(ctx context.Context) {
	var wg sync.WaitGroup
	for _, src := range s.cfg.Sources {
		wg.Go(func() {
			at := s.clock.Now()
			samples, err := s.fetch(ctx, src)
			if err == nil {
				s.store.Put(src, at, samples)
			}
			s.report(ctx, src, err)
		})
	}
	wg.Wait()
}

// fetch reads and parses one source, bounded by the scrape timeout.
func (s *Scraper) fetch(ctx context.Context, src string) ([]Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ScrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", src, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err) // err names the URL
	}
	defer resp.Body.Close() //nolint:errcheck // read path; the body was consumed or is abandoned
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: unexpected status %s", src, resp.Status)
	}
	samples, err := Parse(io.LimitReader(resp.Body, maxBody), s.cfg.Renames)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", src, err)
	}
	return samples, nil
}

// report logs a source's failure when it starts or changes, and its recovery,
// so a source that stays down costs one log line, not one per interval.
func (s *Scraper) report(ctx context.Context, src string, err error) {
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return // shutting down
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	s.mu.Lock()
	prev, seen := s.lastErr[src]
	s.lastErr[src] = msg
	s.mu.Unlock()
	switch {
	case msg != "" && msg != prev:
		s.log.Warn("scrape failed; serving previous values until they age out",
			"source", src, "err", msg, "maxAge", s.cfg.MaxAge)
	case msg == "" && prev != "":
		s.log.Info("scrape recovered", "source", src)
	case msg == "" && !seen:
		s.log.Debug("first scrape succeeded", "source", src)
	}
}
