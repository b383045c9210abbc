package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scalegate/scalegate/loadgen"
	"github.com/scalegate/scalegate/validator"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func sampleRun() Run {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	return Run{
		Version: "test", Status: validator.Fail, Started: t0,
		Baseline: 3 * time.Second, Load: 12 * time.Second, Cooldown: 40 * time.Second,
		Endpoint: "http://127.0.0.1:8000", Model: "meta/codellama-13b-instruct", Users: 100,
		Profile: validator.DefaultProfile(),
		HPA:     validator.HPASpec{Namespace: "production", Name: "coding-assistant-hpa", MinReplicas: 2, MaxReplicas: 15},
		Verdict: validator.Verdict{Start: t0, Slack: 3 * time.Second, Findings: []validator.Finding{
			{Promise: 1, Name: "baseline replicas", Status: validator.Pass, Observed: "before load: spec 2, desired 2, ready 2", Limit: "= 2 before load, never fewer",
				Evidence: []validator.Evidence{{At: 2500 * time.Millisecond, Text: "Deployment spec 2, ready 2"}}},
			{Promise: 3, Name: "scale-down condition", Status: validator.Fail, Observed: "scaled down 5→4 at 71.0s while nim_queue_depth 15.0 did not meet nim_queue_depth < 10",
				Limit: "scale down only when nim_queue_depth < 10", Notes: []string{"the HPA itself proposes fewer pods below 18"},
				Evidence: []validator.Evidence{{At: 71 * time.Second, Text: "scaled down 5→4"}}},
			{Promise: 5, Name: "scale-down wait", Status: validator.Inconclusive, Observed: "no pod was removed before the run ended", Limit: "≥ 30s after the drop"},
		}},
		Replicas: "0s 2 → 19s 4 → 26s 5 → 71s 4",
		Requests: loadgen.Totals{Requests: 412, Errors: map[loadgen.Fail]int64{loadgen.FailHTTP: 2, loadgen.FailTimeout: 1}, OutTokens: 120000, TokensPerSec: 2100.4,
			TTFT:     loadgen.Latency{P50: 250 * time.Millisecond, P95: 4 * time.Second, P99: 6 * time.Second},
			EndToEnd: loadgen.Latency{P50: 800 * time.Millisecond, P95: 5 * time.Second, P99: 7 * time.Second}},
		Dir: "runs/example",
	}
}

func golden(t *testing.T, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update after checking):\n%s", path, got)
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	if err := Table(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	golden(t, b.Bytes())
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.SchemaVersion != SchemaVersion || back.Verdict.Findings[1].Status != validator.Fail {
		t.Errorf("round trip lost data: %+v", back)
	}
	golden(t, b.Bytes())
}

func TestJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := JUnit(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	var s struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
	}
	if err := xml.Unmarshal(b.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Tests != 3 || s.Failures != 1 || s.Errors != 1 {
		t.Errorf("tests/failures/errors = %d/%d/%d, want 3/1/1", s.Tests, s.Failures, s.Errors)
	}
	golden(t, b.Bytes())
}

func TestJUnitInterrupted(t *testing.T) {
	r := sampleRun()
	r.Interrupted = true
	var b bytes.Buffer
	if err := JUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<property name="interrupted" value="true">`, "the run was interrupted"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("JUnit of an interrupted run lacks %q", want)
		}
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	err := Render(&bytes.Buffer{}, "yaml", sampleRun())
	if err == nil || !strings.Contains(err.Error(), "table, json, junit") {
		t.Errorf("err = %v, want the valid formats listed", err)
	}
}
