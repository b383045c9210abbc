package testbed

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestComponentArgs(t *testing.T) {
	l := layout{"/tb"}
	p := Ports{Etcd: 2379, EtcdPeer: 2380, APIServer: 6443, ControllerManager: 10257, Adapter: 6444, Mock: 8000}
	c := &Credentials{FrontProxyCert: "/tb/certs/fp.crt"}
	cfg := Config{SyncPeriod: 1500 * time.Millisecond, TimeScale: 10, Slots: 8, Namespace: "production"}
	tests := []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{name: "etcd on loopback", args: etcdArgs(l, p),
			want: []string{"--listen-client-urls=http://127.0.0.1:2379", "--listen-peer-urls=http://127.0.0.1:2380", "--data-dir=/tb/etcd"}},
		{name: "API server with the aggregation layer on", args: apiServerArgs(l, c, p),
			want: []string{"--bind-address=127.0.0.1", "--secure-port=6443", "--etcd-servers=http://127.0.0.1:2379",
				"--proxy-client-cert-file=/tb/certs/fp.crt", "--requestheader-allowed-names=front-proxy-client",
				"--enable-aggregator-routing=false"}},
		{name: "controller manager with the HPA", args: controllerManagerArgs(l, c, p, cfg),
			want: []string{"--horizontal-pod-autoscaler-sync-period=1.5s", "--bind-address=127.0.0.1", "--leader-elect=false",
				"--kubeconfig=/tb/kubeconfig"}},
		{name: "kwok manages only the fake node", args: kwokArgs(l),
			want: []string{"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake", "--config=/tb/kwok-stages.yaml"}},
		{name: "mock NIM follows the deployment", args: mockArgs(l, p, cfg, "coding-assistant"),
			want: []string{"mock-nim", "--listen=127.0.0.1:8000", "--deployment=coding-assistant", "--namespace=production", "--time-scale=10", "--slots=8", "--pods=0"}},
		{name: "adapter scrapes the mock", args: adapterArgs(l, p),
			want: []string{"metrics-adapter", "--secure-port=6444", "--bind-address=127.0.0.1", "--source=http://127.0.0.1:8000/metrics", "--scrape-interval=1s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.want {
				if !slices.Contains(tc.args, w) {
					t.Errorf("args lack %s:\n%s", w, strings.Join(tc.args, "\n"))
				}
			}
			for _, a := range tc.args {
				if strings.Contains(a, "0.0.0.0") {
					t.Errorf("binds beyond loopback: %s", a)
				}
			}
		})
	}
	ctl := controllerManagerArgs(l, c, p, cfg)
	i := slices.IndexFunc(ctl, func(a string) bool { return strings.HasPrefix(a, "--controllers=") })
	for _, want := range []string{"deployment-controller", "replicaset-controller", "horizontal-pod-autoscaler-controller",
		"garbage-collector-controller", "namespace-controller", "serviceaccount-controller", "serviceaccount-token-controller"} {
		if i < 0 || !strings.Contains(ctl[i], want) {
			t.Errorf("--controllers lacks %s", want)
		}
	}
}

func TestEnvLines(t *testing.T) {
	tests := []struct {
		name string
		st   State
		want string
	}{
		{name: "control plane only", st: State{Kubeconfig: "/r/.cache/testbed/kubeconfig"},
			want: "export KUBECONFIG=/r/.cache/testbed/kubeconfig\n"},
		{name: "with the mock", st: State{Kubeconfig: "/r/kc", Endpoint: "http://127.0.0.1:8000"},
			want: "export KUBECONFIG=/r/kc\nexport SCALEGATE_ENDPOINT=http://127.0.0.1:8000\n"},
		{name: "quoted path", st: State{Kubeconfig: "/my dir/it's"},
			want: "export KUBECONFIG='/my dir/it'\\''s'\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := EnvLines(&tc.st); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module "+modulePath+"\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "e2e")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	tests := []struct {
		name  string
		in    Config
		check func(t *testing.T, c Config)
	}{
		{name: "zero value", in: Config{}, check: func(t *testing.T, c Config) {
			if c.Root != root || c.Dir != filepath.Join(root, DefaultDir) {
				t.Errorf("root %s dir %s", c.Root, c.Dir)
			}
			if c.TimeScale != 10 || c.SyncPeriod != time.Second || c.ReadyDelay != 10*time.Second ||
				c.Namespace != "production" || c.Slots != 8 {
				t.Errorf("defaults %+v", c)
			}
		}},
		{name: "ready delay follows the time scale", in: Config{TimeScale: 4}, check: func(t *testing.T, c Config) {
			if c.ReadyDelay != 25*time.Second {
				t.Errorf("ready delay %s, want 25s", c.ReadyDelay)
			}
		}},
		{name: "absolute dir kept", in: Config{Dir: "/elsewhere"}, check: func(t *testing.T, c Config) {
			if c.Dir != "/elsewhere" {
				t.Errorf("dir %s", c.Dir)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.in.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
	if _, err := (Config{TimeScale: -1}).withDefaults(); err == nil {
		t.Error("negative time scale accepted")
	}
	if _, err := FindRoot(t.TempDir()); err == nil {
		t.Error("FindRoot found a root outside the repository")
	}
}

func TestRenderWorkload(t *testing.T) {
	wl, err := renderWorkload(Config{Namespace: "ns", TimeScale: 10, ReadyDelay: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a := wl.Deployment.Spec.Template.Annotations
	tests := []struct{ key, want string }{
		{"pod-ready.stage.kwok.x-k8s.io/delay", "10s"},
		{"pod-ready.stage.kwok.x-k8s.io/jitter-delay", "10s"},
		{"pod-create.stage.kwok.x-k8s.io/delay", "1s"},
		{"pod-create.stage.kwok.x-k8s.io/jitter-delay", "1s"},
	}
	for _, tc := range tests {
		if a[tc.key] != tc.want {
			t.Errorf("annotation %s = %q, want %q", tc.key, a[tc.key], tc.want)
		}
	}
	if wl.Deployment.Spec.Template.Spec.NodeName != NodeName || wl.HPA.Namespace != "ns" {
		t.Errorf("node %q, namespace %q", wl.Deployment.Spec.Template.Spec.NodeName, wl.HPA.Namespace)
	}
	if got := podMetricNames(wl.HPA); strings.Join(got, ",") != "nim_queue_depth,nim_gpu_utilization_percent" {
		t.Errorf("pod metrics %v", got)
	}
}
