package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"

	"github.com/scalegate/scalegate/harness"
)

// progressPrinter shows a run's progress on stderr. On a terminal it redraws
// one line in place, and clears it before any log line so the two never
// mix; elsewhere (CI logs) it prints a plain line every fifth snapshot.
type progressPrinter struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	n     int
	drawn bool
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	f, ok := w.(*os.File)
	return &progressPrinter{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

// Write passes a log line through, clearing the progress line first.
func (p *progressPrinter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	return p.w.Write(b)
}

// Update shows a snapshot.
func (p *progressPrinter) Update(s harness.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if !p.tty {
		if p.n%5 == 0 {
			fmt.Fprintln(p.w, s)
		}
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s", s)
	p.drawn = true
}

// Done leaves the terminal on a fresh line.
func (p *progressPrinter) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *progressPrinter) clearLocked() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
