package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/scalegate/scalegate/testbed"
)

type downOptions struct {
	d     *Deps
	dir   string
	grace time.Duration
}

func newCmdDown(d *Deps, runF func(*downOptions) error) *cobra.Command {
	o := &downOptions{d: d}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop everything the testbed in --dir started",
		Long: `down stops the processes recorded in DIR/state.json, by PID: SIGTERM to each
process group, SIGKILL after --grace. It then removes the state file and
keeps the logs. With no state file there is nothing to stop, and it succeeds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return o.Run()
		},
	}
	dirFlag(cmd, &o.dir)
	cmd.Flags().DurationVar(&o.grace, "grace", testbed.DefaultStopGrace, "how long to wait after SIGTERM before SIGKILL")
	return cmd
}

func (o *downOptions) Run() error {
	dir, err := resolveDir(o.dir)
	if err != nil {
		return err
	}
	st, live, err := testbed.Status(dir)
	if err != nil {
		fmt.Fprintf(o.d.ErrOut, "no testbed state in %s: nothing to stop\n", dir)
		return nil
	}
	if err := testbed.Down(dir, o.grace); err != nil {
		return err
	}
	fmt.Fprintf(o.d.ErrOut, "stopped the testbed in %s (%d of %d processes were running; logs kept in %s)\n",
		dir, len(live), len(st.Processes), filepath.Join(dir, "logs"))
	return nil
}
