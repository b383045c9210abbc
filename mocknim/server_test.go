package mocknim

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

const modelID = DefaultModel

// fixedConfig makes every request take exactly 100 ms to the first token and
// 20 ms per further token, with 3 output tokens.
func fixedConfig() Config {
	return Config{
		Seed:         1,
		Prefill:      DurationRange{Min: 100 * time.Millisecond, Max: 100 * time.Millisecond},
		PerToken:     DurationRange{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond},
		OutputTokens: IntRange{Min: 3, Max: 3},
	}
}

func newServer(t *testing.T, cfg Config, deps Deps) *Server {
	t.Helper()
	s, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func do(s *Server, ctx context.Context, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

func golden(t *testing.T, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(t.Name())+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("body differs from %s\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestResponseBytes(t *testing.T) {
	const chat = `"messages":[{"role":"user","content":"Write fib in Python."}]`
	tests := []struct {
		name        string
		path        string
		body        string
		contentType string
	}{
		{name: "chat_stream_usage", path: "/v1/chat/completions", contentType: "text/event-stream",
			body: `{"model":"` + modelID + `",` + chat + `,"stream":true,"stream_options":{"include_usage":true}}`},
		{name: "chat_stream_no_usage", path: "/v1/chat/completions", contentType: "text/event-stream",
			body: `{"model":"` + modelID + `",` + chat + `,"stream":true}`},
		{name: "chat_stream_usage_false", path: "/v1/chat/completions", contentType: "text/event-stream",
			body: `{"model":"` + modelID + `",` + chat + `,"stream":true,"stream_options":{"include_usage":false}}`},
		{name: "chat_stream_capped", path: "/v1/chat/completions", contentType: "text/event-stream",
			body: `{` + chat + `,"max_tokens":2,"stream":true,"stream_options":{"include_usage":true}}`},
		{name: "completions_stream_usage", path: "/v1/completions", contentType: "text/event-stream",
			body: `{"model":"` + modelID + `","prompt":"def fib(n):","stream":true,"stream_options":{"include_usage":true}}`},
		{name: "chat", path: "/v1/chat/completions", contentType: "application/json",
			body: `{"model":"` + modelID + `",` + chat + `}`},
		{name: "chat_capped", path: "/v1/chat/completions", contentType: "application/json",
			body: `{"model":"` + modelID + `",` + chat + `,"max_completion_tokens":1}`},
		{name: "completions", path: "/v1/completions", contentType: "application/json",
			body: `{"model":"` + modelID + `","prompt":["def fib(n):","  "]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newServer(t, fixedConfig(), Deps{})
				s.SetPod("coding-assistant-mock-0", true)
				start := time.Now()
				rec := do(s, t.Context(), http.MethodPost, tc.path, tc.body)
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d, body %s", rec.Code, rec.Body)
				}
				if got := rec.Header().Get("Content-Type"); got != tc.contentType {
					t.Errorf("Content-Type %q, want %q", got, tc.contentType)
				}
				if got := rec.Header().Get(PodHeader); got != "coding-assistant-mock-0" {
					t.Errorf("%s %q, want coding-assistant-mock-0", PodHeader, got)
				}
				// 100 ms to the first token, 20 ms for each further one.
				tokens := 3
				if strings.Contains(tc.name, "capped") {
					tokens = 2
					if strings.Contains(tc.body, `"max_completion_tokens":1`) {
						tokens = 1
					}
				}
				if got, want := time.Since(start), 100*time.Millisecond+time.Duration(tokens-1)*20*time.Millisecond; got != want {
					t.Errorf("took %v, want %v", got, want)
				}
				golden(t, rec.Body.Bytes())
			})
		})
	}
}

// TestStreamLiteral spells out one stream byte for byte, so the format is
// readable without opening a golden file.
func TestStreamLiteral(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := fixedConfig()
		cfg.OutputTokens = IntRange{Min: 2, Max: 2}
		s := newServer(t, cfg, Deps{})
		s.SetPod("p", true)
		rec := do(s, t.Context(), http.MethodPost, "/v1/chat/completions",
			`{"messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`)
		// synctest's clock starts at 2000-01-01T00:00:00Z.
		const head = `{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":946684800,"model":"meta/codellama-13b-instruct",`
		want := "data: " + head + `"choices":[{"index":0,"delta":{"role":"assistant"},"logprobs":null,"finish_reason":null}]}` + "\n\n" +
			"data: " + head + `"choices":[{"index":0,"delta":{"content":"def"},"logprobs":null,"finish_reason":null}]}` + "\n\n" +
			"data: " + head + `"choices":[{"index":0,"delta":{"content":" fib"},"logprobs":null,"finish_reason":null}]}` + "\n\n" +
			"data: " + head + `"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}` + "\n\n" +
			"data: " + head + `"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}` + "\n\n" +
			"data: [DONE]\n\n"
		got := rec.Body.String()
		// The id is drawn from the seed; check its shape, then mask it.
		id := got[len(`data: {"id":"chatcmpl-`):][:32]
		if strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("id %q is not 32 hex digits", id)
		}
		if got = strings.ReplaceAll(got, id, "ID"); got != want {
			t.Errorf("stream differs\ngot:\n%s\nwant:\n%s", got, want)
		}
	})
}

func TestErrors(t *testing.T) {
	big := `{"prompt":"` + strings.Repeat("x", 2048) + `"}`
	tests := []struct {
		name     string
		ready    bool
		method   string
		path     string
		body     string
		want     int
		wantType string
		wantMsg  string // substring
	}{
		{name: "malformed json", ready: true, method: http.MethodPost, path: "/v1/chat/completions", body: `{"messages":`,
			want: 400, wantType: "BadRequestError", wantMsg: "invalid JSON body"},
		{name: "wrong field type", ready: true, method: http.MethodPost, path: "/v1/chat/completions", body: `{"messages":[{"role":"user","content":"x"}],"stream":"yes"}`,
			want: 400, wantType: "BadRequestError", wantMsg: "invalid JSON body"},
		{name: "unknown model", ready: true, method: http.MethodPost, path: "/v1/chat/completions", body: `{"model":"gpt-4","messages":[{"role":"user","content":"x"}]}`,
			want: 404, wantType: "NotFoundError", wantMsg: "The model `gpt-4` does not exist."},
		{name: "missing messages", ready: true, method: http.MethodPost, path: "/v1/chat/completions", body: `{"model":"` + modelID + `"}`,
			want: 400, wantType: "BadRequestError", wantMsg: "messages is required"},
		{name: "empty messages", ready: true, method: http.MethodPost, path: "/v1/chat/completions", body: `{"messages":[]}`,
			want: 400, wantType: "BadRequestError", wantMsg: "messages is required"},
		{name: "missing prompt", ready: true, method: http.MethodPost, path: "/v1/completions", body: `{"model":"` + modelID + `"}`,
			want: 400, wantType: "BadRequestError", wantMsg: "prompt is required"},
		{name: "prompt of wrong type", ready: true, method: http.MethodPost, path: "/v1/completions", body: `{"prompt":{"a":1}}`,
			want: 400, wantType: "BadRequestError", wantMsg: "prompt must be"},
		{name: "zero max_tokens", ready: true, method: http.MethodPost, path: "/v1/completions", body: `{"prompt":"x","max_tokens":0}`,
			want: 400, wantType: "BadRequestError", wantMsg: "max_tokens must be at least 1, got 0"},
		{name: "context too long", ready: true, method: http.MethodPost, path: "/v1/completions", body: `{"prompt":"x","max_tokens":100000}`,
			want: 400, wantType: "BadRequestError", wantMsg: "maximum context length is 8192 tokens"},
		{name: "oversized body", ready: true, method: http.MethodPost, path: "/v1/completions", body: big,
			want: 413, wantType: "RequestEntityTooLargeError", wantMsg: "larger than 1024 bytes"},
		{name: "GET on chat", ready: true, method: http.MethodGet, path: "/v1/chat/completions",
			want: 405, wantType: "MethodNotAllowedError", wantMsg: "use POST"},
		{name: "POST on models", ready: true, method: http.MethodPost, path: "/v1/models",
			want: 405, wantType: "MethodNotAllowedError", wantMsg: "use GET"},
		{name: "unknown path", ready: true, method: http.MethodGet, path: "/v2/nothing",
			want: 404, wantType: "NotFoundError", wantMsg: "no route"},
		{name: "no ready pod", ready: false, method: http.MethodPost, path: "/v1/chat/completions", body: `{"messages":[{"role":"user","content":"x"}]}`,
			want: 503, wantType: "ServiceUnavailableError", wantMsg: "no pod is ready"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, Config{MaxBodyBytes: 1024}, Deps{})
			if tc.ready {
				s.SetPod("p", true)
			}
			rec := do(s, t.Context(), tc.method, tc.path, tc.body)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d (body %s)", rec.Code, tc.want, rec.Body)
			}
			if got := rec.Header().Get(PodHeader); got != "" {
				t.Errorf("%s = %q on an error answered before dispatch", PodHeader, got)
			}
			var body struct {
				Error struct {
					Message string          `json:"message"`
					Type    string          `json:"type"`
					Param   json.RawMessage `json:"param"`
					Code    int             `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("error body %q: %v", rec.Body, err)
			}
			e := body.Error
			if e.Code != tc.want || e.Type != tc.wantType || string(e.Param) != "null" || !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("error %+v (param %s), want code %d type %s message containing %q", e, e.Param, tc.want, tc.wantType, tc.wantMsg)
			}
		})
	}
}

func TestUnknownModelBody(t *testing.T) {
	s := newServer(t, Config{}, Deps{})
	s.SetPod("p", true)
	rec := do(s, t.Context(), http.MethodPost, "/v1/completions", `{"model":"nope","prompt":"x"}`)
	want := `{"error":{"message":"The model ` + "`nope`" + ` does not exist.","type":"NotFoundError","param":null,"code":404}}`
	if got := rec.Body.String(); rec.Code != 404 || got != want {
		t.Errorf("got %d %s\nwant 404 %s", rec.Code, got, want)
	}
}

func TestHealthAndModels(t *testing.T) {
	s := newServer(t, Config{}, Deps{})
	get := func(path string) *httptest.ResponseRecorder { return do(s, t.Context(), http.MethodGet, path, "") }

	if rec := get("/v1/health/live"); rec.Code != 200 {
		t.Errorf("live before any pod: %d", rec.Code)
	}
	if rec := get("/v1/health/ready"); rec.Code != 503 {
		t.Errorf("ready before any pod: %d, want 503", rec.Code)
	}
	s.SetPod("p", false)
	if rec := get("/v1/health/ready"); rec.Code != 503 {
		t.Errorf("ready with an unready pod: %d, want 503", rec.Code)
	}
	s.SetPod("p", true)
	if rec := get("/v1/health/ready"); rec.Code != 200 {
		t.Errorf("ready with a ready pod: %d, want 200", rec.Code)
	}
	if rec := get("/v1/health/live"); rec.Code != 200 {
		t.Errorf("live: %d", rec.Code)
	}

	rec := get("/v1/models")
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID          string `json:"id"`
			Object      string `json:"object"`
			OwnedBy     string `json:"owned_by"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatalf("models body %s: %v", rec.Body, err)
	}
	if list.Object != "list" || len(list.Data) != 1 || list.Data[0].ID != modelID || list.Data[0].Object != "model" ||
		list.Data[0].OwnedBy != "vllm" || list.Data[0].MaxModelLen != DefaultMaxModelLen {
		t.Errorf("models: %+v", list)
	}
}

// TestQueueing drives requests through the HTTP handler on a synthetic clock:
// each takes 100 ms + 2×20 ms = 140 ms once it holds a slot.
func TestQueueing(t *testing.T) {
	const service = 140 * time.Millisecond
	tests := []struct {
		name     string
		slots    int
		requests int
		// wantDone[i] is when request i (in arrival order) finishes.
		wantDone []time.Duration
	}{
		{name: "ninth request on eight slots waits for the first to finish", slots: 8, requests: 9,
			wantDone: []time.Duration{service, service, service, service, service, service, service, service, 2 * service}},
		{name: "one slot serves in arrival order", slots: 1, requests: 4,
			wantDone: []time.Duration{service, 2 * service, 3 * service, 4 * service}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := fixedConfig()
				cfg.Slots = tc.slots
				s := newServer(t, cfg, Deps{})
				s.SetPod("p", true)
				start := time.Now()
				done := make([]time.Duration, tc.requests)
				var wg sync.WaitGroup
				for i := range tc.requests {
					wg.Go(func() {
						rec := do(s, t.Context(), http.MethodPost, "/v1/completions", `{"prompt":"x"}`)
						if rec.Code != 200 {
							t.Errorf("request %d: status %d", i, rec.Code)
						}
						done[i] = time.Since(start)
					})
					synctest.Wait() // request i is routed before i+1 arrives
				}
				st := s.snapshot()[0]
				if wantRunning := min(tc.slots, tc.requests); st.running != wantRunning || st.waiting != tc.requests-wantRunning {
					t.Errorf("running %d waiting %d, want %d and %d", st.running, st.waiting, wantRunning, tc.requests-wantRunning)
				}
				wg.Wait()
				for i, want := range tc.wantDone {
					if done[i] != want {
						t.Errorf("request %d done at %v, want %v", i, done[i], want)
					}
				}
			})
		})
	}
}

// TestDisconnect checks that a client leaving frees its place at once:
// a queued request leaves the queue, a running one gives its slot back.
func TestDisconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := fixedConfig()
		cfg.Slots = 1
		cfg.OutputTokens = IntRange{Min: 100, Max: 100} // 2.08 s
		s := newServer(t, cfg, Deps{})
		s.SetPod("p", true)

		runCtx, cancelRun := context.WithCancel(t.Context())
		queuedCtx, cancelQueued := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() {
			do(s, runCtx, http.MethodPost, "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"stream":true}`)
		})
		synctest.Wait()
		wg.Go(func() { do(s, queuedCtx, http.MethodPost, "/v1/completions", `{"prompt":"x"}`) })
		synctest.Wait()
		if st := s.snapshot()[0]; st.running != 1 || st.waiting != 1 {
			t.Fatalf("running %d waiting %d, want 1 and 1", st.running, st.waiting)
		}

		time.Sleep(500 * time.Millisecond)
		cancelQueued()
		synctest.Wait()
		if st := s.snapshot()[0]; st.running != 1 || st.waiting != 0 || st.failed != 1 {
			t.Errorf("after the queued client left: %+v, want running 1 waiting 0 failed 1", st)
		}
		cancelRun()
		synctest.Wait()
		if st := s.snapshot()[0]; st.running != 0 || st.waiting != 0 || st.failed != 2 || st.succeeded != 0 {
			t.Errorf("after the running client left: %+v, want idle with 2 failed", st)
		}
		wg.Wait()
	})
}
