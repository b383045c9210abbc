package journal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// header is the first line of a journal.
type header struct {
	Schema  string `json:"schema"`
	Version int    `json:"schemaVersion"`
}

// Writer appends values of type T to a journal. It is safe for concurrent
// use.
type Writer[T any] struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

// NewWriter writes the header line for schema at version and returns the
// writer.
func NewWriter[T any](w io.Writer, schema string, version int) (*Writer[T], error) {
	bw := bufio.NewWriter(w)
	j := &Writer[T]{w: bw, enc: json.NewEncoder(bw)}
	if err := j.enc.Encode(header{Schema: schema, Version: version}); err != nil {
		return nil, fmt.Errorf("write %s header: %w", schema, err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write %s header: %w", schema, err)
	}
	return j, nil
}

// Append writes one value and flushes it. After a write error every later
// Append returns that error.
func (j *Writer[T]) Append(v T) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if err := j.enc.Encode(v); err != nil {
		j.err = fmt.Errorf("append to journal: %w", err)
		return j.err
	}
	if err := j.w.Flush(); err != nil {
		j.err = fmt.Errorf("append to journal: %w", err)
	}
	return j.err
}

// Read loads a journal of schema written at a version up to maxVersion.
// Only the last line may be cut short (truncated is then true, and the
// values before it are returned); any other malformed line is an error
// that names its line number.
func Read[T any](r io.Reader, schema string, maxVersion int) (values []T, truncated bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	line := 0
	var pending error
	for sc.Scan() {
		line++
		if pending != nil {
			return nil, false, pending
		}
		raw := sc.Bytes()
		if len(raw) == 0 {
			continue
		}
		if line == 1 {
			var h header
			if err := json.Unmarshal(raw, &h); err != nil || h.Schema != schema {
				return nil, false, fmt.Errorf("line 1: not a %s journal", schema)
			}
			if h.Version > maxVersion {
				return nil, false, fmt.Errorf("line 1: %s schema version %d is newer than this scalegate reads (%d); upgrade scalegate", schema, h.Version, maxVersion)
			}
			continue
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			// Only the last line may be cut short; decide when we know.
			pending = fmt.Errorf("line %d: %w", line, err)
			continue
		}
		values = append(values, v)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, false, fmt.Errorf("read %s journal: %w", schema, err)
	}
	if line == 0 {
		return nil, false, fmt.Errorf("empty %s journal: no header line", schema)
	}
	return values, pending != nil, nil
}
