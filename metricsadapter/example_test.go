package metricsadapter_test

import (
	"fmt"
	"strings"

	"github.com/scalegate/scalegate/metricsadapter"
)

func ExampleParse() {
	exposition := `# TYPE num_requests_waiting gauge
num_requests_waiting{model_name="llama",namespace="prod",pod="nim-0"} 3
# TYPE request_success_total counter
request_success_total{model_name="llama",namespace="prod",pod="nim-0"} 120
`
	samples, err := metricsadapter.Parse(strings.NewReader(exposition),
		map[string]string{"num_requests_waiting": "nim_queue_depth"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range samples {
		q := metricsadapter.Quantity(s.Value)
		fmt.Println(s.Metric, s.Namespace+"/"+s.Pod, q.String())
	}
	// Output: nim_queue_depth prod/nim-0 3
}
