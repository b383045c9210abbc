package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/scalegate/scalegate/validator"
)

// Cluster is a running testbed started by Up in this process.
type Cluster struct {
	// Dir is the testbed folder; LogDir holds one <component>.log each.
	Dir, LogDir string
	// Kubeconfig is the path of the admin kubeconfig.
	Kubeconfig string
	// Profile is the path of the default promises with every time bound
	// divided by the time scale and the testbed's sync period: what
	// validate grades a testbed run against.
	Profile string
	// Scalegate is the scalegate binary the testbed built from the tree and
	// runs its mock NIM and adapter with; empty with ControlPlaneOnly.
	Scalegate string
	// REST is the admin client configuration.
	REST *rest.Config
	// Endpoint is the mock NIM's base URL (http://127.0.0.1:PORT); empty
	// with ControlPlaneOnly.
	Endpoint string
	// Namespace holds the workload.
	Namespace string
	// Ports are the components' loopback ports.
	Ports Ports

	mu       sync.Mutex
	children []*child
	state    *State
	stopper  *stopper
	stopped  bool
}

// Stop stops every component this Cluster started, SIGTERM first and SIGKILL
// after the grace period, and removes the state file. The logs stay. It is
// safe to call more than once.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	byPID := map[int]*child{}
	procs := make([]Process, 0, len(c.children))
	for i := len(c.children) - 1; i >= 0; i-- { // the last started goes first
		ch := c.children[i]
		byPID[ch.PID] = ch
		procs = append(procs, ch.Process)
	}
	err := c.stopper.stop(procs, byPID)
	if err != nil {
		return fmt.Errorf("stop testbed in %s: %w (stop those PIDs by hand, then remove %s)", c.Dir, err, filepath.Join(c.Dir, StateFile))
	}
	return removeState(c.Dir)
}

// Down stops the testbed recorded in dir's state file, whichever process
// started it, and removes the state file. A folder without one is not an
// error: there is nothing to stop.
func Down(dir string, grace time.Duration) error {
	return down(dir, newStopper(clockOrReal(nil), orDefault(grace, DefaultStopGrace)))
}

func down(dir string, s *stopper) error {
	st, err := ReadState(dir)
	if errors.Is(err, ErrNoState) {
		return nil
	}
	if err != nil {
		return err
	}
	procs := make([]Process, 0, len(st.Processes))
	for i := len(st.Processes) - 1; i >= 0; i-- {
		procs = append(procs, st.Processes[i])
	}
	if err := s.stop(procs, nil); err != nil {
		return fmt.Errorf("stop testbed in %s: %w", dir, err)
	}
	return removeState(dir)
}

// Status reads dir's state and returns it with the processes that still
// run. It returns an error wrapping ErrNoState when nothing was started there.
func Status(dir string) (*State, []Process, error) {
	st, err := ReadState(dir)
	if err != nil {
		return nil, nil, err
	}
	return st, st.Live(processAlive), nil
}

// ResolveDir returns the absolute testbed folder for dir ("" for the
// default), relative to the repository root found from the working directory.
func ResolveDir(dir string) (string, error) {
	c, err := Config{Dir: dir}.withDefaults()
	if err != nil {
		return "", err
	}
	return c.Dir, nil
}

// Up builds what is missing, starts a testbed in cfg.Dir and waits until it
// is usable: node Ready and, unless cfg.ControlPlaneOnly, the Deployment
// fully ready, custom metrics served for every pod and the HPA active. On any
// error, and when ctx is cancelled, it stops everything it started before
// returning. It refuses to start over a testbed that still runs in cfg.Dir.
func Up(ctx context.Context, cfg Config, deps Deps) (*Cluster, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	deps = deps.withDefaults()
	l := layout{cfg.Dir}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create testbed folder: %w", err)
	}
	stale, err := checkNotRunning(cfg.Dir, processAlive)
	if err != nil {
		return nil, err
	}
	if stale {
		fmt.Fprintf(deps.Out, "removed a stale testbed state in %s (its processes are gone)\n", cfg.Dir)
	}

	bins, err := Build(ctx, cfg.Root, deps.Out)
	if err != nil {
		return nil, err
	}
	if err := resetDir(l); err != nil {
		return nil, err
	}
	var scalegate string
	if !cfg.ControlPlaneOnly {
		fmt.Fprintln(deps.Out, "building scalegate from the working tree")
		if scalegate, err = BuildScalegate(ctx, cfg.Root, l.bin(), deps.Out); err != nil {
			return nil, err
		}
	}

	u := &upper{cfg: cfg, deps: deps, l: l, bins: bins, scalegate: scalegate}
	c, err := u.run(ctx)
	if err != nil {
		if stopErr := u.cluster.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted, stopped everything the testbed had started: %w\ntestbed logs: %s", err, l.logs())
		}
		return nil, fmt.Errorf("%w\nstopped everything the testbed had started; logs: %s", err, l.logs())
	}
	return c, nil
}

// resetDir removes what a previous testbed left in the folder (its store,
// credentials and logs), so every Up starts from an empty cluster.
func resetDir(l layout) error {
	for _, p := range []string{l.etcdData(), l.certs(), l.logs(), l.adapterCerts(), l.kubeconfig(), l.stages(), l.profile()} {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("clean testbed folder: %w", err)
		}
	}
	for _, p := range []string{l.logs(), l.bin()} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", p, err)
		}
	}
	return nil
}

// upper carries one Up through its steps.
type upper struct {
	cfg       Config
	deps      Deps
	l         layout
	bins      Binaries
	scalegate string
	cluster   *Cluster
	creds     *Credentials
}

func (u *upper) run(ctx context.Context) (*Cluster, error) {
	cfg, l, out := u.cfg, u.l, u.deps.Out
	start := u.deps.Clock.Now()
	u.cluster = &Cluster{
		Dir: cfg.Dir, LogDir: l.logs(), Kubeconfig: l.kubeconfig(), Profile: l.profile(), Namespace: cfg.Namespace,
		Scalegate: u.scalegate, stopper: newStopper(u.deps.Clock, cfg.StopGrace),
	}
	c := u.cluster

	creds, err := GenerateCredentials(l.certs(), u.deps.Clock.Now())
	if err != nil {
		return nil, err
	}
	u.creds = creds
	ports, err := pickPorts(6)
	if err != nil {
		return nil, err
	}
	c.Ports = Ports{Etcd: ports[0], EtcdPeer: ports[1], APIServer: ports[2], ControllerManager: ports[3]}
	if !cfg.ControlPlaneOnly {
		c.Ports.Adapter, c.Ports.Mock = ports[4], ports[5]
	}
	caPEM, err := os.ReadFile(creds.CACert)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	if err := writeKubeconfig(kubeconfig(httpsURL(c.Ports.APIServer), caPEM, creds.Token, cfg.Namespace), l.kubeconfig()); err != nil {
		return nil, err
	}
	if err := writeProfile(l.profile(), cfg); err != nil {
		return nil, err
	}
	stages, err := kwokStages(ctx, filepath.Join(cfg.Root, "tools/kwok"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(l.stages(), stages, 0o644); err != nil {
		return nil, fmt.Errorf("write kwok stages: %w", err)
	}
	c.REST, err = clientcmd.BuildConfigFromFlags("", l.kubeconfig())
	if err != nil {
		return nil, fmt.Errorf("load testbed kubeconfig: %w", err)
	}
	c.REST.QPS, c.REST.Burst = 50, 100
	c.state = &State{Dir: cfg.Dir, Started: u.deps.Clock.Now(), Ports: c.Ports, Kubeconfig: l.kubeconfig(), Profile: l.profile(), Namespace: cfg.Namespace}
	if err := writeState(cfg.Dir, c.state); err != nil {
		return nil, err
	}

	w := &waiter{clock: u.deps.Clock, timeout: cfg.StartTimeout, interval: 200 * time.Millisecond, cluster: c}

	// The control plane.
	if err := u.start(ctx, Etcd, u.bins[Etcd], etcdArgs(l, c.Ports), c.Ports.Etcd); err != nil {
		return nil, err
	}
	if err := w.until(ctx, "etcd to answer /health", etcdHealthy(c.Ports.Etcd)); err != nil {
		return nil, err
	}
	if err := u.start(ctx, APIServer, u.bins[APIServer], apiServerArgs(l, creds, c.Ports), c.Ports.APIServer); err != nil {
		return nil, err
	}
	if err := w.until(ctx, "kube-apiserver to answer /readyz", apiServerReady(c.REST)); err != nil {
		return nil, err
	}
	if err := u.start(ctx, ControllerManager, u.bins[ControllerManager], controllerManagerArgs(l, creds, c.Ports, cfg), c.Ports.ControllerManager); err != nil {
		return nil, err
	}
	if err := w.until(ctx, "kube-controller-manager to answer /healthz", controllerManagerHealthy(c.Ports.ControllerManager)); err != nil {
		return nil, err
	}
	if err := u.start(ctx, Kwok, u.bins[Kwok], kwokArgs(l)); err != nil {
		return nil, err
	}
	k, err := newKube(c.REST)
	if err != nil {
		return nil, err
	}
	if err := k.applyTestbed(ctx, cfg.Namespace, c.Ports.Adapter); err != nil {
		return nil, err
	}
	if err := w.until(ctx, "node "+NodeName+" to be Ready (kwok)", k.nodeReady(NodeName)); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "control plane up in %s\n", u.deps.Clock.Since(start).Round(100*time.Millisecond))
	if cfg.ControlPlaneOnly {
		return u.ready(c)
	}

	// The service under test.
	wl, err := renderWorkload(cfg)
	if err != nil {
		return nil, err
	}
	if err := u.start(ctx, MockNIM, u.scalegate, mockArgs(l, c.Ports, cfg, wl.Deployment.Name), c.Ports.Mock); err != nil {
		return nil, err
	}
	c.Endpoint = httpURL(c.Ports.Mock)
	c.state.Endpoint = c.Endpoint
	if err := writeState(cfg.Dir, c.state); err != nil {
		return nil, err
	}
	if err := w.until(ctx, "the mock NIM to listen on "+hostPort(c.Ports.Mock), listening(c.Ports.Mock)); err != nil {
		return nil, err
	}
	if err := u.start(ctx, Adapter, u.scalegate, adapterArgs(l, c.Ports), c.Ports.Adapter); err != nil {
		return nil, err
	}
	if err := w.until(ctx, "the custom-metrics APIService to be Available", k.apiServicesAvailable()); err != nil {
		return nil, err
	}
	if err := w.until(ctx, "the default service account in "+cfg.Namespace, k.serviceAccount(cfg.Namespace, "default")); err != nil {
		return nil, err
	}
	if err := k.applyWorkload(ctx, wl); err != nil {
		return nil, err
	}
	d := wl.Deployment
	want := int32(2)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	if err := w.until(ctx, fmt.Sprintf("deployment %s/%s to have %d ready replicas", d.Namespace, d.Name, want), k.deploymentReady(d.Namespace, d.Name, want)); err != nil {
		return nil, err
	}
	metrics := podMetricNames(wl.HPA)
	if err := w.until(ctx, fmt.Sprintf("custom metrics %s for every pod of %s/%s", strings.Join(metrics, ", "), d.Namespace, d.Name), k.podMetricsServed(d, metrics)); err != nil {
		return nil, err
	}
	if err := w.until(ctx, fmt.Sprintf("HPA %s/%s to report ScalingActive=True", wl.HPA.Namespace, wl.HPA.Name), k.hpaActive(wl.HPA.Namespace, wl.HPA.Name)); err != nil {
		return nil, err
	}
	return u.ready(c)
}

func (u *upper) ready(c *Cluster) (*Cluster, error) {
	c.state.Ready = true
	if err := writeState(c.Dir, c.state); err != nil {
		return nil, err
	}
	fmt.Fprintf(u.deps.Out, "testbed ready in %s (logs: %s)\n", u.deps.Clock.Since(c.state.Started).Round(100*time.Millisecond), c.LogDir)
	return c, nil
}

// start checks the component's ports are free, starts it and records it in
// the state file before anything else can fail.
func (u *upper) start(ctx context.Context, name, bin string, args []string, ports ...int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, p := range ports {
		if err := checkFree(p); err != nil {
			return &ComponentError{Component: name, Err: fmt.Errorf("%w; start it again to pick other ports", err)}
		}
	}
	ch, err := startChild(name, bin, args, u.l.log(name), u.cfg.Detach)
	if err != nil {
		return err
	}
	c := u.cluster
	c.mu.Lock()
	c.children = append(c.children, ch)
	c.mu.Unlock()
	c.state.Processes = append(c.state.Processes, ch.Process)
	if err := writeState(c.Dir, c.state); err != nil {
		return err
	}
	fmt.Fprintf(u.deps.Out, "started %s (pid %d, log %s)\n", name, ch.PID, ch.Log)
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// writeProfile writes the default promises at the testbed's time scale, with
// its sync period.
func writeProfile(path string, cfg Config) error {
	p := validator.DefaultProfile().ScaleTime(cfg.TimeScale)
	p.SyncPeriod = validator.Duration(cfg.SyncPeriod)
	raw, err := yaml.Marshal(p)
	if err != nil {
		return fmt.Errorf("write testbed profile: %w", err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return fmt.Errorf("write testbed profile: %w", err)
	}
	return nil
}
