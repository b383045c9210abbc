// Package manifests owns the Kubernetes objects scalegate is about: the
// coding-assistant Deployment, Service and HorizontalPodAutoscaler of the
// default profile, the read-only RBAC the harness needs, and the extra objects
// the local testbed applies (namespace, fake GPU node, the APIService of the
// custom-metrics adapter). The YAML is embedded and decoded into typed
// objects; Render applies the testbed's parameters (namespace, time scale,
// model-load delay) as plain transforms. It makes no client calls.
package manifests
