package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/metrics/pkg/client/custom_metrics"
	"k8s.io/utils/clock"

	"github.com/scalegate/scalegate/harness"
	"github.com/scalegate/scalegate/loadgen"
	"github.com/scalegate/scalegate/mocknim"
	"github.com/scalegate/scalegate/reports"
	"github.com/scalegate/scalegate/validator"
)

type validateOptions struct {
	deps *Deps

	deployment     string
	hpa            string
	endpoint       string
	model          string
	users          int
	duration       string
	profilePath    string
	out            string
	output         string
	apiKeyEnv      string
	podHeader      string
	seed           uint64
	timeScale      float64
	sampleInterval time.Duration
	baseline       time.Duration
	cooldownMax    time.Duration
	requestTimeout time.Duration
	quiet          bool

	// Set by Complete.
	cfg harness.Config
}

const validateLong = `Drive the inference endpoint with bursty IDE-style traffic while watching the
HorizontalPodAutoscaler, then grade the five promises and report.

The run has four phases: pre-flight checks (which fail fast, exit 4, naming
the fix), a baseline observation, the load for --duration, and a cool-down
that lasts until the Deployment is back at minReplicas or until a bound
derived from the HPA's own scale-down window and policies has passed.

Everything recorded goes to the run folder as it happens (timeline.jsonl,
records.jsonl), with report.json and junit.xml at the end. The API key, if
the endpoint needs one, is read from the environment variable that
--api-key-env names; it is never written anywhere.`

func newCmdValidate(d *Deps, runF func(*validateOptions) error) *cobra.Command {
	o := &validateOptions{deps: d}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Load the endpoint, watch the HPA and grade the five promises",
		Long:  validateLong,
		Example: `  scalegate validate --endpoint http://127.0.0.1:8000 --users 100 --duration 120
  scalegate validate -n production --deployment coding-assistant --profile promises.yaml -o junit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if cmd.Flags().Changed("api-key-env") && o.cfg.APIKey == "" {
				fmt.Fprintf(d.ErrOut, "warning: --api-key-env names %s, which is not set: requests go without an API key\n", o.apiKeyEnv)
			}
			if runF != nil {
				return runF(o)
			}
			return o.Run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.deployment, "deployment", "coding-assistant", "the inference Deployment")
	f.StringVar(&o.hpa, "hpa", "", "the HPA (default: the one whose scaleTargetRef is the deployment)")
	f.StringVar(&o.endpoint, "endpoint", os.Getenv("SCALEGATE_ENDPOINT"), "the service's OpenAI-compatible base URL, e.g. http://127.0.0.1:8000 (default: $SCALEGATE_ENDPOINT)")
	f.StringVar(&o.model, "model", "", "the model to request (default: the first /v1/models lists)")
	f.IntVar(&o.users, "users", 100, "number of virtual developers")
	f.StringVar(&o.duration, "duration", "120", "how long to send load: seconds (120) or a duration (2m)")
	f.StringVar(&o.profilePath, "profile", os.Getenv("SCALEGATE_PROFILE"), "YAML file with the promises (default: $SCALEGATE_PROFILE, else the embedded five promises; see scalegate profile)")
	f.StringVar(&o.out, "out", "", "run folder (default: runs/<start time>)")
	f.StringVarP(&o.output, "output", "o", "table", "report format on stdout: "+strings.Join(reports.Formats, "|"))
	f.StringVar(&o.apiKeyEnv, "api-key-env", "SCALEGATE_API_KEY", "environment variable that holds the endpoint's API key, if it needs one")
	f.StringVar(&o.podHeader, "pod-header", mocknim.PodHeader, "response header that names the serving pod (empty: none)")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the workload model: the same seed sends the same schedule")
	f.Float64Var(&o.timeScale, "time-scale", 1, "divide the workload's think times and bursts by N, for testbeds that run at 1/N of real time")
	f.DurationVar(&o.sampleInterval, "sample-interval", 2*time.Second, "how often to sample the HPA's metrics from custom.metrics.k8s.io")
	f.DurationVar(&o.baseline, "baseline", 0, "how long to observe before load (default: three sync periods or three samples)")
	f.DurationVar(&o.cooldownMax, "cooldown-max", 0, "bound on the cool-down (default: the HPA's scale-down window and policy steps, plus margin)")
	f.DurationVar(&o.requestTimeout, "request-timeout", 10*time.Minute, "bound on each request")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print only the report and errors")
	return cmd
}

// Complete turns flags into a run configuration and checks it, before any
// cluster or endpoint is touched.
func (o *validateOptions) Complete() error {
	usage := func(format string, args ...any) error { return &UsageError{fmt.Errorf(format, args...)} }
	if !slices.Contains(reports.Formats, o.output) {
		return usage("--output %q: want one of %s", o.output, strings.Join(reports.Formats, ", "))
	}
	d, err := validator.ParseDuration(o.duration)
	if err != nil {
		return usage("--duration: %v", err)
	}
	if d <= 0 {
		return usage("--duration %s: want a positive duration", o.duration)
	}
	if o.users < 1 {
		return usage("--users %d: want at least 1", o.users)
	}
	if o.endpoint == "" {
		return usage("--endpoint is required: the service's OpenAI-compatible base URL (port-forward the Service if it is not reachable)")
	}
	switch {
	case o.timeScale <= 0:
		return usage("--time-scale %g: want a positive number (1 for real time)", o.timeScale)
	case o.sampleInterval <= 0:
		return usage("--sample-interval %s: want a positive duration", o.sampleInterval)
	case o.requestTimeout <= 0:
		return usage("--request-timeout %s: want a positive duration", o.requestTimeout)
	case o.baseline < 0:
		return usage("--baseline %s: cannot be negative (0 derives it)", o.baseline)
	case o.cooldownMax < 0:
		return usage("--cooldown-max %s: cannot be negative (0 derives it)", o.cooldownMax)
	}
	profile := validator.DefaultProfile()
	if o.profilePath != "" {
		raw, err := os.ReadFile(o.profilePath)
		if err != nil {
			return usage("--profile: %v", err)
		}
		if profile, err = validator.ParseProfile(raw); err != nil {
			return usage("--profile %s: %v", o.profilePath, err)
		}
	}
	dir := o.out
	if dir == "" {
		dir = filepath.Join("runs", time.Now().UTC().Format("20060102-150405"))
	}
	o.cfg = harness.Config{
		Namespace: o.deps.Kube.NamespaceOr("production"), Deployment: o.deployment, HPA: o.hpa,
		Endpoint: o.endpoint, Model: o.model, APIKey: os.Getenv(o.apiKeyEnv), PodHeader: o.podHeader,
		Users: o.users, Seed: o.seed, Duration: d, TimeScale: o.timeScale, Profile: profile, Dir: dir,
		SampleInterval: o.sampleInterval, Baseline: o.baseline, CooldownMax: o.cooldownMax,
		RequestTimeout: o.requestTimeout, Version: version,
	}
	if err := o.cfg.Validate(); err != nil {
		return &UsageError{err}
	}
	return nil
}

// Run connects, validates and prints the report.
func (o *validateOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	rest, err := o.deps.Kube.RESTConfig()
	if err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(rest)
	if err != nil {
		return &EnvError{fmt.Errorf("kubernetes client: %w", err)}
	}
	disc, err := discovery.NewDiscoveryClientForConfig(rest)
	if err != nil {
		return &EnvError{fmt.Errorf("discovery client: %w", err)}
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	metricsRest := *rest
	metricsRest.Timeout = 10 * time.Second
	metrics := custom_metrics.NewForConfig(&metricsRest, mapper, custom_metrics.NewAvailableAPIsGetter(disc))

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 1024
	deps := harness.Deps{Kube: kube, Metrics: metrics, Clock: clock.RealClock{},
		Client: &loadgen.Client{HTTP: &http.Client{Transport: transport}}}
	if !o.quiet {
		progress := newProgressPrinter(o.deps.ErrOut)
		defer progress.Done()
		deps.Log, deps.Progress = progress, progress.Update
	}
	run, err := harness.Run(ctx, o.cfg, deps)
	var envErr *harness.EnvironmentError
	if errors.As(err, &envErr) {
		return &EnvError{err}
	}
	if run == nil {
		return err
	}
	if rerr := reports.Render(o.deps.Out, o.output, *run); rerr != nil {
		return rerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: the partial report and the journals are in %s", run.Dir)
		}
		return err
	}
	return verdictError(run.Status)
}

// VerdictError carries a run's overall verdict to the exit code.
type VerdictError struct{ Status validator.Status }

func (e *VerdictError) Error() string {
	switch e.Status {
	case validator.Fail:
		return "at least one promise failed"
	default:
		return "the run could not decide every promise (inconclusive)"
	}
}

func verdictError(s validator.Status) error {
	if s == validator.Pass {
		return nil
	}
	return &VerdictError{Status: s}
}
