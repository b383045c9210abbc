package loadgen

import (
	"time"
)

// Fail classifies a failed request. The empty value means success.
type Fail string

// The failure classes. Their string values are part of the journal format.
const (
	FailNone        Fail = ""
	FailConnect     Fail = "connect"      // could not connect or send
	FailHTTP        Fail = "http"         // a non-2xx status
	FailStreamError Fail = "stream-error" // an error event inside a 200 stream
	FailDecode      Fail = "decode"       // a body or event that does not parse
	FailTimeout     Fail = "timeout"      // a first-token, idle or total timeout
	FailCanceled    Fail = "canceled"     // the run was stopped
	FailNoTokens    Fail = "no-tokens"    // the stream ended without content
)

// Record is what one request experienced. It never changes once emitted.
type Record struct {
	Seq  uint64 `json:"seq"`
	User int    `json:"user"`
	Kind string `json:"kind"`
	// Scheduled is when the workload wanted the request sent; Sent is when
	// it left. Sent - Scheduled is the generator's own lateness.
	Scheduled time.Time `json:"scheduled"`
	Sent      time.Time `json:"sent"`
	// FirstToken is the time from Sent to the first chunk with content
	// (never the role-only chunk); zero if none came.
	FirstToken time.Duration `json:"firstToken,omitempty"`
	// Total is the time from Sent to the end of the response.
	Total        time.Duration `json:"total"`
	PromptTokens int           `json:"promptTokens,omitempty"`
	OutTokens    int           `json:"outTokens"`
	// UsageReported is true when OutTokens came from the server's usage; else
	// it is the count of content chunks.
	UsageReported bool   `json:"usageReported,omitempty"`
	Code          int    `json:"code,omitempty"`
	Fail          Fail   `json:"fail,omitempty"`
	Detail        string `json:"detail,omitempty"` // human text, never used for logic
	// Pod is the serving pod, when the server names it in a header.
	Pod string `json:"pod,omitempty"`
}

// OK reports whether the request succeeded.
func (r Record) OK() bool { return r.Fail == FailNone }

// Lateness is how late the request left compared with its schedule.
func (r Record) Lateness() time.Duration { return r.Sent.Sub(r.Scheduled) }

// FirstTokenFromScheduled is the time to first token as the user felt it,
// counted from when the request should have been sent.
func (r Record) FirstTokenFromScheduled() time.Duration {
	if r.FirstToken == 0 {
		return 0
	}
	return r.Lateness() + r.FirstToken
}
