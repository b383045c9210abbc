// Package metricsadapter owns the data side of scalegate's custom-metrics
// adapter: it scrapes Prometheus text endpoints (a mock or real NIM's
// /metrics), keeps the newest per-pod gauge values, and answers
// custom.metrics.k8s.io queries for pods with them. Parse turns an exposition
// into Samples, a Scraper fetches its sources on a clock into a Store, and a
// Provider serves the Store through the custom-metrics-apiserver library,
// listing pods from the API server the way the HPA controller expects.
// It refuses to serve anything but the pods resource, counters, histograms,
// series without both a namespace and a pod label, and values older than the
// configured maximum age; it does no flag parsing and starts no server itself.
package metricsadapter
