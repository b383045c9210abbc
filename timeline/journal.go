package timeline

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// SchemaVersion is the version of the journal format. Fields are only ever
// added; a reader refuses a newer major version.
const SchemaVersion = 1

// header is the first line of a journal.
type header struct {
	Schema  string `json:"schema"`
	Version int    `json:"schemaVersion"`
}

const schemaName = "scalegate.timeline"

// Journal appends entries to a writer as JSONL, one line per entry, flushed
// at once so a killed run keeps every entry written before it died. It is
// safe for concurrent use.
type Journal struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

// NewJournal writes the journal header to w and returns the journal.
func NewJournal(w io.Writer) (*Journal, error) {
	bw := bufio.NewWriter(w)
	j := &Journal{w: bw, enc: json.NewEncoder(bw)}
	if err := j.enc.Encode(header{Schema: schemaName, Version: SchemaVersion}); err != nil {
		return nil, fmt.Errorf("write journal header: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write journal header: %w", err)
	}
	return j, nil
}

// Append writes one entry. After a write error every later Append returns
// that error.
func (j *Journal) Append(e Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if err := j.enc.Encode(e); err != nil {
		j.err = fmt.Errorf("append to journal: %w", err)
		return j.err
	}
	if err := j.w.Flush(); err != nil {
		j.err = fmt.Errorf("append to journal: %w", err)
	}
	return j.err
}

// ReadResult is a journal read back.
type ReadResult struct {
	Timeline Timeline
	// Truncated is true when the last line was cut short (a killed run); the
	// entries before it are kept.
	Truncated bool
}

// Read loads a journal. A malformed line other than the last is an error
// that names its line number.
func Read(r io.Reader) (ReadResult, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	var res ReadResult
	var entries []Entry
	line := 0
	var pending error
	for sc.Scan() {
		line++
		if pending != nil {
			return res, pending
		}
		raw := sc.Bytes()
		if len(raw) == 0 {
			continue
		}
		if line == 1 {
			var h header
			if err := json.Unmarshal(raw, &h); err != nil || h.Schema != schemaName {
				return res, fmt.Errorf("line 1: not a scalegate timeline journal")
			}
			if h.Version > SchemaVersion {
				return res, fmt.Errorf("line 1: journal schema version %d is newer than this scalegate reads (%d); upgrade scalegate", h.Version, SchemaVersion)
			}
			continue
		}
		var e Entry
		if err := json.Unmarshal(raw, &e); err != nil {
			// Only the last line may be cut short; decide when we know.
			pending = fmt.Errorf("line %d: %w", line, err)
			continue
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return res, fmt.Errorf("read journal: %w", err)
	}
	if line == 0 {
		return res, fmt.Errorf("empty journal: no header line")
	}
	res.Truncated = pending != nil
	res.Timeline = Sorted(entries)
	return res, nil
}
