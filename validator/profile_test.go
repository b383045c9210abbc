package validator

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultProfileIsTheFivePromises(t *testing.T) {
	p := DefaultProfile()
	if p.BaselineReplicas != 2 || time.Duration(p.MaxScaleUpLatency) != 90*time.Second || time.Duration(p.SyncPeriod) != 15*time.Second {
		t.Errorf("default profile = %+v", p)
	}
	if time.Duration(p.MinScaleDownWait) != 5*time.Minute {
		t.Errorf("minScaleDownWait = %v, want 5m", time.Duration(p.MinScaleDownWait))
	}
	tenth := p.ScaleTime(10)
	if time.Duration(tenth.MaxScaleUpLatency) != 9*time.Second || time.Duration(tenth.MinScaleDownWait) != 30*time.Second || time.Duration(tenth.SyncPeriod) != 1500*time.Millisecond {
		t.Errorf("ScaleTime(10) = %+v", tenth)
	}
	if got := thresholds(p.ScaleUpAbove, ">"); got != "nim_queue_depth > 20 OR nim_gpu_utilization_percent > 80" {
		t.Errorf("scale-up = %q", got)
	}
	if got := thresholds(p.ScaleDownBelow, "<"); got != "nim_queue_depth < 10 AND nim_gpu_utilization_percent < 50" {
		t.Errorf("scale-down = %q", got)
	}
}

func TestParseProfile(t *testing.T) {
	base := "schemaVersion: 1\nbaselineReplicas: 2\nscaleUpAbove: [{metric: q, value: 20}]\nscaleDownBelow: [{metric: q, value: 10}]\nsyncPeriod: 1\n"
	tests := []struct {
		name    string
		in      string
		wantErr string
		check   func(t *testing.T, p Profile)
	}{
		{name: "bare numbers are seconds", in: base + "maxScaleUpLatency: 9\n", check: func(t *testing.T, p Profile) {
			if time.Duration(p.MaxScaleUpLatency) != 9*time.Second || time.Duration(p.SyncPeriod) != time.Second {
				t.Errorf("got %v and %v", time.Duration(p.MaxScaleUpLatency), time.Duration(p.SyncPeriod))
			}
		}},
		{name: "durations", in: base + "maxScaleUpLatency: 1m30s\nminScaleDownWait: 30s\n", check: func(t *testing.T, p Profile) {
			if time.Duration(p.MaxScaleUpLatency) != 90*time.Second || time.Duration(p.MinScaleDownWait) != 30*time.Second {
				t.Errorf("got %+v", p)
			}
		}},
		{name: "unknown field names the valid ones", in: base + "maxScaleUpLatency: 9\nmaxLatency: 3\n", wantErr: "known fields: schemaVersion"},
		{name: "bad duration", in: base + "maxScaleUpLatency: soon\n", wantErr: "want a number of seconds or a duration"},
		{name: "wrong type names the field", in: strings.Replace(base, "value: 20", "value: twenty", 1) + "maxScaleUpLatency: 9\n", wantErr: "profile: field scaleUpAbove.value has the wrong type (want float64)"},
		{name: "empty file", in: "\n", wantErr: "the file is empty"},
		{name: "missing latency", in: base, wantErr: "maxScaleUpLatency must be positive"},
		{name: "wrong schema", in: strings.Replace(base, "schemaVersion: 1", "schemaVersion: 2", 1) + "maxScaleUpLatency: 9\n", wantErr: "schemaVersion 2, want 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseProfile([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, p)
		})
	}
}
