// Package mocknim serves a mock NVIDIA NIM: an OpenAI-compatible HTTP endpoint
// that behaves like the serving pods of the coding-assistant Deployment, so the
// autoscaling testbed and load tests have something realistic to push against.
// A Server (built with New from a Config and Deps) owns a set of simulated pods,
// each with a fixed number of generation slots and an unbounded FIFO queue; it
// routes every request to the ready pod with the shortest queue, streams tokens
// at seeded, configurable speeds, and exports per-pod queue depth, running
// requests and GPU utilization on /metrics. Pods come from a PodSource: a fixed
// set (FixedPods) or the live pods of a Deployment (DeploymentPods). It does not
// run a model, tokenize text, reject work for load (queues are unbounded, as in
// vLLM) or keep any global state.
package mocknim
