// Package watcher records what a cluster does while a run is under way. It
// follows the HorizontalPodAutoscaler, the Deployment, its ReplicaSets and
// Pods, and the Events about them through client-go shared informers (never
// polling), and samples the per-pod values of every metric the HPA uses
// from custom.metrics.k8s.io, the way the HPA controller reads them. Every
// change becomes one timeline.Entry handed to a Sink as it happens; a watch
// that drops is recorded as a gap and re-established by the informer. It
// makes no decisions: grading belongs to the validator.
package watcher
