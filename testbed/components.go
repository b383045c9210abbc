package testbed

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Component names, as they appear in logs/<name>.log, the state file and
// errors.
const (
	Etcd              = "etcd"
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Kwok              = "kwok"
	MockNIM           = "mock-nim"
	Adapter           = "metrics-adapter"
)

// controllers are the only kube-controller-manager controllers the testbed
// runs: enough for Deployments, the HPA, garbage collection and namespaces.
var controllers = []string{
	"deployment-controller",
	"replicaset-controller",
	"horizontal-pod-autoscaler-controller",
	"garbage-collector-controller",
	"namespace-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
}

// layout is where a testbed keeps its files, under Dir.
type layout struct{ dir string }

func (l layout) path(elem ...string) string {
	return filepath.Join(append([]string{l.dir}, elem...)...)
}
func (l layout) certs() string          { return l.path("certs") }
func (l layout) etcdData() string       { return l.path("etcd") }
func (l layout) logs() string           { return l.path("logs") }
func (l layout) log(name string) string { return l.path("logs", name+".log") }
func (l layout) kubeconfig() string     { return l.path("kubeconfig") }
func (l layout) stages() string         { return l.path("kwok-stages.yaml") }
func (l layout) profile() string        { return l.path("profile.yaml") }
func (l layout) adapterCerts() string   { return l.path("adapter-certs") }
func (l layout) bin() string            { return l.path("bin") }

func hostPort(port int) string { return loopback + ":" + strconv.Itoa(port) }
func httpURL(port int) string  { return "http://" + hostPort(port) }
func httpsURL(port int) string { return "https://" + hostPort(port) }

func etcdArgs(l layout, p Ports) []string {
	peer := httpURL(p.EtcdPeer)
	return []string{
		"--name=testbed",
		"--data-dir=" + l.etcdData(),
		"--listen-client-urls=" + httpURL(p.Etcd),
		"--advertise-client-urls=" + httpURL(p.Etcd),
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=testbed=" + peer,
		// A throwaway store: durability buys nothing and costs seconds on a
		// busy disk.
		"--unsafe-no-fsync",
	}
}

func apiServerArgs(l layout, c *Credentials, p Ports) []string {
	return []string{
		"--etcd-servers=" + httpURL(p.Etcd),
		"--bind-address=" + loopback,
		// Advertise loopback too, rather than the host's address the API
		// server would pick; the default endpoint reconciler refuses a
		// loopback address, and nothing here needs the kubernetes Service's
		// endpoints.
		"--advertise-address=" + loopback,
		"--endpoint-reconciler-type=none",
		"--secure-port=" + strconv.Itoa(p.APIServer),
		"--tls-cert-file=" + c.ServingCert,
		"--tls-private-key-file=" + c.ServingKey,
		"--client-ca-file=" + c.CACert,
		"--token-auth-file=" + c.Tokens,
		"--authorization-mode=RBAC",
		"--service-account-key-file=" + c.SAPub,
		"--service-account-signing-key-file=" + c.SAKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=" + serviceCIDR,
		// The aggregation layer's identity towards the metrics adapter.
		"--requestheader-client-ca-file=" + c.FrontProxyCACert,
		"--requestheader-allowed-names=" + FrontProxyClientName,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + c.FrontProxyCert,
		"--proxy-client-key-file=" + c.FrontProxyKey,
		// Must stay off: with it on, the API server refuses the ExternalName
		// Service that routes the APIService to the adapter on loopback.
		"--enable-aggregator-routing=false",
		"--profiling=false",
	}
}

func controllerManagerArgs(l layout, c *Credentials, p Ports, cfg Config) []string {
	kc := l.kubeconfig()
	return []string{
		"--kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--controllers=" + strings.Join(controllers, ","),
		"--service-account-private-key-file=" + c.SAKey,
		"--horizontal-pod-autoscaler-sync-period=" + cfg.SyncPeriod.String(),
		"--leader-elect=false",
		"--bind-address=" + loopback,
		"--secure-port=" + strconv.Itoa(p.ControllerManager),
		"--profiling=false",
	}
}

func kwokArgs(l layout) []string {
	return []string{
		"--kubeconfig=" + l.kubeconfig(),
		"--config=" + l.stages(),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=10.0.0.1",
		"--cidr=10.0.0.1/24",
	}
}

func mockArgs(l layout, p Ports, cfg Config, deployment string) []string {
	return []string{
		"mock-nim",
		"--listen=" + hostPort(p.Mock),
		"--deployment=" + deployment,
		"--namespace=" + cfg.Namespace,
		"--time-scale=" + strconv.Itoa(cfg.TimeScale),
		"--slots=" + strconv.Itoa(cfg.Slots),
		"--pods=0", // follow the Deployment's pods through the API server
		"--kubeconfig=" + l.kubeconfig(),
		// Stop within the stop grace period even with requests in flight.
		"--shutdown-timeout=2s",
	}
}

func adapterArgs(l layout, p Ports) []string {
	kc := l.kubeconfig()
	return []string{
		"metrics-adapter",
		"--secure-port=" + strconv.Itoa(p.Adapter),
		"--bind-address=" + loopback,
		"--cert-dir=" + l.adapterCerts(),
		"--lister-kubeconfig=" + kc,
		"--authentication-kubeconfig=" + kc,
		"--authorization-kubeconfig=" + kc,
		"--source=" + httpURL(p.Mock) + "/metrics",
		"--scrape-interval=1s",
	}
}

// EnvLines are the shell lines that point kubectl and scalegate at a
// running testbed.
func EnvLines(st *State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "export KUBECONFIG=%s\n", shellQuote(st.Kubeconfig))
	if st.Endpoint != "" {
		fmt.Fprintf(&b, "export SCALEGATE_ENDPOINT=%s\n", shellQuote(st.Endpoint))
	}
	if st.Profile != "" {
		fmt.Fprintf(&b, "export SCALEGATE_PROFILE=%s\n", shellQuote(st.Profile))
	}
	return b.String()
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '=' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
