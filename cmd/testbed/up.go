package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/scalegate/scalegate/testbed"
)

type upOptions struct {
	d   *Deps
	cfg testbed.Config
}

func newCmdUp(d *Deps, runF func(*upOptions) error) *cobra.Command {
	o := &upOptions{d: d}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the testbed, wait until the HPA is active, and leave it running",
		Long: `up builds what is missing, starts the testbed in --dir and waits until the
node is Ready, the Deployment's pods are ready, the custom metrics API serves
both HPA metrics for every pod and the HPA reports ScalingActive. It then
returns, leaving the processes running, and prints the lines to paste into a
shell (KUBECONFIG and SCALEGATE_ENDPOINT). Ctrl-C while it starts stops
everything it started. Stop it with "testbed down".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	dirFlag(cmd, &o.cfg.Dir)
	f.IntVar(&o.cfg.TimeScale, "time-scale", testbed.DefaultTimeScale, "compress time N-fold: HPA windows and policy periods, mock service times, model-load delay")
	f.DurationVar(&o.cfg.SyncPeriod, "sync-period", testbed.DefaultSyncPeriod, "the HPA controller's sync period")
	f.DurationVar(&o.cfg.ReadyDelay, "ready-delay", 0, "model-load time of a new pod before it is Ready, in compressed time (default 100s / time scale; negative: none)")
	f.StringVarP(&o.cfg.Namespace, "namespace", "n", testbed.DefaultNamespace, "namespace of the workload")
	f.IntVar(&o.cfg.Slots, "slots", testbed.DefaultSlots, "concurrent generations per mock NIM pod")
	f.BoolVar(&o.cfg.ControlPlaneOnly, "control-plane-only", false, "start only etcd, the API server, the controller manager and kwok")
	f.DurationVar(&o.cfg.StartTimeout, "start-timeout", testbed.DefaultStartTimeout, "limit of each start-up wait")
	return cmd
}

func (o *upOptions) Validate() error {
	if o.cfg.TimeScale < 1 {
		return &usageError{fmt.Errorf("--time-scale %d: must be 1 or more", o.cfg.TimeScale)}
	}
	if o.cfg.SyncPeriod <= 0 {
		return &usageError{fmt.Errorf("--sync-period %s: must be positive", o.cfg.SyncPeriod)}
	}
	if err := o.cfg.Validate(); err != nil {
		return &usageError{err}
	}
	return nil
}

func (o *upOptions) Run(ctx context.Context) error {
	cfg := o.cfg
	cfg.Detach = true
	start := time.Now()
	c, err := testbed.Up(ctx, cfg, testbed.Deps{Out: o.d.ErrOut})
	if err != nil {
		return err
	}
	st, err := testbed.ReadState(c.Dir)
	if err != nil {
		return err
	}
	stop := "make testbed-down"
	if def, err := testbed.ResolveDir(testbed.DefaultDir); err != nil || def != c.Dir {
		stop = "go run ./cmd/testbed down --dir " + c.Dir
	}
	fmt.Fprintf(o.d.ErrOut, "testbed up in %s; stop it with: %s\n", time.Since(start).Round(100*time.Millisecond), stop)
	fmt.Fprint(o.d.Out, testbed.EnvLines(st))
	return nil
}
