// Package e2e holds scalegate's end-to-end suite, behind the e2e build tag:
// it starts the local testbed (a real kube-apiserver and HPA controller, kwok
// pods, the mock NIM and the custom-metrics adapter) in TestMain, runs
// e2e-framework features against it and stops it at the end. When a test
// fails the component logs are kept and their folder is printed. Run it with
// make test-e2e; it needs no container runtime and nothing beyond loopback.
package e2e
