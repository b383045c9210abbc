package testbed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// StateFile is the name of the state file inside a testbed folder.
const StateFile = "state.json"

// stateSchema versions the state file; fields are only ever added.
const stateSchema = 1

// ErrNoState says a testbed folder has no state file: nothing is running
// there, as far as the testbed knows.
var ErrNoState = errors.New("no testbed state")

// Process is one component the testbed started, as the state file records it.
type Process struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// Path is the binary the process runs; liveness checks compare it with
	// the live process's, so a recycled PID is never taken for ours.
	Path string `json:"path"`
	Log  string `json:"log"`
}

// Ports are the loopback ports the components listen on. A zero port is not
// used (its component has not started, or does not listen).
type Ports struct {
	Etcd              int `json:"etcd"`
	EtcdPeer          int `json:"etcdPeer"`
	APIServer         int `json:"apiServer"`
	ControllerManager int `json:"controllerManager"`
	Adapter           int `json:"adapter,omitempty"`
	Mock              int `json:"mock,omitempty"`
}

// State is what a running testbed records in <dir>/state.json as each
// component starts, so another process (down, status, a second up) can find
// and stop it.
type State struct {
	SchemaVersion int       `json:"schemaVersion"`
	Dir           string    `json:"dir"`
	Started       time.Time `json:"started"`
	Processes     []Process `json:"processes"`
	Ports         Ports     `json:"ports"`
	Kubeconfig    string    `json:"kubeconfig"`
	// Profile is the promises at the testbed's time scale, for validate.
	Profile string `json:"profile,omitempty"`
	// Endpoint is the mock NIM's base URL; empty until it has started.
	Endpoint  string `json:"endpoint,omitempty"`
	Namespace string `json:"namespace"`
	// Ready is set once every wait of Up has passed.
	Ready bool `json:"ready"`
}

// ReadState reads the state file in dir. It returns an error wrapping
// ErrNoState when there is none.
func ReadState(dir string) (*State, error) {
	path := filepath.Join(dir, StateFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoState, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read testbed state: %w", err)
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("read testbed state %s: %w (delete it if no testbed runs there)", path, err)
	}
	return &st, nil
}

// writeState replaces the state file atomically, so a reader never sees half
// of it.
func writeState(dir string, st *State) error {
	st.SchemaVersion = stateSchema
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode testbed state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".state-*")
	if err != nil {
		return fmt.Errorf("write testbed state: %w", err)
	}
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close() // the write error is the one to report
		os.Remove(tmp.Name())
		return fmt.Errorf("write testbed state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write testbed state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, StateFile)); err != nil {
		return fmt.Errorf("write testbed state: %w", err)
	}
	return nil
}

func removeState(dir string) error {
	if err := os.Remove(filepath.Join(dir, StateFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove testbed state: %w", err)
	}
	return nil
}

// Live returns the recorded processes that are still running, as alive
// judges them.
func (st *State) Live(alive func(Process) bool) []Process {
	var live []Process
	for _, p := range st.Processes {
		if alive(p) {
			live = append(live, p)
		}
	}
	return live
}

// RunningError says a testbed already runs in a folder.
type RunningError struct {
	Dir  string
	Live []Process
}

func (e *RunningError) Error() string {
	pids := make([]string, len(e.Live))
	for i, p := range e.Live {
		pids[i] = fmt.Sprintf("%s %d", p.Name, p.PID)
	}
	return fmt.Sprintf("testbed already running in %s (pids %s); run make testbed-down first",
		e.Dir, strings.Join(pids, ", "))
}

// checkNotRunning returns a *RunningError when dir's state file names live
// processes, and removes a stale state file whose processes are all gone.
func checkNotRunning(dir string, alive func(Process) bool) (stale bool, err error) {
	st, err := ReadState(dir)
	if errors.Is(err, ErrNoState) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if live := st.Live(alive); len(live) > 0 {
		return false, &RunningError{Dir: dir, Live: live}
	}
	return true, removeState(dir)
}

// processAlive reports whether p runs: its PID exists, is not a zombie, and
// (where /proc says) runs p's binary.
func processAlive(p Process) bool {
	if p.PID <= 0 {
		return false
	}
	proc := filepath.Join("/proc", strconv.Itoa(p.PID))
	stat, err := os.ReadFile(filepath.Join(proc, "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may
	// itself hold spaces or parentheses.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		if s := stat[i+2]; s == 'Z' || s == 'X' {
			return false
		}
	}
	if p.Path == "" {
		return true
	}
	exe, err := os.Readlink(filepath.Join(proc, "exe"))
	if err != nil {
		return true // not ours to read; the PID exists, so assume it is ours
	}
	// The kernel shows the resolved path, with " (deleted)" once the binary
	// is replaced or removed.
	exe = strings.TrimSuffix(exe, " (deleted)")
	if exe == p.Path {
		return true
	}
	resolved, err := filepath.EvalSymlinks(p.Path)
	return err == nil && exe == resolved
}
