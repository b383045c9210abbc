package reports

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/scalegate/scalegate/loadgen"
	"github.com/scalegate/scalegate/validator"
)

// Formats lists the output formats, in the order help shows them.
var Formats = []string{"table", "json", "junit"}

// Render writes r in the named format.
func Render(w io.Writer, format string, r Run) error {
	switch format {
	case "table":
		return Table(w, r)
	case "json":
		return JSON(w, r)
	case "junit":
		return JUnit(w, r)
	}
	return fmt.Errorf("output format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// JSON writes the run as indented JSON.
func JSON(w io.Writer, r Run) error {
	r.SchemaVersion = SchemaVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Table writes the run for a terminal.
func Table(w io.Writer, r Run) error {
	var fails, inconclusive int
	for _, f := range r.Verdict.Findings {
		switch f.Status {
		case validator.Fail:
			fails++
		case validator.Inconclusive:
			inconclusive++
		}
	}
	head := fmt.Sprintf("scalegate: HPA %s/%s → %s", r.HPA.Namespace, r.HPA.Name, strings.ToUpper(string(r.Status)))
	if fails+inconclusive > 0 {
		head += fmt.Sprintf(" (%d failed, %d inconclusive)", fails, inconclusive)
	}
	if r.Interrupted {
		head += " — interrupted, partial run"
	}
	if _, err := fmt.Fprintln(w, head); err != nil {
		return err
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithMaxWidth(160),
		tablewriter.WithColumnWidths(tw.NewMapper[int, int]().Set(3, 44).Set(4, 30).Set(5, 44)),
	)
	t.Header("#", "Promise", "Verdict", "Observed", "Limit", "Evidence")
	for _, f := range r.Verdict.Findings {
		if err := t.Append(fmt.Sprint(f.Promise), f.Name, string(f.Status), f.Observed, f.Limit, evidence(f, 3)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Replicas: %s\n", orNone(r.Replicas))
	q := r.Requests
	fmt.Fprintf(&b, "Load: %d users, %d requests, %d errors%s; %.0f output tokens/s\n", r.Users, q.Requests, q.ErrorCount(), errorClasses(q), q.TokensPerSec)
	fmt.Fprintf(&b, "  TTFT        p50 %s  p95 %s  p99 %s\n", ms(q.TTFT.P50), ms(q.TTFT.P95), ms(q.TTFT.P99))
	fmt.Fprintf(&b, "  end-to-end  p50 %s  p95 %s  p99 %s\n", ms(q.EndToEnd.P50), ms(q.EndToEnd.P95), ms(q.EndToEnd.P99))
	fmt.Fprintf(&b, "Timing slack: %s (one sync period + the sample interval)\n", r.Verdict.Slack)
	for _, f := range r.Verdict.Findings {
		for _, n := range f.Notes {
			fmt.Fprintf(&b, "Note (%d): %s\n", f.Promise, n)
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "Warning: %s\n", warn)
	}
	if r.Dir != "" {
		fmt.Fprintf(&b, "Run folder: %s\n", r.Dir)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func evidence(f validator.Finding, n int) string {
	var lines []string
	for i, e := range f.Evidence {
		if i == n {
			lines = append(lines, fmt.Sprintf("(+%d more)", len(f.Evidence)-n))
			break
		}
		lines = append(lines, fmt.Sprintf("%s %s", offset(e.At), e.Text))
	}
	return strings.Join(lines, "\n")
}

func offset(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Millisecond).String()
}

func orNone(s string) string {
	if s == "" {
		return "none observed"
	}
	return s
}

// errorClasses renders the failures by class, e.g. " (http 3, timeout 1)".
func errorClasses(t loadgen.Totals) string {
	var parts []string
	for _, f := range t.ErrorClasses() {
		parts = append(parts, fmt.Sprintf("%s %d", f, t.Errors[f]))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// JUnit writes one testsuite with one testcase per promise. A failure's
// message is the observed figure and its text the evidence; an
// inconclusive promise is an error, so CI never shows it as passed.
func JUnit(w io.Writer, r Run) error {
	type result struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string  `xml:"name,attr"`
		Classname string  `xml:"classname,attr"`
		Time      string  `xml:"time,attr"`
		Failure   *result `xml:"failure,omitempty"`
		Error     *result `xml:"error,omitempty"`
		SystemOut string  `xml:"system-out,omitempty"`
	}
	type property struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	type testsuite struct {
		XMLName    xml.Name   `xml:"testsuite"`
		Name       string     `xml:"name,attr"`
		Tests      int        `xml:"tests,attr"`
		Failures   int        `xml:"failures,attr"`
		Errors     int        `xml:"errors,attr"`
		Timestamp  string     `xml:"timestamp,attr"`
		Properties []property `xml:"properties>property,omitempty"`
		Cases      []testcase `xml:"testcase"`
	}
	s := testsuite{Name: "scalegate " + r.HPA.Namespace + "/" + r.HPA.Name, Timestamp: r.Started.UTC().Format(time.RFC3339),
		Properties: []property{{Name: "status", Value: string(r.Status)}}}
	partial := ""
	if r.Interrupted {
		s.Properties = append(s.Properties, property{Name: "interrupted", Value: "true"})
		partial = "the run was interrupted: this covers what was recorded until then\n"
	}
	for _, f := range r.Verdict.Findings {
		c := testcase{
			Name:      fmt.Sprintf("promise %d: %s", f.Promise, f.Name),
			Classname: "scalegate." + r.HPA.Name,
			Time:      "0",
			SystemOut: fmt.Sprintf("%sobserved: %s\nlimit: %s\n%s", partial, f.Observed, f.Limit, evidence(f, len(f.Evidence))),
		}
		text := fmt.Sprintf("%slimit: %s\n%s", partial, f.Limit, evidence(f, len(f.Evidence)))
		switch f.Status {
		case validator.Fail:
			c.Failure = &result{Message: f.Observed, Type: "Fail", Text: text}
			s.Failures++
		case validator.Inconclusive:
			c.Error = &result{Message: "inconclusive: " + f.Observed, Type: "Inconclusive", Text: text}
			s.Errors++
		}
		s.Cases = append(s.Cases, c)
	}
	s.Tests = len(s.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
