package testbed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/utils/clock"
)

// child is a component this process started and can wait for.
type child struct {
	Process
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // why it exited; read only after done
}

// exited reports whether the child has exited, and why.
func (c *child) exited() (bool, error) {
	select {
	case <-c.done:
		return true, c.err
	default:
		return false, nil
	}
}

// startChild starts path with args in a process group of its own (so a
// terminal's Ctrl-C reaches only us, and we decide how to stop it), with
// stdout and stderr appended to logPath. Unless detach is set, the kernel
// kills the child when this process dies, so a crashed test leaks nothing.
func startChild(name, path string, args []string, logPath string, detach bool) (*child, error) {
	if !isExecutable(path) {
		return nil, &ComponentError{Component: name, Log: logPath,
			Err: fmt.Errorf("binary %s is missing (run make testbed-tools)", path)}
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, &ComponentError{Component: name, Err: fmt.Errorf("open log: %w", err)}
	}
	defer logf.Close() // the child holds its own descriptor
	fmt.Fprintf(logf, "# %s %s %s\n", time.Now().Format(time.RFC3339), path, strings.Join(args, " "))

	cmd := exec.Command(path, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !detach {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return nil, &ComponentError{Component: name, Log: logPath, Err: fmt.Errorf("start: %w", err)}
	}
	// Record the path the kernel will show in /proc/PID/exe, so liveness
	// checks match even when the binary was reached through a symlink.
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	c := &child{
		Process: Process{Name: name, PID: cmd.Process.Pid, Path: path, Log: logPath},
		done:    make(chan struct{}),
	}
	go func() {
		c.err = cmd.Wait()
		if c.err == nil {
			c.err = errors.New("exited with status 0")
		}
		close(c.done)
	}()
	return c, nil
}

// ComponentError says which component failed and where its log is; Error
// includes the log's last lines.
type ComponentError struct {
	Component string
	Log       string // empty when there is no log yet
	Err       error
}

func (e *ComponentError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %v", e.Component, e.Err)
	if e.Log == "" {
		return b.String()
	}
	fmt.Fprintf(&b, " (log: %s)", e.Log)
	if raw, err := os.ReadFile(e.Log); err == nil {
		if tail := lastLines(raw, 15); strings.TrimSpace(tail) != "" {
			fmt.Fprintf(&b, "; its last lines:\n%s", tail)
		}
	}
	return b.String()
}

func (e *ComponentError) Unwrap() error { return e.Err }

// stopper stops processes by PID: SIGTERM to each process group, then
// SIGKILL to what is left after Grace.
type stopper struct {
	clock clock.Clock
	alive func(Process) bool
	grace time.Duration
	// poll is how often a process that is not our child is checked.
	poll time.Duration
	// signal sends sig to the process group led by pid; tests replace it.
	signal func(pid int, sig syscall.Signal) error
}

func newStopper(clk clock.Clock, grace time.Duration) *stopper {
	return &stopper{clock: clk, alive: processAlive, grace: grace, poll: 50 * time.Millisecond, signal: signalGroup}
}

// signalGroup signals the process group led by pid, or pid alone when it
// leads none.
func signalGroup(pid int, sig syscall.Signal) error {
	err := syscall.Kill(-pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		err = syscall.Kill(pid, sig)
	}
	if errors.Is(err, syscall.ESRCH) {
		return nil // already gone
	}
	return err
}

// stop ends procs one after the other, in the order given (the last started
// first: the API server hangs in its shutdown when etcd is already gone).
// children, when it holds a process, is used to wait for it (a child of ours
// stays a zombie, and alive to kill(0), until reaped). It returns an error
// naming every process still running at the end.
func (s *stopper) stop(procs []Process, children map[int]*child) error {
	gone := func(p Process) bool {
		if c, ok := children[p.PID]; ok {
			done, _ := c.exited()
			return done
		}
		return !s.alive(p)
	}
	var errs []error
	for _, p := range procs {
		if gone(p) {
			continue
		}
		if err := s.signal(p.PID, syscall.SIGTERM); err != nil {
			errs = append(errs, fmt.Errorf("stop %s (pid %d): %w", p.Name, p.PID, err))
		}
		if len(s.waitGone([]Process{p}, gone, s.grace)) == 0 {
			continue
		}
		if err := s.signal(p.PID, syscall.SIGKILL); err != nil {
			errs = append(errs, fmt.Errorf("kill %s (pid %d): %w", p.Name, p.PID, err))
		}
		if len(s.waitGone([]Process{p}, gone, 5*time.Second)) > 0 {
			errs = append(errs, fmt.Errorf("%s (pid %d) still runs after SIGKILL", p.Name, p.PID))
		}
	}
	return errors.Join(errs...)
}

// waitGone waits up to limit for procs to be gone and returns those that are
// not.
func (s *stopper) waitGone(procs []Process, gone func(Process) bool, limit time.Duration) []Process {
	deadline := s.clock.Now().Add(limit)
	for {
		var left []Process
		for _, p := range procs {
			if !gone(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 || !s.clock.Now().Before(deadline) {
			return left
		}
		procs = left
		s.clock.Sleep(s.poll)
	}
}
