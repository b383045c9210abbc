// Package loadgen drives an OpenAI-compatible inference endpoint with the
// traffic real users send, and records what each request experienced. A
// workload model (Developers: IDE users who fire bursts of requests, then go
// quiet for minutes) is a pure, seeded function from which the schedule of
// arrivals follows; the Runner sends each arrival at its intended time,
// open loop, so a slow server shows up as latency, never as a lower offered
// load. Each request yields one immutable Record, streamed to consumers and
// appended to a JSONL journal as it completes; Summary aggregates records in
// HDR histograms. It knows nothing of Kubernetes or of grading.
package loadgen
