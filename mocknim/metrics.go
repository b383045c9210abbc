package mocknim

import "github.com/prometheus/client_golang/prometheus"

// Metric names. The first two are the names the coding-assistant HPA reads
// (in a real cluster the custom-metrics adapter renames NIM's and DCGM's
// series to them); the rest are NIM 1.x's own names.
const (
	MetricQueueDepth       = "nim_queue_depth"
	MetricGPUUtilization   = "nim_gpu_utilization_percent"
	MetricRequestsWaiting  = "num_requests_waiting"
	MetricRequestsRunning  = "num_requests_running"
	MetricRequestMax       = "num_request_max"
	MetricCacheUsage       = "gpu_cache_usage_perc"
	MetricRequestSuccess   = "request_success_total"
	MetricRequestFailure   = "request_failure_total"
	MetricPromptTokens     = "prompt_tokens_total"
	MetricGenerationTokens = "generation_tokens_total"
)

// collector reads a consistent snapshot of every pod at scrape time. It is
// registered on the Server's own registry, never the global one.
type collector struct {
	s *Server

	queueDepth, gpuUtil                        *prometheus.Desc
	waiting, running, requestMax, cacheUsage   *prometheus.Desc
	success, failure, promptTokens, generation *prometheus.Desc
}

func newCollector(s *Server) *collector {
	seed := []string{"namespace", "pod"}
	nim := []string{"model_name", "namespace", "pod"}
	return &collector{
		s:          s,
		queueDepth: prometheus.NewDesc(MetricQueueDepth, "Requests waiting in the pod's queue for a generation slot.", seed, nil),
		gpuUtil: prometheus.NewDesc(MetricGPUUtilization,
			"Time-weighted share of busy generation slots over the utilization window, in percent.", seed, nil),
		waiting:    prometheus.NewDesc(MetricRequestsWaiting, "Number of requests waiting to be processed.", nim, nil),
		running:    prometheus.NewDesc(MetricRequestsRunning, "Number of requests currently running on GPU.", nim, nil),
		requestMax: prometheus.NewDesc(MetricRequestMax, "Max number of concurrently running requests.", nim, nil),
		cacheUsage: prometheus.NewDesc(MetricCacheUsage,
			"GPU KV-cache usage, 1 means 100 percent; modelled as running requests over slots.", nim, nil),
		success:      prometheus.NewDesc(MetricRequestSuccess, "Number of requests that finished generating.", nim, nil),
		failure:      prometheus.NewDesc(MetricRequestFailure, "Number of requests abandoned by their client, queued or running.", nim, nil),
		promptTokens: prometheus.NewDesc(MetricPromptTokens, "Number of prefill tokens processed.", nim, nil),
		generation:   prometheus.NewDesc(MetricGenerationTokens, "Number of generation tokens processed.", nim, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.queueDepth, c.gpuUtil, c.waiting, c.running, c.requestMax,
		c.cacheUsage, c.success, c.failure, c.promptTokens, c.generation} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ns, model, slots := c.s.cfg.Namespace, c.s.cfg.Model, float64(c.s.cfg.Slots)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, p := range c.s.snapshot() {
		gauge(c.queueDepth, float64(p.waiting), ns, p.name)
		gauge(c.gpuUtil, p.utilization, ns, p.name)
		gauge(c.waiting, float64(p.waiting), model, ns, p.name)
		gauge(c.running, float64(p.running), model, ns, p.name)
		gauge(c.requestMax, slots, model, ns, p.name)
		gauge(c.cacheUsage, float64(p.running)/slots, model, ns, p.name)
		counter(c.success, p.succeeded, model, ns, p.name)
		counter(c.failure, p.failed, model, ns, p.name)
		counter(c.promptTokens, p.promptTokens, model, ns, p.name)
		counter(c.generation, p.generationTokens, model, ns, p.name)
	}
}
