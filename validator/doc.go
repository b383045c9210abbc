// Package validator owns the promises and their grading. A Profile states
// the promises (thresholds, latency bounds); an HPASpec is what the
// HorizontalPodAutoscaler itself says (min/max, targets, tolerance, windows,
// policies), read from the cluster or a manifest. Grade is a pure function
// of a timeline.Timeline, the HPASpec and the Profile that returns one
// Finding per promise: Pass, Fail or Inconclusive, with the observed figure,
// the limit and the evidence. Missing data is Inconclusive, never Pass. It
// does no I/O, never reads the clock and never assumes the production
// numbers: every threshold and window comes from the profile or the HPA.
package validator
