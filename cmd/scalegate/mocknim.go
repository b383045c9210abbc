package main

import "github.com/spf13/cobra"

// Placeholder: replaced by the mock NIM command.
func newCmdMockNIM(d *Deps) *cobra.Command {
	return &cobra.Command{Use: "mock-nim", Short: "Serve a mock NVIDIA NIM (not built yet)", Hidden: true}
}
