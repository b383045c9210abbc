// Package testbed owns the local cluster the e2e suite and developers run
// scalegate against: a real etcd, kube-apiserver and kube-controller-manager
// (with the real HPA controller), kwok faking the GPU node and the pod
// lifecycle, and scalegate's own mock NIM and custom-metrics adapter, all as
// processes bound to 127.0.0.1. Build compiles the control-plane binaries once
// and caches them by version; Up generates certificates and a kubeconfig,
// starts every process in its own process group, applies the workload and
// waits until the HPA is active; Down and Cluster.Stop stop by recorded PID.
// It refuses to touch anything it did not start, and never uses containers,
// non-loopback addresses or downloads beyond the Go module proxy.
package testbed
