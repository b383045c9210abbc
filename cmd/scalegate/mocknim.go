package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/scalegate/scalegate/mocknim"
)

const mockNIMLong = `Serve a mock NVIDIA NIM: an OpenAI-compatible endpoint (GET /v1/models,
POST /v1/chat/completions and /v1/completions, streaming or not) in front of
simulated serving pods, for the local testbed and for load tests.

Each pod generates --slots requests at once and queues the rest, first in
first out, without limit; each request goes to the ready pod with the shortest
queue, and the response header X-Scalegate-Pod names it. A request waits for
a slot, then for its first token (--prefill-min..max), then for each further
token (--per-token-min..max), generating --output-tokens-min..max tokens
unless max_tokens is smaller. The defaults model CodeLlama-13B on an
A100-80GB: 5–9 s per code generation. --time-scale N divides every such
duration, so the testbed can run at a tenth of real time.

With --pods N the pods are fixed: <deployment>-mock-0 … -(N-1), all ready.
With --pods 0 (the default) they follow the Deployment's pods through the API
server: a pod serves once Ready, takes no new requests once deleted or not
Ready, finishes what it holds, then leaves /metrics.

/metrics and /v1/metrics carry, per pod (labels namespace and pod, plus
model_name on NIM's own names): nim_queue_depth, nim_gpu_utilization_percent
(busy slots over a sliding --utilization-window), num_requests_waiting,
num_requests_running, num_request_max, gpu_cache_usage_perc (running/slots)
and request, token counters. /v1/health/ready answers 503 until a pod is
ready. The listen address is printed to stderr once serving.`

const mockNIMExample = `  scalegate mock-nim --pods 2
  scalegate mock-nim -n production --deployment coding-assistant --time-scale 10`

// mockNIMOptions are the mock-nim command's flags.
type mockNIMOptions struct {
	Listen     string
	Pods       int
	Deployment string
	Config     mocknim.Config

	// Set by Complete.
	Namespace string

	kube   *kubeFlags
	errOut io.Writer
}

func newCmdMockNIM(d *Deps) *cobra.Command {
	return newCmdMockNIMWith(d, nil)
}

// newCmdMockNIMWith builds the command; tests pass runF to capture the
// completed options instead of serving.
func newCmdMockNIMWith(d *Deps, runF func(*mockNIMOptions) error) *cobra.Command {
	o := &mockNIMOptions{kube: d.Kube, errOut: d.ErrOut}
	cmd := &cobra.Command{
		Use:     "mock-nim",
		Short:   "Serve a mock NVIDIA NIM with simulated pods, queues and metrics",
		Long:    mockNIMLong,
		Example: mockNIMExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Complete()
			if err := o.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return o.Run(cmd.Context())
		},
	}

	def := mocknim.DefaultConfig()
	c := &o.Config
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8000", "address to serve on")
	f.IntVar(&o.Pods, "pods", 0, "number of fixed pods; 0 follows the Deployment's pods through the API server")
	f.StringVar(&o.Deployment, "deployment", "coding-assistant", "the Deployment whose pods are followed; with --pods, the prefix of the pod names")
	f.StringVar(&c.Model, "model", def.Model, "model id served; requests for any other get 404")
	f.IntVar(&c.Slots, "slots", def.Slots, "requests one pod generates at once; the rest queue")
	f.Float64Var(&c.TimeScale, "time-scale", def.TimeScale, "divide every simulated duration by N (10 runs at a tenth of real time)")
	f.Uint64Var(&c.Seed, "seed", def.Seed, "seed of the drawn durations and token counts")
	f.DurationVar(&c.Prefill.Min, "prefill-min", def.Prefill.Min, "least time from taking a slot to the first token")
	f.DurationVar(&c.Prefill.Max, "prefill-max", def.Prefill.Max, "most time from taking a slot to the first token")
	f.DurationVar(&c.PerToken.Min, "per-token-min", def.PerToken.Min, "least time per further output token")
	f.DurationVar(&c.PerToken.Max, "per-token-max", def.PerToken.Max, "most time per further output token")
	f.IntVar(&c.OutputTokens.Min, "output-tokens-min", def.OutputTokens.Min, "fewest output tokens a request generates unless max_tokens is smaller")
	f.IntVar(&c.OutputTokens.Max, "output-tokens-max", def.OutputTokens.Max, "most output tokens a request generates unless max_tokens is smaller")
	f.IntVar(&c.MaxModelLen, "max-model-len", def.MaxModelLen, "context window in tokens, prompt plus output")
	f.Int64Var(&c.MaxBodyBytes, "max-body-bytes", def.MaxBodyBytes, "largest request body accepted; larger ones get 413")
	f.DurationVar(&c.UtilizationWindow, "utilization-window", def.UtilizationWindow, "sliding window of the GPU utilization metric, before --time-scale")
	f.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", def.ShutdownTimeout, "on interrupt, how long in-flight requests may finish (wall time)")
	return cmd
}

// Complete resolves the namespace: -n, else the kubeconfig context's, else
// production.
func (o *mockNIMOptions) Complete() {
	o.Namespace = o.kube.NamespaceOr("production")
	o.Config.Namespace = o.Namespace
}

// Validate checks the flags before anything is served.
func (o *mockNIMOptions) Validate() error {
	if o.Pods < 0 {
		return &UsageError{fmt.Errorf("--pods %d: want 0 (follow the deployment) or more", o.Pods)}
	}
	if o.Deployment == "" {
		return &UsageError{fmt.Errorf("--deployment is required")}
	}
	if o.Config.Slots < 1 || o.Config.TimeScale <= 0 || o.Config.MaxModelLen < 1 || o.Config.MaxBodyBytes < 1 ||
		o.Config.UtilizationWindow <= 0 || o.Config.ShutdownTimeout <= 0 {
		return &UsageError{fmt.Errorf("--slots, --time-scale, --max-model-len, --max-body-bytes, --utilization-window and --shutdown-timeout must be positive")}
	}
	if o.Config.OutputTokens.Min < 1 {
		return &UsageError{fmt.Errorf("--output-tokens-min %d: want at least 1", o.Config.OutputTokens.Min)}
	}
	if err := o.Config.Validate(); err != nil {
		return &UsageError{fmt.Errorf("mock-nim flags: %w", err)}
	}
	return nil
}

// Run serves until ctx ends, then lets in-flight requests finish.
func (o *mockNIMOptions) Run(ctx context.Context) error {
	log := slog.New(slog.NewTextHandler(o.errOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	deps := mocknim.Deps{Log: log}
	if o.Pods > 0 {
		deps.Pods = mocknim.FixedPods{Prefix: o.Deployment + "-mock", N: o.Pods}
	} else {
		rc, err := o.kube.RESTConfig()
		if err != nil {
			return err
		}
		client, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return &EnvError{fmt.Errorf("kubernetes client: %w", err)}
		}
		deps.Pods = mocknim.DeploymentPods{Client: client, Namespace: o.Namespace, Deployment: o.Deployment, Log: log}
	}
	srv, err := mocknim.New(o.Config, deps)
	if err != nil {
		return &UsageError{err}
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return &EnvError{fmt.Errorf("listen on %s: %w (is another mock running? see --listen)", o.Listen, err)}
	}
	if o.Pods > 0 {
		fmt.Fprintf(o.errOut, "mock NIM serving %s on http://%s with %d fixed pods\n", o.Config.Model, ln.Addr(), o.Pods)
	} else {
		fmt.Fprintf(o.errOut, "mock NIM serving %s on http://%s for the pods of deployment %s/%s\n",
			o.Config.Model, ln.Addr(), o.Namespace, o.Deployment)
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return &EnvError{err}
	}
	return nil
}
