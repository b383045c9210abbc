package main

import (
	"github.com/spf13/cobra"

	"github.com/scalegate/scalegate/validator"
)

func newCmdProfile(d *Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "profile",
		Short: "Print the default profile (the five promises), to copy and edit for --profile",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := d.Out.Write(validator.DefaultProfileYAML())
			return err
		},
	}
}
