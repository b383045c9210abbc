package loadgen

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzSSEReader checks that the reader never panics or loops, and that how
// the bytes are split into reads never changes the events it returns.
func FuzzSSEReader(f *testing.F) {
	for _, seed := range []string{
		"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n",
		": ping\r\n\r\ndata: a\r\ndata: b\r\n\r\n",
		"data: a\r\rdata:b\r\r",
		"event: error\nid: 7\nretry: 10\ndata: {\"error\":{\"message\":\"x\"}}\n\n",
		"data",
		"\n\n\n",
		"data: \xff\xfe\n\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		whole := readAll(t, bytes.NewReader(in), len(in))
		split := readAll(t, iotest.OneByteReader(bytes.NewReader(in)), len(in))
		if strings.Join(whole, "\x00") != strings.Join(split, "\x00") {
			t.Fatalf("one read gave %q, one byte per read gave %q", whole, split)
		}
		for _, ev := range whole {
			if strings.ContainsAny(ev, "\r") {
				t.Fatalf("event %q keeps a line terminator", ev)
			}
		}
	})
}

// readAll reads every event; n bounds the loop (an event takes at least one
// byte of input).
func readAll(t *testing.T, r io.Reader, n int) []string {
	t.Helper()
	s := newSSEReader(r)
	var out []string
	for range n + 1 {
		d, err := s.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(d))
	}
	t.Fatal("the reader did not reach the end of its input")
	return nil
}
