package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scalegate/scalegate/manifests"
)

func newCmdManifests(d *Deps) *cobra.Command {
	names := []string{"deployment", "service", "hpa", "rbac"}
	return &cobra.Command{
		Use:       "manifests NAME",
		Short:     "Print an embedded manifest: " + strings.Join(names, ", "),
		Long:      "Print an embedded manifest, in the namespace -n names (default production). rbac is the read-only Role, RoleBinding and ServiceAccount scalegate validate needs in the inference namespace.",
		Example:   "  scalegate manifests rbac -n staging | kubectl apply -f -",
		ValidArgs: names,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &UsageError{fmt.Errorf("name one manifest: %s", strings.Join(names, ", "))}
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			if !slices.Contains(names, args[0]) {
				return &UsageError{fmt.Errorf("unknown manifest %q: want one of %s", args[0], strings.Join(names, ", "))}
			}
			raw, err := manifests.File(args[0] + ".yaml")
			if err != nil {
				return err
			}
			if ns := d.Kube.Namespace; ns != "" {
				raw = bytes.ReplaceAll(raw, []byte("namespace: production"), []byte("namespace: "+ns))
			}
			_, err = d.Out.Write(raw)
			return err
		},
	}
}
