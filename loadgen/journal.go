package loadgen

import (
	"io"

	"github.com/scalegate/scalegate/journal"
)

// RecordsSchemaVersion is the version of the records journal format.
const RecordsSchemaVersion = 1

const recordsSchema = "scalegate.records"

// Journal appends records as JSONL, flushed per record, so a crash loses at
// most the requests still in flight. Safe for concurrent use.
type Journal = journal.Writer[Record]

// NewJournal writes the header line and returns the journal.
func NewJournal(w io.Writer) (*Journal, error) {
	return journal.NewWriter[Record](w, recordsSchema, RecordsSchemaVersion)
}

// ReadRecords loads a records journal; a cut-short last line is dropped and
// reported as truncated, any other bad line is an error with its number.
func ReadRecords(r io.Reader) (records []Record, truncated bool, err error) {
	return journal.Read[Record](r, recordsSchema, RecordsSchemaVersion)
}
