package timeline

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestJournalRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	entries := []Entry{
		{At: t0, Kind: KindPhase, Phase: &Phase{Name: PhaseBaseline}},
		{At: t0.Add(2 * time.Second), Server: t0.Add(time.Second), Kind: KindRescale, Ref: "production/hpa",
			Rescale: &Rescale{NewSize: 5, Reason: "SuccessfulRescale", Message: "New size: 5; reason: pods metric nim_queue_depth above target"}},
		{At: t0.Add(time.Second), Kind: KindSample, Sample: &Sample{Metric: "nim_queue_depth", Pods: map[string]float64{"a": 30, "b": 50}, Average: 40}},
	}
	var buf bytes.Buffer
	j, err := NewJournal(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := j.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Truncated {
		t.Error("Truncated = true for a complete journal")
	}
	if len(got.Timeline) != 3 {
		t.Fatalf("read %d entries, want 3", len(got.Timeline))
	}
	// Read sorts by our clock: the sample observed at t0+1s comes second.
	if got.Timeline[1].Kind != KindSample || got.Timeline[1].Sample.Pods["b"] != 50 {
		t.Errorf("entry 1 = %+v, want the sample", got.Timeline[1])
	}
	if r := got.Timeline[2].Rescale; r == nil || r.NewSize != 5 || !got.Timeline[2].Server.Equal(t0.Add(time.Second)) {
		t.Errorf("entry 2 = %+v, want the rescale with its server time", got.Timeline[2])
	}
}

func TestReadTruncatedAndMalformed(t *testing.T) {
	head := `{"schema":"scalegate.timeline","schemaVersion":1}` + "\n"
	good := `{"at":"2026-12-03T10:00:00Z","kind":"phase","phase":{"name":"load"}}` + "\n"
	tests := []struct {
		name      string
		in        string
		wantErr   string
		truncated bool
		entries   int
	}{
		{name: "cut last line", in: head + good + `{"at":"2026-12-03T10:0`, truncated: true, entries: 1},
		{name: "bad middle line", in: head + "{oops\n" + good, wantErr: "line 2"},
		{name: "not a journal", in: `{"at":"x"}` + "\n", wantErr: "not a scalegate.timeline journal"},
		{name: "newer schema", in: `{"schema":"scalegate.timeline","schemaVersion":9}` + "\n", wantErr: "upgrade scalegate"},
		{name: "empty", in: "", wantErr: "empty scalegate.timeline journal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Truncated != tc.truncated || len(got.Timeline) != tc.entries {
				t.Errorf("got truncated=%v entries=%d, want %v and %d", got.Truncated, len(got.Timeline), tc.truncated, tc.entries)
			}
		})
	}
}
