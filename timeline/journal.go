package timeline

import (
	"io"

	"github.com/scalegate/scalegate/journal"
)

// SchemaVersion is the version of the timeline journal format. Fields are
// only ever added; a reader refuses a newer version.
const SchemaVersion = 1

const schemaName = "scalegate.timeline"

// Journal appends entries as JSONL, flushed per entry. It is safe for
// concurrent use.
type Journal = journal.Writer[Entry]

// NewJournal writes the journal header to w and returns the journal.
func NewJournal(w io.Writer) (*Journal, error) {
	return journal.NewWriter[Entry](w, schemaName, SchemaVersion)
}

// ReadResult is a journal read back.
type ReadResult struct {
	Timeline Timeline
	// Truncated is true when the last line was cut short (a killed run); the
	// entries before it are kept.
	Truncated bool
}

// Read loads a timeline journal, sorted by our clock.
func Read(r io.Reader) (ReadResult, error) {
	entries, truncated, err := journal.Read[Entry](r, schemaName, SchemaVersion)
	if err != nil {
		return ReadResult{}, err
	}
	return ReadResult{Timeline: Sorted(entries), Truncated: truncated}, nil
}
