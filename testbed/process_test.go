package testbed

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
)

func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("no %s: %v", name, err)
	}
	return p
}

func TestStartAndStopChild(t *testing.T) {
	sh := lookPath(t, "sh")
	tests := []struct {
		name   string
		script string
		grace  time.Duration
	}{
		{name: "stops on SIGTERM", script: "exec sleep 30", grace: 5 * time.Second},
		// The shell ignores SIGTERM and its child sleeps on: SIGKILL to the
		// whole process group ends both.
		{name: "killed after the grace period", script: `trap "" TERM; sleep 30; sleep 30`, grace: 100 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "c.log")
			c, err := startChild("sleeper", sh, []string{"-c", tc.script}, log, false)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond) // let the shell set its trap
			if done, _ := c.exited(); done {
				t.Fatal("exited at once")
			}
			s := newStopper(clock.RealClock{}, tc.grace)
			s.poll = 5 * time.Millisecond
			if err := s.stop([]Process{c.Process}, map[int]*child{c.PID: c}); err != nil {
				t.Fatal(err)
			}
			if done, _ := c.exited(); !done {
				t.Fatal("still running after stop")
			}
			if processAlive(c.Process) {
				t.Fatal("processAlive after stop")
			}
		})
	}
}

func TestStartChildMissingBinary(t *testing.T) {
	dir := t.TempDir()
	_, err := startChild(Etcd, filepath.Join(dir, "etcd"), nil, filepath.Join(dir, "etcd.log"), false)
	var ce *ComponentError
	if !errors.As(err, &ce) || ce.Component != Etcd {
		t.Fatalf("error %v, want a *ComponentError for etcd", err)
	}
	if !strings.Contains(err.Error(), "run make testbed-tools") {
		t.Errorf("error %q does not say what to do", err)
	}
}

func TestComponentErrorShowsLogTail(t *testing.T) {
	sh := lookPath(t, "sh")
	log := filepath.Join(t.TempDir(), "kube-apiserver.log")
	c, err := startChild(APIServer, sh, []string{"-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo line $i; done; echo 'listen tcp 127.0.0.1:6443: bind: address already in use' >&2; exit 1"}, log, false)
	if err != nil {
		t.Fatal(err)
	}
	<-c.done
	w := &waiter{clock: clock.RealClock{}, timeout: time.Second, cluster: &Cluster{children: []*child{c}}}
	err = w.childrenAlive()
	var ce *ComponentError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want a *ComponentError", err)
	}
	msg := err.Error()
	for _, want := range []string{"kube-apiserver: exited during start-up: exit status 1", "(log: " + log + ")", "address already in use", "line 20"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "line 5\n") {
		t.Errorf("error holds more than the last lines:\n%s", msg)
	}
}

func TestStopperEscalates(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(0, 0))
	type sent struct {
		pid int
		sig syscall.Signal
	}
	tests := []struct {
		name    string
		dieOn   map[int]syscall.Signal // what ends each PID; absent: never ends
		want    []sent
		wantErr string
	}{
		{name: "stops in order on SIGTERM", dieOn: map[int]syscall.Signal{2: syscall.SIGTERM, 1: syscall.SIGTERM},
			want: []sent{{2, syscall.SIGTERM}, {1, syscall.SIGTERM}}},
		{name: "SIGKILL after the grace period", dieOn: map[int]syscall.Signal{2: syscall.SIGKILL, 1: syscall.SIGTERM},
			want: []sent{{2, syscall.SIGTERM}, {2, syscall.SIGKILL}, {1, syscall.SIGTERM}}},
		{name: "reports a survivor", dieOn: map[int]syscall.Signal{1: syscall.SIGTERM},
			want:    []sent{{2, syscall.SIGTERM}, {2, syscall.SIGKILL}, {1, syscall.SIGTERM}},
			wantErr: "kwok (pid 2) still runs after SIGKILL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dead := map[int]bool{}
			var got []sent
			s := &stopper{
				clock: clk, grace: 10 * time.Second, poll: time.Second,
				alive: func(p Process) bool { return !dead[p.PID] },
				signal: func(pid int, sig syscall.Signal) error {
					got = append(got, sent{pid, sig})
					if tc.dieOn[pid] == sig {
						dead[pid] = true
					}
					return nil
				},
			}
			err := s.stop([]Process{{Name: Kwok, PID: 2}, {Name: Etcd, PID: 1}}, nil)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("signals %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("signals %v, want %v", got, tc.want)
				}
			}
		})
	}
}
