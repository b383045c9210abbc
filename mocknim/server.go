package mocknim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/utils/clock"
)

// PodHeader names, on every response a pod produced, the pod that served it.
// Errors answered before a pod was chosen carry no such header.
const PodHeader = "X-Scalegate-Pod"

// Server is the mock NIM. It is safe for concurrent use.
type Server struct {
	cfg     Config
	clock   clock.WithTicker
	source  PodSource
	log     *slog.Logger
	window  time.Duration // UtilizationWindow after TimeScale
	started time.Time
	handler http.Handler

	rngMu sync.Mutex
	rng   *rand.Rand

	mu   sync.Mutex
	pods map[string]*pod
}

// New builds a Server. It serves nothing until Serve, or until its Handler
// is mounted somewhere.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mock nim config: %w", err)
	}
	cfg = cfg.withDefaults()
	if deps.Clock == nil {
		deps.Clock = clock.RealClock{}
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     cfg,
		clock:   deps.Clock,
		source:  deps.Pods,
		log:     deps.Log,
		started: deps.Clock.Now(),
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		pods:    map[string]*pod{},
	}
	s.window = s.scaled(cfg.UtilizationWindow)

	reg := prometheus.NewRegistry()
	if err := reg.Register(newCollector(s)); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})

	mux := http.NewServeMux()
	mux.Handle("/v1/models", only(http.MethodGet, http.HandlerFunc(s.serveModels)))
	mux.Handle("/v1/chat/completions", only(http.MethodPost, s.generate(chatEndpoint)))
	mux.Handle("/v1/completions", only(http.MethodPost, s.generate(completionsEndpoint)))
	mux.Handle("/v1/health/live", only(http.MethodGet, http.HandlerFunc(s.serveLive)))
	mux.Handle("/v1/health/ready", only(http.MethodGet, http.HandlerFunc(s.serveReady)))
	mux.Handle("/metrics", only(http.MethodGet, metrics))
	mux.Handle("/v1/metrics", only(http.MethodGet, metrics))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("no route for %s", r.URL.Path)})
	})
	s.handler = mux
	return s, nil
}

// Handler serves the whole API: the OpenAI endpoints, health and metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve runs the pod source and answers HTTP on ln until ctx ends or either
// fails. On the way out it stops taking connections and lets in-flight
// requests finish for up to Config.ShutdownTimeout. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	srcErr := make(chan error, 1)
	go func() {
		if s.source == nil {
			srcErr <- nil
			return
		}
		srcErr <- s.source.Run(ctx, s)
	}()
	httpErr := make(chan error, 1)
	go func() { httpErr <- hs.Serve(ln) }()

	var err error
	srcDone := false
	for stop := false; !stop; {
		select {
		case <-ctx.Done():
			stop = true
		case e := <-srcErr:
			srcErr, srcDone = nil, true
			if e != nil && ctx.Err() == nil {
				err, stop = fmt.Errorf("follow pods: %w", e), true
			}
		case e := <-httpErr:
			httpErr, stop = nil, true
			if !errors.Is(e, http.ErrServerClosed) {
				err = fmt.Errorf("serve http: %w", e)
			}
		}
	}
	cancel()

	// Shutdown must outlive ctx, which has ended; it is bounded by its own
	// wall-clock timeout instead.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer scancel()
	if e := hs.Shutdown(sctx); e != nil {
		s.log.Warn("in-flight requests cut off at shutdown", "timeout", s.cfg.ShutdownTimeout, "err", e)
		if e := hs.Close(); e != nil {
			s.log.Warn("close http server", "err", e)
		}
	}
	if !srcDone {
		if e := <-srcErr; e != nil && err == nil && !errors.Is(e, context.Canceled) {
			err = fmt.Errorf("follow pods: %w", e)
		}
	}
	return err
}

// scaled divides a simulated duration by the time scale.
func (s *Server) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.cfg.TimeScale)
}

// sleep waits d on the server's clock, or until ctx ends.
func (s *Server) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := s.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// only answers 405 to every method but want (and HEAD, for GET).
func only(want string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == want || (want == http.MethodGet && r.Method == http.MethodHead) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", want)
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, msg: fmt.Sprintf("method %s not allowed; use %s", r.Method, want)})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// A failed write means the client left; there is no one to tell.
	_, _ = w.Write(marshal(v))
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, e.body())
}

func (s *Server) serveModels(w http.ResponseWriter, _ *http.Request) {
	created := s.started.Unix()
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: []modelCard{{
		ID:          s.cfg.Model,
		Object:      "model",
		Created:     created,
		OwnedBy:     "vllm",
		Root:        s.cfg.Model,
		MaxModelLen: s.cfg.MaxModelLen,
		Permission: []modelPermission{{
			ID:            "modelperm-scalegate-mock",
			Object:        "model_permission",
			Created:       created,
			AllowSampling: true,
			AllowLogprobs: true,
			AllowView:     true,
			Organization:  "*",
		}},
	}}})
}

func (s *Server) serveLive(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, healthBody{Object: "health.response", Message: "Service is live."})
}

func (s *Server) serveReady(w http.ResponseWriter, _ *http.Request) {
	if !s.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, healthBody{Object: "health.response", Message: "Service is not ready: no pod is ready."})
		return
	}
	writeJSON(w, http.StatusOK, healthBody{Object: "health.response", Message: "Service is ready."})
}

// readBody reads at most MaxBodyBytes of the request body.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge,
				msg: fmt.Sprintf("request body larger than %d bytes", s.cfg.MaxBodyBytes)}
		}
		return nil, badRequest("read request body: %v", err)
	}
	return body, nil
}
