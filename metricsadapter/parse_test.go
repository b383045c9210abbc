package metricsadapter

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

const exposition = `# HELP nim_queue_depth Requests waiting in the pod's queue for a generation slot.
# TYPE nim_queue_depth gauge
nim_queue_depth{namespace="prod",pod="nim-a"} 7
nim_queue_depth{namespace="prod",pod="nim-b"} 0.5
# TYPE nim_gpu_utilization_percent gauge
nim_gpu_utilization_percent{namespace="prod",pod="nim-a"} 81.25
# TYPE num_requests_waiting gauge
num_requests_waiting{model_name="llama",namespace="prod",pod="nim-a"} 3
num_requests_waiting{model_name="mistral",namespace="prod",pod="nim-a"} 4
# TYPE request_success_total counter
request_success_total{model_name="llama",namespace="prod",pod="nim-a"} 120
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="gemma",namespace="prod",pod="nim-a"} 2
# TYPE no_pod gauge
no_pod{namespace="prod"} 1
# TYPE no_namespace gauge
no_namespace{pod="nim-a"} 1
# TYPE empty_pod gauge
empty_pod{namespace="prod",pod=""} 1
# TYPE loose untyped
loose{namespace="prod",pod="nim-a"} 9
# TYPE not_a_number gauge
not_a_number{namespace="prod",pod="nim-a"} NaN
# TYPE ttft_seconds histogram
ttft_seconds_bucket{namespace="prod",pod="nim-a",le="+Inf"} 3
ttft_seconds_sum{namespace="prod",pod="nim-a"} 1.5
ttft_seconds_count{namespace="prod",pod="nim-a"} 3
`

// sampleString renders a sample compactly for comparison.
func sampleString(s Sample) string {
	var b strings.Builder
	b.WriteString(s.Metric + " " + s.Namespace + "/" + s.Pod)
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + s.Labels[k])
	}
	b.WriteString(" " + strconv.FormatFloat(s.Value, 'g', -1, 64))
	return b.String()
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		renames map[string]string
		want    []string
	}{
		{
			name: "seed and nim names as is",
			want: []string{
				"loose prod/nim-a 9",
				"nim_gpu_utilization_percent prod/nim-a 81.25",
				"nim_queue_depth prod/nim-a 7",
				"nim_queue_depth prod/nim-b 0.5",
				"num_requests_waiting prod/nim-a model_name=llama 3",
				"num_requests_waiting prod/nim-a model_name=mistral 4",
				"vllm:num_requests_running prod/nim-a engine=0 model_name=gemma 2",
			},
		},
		{
			name: "nim names renamed",
			renames: map[string]string{
				"num_requests_waiting":      "queue",
				"vllm:num_requests_running": "running",
			},
			want: []string{
				"loose prod/nim-a 9",
				"nim_gpu_utilization_percent prod/nim-a 81.25",
				"nim_queue_depth prod/nim-a 7",
				"nim_queue_depth prod/nim-b 0.5",
				"queue prod/nim-a model_name=llama 3",
				"queue prod/nim-a model_name=mistral 4",
				"running prod/nim-a engine=0 model_name=gemma 2",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(exposition), tc.renames)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var lines []string
			for _, s := range got {
				lines = append(lines, sampleString(s))
			}
			slices.Sort(lines)
			if !slices.Equal(lines, tc.want) {
				t.Errorf("samples:\n got %q\nwant %q", lines, tc.want)
			}
		})
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	_, err := Parse(strings.NewReader("this is { not an exposition\n"), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "parse exposition: ") {
		t.Fatalf("err = %v, want a parse exposition error", err)
	}
}
