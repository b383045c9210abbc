// Package journal owns scalegate's append-only JSONL files: a header line
// naming the schema and its version, then one JSON value per line, flushed
// as it is appended so a killed run keeps everything written before it
// died. Read loads a journal back, keeps the values before a cut-short last
// line and reports it as truncated, and names the line of any other bad
// one. It knows nothing of what the values are.
package journal
