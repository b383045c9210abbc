package loadgen

import (
	"bufio"
	"bytes"
	"io"
)

// sseReader reads Server-Sent Events. It never assumes one read is one
// event: lines end in \n, \r\n or \r, an event ends at a blank line, several
// data lines join with \n, and comment lines (":" ping) and fields other
// than data are skipped.
type sseReader struct {
	r    *bufio.Reader
	data bytes.Buffer
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 16*1024)}
}

// Next returns the data of the next event. At the end of the stream it
// returns the pending event, if any, then io.EOF.
func (s *sseReader) Next() ([]byte, error) {
	s.data.Reset()
	have := false
	for {
		line, err := s.readLine()
		if err != nil {
			if err == io.EOF && have {
				return s.data.Bytes(), nil
			}
			return nil, err
		}
		if len(line) == 0 {
			if have {
				return s.data.Bytes(), nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			value = nil
		} else if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		if string(field) != "data" {
			continue
		}
		if have {
			s.data.WriteByte('\n')
		}
		s.data.Write(value)
		have = true
	}
}

// readLine returns one line without its terminator (\n, \r\n or \r).
func (s *sseReader) readLine() ([]byte, error) {
	var line []byte
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				return line, nil
			}
			return nil, err
		}
		switch b {
		case '\n':
			return line, nil
		case '\r':
			if next, err := s.r.Peek(1); err == nil && next[0] == '\n' {
				_, _ = s.r.ReadByte() // the \n of a \r\n, known to be there
			}
			return line, nil
		}
		line = append(line, b)
	}
}
