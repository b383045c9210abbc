package mocknim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// endpoint is which OpenAI API a request came in on.
type endpoint int

const (
	chatEndpoint        endpoint = iota // POST /v1/chat/completions
	completionsEndpoint                 // POST /v1/completions
)

// request is the part of an OpenAI request body the mock reads. Everything
// else (temperature, stop, tools…) is accepted and ignored, as current vLLM
// does.
type request struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	Prompt              json.RawMessage `json:"prompt"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	N                   *int            `json:"n"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type streamOptions struct {
	IncludeUsage *bool `json:"include_usage"`
}

// parsed is a decoded, validated request.
type parsed struct {
	endpoint     endpoint
	model        string // "" when the request named none
	promptTokens int    // estimated: about four bytes per token
	maxTokens    int    // 0 when the request set no limit
	stream       bool
	includeUsage bool // stream_options.include_usage was true
}

// decode parses and checks a request body. It never panics; every problem
// is a 400 apiError.
func decode(ep endpoint, body []byte) (parsed, *apiError) {
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		return parsed{}, badRequest("invalid JSON body: %v", err)
	}
	p := parsed{
		endpoint:     ep,
		model:        req.Model,
		stream:       req.Stream,
		includeUsage: req.StreamOptions != nil && req.StreamOptions.IncludeUsage != nil && *req.StreamOptions.IncludeUsage,
	}
	switch ep {
	case chatEndpoint:
		if len(req.Messages) == 0 {
			return parsed{}, badRequest("messages is required and must not be empty")
		}
		for i, m := range req.Messages {
			if m.Role == "" {
				return parsed{}, badRequest("messages[%d].role is required", i)
			}
			p.promptTokens += 4 + tokensForBytes(len(m.Content)) // role and framing, then content
		}
	case completionsEndpoint:
		n, aerr := promptTokens(req.Prompt)
		if aerr != nil {
			return parsed{}, aerr
		}
		p.promptTokens = n
	}
	limit, name := req.MaxTokens, "max_tokens"
	if ep == chatEndpoint && req.MaxCompletionTokens != nil {
		limit, name = req.MaxCompletionTokens, "max_completion_tokens"
	}
	if limit != nil {
		if *limit < 1 {
			return parsed{}, badRequest("%s must be at least 1, got %d", name, *limit)
		}
		p.maxTokens = *limit
	}
	if req.N != nil && *req.N != 1 {
		return parsed{}, badRequest("n must be 1: the mock generates one choice per request, got %d", *req.N)
	}
	return p, nil
}

// promptTokens estimates the tokens of a completions prompt: a string, an
// array of strings, an array of token ids or an array of such arrays.
func promptTokens(raw json.RawMessage) (int, *apiError) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return 0, badRequest("prompt is required")
	}
	n := 0
	var s string
	var ss []string
	var ids []int64
	var idss [][]int64
	switch {
	case json.Unmarshal(raw, &s) == nil:
		n = tokensForBytes(len(s))
	case json.Unmarshal(raw, &ss) == nil:
		for _, s := range ss {
			n += tokensForBytes(len(s))
		}
	case json.Unmarshal(raw, &ids) == nil:
		n = len(ids)
	case json.Unmarshal(raw, &idss) == nil:
		for _, ids := range idss {
			n += len(ids)
		}
	default:
		return 0, badRequest("prompt must be a string, an array of strings or an array of token ids")
	}
	if n == 0 {
		return 0, badRequest("prompt must not be empty")
	}
	return n, nil
}

// tokensForBytes is the usual rough estimate: four bytes of text per token.
func tokensForBytes(n int) int { return (n + 3) / 4 }

// apiError is an error answered before any pod took the request, in the
// nested OpenAI shape newer vLLM (and so NIM 2.x) uses.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// errorTypes names each status the way vLLM's error bodies do.
var errorTypes = map[int]string{
	http.StatusBadRequest:            "BadRequestError",
	http.StatusNotFound:              "NotFoundError",
	http.StatusMethodNotAllowed:      "MethodNotAllowedError",
	http.StatusRequestEntityTooLarge: "RequestEntityTooLargeError",
	http.StatusServiceUnavailable:    "ServiceUnavailableError",
}

type errorBody struct {
	Error errorInfo `json:"error"`
}

type errorInfo struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    int     `json:"code"`
}

func (e *apiError) body() errorBody {
	typ, ok := errorTypes[e.status]
	if !ok {
		typ = "InternalServerError"
	}
	return errorBody{Error: errorInfo{Message: e.msg, Type: typ, Code: e.status}}
}

// Response bodies. Field order matches vLLM's, so captured bytes look real.

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type chunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	Usage   *usage        `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int       `json:"index"`
	Delta        *delta    `json:"delta,omitempty"` // chat only
	Text         *string   `json:"text,omitempty"`  // completions only
	Logprobs     *struct{} `json:"logprobs"`        // always null
	FinishReason *string   `json:"finish_reason"`
}

type delta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   usage              `json:"usage"`
}

type completionChoice struct {
	Index        int           `json:"index"`
	Message      *replyMessage `json:"message,omitempty"` // chat only
	Text         *string       `json:"text,omitempty"`    // completions only
	Logprobs     *struct{}     `json:"logprobs"`
	FinishReason string        `json:"finish_reason"`
}

type replyMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type modelList struct {
	Object string      `json:"object"`
	Data   []modelCard `json:"data"`
}

type modelCard struct {
	ID          string            `json:"id"`
	Object      string            `json:"object"`
	Created     int64             `json:"created"`
	OwnedBy     string            `json:"owned_by"`
	Root        string            `json:"root"`
	Parent      *string           `json:"parent"`
	MaxModelLen int               `json:"max_model_len"`
	Permission  []modelPermission `json:"permission"`
}

type modelPermission struct {
	ID                 string  `json:"id"`
	Object             string  `json:"object"`
	Created            int64   `json:"created"`
	AllowCreateEngine  bool    `json:"allow_create_engine"`
	AllowSampling      bool    `json:"allow_sampling"`
	AllowLogprobs      bool    `json:"allow_logprobs"`
	AllowSearchIndices bool    `json:"allow_search_indices"`
	AllowView          bool    `json:"allow_view"`
	AllowFineTuning    bool    `json:"allow_fine_tuning"`
	Organization       string  `json:"organization"`
	Group              *string `json:"group"`
	IsBlocking         bool    `json:"is_blocking"`
}

type healthBody struct {
	Object  string `json:"object"`
	Message string `json:"message"`
}

// marshal encodes v as compact JSON without HTML escaping (Python's json
// module does not escape <, > or &, and neither do real NIM responses).
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own response types reach here; they always encode.
		panic(fmt.Sprintf("mocknim: encode %T: %v", v, err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
