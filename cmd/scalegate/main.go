// Command scalegate validates that a HorizontalPodAutoscaler on an LLM
// inference service does what its owners promised, under realistic load.
package main

import (
	"context"
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
		fmt.Fprintln(os.Stderr, "interrupted again: exiting")
		os.Exit(ExitInterrupted)
	}()

	root := newCmdRoot(defaultDeps())
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	return exitCode(ctx, err)
}
