package mocknim

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// vocabulary is the text the mock "generates", one entry per token, cycled.
// It is fixed rather than drawn so responses are easy to compare.
var vocabulary = []string{
	"def", " fib", "(n", "):", "\n", "   ", " if", " n", " <", " 2", ":", "\n",
	"       ", " return", " n", "\n", "   ", " return", " fib", "(n", " -", " 1",
	")", " +", " fib", "(n", " -", " 2", ")", "\n",
}

func token(i int) string { return vocabulary[i%len(vocabulary)] }

// job is one admitted request with everything about it already drawn.
type job struct {
	parsed
	id       string
	object   string // of a stream chunk or of the full response
	created  int64
	model    string
	tokens   int    // output tokens to generate
	finish   string // "stop" or "length"
	prefill  time.Duration
	perToken time.Duration
}

// plan draws a request's speed and length from the seeded source.
func (s *Server) plan(p parsed) job {
	s.rngMu.Lock()
	prefill := s.cfg.Prefill.draw(s.rng)
	perToken := s.cfg.PerToken.draw(s.rng)
	tokens := s.cfg.OutputTokens.draw(s.rng)
	id := fmt.Sprintf("%016x%016x", s.rng.Uint64(), s.rng.Uint64())
	s.rngMu.Unlock()

	j := job{
		parsed:   p,
		created:  s.clock.Now().Unix(),
		model:    s.cfg.Model,
		tokens:   tokens,
		finish:   "stop",
		prefill:  s.scaled(prefill),
		perToken: s.scaled(perToken),
	}
	limit := s.cfg.MaxModelLen - p.promptTokens
	if p.maxTokens > 0 {
		limit = p.maxTokens
	}
	if j.tokens > limit {
		j.tokens, j.finish = limit, "length"
	}
	switch {
	case p.endpoint == chatEndpoint && p.stream:
		j.id, j.object = "chatcmpl-"+id, "chat.completion.chunk"
	case p.endpoint == chatEndpoint:
		j.id, j.object = "chatcmpl-"+id, "chat.completion"
	default:
		j.id, j.object = "cmpl-"+id, "text_completion"
	}
	return j
}

// generate handles both completion endpoints: decode, route, wait for a
// slot, then answer at the drawn speed.
func (s *Server) generate(ep endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, aerr := s.readBody(w, r)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		p, aerr := decode(ep, body)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		if p.model != "" && p.model != s.cfg.Model {
			writeError(w, &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("The model `%s` does not exist.", p.model)})
			return
		}
		if room := s.cfg.MaxModelLen - p.promptTokens; room < 1 || p.maxTokens > room {
			writeError(w, badRequest("This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
				s.cfg.MaxModelLen, p.promptTokens+p.maxTokens, p.promptTokens, p.maxTokens))
			return
		}
		j := s.plan(p)

		t, err := s.assign()
		if err != nil {
			writeError(w, &apiError{status: http.StatusServiceUnavailable, msg: "no pod is ready to serve; retry later"})
			return
		}
		ctx := r.Context()
		if err := s.wait(ctx, t); err != nil {
			return // the client left while queued; no one to answer
		}
		var generated int
		if p.stream {
			generated, err = s.stream(ctx, w, t.pod.name, j)
		} else {
			generated, err = s.respond(ctx, w, t.pod.name, j)
		}
		s.release(t, err == nil, j.promptTokens, generated)
	})
}

// respond answers a non-streaming request once all its tokens are out.
func (s *Server) respond(ctx context.Context, w http.ResponseWriter, podName string, j job) (int, error) {
	if err := s.sleep(ctx, j.prefill+time.Duration(j.tokens-1)*j.perToken); err != nil {
		return 0, err
	}
	var text strings.Builder
	for i := range j.tokens {
		text.WriteString(token(i))
	}
	out := text.String()
	choice := completionChoice{Index: 0, FinishReason: j.finish}
	if j.endpoint == chatEndpoint {
		choice.Message = &replyMessage{Role: "assistant", Content: out}
	} else {
		choice.Text = &out
	}
	w.Header().Set(PodHeader, podName)
	writeJSON(w, http.StatusOK, completion{
		ID:      j.id,
		Object:  j.object,
		Created: j.created,
		Model:   j.model,
		Choices: []completionChoice{choice},
		Usage:   j.usage(j.tokens),
	})
	return j.tokens, nil
}

func (j job) usage(generated int) usage {
	return usage{PromptTokens: j.promptTokens, CompletionTokens: generated, TotalTokens: j.promptTokens + generated}
}

// stream answers with server-sent events, as vLLM does: headers with the
// first token (after prefill), a role-only chunk first on chat, one chunk per
// token, a chunk carrying finish_reason, a usage chunk when the request asked
// for one, then [DONE].
func (s *Server) stream(ctx context.Context, w http.ResponseWriter, podName string, j job) (int, error) {
	if err := s.sleep(ctx, j.prefill); err != nil {
		return 0, err
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set(PodHeader, podName)
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	send := func(c chunk) error {
		buf.Reset()
		buf.WriteString("data: ")
		buf.Write(marshal(c))
		buf.WriteString("\n\n")
		if _, err := w.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("write event: %w", err)
		}
		if err := rc.Flush(); err != nil {
			return fmt.Errorf("flush event: %w", err)
		}
		return nil
	}
	if j.endpoint == chatEndpoint {
		if err := send(j.chunk(chunkChoice{Delta: &delta{Role: "assistant"}})); err != nil {
			return 0, err
		}
	}
	for i := range j.tokens {
		if i > 0 {
			if err := s.sleep(ctx, j.perToken); err != nil {
				return i, err
			}
		}
		if err := send(j.chunk(j.content(token(i)))); err != nil {
			return i, err
		}
	}
	last := j.content("")
	if j.endpoint == chatEndpoint {
		last.Delta = &delta{}
	}
	last.FinishReason = &j.finish
	if err := send(j.chunk(last)); err != nil {
		return j.tokens, err
	}
	if j.includeUsage {
		u := j.usage(j.tokens)
		if err := send(chunk{ID: j.id, Object: j.object, Created: j.created, Model: j.model, Choices: []chunkChoice{}, Usage: &u}); err != nil {
			return j.tokens, err
		}
	}
	if _, err := w.Write([]byte("data: [DONE]\n\n")); err != nil {
		return j.tokens, fmt.Errorf("write done: %w", err)
	}
	if err := rc.Flush(); err != nil {
		return j.tokens, fmt.Errorf("flush done: %w", err)
	}
	return j.tokens, nil
}

func (j job) chunk(c chunkChoice) chunk {
	return chunk{ID: j.id, Object: j.object, Created: j.created, Model: j.model, Choices: []chunkChoice{c}}
}

// content is a choice carrying text: a delta on chat, text on completions.
func (j job) content(text string) chunkChoice {
	if j.endpoint == chatEndpoint {
		return chunkChoice{Delta: &delta{Content: &text}}
	}
	return chunkChoice{Text: &text}
}
