package testbed

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := &State{
		Dir:        dir,
		Started:    time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC),
		Processes:  []Process{{Name: Etcd, PID: 10, Path: "/bin/etcd", Log: "/l/etcd.log"}},
		Ports:      Ports{Etcd: 1, EtcdPeer: 2, APIServer: 3, ControllerManager: 4, Adapter: 5, Mock: 6},
		Kubeconfig: filepath.Join(dir, "kubeconfig"),
		Endpoint:   "http://127.0.0.1:6",
		Namespace:  "production",
		Ready:      true,
	}
	if err := writeState(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	if got.SchemaVersion != stateSchema {
		t.Errorf("schema %d", got.SchemaVersion)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := removeState(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadState(dir); !errors.Is(err, ErrNoState) {
		t.Fatalf("after remove: %v, want ErrNoState", err)
	}
	if err := removeState(dir); err != nil {
		t.Fatalf("second remove: %v", err)
	}
}

func TestCheckNotRunning(t *testing.T) {
	procs := []Process{{Name: Etcd, PID: 11}, {Name: APIServer, PID: 12}}
	tests := []struct {
		name      string
		state     *State // nil: no state file
		live      map[int]bool
		wantStale bool
		wantErr   string // substring; "" for none
		wantState bool   // the state file still exists afterwards
	}{
		{name: "no state", state: nil},
		{name: "stale state is removed", state: &State{Processes: procs}, live: map[int]bool{}, wantStale: true},
		{name: "running", state: &State{Processes: procs}, live: map[int]bool{12: true}, wantState: true,
			wantErr: "testbed already running in DIR (pids kube-apiserver 12); run make testbed-down first"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.state != nil {
				if err := writeState(dir, tc.state); err != nil {
					t.Fatal(err)
				}
			}
			alive := func(p Process) bool { return tc.live[p.PID] }
			stale, err := checkNotRunning(dir, alive)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tc.wantErr != "" {
				var re *RunningError
				if !errors.As(err, &re) {
					t.Fatalf("error %v, want *RunningError", err)
				}
				if got := strings.ReplaceAll(err.Error(), dir, "DIR"); got != tc.wantErr {
					t.Fatalf("error %q, want %q", got, tc.wantErr)
				}
			}
			if stale != tc.wantStale {
				t.Errorf("stale = %v, want %v", stale, tc.wantStale)
			}
			_, statErr := os.Stat(filepath.Join(dir, StateFile))
			if (statErr == nil) != tc.wantState {
				t.Errorf("state file exists = %v, want %v", statErr == nil, tc.wantState)
			}
		})
	}
}

func TestProcessAlive(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no `true` to make a dead PID:", err)
	}
	dead := cmd.Process.Pid
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    Process
		want bool
	}{
		{name: "this process", p: Process{PID: os.Getpid(), Path: self}, want: true},
		{name: "this process, through a symlink", p: Process{PID: os.Getpid(), Path: link}, want: true},
		{name: "this PID, another binary (a recycled PID)", p: Process{PID: os.Getpid(), Path: "/nonexistent/etcd"}, want: false},
		{name: "exited and reaped", p: Process{PID: dead}, want: false},
		{name: "no PID", p: Process{}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := processAlive(tc.p); got != tc.want {
				t.Errorf("processAlive(%+v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}
