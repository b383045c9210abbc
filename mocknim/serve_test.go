package mocknim

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestServe runs the whole server on loopback at a thousandth of real time
// (a request takes about 7 ms) with two fixed pods.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{TimeScale: 1000, Seed: 7}, Deps{Pods: FixedPods{Prefix: "coding-assistant-mock", N: 2}})
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	waitFor(t, "readiness", func() bool {
		resp, err := http.Get(base + "/v1/health/ready")
		if err != nil {
			return false
		}
		resp.Body.Close() // read path: nothing to report
		return resp.StatusCode == http.StatusOK
	})

	pods := map[string]bool{}
	for range 2 {
		resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(
			`{"model":"meta/codellama-13b-instruct","messages":[{"role":"user","content":"sort a list"}],"stream":true,"stream_options":{"include_usage":true}}`))
		if err != nil {
			t.Fatal(err)
		}
		pods[resp.Header.Get(PodHeader)] = true
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
			t.Fatalf("status %d, Content-Type %q", resp.StatusCode, ct)
		}
		var events []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if line := sc.Text(); line != "" {
				events = append(events, line)
			}
		}
		resp.Body.Close() // read path: the scanner has the error, if any
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		// role, 250–350 tokens, finish, usage, [DONE]
		if n := len(events); n < 254 || n > 354 {
			t.Errorf("%d events, want 254..354", n)
		}
		if last := events[len(events)-1]; last != "data: [DONE]" {
			t.Errorf("last event %q", last)
		}
		if usage := events[len(events)-2]; !strings.Contains(usage, `"choices":[],"usage":{"prompt_tokens":`) {
			t.Errorf("usage event %q", usage)
		}
	}
	if !pods["coding-assistant-mock-0"] || !pods["coding-assistant-mock-1"] {
		t.Errorf("served by %v, want both pods (idle pods tie on queue, then on requests routed)", pods)
	}

	resp, err := http.Get(base + "/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close() // read path
	if err != nil {
		t.Fatal(err)
	}
	if want := `request_success_total{model_name="meta/codellama-13b-instruct",namespace="production",pod="coding-assistant-mock-1"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %s:\n%s", want, body)
	}

	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
