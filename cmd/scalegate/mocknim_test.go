package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/scalegate/scalegate/mocknim"
)

// rootWithMockNIM is the real root with the mock-nim command swapped for one
// that hands its completed options to runF.
func rootWithMockNIM(d *Deps, runF func(*mockNIMOptions) error) *cobra.Command {
	root := newCmdRoot(d)
	for _, c := range root.Commands() {
		if c.Name() == "mock-nim" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newCmdMockNIMWith(d, runF))
	return root
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader on different
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func mockNIMDeps(errOut io.Writer) *Deps {
	return &Deps{Out: io.Discard, ErrOut: errOut, Kube: &kubeFlags{Kubeconfig: "/nonexistent/kubeconfig"}}
}

func TestMockNIMFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, o *mockNIMOptions)
		wantErr string // exact; "" means success
	}{
		{
			name: "defaults",
			check: func(t *testing.T, o *mockNIMOptions) {
				want := mocknim.DefaultConfig()
				want.Namespace = "production"
				if o.Listen != "127.0.0.1:8000" || o.Pods != 0 || o.Deployment != "coding-assistant" || o.Namespace != "production" {
					t.Errorf("listen %q pods %d deployment %q namespace %q", o.Listen, o.Pods, o.Deployment, o.Namespace)
				}
				if o.Config != want {
					t.Errorf("config %+v, want %+v", o.Config, want)
				}
			},
		},
		{
			name: "every knob",
			args: []string{"-n", "staging", "--listen", "127.0.0.1:9000", "--pods", "3", "--deployment", "ca",
				"--model", "m", "--slots", "4", "--time-scale", "10", "--seed", "42",
				"--prefill-min", "10ms", "--prefill-max", "20ms", "--per-token-min", "5ms", "--per-token-max", "6ms",
				"--output-tokens-min", "7", "--output-tokens-max", "9", "--max-model-len", "4096",
				"--max-body-bytes", "2048", "--utilization-window", "4s", "--shutdown-timeout", "1s"},
			check: func(t *testing.T, o *mockNIMOptions) {
				want := mocknim.Config{
					Model: "m", Namespace: "staging", Slots: 4, TimeScale: 10, Seed: 42,
					Prefill:      mocknim.DurationRange{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond},
					PerToken:     mocknim.DurationRange{Min: 5 * time.Millisecond, Max: 6 * time.Millisecond},
					OutputTokens: mocknim.IntRange{Min: 7, Max: 9},
					MaxModelLen:  4096, MaxBodyBytes: 2048, UtilizationWindow: 4 * time.Second, ShutdownTimeout: time.Second,
				}
				if o.Listen != "127.0.0.1:9000" || o.Pods != 3 || o.Deployment != "ca" || o.Config != want {
					t.Errorf("options %+v, want listen 127.0.0.1:9000 pods 3 deployment ca config %+v", o, want)
				}
			},
		},
		{name: "negative pods", args: []string{"--pods", "-1"}, wantErr: "--pods -1: want 0 (follow the deployment) or more"},
		{name: "zero slots", args: []string{"--slots", "0"},
			wantErr: "--slots, --time-scale, --max-model-len, --max-body-bytes, --utilization-window and --shutdown-timeout must be positive"},
		{name: "inverted range", args: []string{"--per-token-min", "30ms", "--per-token-max", "20ms"},
			wantErr: "mock-nim flags: per-token time: want 0 <= min <= max, got 30ms..20ms"},
		{name: "zero output tokens", args: []string{"--output-tokens-min", "0"}, wantErr: "--output-tokens-min 0: want at least 1"},
		{name: "positional argument", args: []string{"extra"}, wantErr: `unknown command "extra" for "scalegate mock-nim"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *mockNIMOptions
			root := rootWithMockNIM(mockNIMDeps(io.Discard), func(o *mockNIMOptions) error { got = o; return nil })
			root.SetArgs(append([]string{"mock-nim"}, tc.args...))
			err := root.ExecuteContext(t.Context())
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if code := exitCode(t.Context(), err); code != ExitUsage {
					t.Errorf("exit code %d, want %d", code, ExitUsage)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			tc.check(t, got)
		})
	}
}

// TestMockNIMRun serves for real on a loopback port with fixed pods, at a
// thousandth of real time, and stops on cancel.
func TestMockNIMRun(t *testing.T) {
	var errOut syncBuffer
	root := newCmdRoot(mockNIMDeps(&errOut))
	root.SetArgs([]string{"mock-nim", "--listen", "127.0.0.1:0", "--pods", "2", "--time-scale", "1000"})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	addr := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+) `)
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == ""; time.Sleep(2 * time.Millisecond) {
		if m := addr.FindStringSubmatch(errOut.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no listen address on stderr: %q", errOut.String())
		}
	}

	resp, err := http.Post(base+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"def f():","max_tokens":5}`))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close() // read path
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get(mocknim.PodHeader) != "coding-assistant-mock-0" ||
		!strings.Contains(string(body), `"finish_reason":"length"`) {
		t.Errorf("status %d pod %q body %s", resp.StatusCode, resp.Header.Get(mocknim.PodHeader), body)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("mock-nim: %v", err)
	}
}
