package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/metrics/pkg/client/custom_metrics"
	"k8s.io/utils/clock"
	"sigs.k8s.io/yaml"

	"github.com/scalegate/scalegate/loadgen"
	"github.com/scalegate/scalegate/reports"
	"github.com/scalegate/scalegate/timeline"
	"github.com/scalegate/scalegate/validator"
	"github.com/scalegate/scalegate/watcher"
)

var podKind = schema.GroupKind{Kind: "Pod"}

// Config is one validation run.
type Config struct {
	Namespace  string
	Deployment string
	// HPA names the autoscaler; empty finds the one that targets Deployment.
	HPA      string
	Endpoint string
	// Model is sent in every request; empty takes the first the endpoint lists.
	Model string
	// APIKey is sent as a bearer token. It is never written anywhere.
	APIKey string
	// PodHeader names the response header that says which pod served a request.
	PodHeader string
	Users     int
	Seed      uint64
	// Duration is how long load is sent.
	Duration time.Duration
	// TimeScale N divides the workload's think times and bursts, for
	// testbeds that run at 1/N of real time. 0 means 1.
	TimeScale float64
	Profile   validator.Profile
	// Dir is the run folder; it is created.
	Dir string
	// SampleInterval is how often the HPA's metrics are sampled. 0 means 2 s.
	SampleInterval time.Duration
	// Baseline is how long to observe before load. 0 derives it: three sync
	// periods or three samples, whichever is longer.
	Baseline time.Duration
	// CooldownMax bounds the cool-down. 0 derives it from the HPA's
	// scale-down window and policies, plus margin.
	CooldownMax time.Duration
	// RequestTimeout bounds each request. 0 means 10 minutes.
	RequestTimeout time.Duration
	Version        string
}

// Validate reports the first thing wrong with c that no cluster is needed
// to see.
func (c Config) Validate() error {
	switch {
	case c.Users < 1:
		return fmt.Errorf("users %d: want at least 1", c.Users)
	case c.Duration <= 0:
		return fmt.Errorf("duration %s: want a positive duration", c.Duration)
	case c.Endpoint == "":
		return errors.New("no endpoint: set --endpoint to the service's OpenAI-compatible base URL")
	case c.Namespace == "" || c.Deployment == "":
		return errors.New("namespace and deployment are required")
	case c.Dir == "":
		return errors.New("no run folder")
	case c.TimeScale < 0 || c.SampleInterval < 0 || c.Baseline < 0 || c.CooldownMax < 0:
		return errors.New("time scale, sample interval, baseline and cool-down cannot be negative")
	}
	return c.Profile.Validate()
}

// Deps are a run's connections to the world.
type Deps struct {
	Kube    kubernetes.Interface
	Metrics custom_metrics.CustomMetricsClient
	Client  *loadgen.Client // Endpoint, Model and APIKey are set by Run
	Clock   clock.WithTickerAndDelayedExecution
	// Log receives phase changes and warnings; nil discards them.
	Log io.Writer
	// Progress, when set, receives a snapshot every second of the load and
	// the cool-down. When nil, a plain line goes to Log every five seconds.
	Progress func(Progress)
}

// Progress is a snapshot of a run, for a progress display.
type Progress struct {
	Elapsed  time.Duration
	Phase    timeline.PhaseName
	Sent     int64
	InFlight int64
	Errors   int64
	TTFTp50  time.Duration
	Replicas int32
	Ready    int32
}

// String renders the snapshot as one line.
func (p Progress) String() string {
	return fmt.Sprintf("%s %s: sent %d, in flight %d, errors %d, TTFT p50 %s, replicas %d (%d ready)",
		p.Elapsed.Round(time.Second), p.Phase, p.Sent, p.InFlight, p.Errors, p.TTFTp50.Round(time.Millisecond), p.Replicas, p.Ready)
}

// Run performs the whole validation. It returns the graded run whenever
// anything was recorded, together with an error when the run could not
// complete; pre-flight failures come back as *EnvironmentError before any
// load is sent.
func Run(ctx context.Context, cfg Config, deps Deps) (*reports.Run, error) {
	if deps.Clock == nil {
		deps.Clock = clock.RealClock{}
	}
	if deps.Log == nil {
		deps.Log = io.Discard
	}
	if cfg.SampleInterval == 0 {
		cfg.SampleInterval = 2 * time.Second
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 10 * time.Minute
	}
	client := deps.Client
	client.BaseURL, client.APIKey, client.PodHeader, client.Timeout = cfg.Endpoint, cfg.APIKey, cfg.PodHeader, cfg.RequestTimeout
	client.Clock = deps.Clock

	target, err := Preflight(ctx, cfg, deps.Kube, deps.Metrics, client)
	if err != nil {
		return nil, err
	}
	client.Model = target.Model

	f, err := newFolder(cfg, target)
	if err != nil {
		return nil, err
	}
	defer f.close()

	r := &run{cfg: cfg, deps: deps, target: target, folder: f, summary: loadgen.NewSummary()}
	return r.execute(ctx)
}

// run is one validation in progress.
type run struct {
	cfg    Config
	deps   Deps
	target *Target
	folder *folder

	summaryMu sync.Mutex // the summary is fed by the drain and read by progress
	summary   *loadgen.Summary

	mu       sync.Mutex
	entries  []timeline.Entry
	spec     int32 // the Deployment's latest spec.replicas
	ready    int32
	started  time.Time
	phases   map[timeline.PhaseName]time.Time
	warnings []string
}

// record is the watcher's sink: it journals each entry and keeps it.
func (r *run) record(e timeline.Entry) {
	if err := r.folder.timeline.Append(e); err != nil {
		r.warn(fmt.Sprintf("timeline journal: %v", err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, e)
	if e.Kind == timeline.KindDeployment {
		r.spec, r.ready = e.Deployment.SpecReplicas, e.Deployment.ReadyReplicas
	}
}

func (r *run) warn(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.warnings {
		if w == msg {
			return
		}
	}
	r.warnings = append(r.warnings, msg)
}

func (r *run) replicas() (spec, ready int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.spec, r.ready
}

func (r *run) phase(p timeline.PhaseName) {
	now := r.deps.Clock.Now()
	r.mu.Lock()
	if r.phases == nil {
		r.phases = map[timeline.PhaseName]time.Time{}
	}
	r.phases[p] = now
	r.mu.Unlock()
	r.record(timeline.Entry{At: now, Kind: timeline.KindPhase, Phase: &timeline.Phase{Name: p}})
	fmt.Fprintf(r.deps.Log, "%s phase started\n", p)
}

func (r *run) execute(ctx context.Context) (*reports.Run, error) {
	w, err := watcher.New(watcher.Config{
		Namespace: r.cfg.Namespace, Deployment: r.cfg.Deployment, HPA: r.target.HPA.Name,
		Selector: r.target.Selector, Metrics: metricNames(r.target.Spec), SampleInterval: r.cfg.SampleInterval,
	}, watcher.Deps{Client: r.deps.Kube, Metrics: r.deps.Metrics, Clock: r.deps.Clock, Sink: r.record})
	if err != nil {
		return nil, err
	}
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	watchDone := make(chan error, 1)
	go func() { watchDone <- w.Run(watchCtx) }()
	stopWatching := func() error {
		stopWatch()
		return <-watchDone
	}
	select {
	case <-w.Synced():
	case err := <-watchDone:
		stopWatch()
		return nil, &EnvironmentError{Check: "watch", Err: err}
	case <-ctx.Done():
		_ = stopWatching() // interrupted before anything was recorded
		return nil, ctx.Err()
	}

	r.started = r.deps.Clock.Now()
	interrupted := r.observe(ctx)
	r.phase(timeline.PhaseEnd)
	if err := stopWatching(); err != nil {
		r.warn(fmt.Sprintf("watcher: %v", err))
	}
	out := r.grade(interrupted)
	if err := r.folder.writeReports(out); err != nil {
		r.warn(err.Error())
		out.Warnings = r.warnings
		return out, err
	}
	if interrupted {
		return out, ctx.Err()
	}
	return out, nil
}

// observe runs baseline, load and cool-down, and reports whether ctx ended
// the run early.
func (r *run) observe(ctx context.Context) bool {
	sync := time.Duration(r.cfg.Profile.SyncPeriod)
	baseline := r.cfg.Baseline
	if baseline == 0 {
		baseline = max(3*sync, 3*r.cfg.SampleInterval)
	}
	r.phase(timeline.PhaseBaseline)
	if !r.sleep(ctx, baseline) {
		return true
	}

	r.phase(timeline.PhaseLoad)
	model := loadgen.DefaultDevelopers(r.cfg.Users)
	model.Seed, model.TimeScale = r.cfg.Seed, r.cfg.TimeScale
	if model.Seed == 0 {
		model.Seed = 1
	}
	arrivals := model.Schedule(r.cfg.Duration)
	runner := &loadgen.Runner{Client: r.deps.Client, Clock: r.deps.Clock}
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	records := make(chan loadgen.Record, 1024)
	go runner.Run(loadCtx, arrivals, records)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for rec := range records {
			r.summaryMu.Lock()
			r.summary.Add(rec)
			r.summaryMu.Unlock()
			if err := r.folder.records.Append(rec); err != nil {
				r.warn(fmt.Sprintf("records journal: %v", err))
			}
		}
	}()
	progress := r.deps.Clock.NewTicker(time.Second)
	defer progress.Stop()
	ticks := 0
	loadEnd := r.deps.Clock.NewTimer(r.cfg.Duration)
	defer loadEnd.Stop()
loading:
	for {
		select {
		case <-ctx.Done():
			stopLoad()
			<-drained
			return true
		case <-loadEnd.C():
			break loading
		case <-progress.C():
			ticks++
			r.progress(timeline.PhaseLoad, runner, ticks)
		}
	}

	// Cool-down: requests still in flight finish (they are part of the
	// load), while we wait for the Deployment to return to minReplicas.
	r.phase(timeline.PhaseCooldown)
	// The bound covers the worst case: the window, then every policy step
	// from maxReplicas down to minReplicas, plus a few ticks and samples.
	bound := r.cfg.CooldownMax
	if bound == 0 {
		bound = r.target.Spec.ScaleDown.Window + r.target.Spec.ScaleDownSteps(r.target.Spec.MaxReplicas) + 4*sync + 4*r.cfg.SampleInterval
	}
	deadline := r.deps.Clock.Now().Add(bound)
	minWait := r.deps.Clock.Now().Add(2 * sync)
	tick := r.deps.Clock.NewTicker(r.cfg.SampleInterval)
	defer tick.Stop()
	for {
		spec, _ := r.replicas()
		now := r.deps.Clock.Now()
		if spec <= r.target.Spec.MinReplicas && runner.InFlight() == 0 && !now.Before(minWait) {
			break
		}
		if !now.Before(deadline) {
			r.warn(fmt.Sprintf("the cool-down ended at its bound (%s: the HPA's scale-down window plus policy steps plus margin) with %d replicas", bound.Round(time.Second), spec))
			break
		}
		select {
		case <-ctx.Done():
			stopLoad()
			<-drained
			return true
		case <-tick.C():
		case <-progress.C():
			ticks++
			r.progress(timeline.PhaseCooldown, runner, ticks)
		}
	}
	stopLoad()
	<-drained
	return false
}

// progress reports a snapshot: every tick to Deps.Progress, or every fifth
// as a plain line to Log.
func (r *run) progress(phase timeline.PhaseName, runner *loadgen.Runner, tick int) {
	if r.deps.Progress == nil && tick%5 != 0 {
		return
	}
	spec, ready := r.replicas()
	t := r.totals()
	p := Progress{Elapsed: r.deps.Clock.Since(r.started), Phase: phase, Sent: runner.Sent(), InFlight: runner.InFlight(),
		Errors: t.ErrorCount(), TTFTp50: t.TTFT.P50, Replicas: spec, Ready: ready}
	if r.deps.Progress != nil {
		r.deps.Progress(p)
		return
	}
	fmt.Fprintln(r.deps.Log, p)
}

// sleep waits d, and reports false if ctx ended first.
func (r *run) sleep(ctx context.Context, d time.Duration) bool {
	t := r.deps.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

func (r *run) grade(interrupted bool) *reports.Run {
	r.mu.Lock()
	tl := timeline.Sorted(r.entries)
	phases := r.phases
	r.mu.Unlock()
	v := validator.Grade(validator.Input{Timeline: tl, HPA: r.target.Spec, Profile: r.cfg.Profile, SampleInterval: r.cfg.SampleInterval})
	out := &reports.Run{
		Version: r.cfg.Version, Status: v.Status(), Interrupted: interrupted, Started: r.started,
		Endpoint: loadgen.RedactURL(r.cfg.Endpoint), Model: r.target.Model, Users: r.cfg.Users,
		Profile: r.cfg.Profile, HPA: r.target.Spec, Verdict: v,
		Replicas: validator.ReplicaSteps(tl, v.Start), Requests: r.totals(), Dir: r.folder.dir,
	}
	out.Baseline, out.Load, out.Cooldown = phaseDurations(phases)
	r.mu.Lock()
	out.Warnings = append(out.Warnings, r.warnings...)
	r.mu.Unlock()
	return out
}

func (r *run) totals() loadgen.Totals {
	r.summaryMu.Lock()
	defer r.summaryMu.Unlock()
	return r.summary.Totals()
}

// phaseDurations returns how long each phase lasted; a phase cut short by
// an interruption lasts until the end.
func phaseDurations(at map[timeline.PhaseName]time.Time) (baseline, load, cooldown time.Duration) {
	order := []timeline.PhaseName{timeline.PhaseBaseline, timeline.PhaseLoad, timeline.PhaseCooldown, timeline.PhaseEnd}
	out := make([]time.Duration, 3)
	for i := range out {
		start, ok := at[order[i]]
		if !ok {
			continue
		}
		for _, next := range order[i+1:] {
			if end, ok := at[next]; ok {
				out[i] = end.Sub(start)
				break
			}
		}
	}
	return out[0], out[1], out[2]
}

// meta is the run's options as written to run.yaml: what was asked and
// what pre-flight resolved, never a secret.
type meta struct {
	Namespace      string  `json:"namespace"`
	Deployment     string  `json:"deployment"`
	HPA            string  `json:"hpa"`
	Endpoint       string  `json:"endpoint"`
	Model          string  `json:"model"`
	Users          int     `json:"users"`
	Seed           uint64  `json:"seed"`
	Duration       string  `json:"duration"`
	TimeScale      float64 `json:"timeScale"`
	SampleInterval string  `json:"sampleInterval"`
	Baseline       string  `json:"baseline,omitempty"`
	CooldownMax    string  `json:"cooldownMax,omitempty"`
	RequestTimeout string  `json:"requestTimeout"`
	APIKeySet      bool    `json:"apiKeySet"`
	Version        string  `json:"scalegateVersion"`
}

func runMeta(cfg Config, t *Target) meta {
	dur := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	return meta{
		Namespace: cfg.Namespace, Deployment: cfg.Deployment, HPA: t.HPA.Name,
		Endpoint: loadgen.RedactURL(cfg.Endpoint), Model: t.Model, Users: cfg.Users, Seed: cfg.Seed,
		Duration: cfg.Duration.String(), TimeScale: cfg.TimeScale, SampleInterval: cfg.SampleInterval.String(),
		Baseline: dur(cfg.Baseline), CooldownMax: dur(cfg.CooldownMax), RequestTimeout: cfg.RequestTimeout.String(),
		APIKeySet: cfg.APIKey != "", Version: cfg.Version,
	}
}

func metricNames(s validator.HPASpec) []string {
	var out []string
	for _, m := range s.Metrics {
		out = append(out, m.Name)
	}
	return out
}

// folder is a run folder and its open journals.
type folder struct {
	dir      string
	files    []*os.File
	timeline *timeline.Journal
	records  *loadgen.Journal
}

// newFolder creates the run folder and writes what the run starts from:
// the HPA as read, the profile and the options (never the API key).
func newFolder(cfg Config, t *Target) (*folder, error) {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run folder: %w", err)
	}
	f := &folder{dir: cfg.Dir}
	write := func(name string, v any) error {
		raw, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(cfg.Dir, name), raw, 0o644)
	}
	hpa := t.HPA.DeepCopy()
	hpa.ManagedFields = nil
	hpa.APIVersion, hpa.Kind = "autoscaling/v2", "HorizontalPodAutoscaler"
	if err := write("hpa.yaml", hpa); err != nil {
		return nil, fmt.Errorf("write run folder: %w", err)
	}
	if err := write("profile.yaml", cfg.Profile); err != nil {
		return nil, fmt.Errorf("write run folder: %w", err)
	}
	if err := write("run.yaml", runMeta(cfg, t)); err != nil {
		return nil, fmt.Errorf("write run folder: %w", err)
	}
	tf, err := os.Create(filepath.Join(cfg.Dir, "timeline.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("create timeline journal: %w", err)
	}
	f.files = append(f.files, tf)
	if f.timeline, err = timeline.NewJournal(tf); err != nil {
		f.close()
		return nil, err
	}
	rf, err := os.Create(filepath.Join(cfg.Dir, "records.jsonl"))
	if err != nil {
		f.close()
		return nil, fmt.Errorf("create records journal: %w", err)
	}
	f.files = append(f.files, rf)
	if f.records, err = loadgen.NewJournal(rf); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

// writeReports writes the JSON and JUnit reports into the run folder.
func (f *folder) writeReports(r *reports.Run) error {
	for name, render := range map[string]func(io.Writer, reports.Run) error{"report.json": reports.JSON, "junit.xml": reports.JUnit} {
		out, err := os.Create(filepath.Join(f.dir, name))
		if err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := render(out, *r); err != nil {
			_ = out.Close() // the render error is the one to report
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := out.Close(); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

func (f *folder) close() {
	for _, file := range f.files {
		_ = file.Close() // journals flush on every append; nothing is pending
	}
}
