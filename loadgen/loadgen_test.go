package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"k8s.io/utils/clock"
)

func TestScheduleIsDeterministicAndBursty(t *testing.T) {
	d := DefaultDevelopers(100)
	a, b := d.Schedule(2*time.Minute), d.Schedule(2*time.Minute)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two schedules")
	}
	d.Seed = 2
	if reflect.DeepEqual(a, d.Schedule(2*time.Minute)) {
		t.Fatal("another seed gave the same schedule")
	}
	for i := 1; i < len(a); i++ {
		if a[i].At < a[i-1].At {
			t.Fatalf("arrival %d at %s before arrival %d at %s", i, a[i].At, i-1, a[i-1].At)
		}
	}
	// Every user starts with a burst of 2 to 6 requests inside the first
	// start spread plus a burst.
	first := map[int]int{}
	for _, x := range a {
		if x.At < d.StartSpread+6*d.BurstGap[1] {
			first[x.User]++
		}
		if x.At >= 2*time.Minute {
			t.Fatalf("arrival at %s, past the duration", x.At)
		}
	}
	if len(first) != 100 {
		t.Errorf("%d users started a burst early, want 100", len(first))
	}
	for u, n := range first {
		if n < 2 {
			t.Errorf("user %d sent %d requests in its first burst, want at least 2", u, n)
		}
	}
	// A time scale compresses the same schedule.
	d.Seed, d.TimeScale = 1, 10
	scaled := d.Schedule(12 * time.Second)
	if len(scaled) == 0 || scaled[0].User != a[0].User || scaled[0].At != a[0].At/10 {
		t.Errorf("scaled first arrival %+v, want %+v at a tenth of the time", scaled[0], a[0])
	}
}

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "lf", in: "data: a\n\ndata: b\n\n", want: []string{"a", "b"}},
		{name: "crlf and comments", in: ": ping\r\n\r\ndata: a\r\n\r\n:keepalive\r\ndata: [DONE]\r\n\r\n", want: []string{"a", "[DONE]"}},
		{name: "bare cr", in: "data: a\r\rdata: b\r\r", want: []string{"a", "b"}},
		{name: "multi-line data and other fields", in: "event: x\nid: 1\ndata: a\ndata:b\n\n", want: []string{"a\nb"}},
		{name: "no trailing blank line", in: "data: a", want: []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One byte per read: events split across reads everywhere.
			r := newSSEReader(iotest.OneByteReader(strings.NewReader(tc.in)))
			var got []string
			for {
				d, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(d))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func sseServer(t *testing.T, status int, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Pod", "pod-1")
		if status != http.StatusOK {
			w.WriteHeader(status)
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL + "/v1", Model: "m", PodHeader: "X-Pod", HTTP: srv.Client(), Clock: clock.RealClock{}}
}

func TestClientDo(t *testing.T) {
	role := `data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}` + "\n\n"
	tok := func(s string) string {
		return `data: {"choices":[{"index":0,"delta":{"content":"` + s + `"}}]}` + "\n\n"
	}
	usage := `data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}` + "\n\n"
	done := "data: [DONE]\n\n"
	tests := []struct {
		name       string
		status     int
		body       string
		wantFail   Fail
		wantTokens int
		wantUsage  bool
		wantDetail string
	}{
		{name: "stream with usage", status: 200, body: role + tok("a") + tok("b") + tok("c") + usage + done, wantTokens: 3, wantUsage: true},
		{name: "stream without usage counts chunks", status: 200, body: role + tok("a") + tok("b") + done, wantTokens: 2},
		{name: "error event inside a 200", status: 200, body: role + tok("a") + `data: {"error":{"message":"engine died","code":500}}` + "\n\n" + done, wantFail: FailStreamError, wantDetail: "engine died"},
		{name: "flat error shape", status: 400, body: `{"object":"error","message":"bad max_tokens","type":"BadRequestError","code":400}`, wantFail: FailHTTP, wantDetail: "bad max_tokens"},
		{name: "nested error shape", status: 404, body: `{"error":{"message":"model x not found","type":"NotFoundError","code":404}}`, wantFail: FailHTTP, wantDetail: "model x not found"},
		{name: "cut short", status: 200, body: role + tok("a"), wantFail: FailDecode, wantDetail: "without [DONE]"},
		{name: "role only", status: 200, body: role + done, wantFail: FailNoTokens},
		{name: "garbage event", status: 200, body: role + "data: {nope\n\n", wantFail: FailDecode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := sseServer(t, tc.status, tc.body)
			rec := c.Do(context.Background(), Arrival{User: 1, Kind: "completion", PromptTokens: 10, MaxTokens: 10})
			if rec.Fail != tc.wantFail {
				t.Fatalf("fail = %q (%s), want %q", rec.Fail, rec.Detail, tc.wantFail)
			}
			if !strings.Contains(rec.Detail, tc.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", rec.Detail, tc.wantDetail)
			}
			if rec.Pod != "pod-1" {
				t.Errorf("pod = %q, want pod-1", rec.Pod)
			}
			if tc.wantFail != FailNone {
				return
			}
			if rec.OutTokens != tc.wantTokens || rec.UsageReported != tc.wantUsage {
				t.Errorf("tokens = %d (usage %v), want %d (usage %v)", rec.OutTokens, rec.UsageReported, tc.wantTokens, tc.wantUsage)
			}
			if rec.FirstToken <= 0 || rec.FirstToken > rec.Total {
				t.Errorf("first token %s, total %s: want 0 < first token <= total", rec.FirstToken, rec.Total)
			}
		})
	}
}

func TestClientConnectFailure(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := &Client{BaseURL: url, Model: "m", HTTP: http.DefaultClient, Clock: clock.RealClock{}}
	if rec := c.Do(context.Background(), Arrival{Kind: "debug", PromptTokens: 1, MaxTokens: 1}); rec.Fail != FailConnect {
		t.Errorf("fail = %q (%s), want connect", rec.Fail, rec.Detail)
	}
	if _, err := c.Models(context.Background()); err == nil || !strings.Contains(err.Error(), url) {
		t.Errorf("Models error %v, want it to name %s", err, url)
	}
}

func TestSummary(t *testing.T) {
	s := NewSummary()
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for i := range 100 {
		s.Add(Record{Sent: t0.Add(time.Duration(i) * 100 * time.Millisecond), Scheduled: t0.Add(time.Duration(i) * 100 * time.Millisecond),
			FirstToken: time.Duration(i+1) * time.Millisecond, Total: time.Second, OutTokens: 10, UsageReported: true, Pod: "p"})
	}
	s.Add(Record{Sent: t0, Scheduled: t0, Fail: FailHTTP})
	got := s.Totals()
	if got.Requests != 101 || got.ErrorCount() != 1 || got.OutTokens != 1000 || got.Pods["p"] != 100 {
		t.Errorf("totals = %+v", got)
	}
	if got.TTFT.P50 < 49*time.Millisecond || got.TTFT.P50 > 51*time.Millisecond || got.TTFT.Max < 99*time.Millisecond {
		t.Errorf("ttft = %+v, want p50 ≈ 50ms and max ≈ 100ms", got.TTFT)
	}
	if got.Duration != 10900*time.Millisecond {
		t.Errorf("duration = %s, want 10.9s", got.Duration)
	}
}

func TestRecordsJournalRoundTrip(t *testing.T) {
	var b strings.Builder
	j, err := NewJournal(&b)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	want := Record{Seq: 7, User: 3, Kind: "debug", Scheduled: t0, Sent: t0.Add(time.Millisecond), FirstToken: 80 * time.Millisecond,
		Total: 6 * time.Second, OutTokens: 300, UsageReported: true, Code: 200, Pod: "p-1"}
	if err := j.Append(want); err != nil {
		t.Fatal(err)
	}
	got, truncated, err := ReadRecords(strings.NewReader(b.String() + `{"seq":8,"us`))
	if err != nil {
		t.Fatal(err)
	}
	if !truncated || len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("read back %+v (truncated %v), want %+v and truncated", got, truncated, want)
	}
}

func TestClientTimeouts(t *testing.T) {
	role := `data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}` + "\n\n"
	tok := `data: {"choices":[{"index":0,"delta":{"content":"a"}}]}` + "\n\n"
	tests := []struct {
		name       string
		first      time.Duration
		idle       time.Duration
		wantDetail string
	}{
		{name: "no first token", first: 20 * time.Millisecond, wantDetail: "first-token timeout"},
		{name: "stalled stream", idle: 20 * time.Millisecond, wantDetail: "idle timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fl := w.(http.Flusher)
				fmt.Fprint(w, role)
				if tc.idle > 0 {
					fmt.Fprint(w, tok)
				}
				fl.Flush()
				select { // stall until the client gives up
				case <-r.Context().Done():
				case <-release:
				}
			}))
			defer srv.Close()
			defer close(release)
			c := &Client{BaseURL: srv.URL, Model: "m", HTTP: srv.Client(), Clock: clock.RealClock{}, FirstTokenTimeout: tc.first, IdleTimeout: tc.idle}
			rec := c.Do(context.Background(), Arrival{Kind: "completion", PromptTokens: 1, MaxTokens: 5})
			if rec.Fail != FailTimeout || !strings.Contains(rec.Detail, tc.wantDetail) {
				t.Errorf("fail %q (%s), want timeout naming %q", rec.Fail, rec.Detail, tc.wantDetail)
			}
		})
	}
}
