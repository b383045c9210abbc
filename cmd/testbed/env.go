package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/scalegate/scalegate/testbed"
)

type envOptions struct {
	d   *Deps
	dir string
}

func newCmdEnv(d *Deps, runF func(*envOptions) error) *cobra.Command {
	o := &envOptions{d: d}
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print the shell lines that point kubectl and scalegate at the testbed",
		Long: `env prints export lines for KUBECONFIG, SCALEGATE_ENDPOINT (the mock NIM's
base URL) and SCALEGATE_PROFILE (the promises at the testbed's time scale) of
the testbed running in --dir. Use: eval "$(testbed env)".`,
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

func (o *envOptions) Run() error {
	dir, err := resolveDir(o.dir)
	if err != nil {
		return err
	}
	st, live, err := status(dir)
	if err != nil {
		return err
	}
	if len(live) == 0 {
		return fmt.Errorf("the testbed in %s is no longer running (restart it with make testbed-down testbed-up)", dir)
	}
	fmt.Fprint(o.d.Out, testbed.EnvLines(st))
	return nil
}

// status reads the testbed state in dir and which of its processes live.
func status(dir string) (*testbed.State, []testbed.Process, error) {
	st, live, err := testbed.Status(dir)
	if errors.Is(err, testbed.ErrNoState) {
		return nil, nil, fmt.Errorf("no testbed in %s (start one with make testbed-up)", dir)
	}
	return st, live, err
}
