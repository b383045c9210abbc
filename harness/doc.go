// Package harness runs one validation end to end: pre-flight checks that
// fail fast and name the fix, a baseline observation, the load, a cool-down
// observation bounded by the HPA's own scale-down window and policies, then
// grading and the report. It wires loadgen, watcher, validator and reports
// together and owns the run folder: the timeline and request journals are
// written as things happen, so an interrupted or failed run keeps what it
// recorded and is still graded. It parses no flags and never exits.
package harness
