package loadgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// RecordsSchemaVersion is the version of the records journal format.
const RecordsSchemaVersion = 1

const recordsSchema = "scalegate.records"

// Journal appends records as JSONL, flushed per record, so a crash loses at
// most the requests still in flight. Safe for concurrent use.
type Journal struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

// NewJournal writes the header line and returns the journal.
func NewJournal(w io.Writer) (*Journal, error) {
	bw := bufio.NewWriter(w)
	j := &Journal{w: bw, enc: json.NewEncoder(bw)}
	if err := j.enc.Encode(map[string]any{"schema": recordsSchema, "schemaVersion": RecordsSchemaVersion}); err != nil {
		return nil, fmt.Errorf("write records header: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write records header: %w", err)
	}
	return j, nil
}

// Append writes one record.
func (j *Journal) Append(r Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if err := j.enc.Encode(r); err != nil {
		j.err = fmt.Errorf("append record: %w", err)
		return j.err
	}
	if err := j.w.Flush(); err != nil {
		j.err = fmt.Errorf("append record: %w", err)
	}
	return j.err
}

// ReadRecords loads a records journal; a cut-short last line is dropped and
// reported as truncated, any other bad line is an error with its number.
func ReadRecords(r io.Reader) (records []Record, truncated bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	line := 0
	var pending error
	for sc.Scan() {
		line++
		if pending != nil {
			return nil, false, pending
		}
		if line == 1 {
			var h struct {
				Schema  string `json:"schema"`
				Version int    `json:"schemaVersion"`
			}
			if json.Unmarshal(sc.Bytes(), &h) != nil || h.Schema != recordsSchema {
				return nil, false, fmt.Errorf("line 1: not a scalegate records journal")
			}
			if h.Version > RecordsSchemaVersion {
				return nil, false, fmt.Errorf("line 1: records schema version %d is newer than this scalegate reads (%d)", h.Version, RecordsSchemaVersion)
			}
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			pending = fmt.Errorf("line %d: %w", line, err)
			continue
		}
		records = append(records, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("read records: %w", err)
	}
	return records, pending != nil, nil
}
