package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/scalegate/scalegate/testbed"
)

// Deps are what commands take from the outside world, so tests can swap them.
type Deps struct {
	Out    io.Writer // env lines and status: what scripts read
	ErrOut io.Writer // progress and hints
}

func defaultDeps() *Deps { return &Deps{Out: os.Stdout, ErrOut: os.Stderr} }

// usageError marks a mistake in how the command was called (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

const rootLong = `testbed builds, starts and stops the local cluster scalegate is tested on:
etcd, a real kube-apiserver and kube-controller-manager (with the HPA
controller), kwok faking a GPU node and the pod lifecycle, and scalegate's own
mock NIM and custom-metrics adapter. Everything binds to 127.0.0.1; each
component logs to DIR/logs/<component>.log and DIR/state.json records what runs.

Exit codes: 0 success, 1 error, 2 usage error, 130 interrupted.`

func newCmdRoot(d *Deps) *cobra.Command {
	root := &cobra.Command{
		Use:           "testbed",
		Short:         "Build, start and stop the local testbed cluster",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(d.Out)
	root.SetErr(d.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		newCmdBuild(d, nil),
		newCmdUp(d, nil),
		newCmdDown(d, nil),
		newCmdStatus(d, nil),
		newCmdEnv(d, nil),
	)
	return root
}

// dirFlag binds --dir, shared by every command that works on a testbed.
func dirFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "dir", testbed.DefaultDir, "testbed folder (relative paths are relative to the repository root)")
}

// resolveDir makes dir absolute the way testbed.Up does.
func resolveDir(dir string) (string, error) { return testbed.ResolveDir(dir) }
