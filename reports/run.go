package reports

import (
	"time"

	"github.com/scalegate/scalegate/loadgen"
	"github.com/scalegate/scalegate/validator"
)

// SchemaVersion is the version of the JSON report. Fields are only ever
// added, never renamed or removed.
const SchemaVersion = 1

// Run is a graded run, as the reports show it.
type Run struct {
	SchemaVersion int    `json:"schemaVersion"`
	Version       string `json:"scalegateVersion"`
	// Status is the run's overall verdict.
	Status validator.Status `json:"status"`
	// Interrupted is true when the run was stopped before it finished; its
	// verdicts cover what was recorded.
	Interrupted bool      `json:"interrupted,omitempty"`
	Started     time.Time `json:"started"`
	// Phases are the durations of baseline, load and cool-down.
	Baseline time.Duration `json:"baseline"`
	Load     time.Duration `json:"load"`
	Cooldown time.Duration `json:"cooldown"`

	Endpoint string `json:"endpoint,omitempty"`
	Model    string `json:"model,omitempty"`
	Users    int    `json:"users,omitempty"`

	Profile  validator.Profile `json:"profile"`
	HPA      validator.HPASpec `json:"hpa"`
	Verdict  validator.Verdict `json:"verdict"`
	Replicas string            `json:"replicas"`
	Requests loadgen.Totals    `json:"requests"`
	// Dir is the run folder with the journals.
	Dir string `json:"dir,omitempty"`
	// Warnings are things the reader must know that are not verdicts.
	Warnings []string `json:"warnings,omitempty"`
}
