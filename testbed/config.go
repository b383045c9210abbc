package testbed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/utils/clock"
)

// Defaults of Config.
const (
	DefaultDir          = ".cache/testbed"
	DefaultTimeScale    = 10
	DefaultSyncPeriod   = time.Second
	DefaultNamespace    = "production"
	DefaultSlots        = 8
	DefaultStartTimeout = 3 * time.Minute
	DefaultStopGrace    = 10 * time.Second
	// NodeName is the fake GPU node kwok keeps Ready; the workload's pods are
	// pinned to it, since the testbed runs no scheduler.
	NodeName = "gpu-node-0"
	// productionReadyDelay is a NIM pod's model-load time in real time.
	productionReadyDelay = 100 * time.Second
)

// Config describes a testbed. Its zero value is valid: the defaults are
// those of the e2e suite.
type Config struct {
	// Root is the repository root: where the tool modules are, where binaries
	// are cached and what scalegate is built from. Zero: found by walking up
	// from the working directory to the go.mod of this module.
	Root string
	// Dir holds the testbed's certificates, kubeconfig, etcd data, logs and
	// state file. A relative Dir is relative to Root. Zero: DefaultDir.
	Dir string
	// TimeScale N compresses time N-fold: the HPA's windows and policy
	// periods, the mock's service times and the default ReadyDelay. Zero:
	// DefaultTimeScale.
	TimeScale int
	// SyncPeriod is the HPA controller's sync period
	// (--horizontal-pod-autoscaler-sync-period). Zero: DefaultSyncPeriod.
	SyncPeriod time.Duration
	// ReadyDelay is how long a new pod loads its model before it turns
	// Ready, already in compressed time. Zero: 100 s / TimeScale; negative:
	// no delay of our own (kwok's default of 1–5 s).
	ReadyDelay time.Duration
	// Namespace of the workload. Zero: DefaultNamespace.
	Namespace string
	// Slots is the mock NIM's concurrent generations per pod. Zero:
	// DefaultSlots.
	Slots int
	// ControlPlaneOnly starts etcd, kube-apiserver, kube-controller-manager
	// and kwok with the node, and stops there: no mock NIM, adapter or
	// workload (TimeScale, ReadyDelay and Slots are then unused).
	ControlPlaneOnly bool
	// Detach lets the components outlive the calling process (the testbed
	// command's up). Otherwise the kernel kills them if the caller dies.
	Detach bool
	// StartTimeout bounds each wait of Up. Zero: DefaultStartTimeout.
	StartTimeout time.Duration
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL. Zero:
	// DefaultStopGrace.
	StopGrace time.Duration
}

// Deps are what Up takes from the outside world.
type Deps struct {
	// Out receives progress lines. Nil discards them.
	Out io.Writer
	// Clock paces waits. Nil means the real clock.
	Clock clock.WithTicker
}

func (d Deps) withDefaults() Deps {
	if d.Out == nil {
		d.Out = io.Discard
	}
	if d.Clock == nil {
		d.Clock = clock.RealClock{}
	}
	return d
}

// Validate reports fields that no default can fix.
func (c Config) Validate() error {
	var errs []error
	if c.TimeScale < 0 {
		errs = append(errs, fmt.Errorf("time scale %d: must be 1 or more (0 for the default %d)", c.TimeScale, DefaultTimeScale))
	}
	if c.SyncPeriod < 0 {
		errs = append(errs, fmt.Errorf("sync period %s: must be positive (0 for the default %s)", c.SyncPeriod, DefaultSyncPeriod))
	}
	if c.Slots < 0 {
		errs = append(errs, fmt.Errorf("slots %d: must be 1 or more (0 for the default %d)", c.Slots, DefaultSlots))
	}
	if c.StartTimeout < 0 || c.StopGrace < 0 {
		errs = append(errs, errors.New("start timeout and stop grace must not be negative"))
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields and makes Root and Dir absolute.
func (c Config) withDefaults() (Config, error) {
	if err := c.Validate(); err != nil {
		return c, err
	}
	if c.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return c, fmt.Errorf("find the repository root: %w", err)
		}
		root, err := FindRoot(wd)
		if err != nil {
			return c, err
		}
		c.Root = root
	}
	root, err := filepath.Abs(c.Root)
	if err != nil {
		return c, fmt.Errorf("find the repository root: %w", err)
	}
	c.Root = root
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if !filepath.IsAbs(c.Dir) {
		c.Dir = filepath.Join(c.Root, c.Dir)
	}
	if c.TimeScale == 0 {
		c.TimeScale = DefaultTimeScale
	}
	if c.SyncPeriod == 0 {
		c.SyncPeriod = DefaultSyncPeriod
	}
	if c.ReadyDelay == 0 {
		c.ReadyDelay = productionReadyDelay / time.Duration(c.TimeScale)
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	if c.Slots == 0 {
		c.Slots = DefaultSlots
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.StopGrace == 0 {
		c.StopGrace = DefaultStopGrace
	}
	return c, nil
}

// modulePath is this project's module; FindRoot looks for its go.mod.
const modulePath = "github.com/scalegate/scalegate"

// FindRoot walks up from dir to the folder whose go.mod declares this
// project's module.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find the repository root: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		raw, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && declaresModule(raw, modulePath) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find the repository root: no go.mod of %s above %s (run from inside the repository, or set the root)", modulePath, dir)
		}
	}
}

func declaresModule(gomod []byte, path string) bool {
	for line := range bytes.Lines(gomod) {
		f := bytes.Fields(line)
		if len(f) == 2 && string(f[0]) == "module" && string(bytes.Trim(f[1], `"`)) == path {
			return true
		}
	}
	return false
}
