// Command testbed builds, starts and stops the local cluster scalegate's
// e2e suite runs against: a real kube-apiserver and HPA controller, kwok
// pods on a fake GPU node, the mock NIM and the custom-metrics adapter, all
// on 127.0.0.1. The Makefile's testbed-* targets call it.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// A second signal, after the first has cancelled ctx, exits at once.
	go func() {
		<-ctx.Done()
		stop()
		again := make(chan os.Signal, 1)
		signal.Notify(again, os.Interrupt, syscall.SIGTERM)
		<-again
		fmt.Fprintln(os.Stderr, "interrupted again: exiting; run make testbed-down to stop what was started")
		os.Exit(130)
	}()

	err := newCmdRoot(defaultDeps()).ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "error:", err)
		return 130
	default:
		fmt.Fprintln(os.Stderr, "error:", err)
		var usage *usageError
		if errors.As(err, &usage) {
			return 2
		}
		return 1
	}
}
