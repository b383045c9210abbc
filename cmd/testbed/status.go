package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/scalegate/scalegate/testbed"
)

type statusOptions struct {
	d   *Deps
	dir string
}

func newCmdStatus(d *Deps, runF func(*statusOptions) error) *cobra.Command {
	o := &statusOptions{d: d}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what the testbed in --dir runs",
		Long: `status lists the components recorded in DIR/state.json with their PIDs, and
whether each still runs, their ports and logs. It fails when no testbed was
started in DIR, or when a recorded process has died.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return o.Run()
		},
	}
	dirFlag(cmd, &o.dir)
	return cmd
}

func (o *statusOptions) Run() error {
	dir, err := resolveDir(o.dir)
	if err != nil {
		return err
	}
	st, live, err := status(dir)
	if err != nil {
		return err
	}
	running := map[int]bool{}
	for _, p := range live {
		running[p.PID] = true
	}
	fmt.Fprintf(o.d.Out, "testbed in %s, started %s, ready: %t\n", st.Dir, st.Started.Format("2006-01-02 15:04:05"), st.Ready)
	tw := tabwriter.NewWriter(o.d.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tPID\tSTATE\tLOG")
	for _, p := range st.Processes {
		state := "running"
		if !running[p.PID] {
			state = "gone"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", p.Name, p.PID, state, p.Log)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	pt := st.Ports
	fmt.Fprintf(o.d.Out, "ports: apiserver %d, etcd %d, controller-manager %d, adapter %d, mock %d\n",
		pt.APIServer, pt.Etcd, pt.ControllerManager, pt.Adapter, pt.Mock)
	fmt.Fprint(o.d.Out, testbed.EnvLines(st))
	if len(live) < len(st.Processes) {
		return fmt.Errorf("%d of %d testbed processes are gone (see their logs; restart with make testbed-down testbed-up)",
			len(st.Processes)-len(live), len(st.Processes))
	}
	return nil
}
