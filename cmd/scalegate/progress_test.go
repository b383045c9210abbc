package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scalegate/scalegate/harness"
)

func TestProgressPrinter(t *testing.T) {
	snap := harness.Progress{Elapsed: 7 * time.Second, Phase: "load", Sent: 42, InFlight: 9, Replicas: 4, Ready: 2}
	t.Run("not a terminal: a plain line every fifth snapshot", func(t *testing.T) {
		var b bytes.Buffer
		p := newProgressPrinter(&b)
		for range 10 {
			p.Update(snap)
		}
		p.Done()
		if got := strings.Count(b.String(), "\n"); got != 2 || strings.Contains(b.String(), "\r") {
			t.Errorf("output %q: want 2 plain lines", b.String())
		}
	})
	t.Run("terminal: one line redrawn, cleared before a log line", func(t *testing.T) {
		var b bytes.Buffer
		p := &progressPrinter{w: &b, tty: true}
		p.Update(snap)
		p.Update(snap)
		fmt.Fprintln(p, "cooldown phase started")
		p.Update(snap)
		p.Done()
		want := "\r\033[K" + snap.String() + "\r\033[K" + snap.String() + "\r\033[Kcooldown phase started\n" + "\r\033[K" + snap.String() + "\r\033[K"
		if b.String() != want {
			t.Errorf("output\n%q\nwant\n%q", b.String(), want)
		}
	})
}
