package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"k8s.io/utils/clock"
)

// Client sends streaming chat completions to an OpenAI-compatible endpoint.
type Client struct {
	// BaseURL is the endpoint's base, e.g. http://127.0.0.1:8000 (a /v1
	// suffix is accepted).
	BaseURL string
	Model   string
	// APIKey, when set, is sent as a bearer token. It is never recorded.
	APIKey string
	// PodHeader names the response header that says which pod served the
	// request; empty records none.
	PodHeader string
	// FirstTokenTimeout bounds the wait for the first content; zero means none.
	FirstTokenTimeout time.Duration
	// IdleTimeout bounds the wait between two events of a stream once it has
	// started; zero means none.
	IdleTimeout time.Duration
	// Timeout bounds a whole request; zero means none.
	Timeout time.Duration
	HTTP    *http.Client
	Clock   clock.WithTickerAndDelayedExecution
}

// apiURL joins the base URL and an API path such as /v1/models, keeping the
// base's query (some gateways take a key there). A base that ends in /v1 is
// accepted too.
func (c *Client) apiURL(path string) string {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return c.BaseURL + path // the request will fail and say why
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/v1") + path
	return u.String()
}

// RedactURL drops the user information and the query of a URL, where
// credentials may hide, so it can be logged or written.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	return u.String()
}

type chatRequest struct {
	Model         string        `json:"model"`
	Messages      []chatMessage `json:"messages"`
	MaxTokens     int           `json:"max_tokens"`
	Stream        bool          `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chunk is one streamed event: a delta, a usage report or an error.
type chunk struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		Text string `json:"text"`
	} `json:"choices"`
	Usage *struct {
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
	// The flat error shape of older vLLM: {"object":"error","message":...}.
	Object  string `json:"object"`
	Message string `json:"message"`
}

// Do sends one arrival and returns its record (without Seq and Scheduled,
// which the runner sets). Failures are in the record, never an error.
func (c *Client) Do(ctx context.Context, a Arrival) (rec Record) {
	rec = Record{User: a.User, Kind: a.Kind, PromptTokens: a.PromptTokens}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	body := chatRequest{Model: c.Model, MaxTokens: a.MaxTokens, Stream: true,
		Messages: []chatMessage{{Role: "user", Content: prompt(a)}}}
	body.StreamOptions.IncludeUsage = true
	raw, err := json.Marshal(body)
	if err != nil {
		rec.Fail, rec.Detail = FailDecode, err.Error()
		return rec
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiURL("/v1/chat/completions"), bytes.NewReader(raw))
	if err != nil {
		rec.Fail, rec.Detail = FailConnect, err.Error()
		return rec
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	rec.Sent = c.Clock.Now()
	defer func() { rec.Total = c.Clock.Since(rec.Sent) }()

	// The first-token timer cancels the request if no content arrives in time.
	reqCtx, cancelReq := context.WithCancelCause(ctx)
	defer cancelReq(nil)
	req = req.WithContext(reqCtx)
	var firstTimer clock.Timer
	if c.FirstTokenTimeout > 0 {
		firstTimer = c.Clock.AfterFunc(c.FirstTokenTimeout, func() { cancelReq(errFirstToken) })
		defer firstTimer.Stop()
	}

	resp, err := c.HTTP.Do(req)
	if err != nil {
		rec.Fail, rec.Detail = classify(reqCtx, err)
		return rec
	}
	// The idle timer cancels the request when the stream stalls; each event
	// re-arms it.
	var idleTimer clock.Timer
	if c.IdleTimeout > 0 {
		idleTimer = c.Clock.AfterFunc(c.IdleTimeout, func() { cancelReq(errIdle) })
		defer idleTimer.Stop()
	}
	defer resp.Body.Close() //nolint:errcheck // read path
	rec.Code = resp.StatusCode
	if c.PodHeader != "" {
		rec.Pod = resp.Header.Get(c.PodHeader)
	}
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096)) // best effort, for the detail only
		rec.Fail, rec.Detail = FailHTTP, fmt.Sprintf("%s: %s", resp.Status, errorMessage(msg))
		return rec
	}
	events := newSSEReader(resp.Body)
	chunks := 0
	for {
		data, err := events.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				rec.Fail, rec.Detail = FailDecode, "stream ended without [DONE]"
			} else {
				rec.Fail, rec.Detail = classify(reqCtx, err)
			}
			break
		}
		if idleTimer != nil {
			idleTimer.Reset(c.IdleTimeout)
		}
		if string(data) == "[DONE]" {
			break
		}
		var ch chunk
		if err := json.Unmarshal(data, &ch); err != nil {
			rec.Fail, rec.Detail = FailDecode, fmt.Sprintf("event %q: %v", truncate(string(data), 80), err)
			break
		}
		if len(ch.Error) > 0 || ch.Object == "error" {
			rec.Fail, rec.Detail = FailStreamError, errorMessage(data)
			break
		}
		if ch.Usage != nil {
			rec.OutTokens, rec.UsageReported = ch.Usage.CompletionTokens, true
		}
		for _, choice := range ch.Choices {
			if choice.Delta.Content == "" && choice.Text == "" {
				continue
			}
			if chunks == 0 {
				rec.FirstToken = c.Clock.Since(rec.Sent)
				if firstTimer != nil {
					firstTimer.Stop()
				}
			}
			chunks++
		}
	}
	if !rec.UsageReported {
		rec.OutTokens = chunks
	}
	if rec.Fail == FailNone && chunks == 0 {
		rec.Fail, rec.Detail = FailNoTokens, "the stream carried no content"
	}
	return rec
}

var (
	errFirstToken = errors.New("no first token within the first-token timeout")
	errIdle       = errors.New("the stream stalled longer than the idle timeout")
)

// classify names a transport failure.
func classify(ctx context.Context, err error) (Fail, string) {
	if cause := context.Cause(ctx); errors.Is(cause, errFirstToken) || errors.Is(cause, errIdle) {
		return FailTimeout, cause.Error()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return FailTimeout, err.Error()
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return FailCanceled, err.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return FailTimeout, err.Error()
	}
	return FailConnect, err.Error()
}

// errorMessage extracts the message of either error shape NIM emits: the
// nested {"error":{"message":...}} or the flat {"object":"error","message":...}.
func errorMessage(body []byte) string {
	var nested struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &nested) == nil {
		if nested.Error.Message != "" {
			return nested.Error.Message
		}
		if nested.Message != "" {
			return nested.Message
		}
	}
	text := strings.TrimSpace(string(body))
	if strings.HasPrefix(text, "<") {
		return "an HTML page, not an OpenAI-style error"
	}
	return truncate(text, 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// prompt builds a prompt of roughly the arrival's token count (about four
// characters per token).
func prompt(a Arrival) string {
	head := map[string]string{
		"completion": "Complete the following function:\n",
		"debug":      "Find the bug in this code and explain the fix:\n",
		"refactor":   "Refactor this code for readability and keep its behaviour:\n",
	}[a.Kind]
	const line = "func handle(w http.ResponseWriter, r *http.Request) { /* ... */ }\n"
	var b strings.Builder
	b.WriteString(head)
	for b.Len() < a.PromptTokens*4 {
		b.WriteString(line)
	}
	return b.String()
}

// Models returns the model ids the endpoint lists at /v1/models.
func (c *Client) Models(ctx context.Context) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.apiURL("/v1/models"), nil)
	if err != nil {
		return nil, err
	}
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list models at %s: %w", RedactURL(req.URL.String()), redactErr(err))
	}
	defer resp.Body.Close() //nolint:errcheck // read path
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("list models at %s: %w", RedactURL(req.URL.String()), redactErr(err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{URL: RedactURL(req.URL.String()), Code: resp.StatusCode, Message: errorMessage(raw)}
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("list models at %s: %w", RedactURL(req.URL.String()), err)
	}
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID)
	}
	return ids, nil
}

// Ready checks the endpoint's readiness: NIM answers 200 at
// /v1/health/ready once a model is loaded, 503 before.
func (c *Client) Ready(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.apiURL("/v1/health/ready"), nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("check readiness at %s: %w", req.URL, err)
	}
	defer resp.Body.Close()                               //nolint:errcheck // read path
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096)) // for the message only
	if resp.StatusCode != http.StatusOK {
		return &StatusError{URL: req.URL.String(), Code: resp.StatusCode, Message: errorMessage(raw)}
	}
	return nil
}

// StatusError is an endpoint's non-success answer to a check.
type StatusError struct {
	URL     string
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered %d: %s", e.URL, e.Code, e.Message)
}

// redactErr keeps a transport error's text but drops any URL credentials
// the error repeats (url.Error prints the whole URL).
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
