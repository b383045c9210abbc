package metricsadapter

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// DefaultScrapeInterval is the scrape interval used when Config.ScrapeInterval
// is zero. It suits the testbed, which runs at a tenth of real time;
// production-like setups scrape every 15s, as Prometheus and NIM's
// ServiceMonitor do.
const DefaultScrapeInterval = time.Second

// Config says what to scrape and how long a value stays servable.
type Config struct {
	// Sources are the Prometheus text endpoints to scrape, such as
	// http://127.0.0.1:8000/metrics. At least one is required. When several
	// sources report the same (metric, namespace, pod) the values are summed.
	Sources []string

	// ScrapeInterval is how often every source is fetched. Zero means
	// DefaultScrapeInterval. It is also the WindowSeconds of every served
	// value.
	ScrapeInterval time.Duration

	// ScrapeTimeout bounds one fetch of one source. Zero means the scrape
	// interval; it may not exceed the scrape interval.
	ScrapeTimeout time.Duration

	// MaxAge is how long a value is served after the scrape that produced it;
	// when a source keeps failing, its values disappear after MaxAge. Zero
	// means three scrape intervals. It must be at least the scrape interval,
	// or values would vanish between two successful scrapes.
	MaxAge time.Duration

	// Renames maps a metric name as the source exposes it to the name served,
	// for example num_requests_waiting to nim_queue_depth. A renamed series is
	// served only under its new name. Nil serves every name as is.
	Renames map[string]string
}

// withDefaults returns c with its zero values replaced by their documented
// meaning.
func (c Config) withDefaults() Config {
	if c.ScrapeInterval == 0 {
		c.ScrapeInterval = DefaultScrapeInterval
	}
	if c.ScrapeTimeout == 0 {
		c.ScrapeTimeout = c.ScrapeInterval
	}
	if c.MaxAge == 0 {
		c.MaxAge = 3 * c.ScrapeInterval
	}
	return c
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Sources) == 0 {
		errs = append(errs, errors.New("no metrics source: give at least one scrape URL"))
	}
	for _, s := range c.Sources {
		u, err := url.Parse(s)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("metrics source %q: %w (want an http(s) URL such as http://127.0.0.1:8000/metrics)", s, err))
		case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
			errs = append(errs, fmt.Errorf("metrics source %q: want an http(s) URL such as http://127.0.0.1:8000/metrics", s))
		}
	}
	if c.ScrapeInterval < 0 {
		errs = append(errs, fmt.Errorf("scrape interval %s is negative", c.ScrapeInterval))
	}
	if c.ScrapeTimeout < 0 {
		errs = append(errs, fmt.Errorf("scrape timeout %s is negative", c.ScrapeTimeout))
	}
	if c.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("metrics max age %s is negative", c.MaxAge))
	}
	for from, to := range c.Renames {
		if from == "" || to == "" {
			errs = append(errs, fmt.Errorf("rename %q to %q: both names are required", from, to))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	d := c.withDefaults()
	if d.ScrapeTimeout > d.ScrapeInterval {
		errs = append(errs, fmt.Errorf("scrape timeout %s exceeds the scrape interval %s", d.ScrapeTimeout, d.ScrapeInterval))
	}
	if d.MaxAge < d.ScrapeInterval {
		errs = append(errs, fmt.Errorf("metrics max age %s is shorter than the scrape interval %s: values would vanish between scrapes (raise the max age)", d.MaxAge, d.ScrapeInterval))
	}
	return errors.Join(errs...)
}
