package main

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/scalegate/scalegate/testbed"
)

type buildOptions struct {
	d    *Deps
	root string
}

func newCmdBuild(d *Deps, runF func(*buildOptions) error) *cobra.Command {
	o := &buildOptions{d: d}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the control-plane binaries once, cached by version",
		Long: `build compiles etcd, kube-apiserver, kube-controller-manager and kwok from
the tool modules under tools/ into .cache/bin/<name>-<version>/. A cached
binary is not rebuilt; a version bump in a tool module's go.mod is. It prints
the binaries' paths.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return o.Run(cmd.Context())
		},
	}
	return cmd
}

func (o *buildOptions) Run(ctx context.Context) error {
	root := o.root
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if root, err = testbed.FindRoot(wd); err != nil {
			return err
		}
	}
	bins, err := testbed.Build(ctx, root, o.d.ErrOut)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(bins))
	for n := range bins {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintln(o.d.ErrOut, bins[n]) // stdout stays clean for make testbed-up's export lines
	}
	return nil
}
