package main

import "github.com/spf13/cobra"

// Placeholder: replaced by the custom-metrics adapter command.
func newCmdMetricsAdapter(d *Deps) *cobra.Command {
	return &cobra.Command{Use: "metrics-adapter", Short: "Serve custom.metrics.k8s.io (not built yet)", Hidden: true}
}
