// Package timeline owns the record of what a cluster did during a run: HPA
// status changes, rescale events, Deployment and pod state, the per-pod metric
// values the HPA reads, phase marks and watch gaps. The live watcher and the
// simulator produce it; the grader and the reports only read it. An Entry is a
// typed union (exactly one payload pointer is set), kept with both our clock
// and the server's timestamp. Journal writes entries as JSONL as they happen,
// so an interrupted run keeps everything it observed; Read loads a journal
// back, tolerating a truncated last line. It performs no Kubernetes calls.
package timeline
