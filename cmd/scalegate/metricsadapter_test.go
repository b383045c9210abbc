package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/scalegate/scalegate/metricsadapter"
)

// rootWithAdapter is the real root with the metrics-adapter command swapped
// for one that hands its completed options to runF.
func rootWithAdapter(d *Deps, runF func(*metricsAdapterOptions) error) *cobra.Command {
	root := newCmdRoot(d)
	for _, c := range root.Commands() {
		if c.Name() == "metrics-adapter" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newCmdMetricsAdapterWith(d, runF))
	return root
}

func testDeps() (*Deps, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &Deps{Out: &out, ErrOut: &errOut, Kube: &kubeFlags{}}, &out, &errOut
}

func TestMetricsAdapterFlags(t *testing.T) {
	const src = "http://127.0.0.1:8000/metrics"
	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, o *metricsAdapterOptions, d *Deps)
		wantErr string // exact error text; "" means success
	}{
		{
			name: "defaults",
			args: []string{"--source", src},
			check: func(t *testing.T, o *metricsAdapterOptions, _ *Deps) {
				want := metricsadapter.Config{Sources: []string{src}, ScrapeInterval: time.Second}
				if !slices.Equal(o.Config.Sources, want.Sources) || o.Config.ScrapeInterval != want.ScrapeInterval ||
					o.Config.MaxAge != 0 || o.Config.ScrapeTimeout != 0 || o.Config.Renames != nil {
					t.Errorf("config = %+v, want %+v", o.Config, want)
				}
				ss := o.Adapter.SecureServing
				if !ss.BindAddress.Equal(net.ParseIP("127.0.0.1")) || ss.BindPort != 6444 || ss.ServerCert.CertDirectory != "" {
					t.Errorf("serving = %v:%d cert-dir %q, want 127.0.0.1:6444 and an in-memory cert",
						ss.BindAddress, ss.BindPort, ss.ServerCert.CertDirectory)
				}
				if o.Adapter.RemoteKubeConfigFile != "" {
					t.Errorf("lister kubeconfig = %q, want it left for Run to default", o.Adapter.RemoteKubeConfigFile)
				}
			},
		},
		{
			name: "library flags reach the server options",
			args: []string{"--source", src, "--secure-port", "7443", "--bind-address", "127.0.0.2", "--cert-dir", "/certs",
				"--lister-kubeconfig", "/l.kubeconfig", "--authentication-kubeconfig", "/a.kubeconfig",
				"--authorization-kubeconfig", "/z.kubeconfig", "--client-qps", "50"},
			check: func(t *testing.T, o *metricsAdapterOptions, _ *Deps) {
				ss := o.Adapter.SecureServing
				if ss.BindPort != 7443 || !ss.BindAddress.Equal(net.ParseIP("127.0.0.2")) || ss.ServerCert.CertDirectory != "/certs" {
					t.Errorf("serving = %v:%d %q", ss.BindAddress, ss.BindPort, ss.ServerCert.CertDirectory)
				}
				if o.Adapter.RemoteKubeConfigFile != "/l.kubeconfig" ||
					o.Adapter.Authentication.RemoteKubeConfigFile != "/a.kubeconfig" ||
					o.Adapter.Authorization.RemoteKubeConfigFile != "/z.kubeconfig" || o.Adapter.ClientQPS != 50 {
					t.Errorf("kubeconfigs %q %q %q qps %v", o.Adapter.RemoteKubeConfigFile,
						o.Adapter.Authentication.RemoteKubeConfigFile, o.Adapter.Authorization.RemoteKubeConfigFile, o.Adapter.ClientQPS)
				}
			},
		},
		{
			name: "root kube flags alongside",
			args: []string{"--kubeconfig", "/k", "--context", "testbed", "-n", "prod", "--source", src},
			check: func(t *testing.T, _ *metricsAdapterOptions, d *Deps) {
				if d.Kube.Kubeconfig != "/k" || d.Kube.Context != "testbed" || d.Kube.Namespace != "prod" {
					t.Errorf("kube flags = %+v", *d.Kube)
				}
			},
		},
		{
			name: "production-like pace, renames, several sources",
			args: []string{"--source", src, "--source", "http://127.0.0.1:8001/metrics", "--scrape-interval", "15s",
				"--metrics-max-age", "45s", "--scrape-timeout", "5s",
				"--rename", "num_requests_waiting=nim_queue_depth", "--rename", "vllm:num_requests_waiting = nim_queue_depth"},
			check: func(t *testing.T, o *metricsAdapterOptions, _ *Deps) {
				c := o.Config
				if len(c.Sources) != 2 || c.ScrapeInterval != 15*time.Second || c.MaxAge != 45*time.Second || c.ScrapeTimeout != 5*time.Second {
					t.Errorf("config = %+v", c)
				}
				if c.Renames["num_requests_waiting"] != "nim_queue_depth" || c.Renames["vllm:num_requests_waiting"] != "nim_queue_depth" {
					t.Errorf("renames = %v", c.Renames)
				}
			},
		},
		{
			name:    "no source",
			args:    nil,
			wantErr: "no --source given: name at least one metrics endpoint, e.g. --source http://127.0.0.1:8000/metrics",
		},
		{
			name:    "max age below interval",
			args:    []string{"--source", src, "--scrape-interval", "15s", "--metrics-max-age", "10s"},
			wantErr: "--metrics-max-age 10s is shorter than --scrape-interval 15s: values would vanish between scrapes",
		},
		{
			name:    "timeout above interval",
			args:    []string{"--source", src, "--scrape-timeout", "2s"},
			wantErr: "--scrape-timeout 2s exceeds --scrape-interval 1s",
		},
		{
			name:    "zero interval",
			args:    []string{"--source", src, "--scrape-interval", "0s"},
			wantErr: "--scrape-interval 0s: must be positive",
		},
		{
			name:    "bad rename",
			args:    []string{"--source", src, "--rename", "num_requests_waiting"},
			wantErr: `--rename "num_requests_waiting": want FROM=TO, e.g. num_requests_waiting=nim_queue_depth`,
		},
		{
			name:    "rename twice",
			args:    []string{"--source", src, "--rename", "a=b", "--rename", "a=c"},
			wantErr: "--rename a: renamed twice, to b and to c",
		},
		{
			name:    "source not a url",
			args:    []string{"--source", "localhost:8000"},
			wantErr: `metrics source "localhost:8000": want an http(s) URL such as http://127.0.0.1:8000/metrics`,
		},
		{
			name:    "library validation",
			args:    []string{"--source", src, "--secure-port", "70000"},
			wantErr: "--secure-port 70000 must be between 1 and 65535, inclusive. It cannot be turned off with 0",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _, _ := testDeps()
			var got *metricsAdapterOptions
			root := rootWithAdapter(d, func(o *metricsAdapterOptions) error { got = o; return nil })
			root.SetArgs(append([]string{"metrics-adapter"}, tc.args...))
			err := root.Execute()
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				var usage *UsageError
				if !errors.As(err, &usage) {
					t.Errorf("err %T is not a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if got == nil {
				t.Fatal("runF not called")
			}
			tc.check(t, got, d)
		})
	}
}

func TestMetricsAdapterHelp(t *testing.T) {
	d, out, _ := testDeps()
	root := newCmdRoot(d)
	root.SetArgs([]string{"metrics-adapter", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatalf("--help: %v", err)
	}
	help := out.String()
	for _, want := range []string{
		"--source stringArray", "--scrape-interval duration", "--metrics-max-age duration", "--rename stringArray",
		"--secure-port int", "(default 6444)", "--bind-address ip", "(default 127.0.0.1)", "--cert-dir string",
		"--lister-kubeconfig string", "--authentication-kubeconfig string", "--authorization-kubeconfig string",
		"--kubeconfig string", "--context string", "production-like setups use 15s",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: one
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
- name: two
  cluster: {server: "https://127.0.0.1:7443", insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: secret}
contexts:
- name: a
  context: {cluster: one, user: admin}
- name: b
  context: {cluster: two, user: admin}
current-context: a
`

func TestAdapterKubeconfig(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		kube       kubeFlags
		env        string // KUBECONFIG
		wantSame   bool   // the path itself comes back
		wantServer string // else: the written file's current cluster; "" means no path
		wantErr    string
	}{
		{name: "explicit file", kube: kubeFlags{Kubeconfig: kc}, wantSame: true},
		{name: "explicit file and context", kube: kubeFlags{Kubeconfig: kc, Context: "b"}, wantServer: "https://127.0.0.1:7443"},
		{name: "from KUBECONFIG", env: kc, wantServer: "https://127.0.0.1:6443"},
		{name: "none anywhere", env: filepath.Join(dir, "missing")},
		{name: "unknown context", kube: kubeFlags{Kubeconfig: kc, Context: "zzz"}, wantErr: "--context zzz: not in the kubeconfig"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOME", dir) // no ~/.kube/config
			t.Setenv("KUBECONFIG", tc.env)
			path, cleanup, err := adapterKubeconfig(&tc.kube)
			defer cleanup()
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("adapterKubeconfig: %v", err)
			}
			switch {
			case tc.wantSame:
				if path != kc {
					t.Errorf("path = %q, want %q", path, kc)
				}
				return
			case tc.wantServer == "":
				if path != "" {
					t.Errorf("path = %q, want none (in-cluster)", path)
				}
				return
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatalf("written kubeconfig: %v", err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("written kubeconfig mode %v, want 0600", fi.Mode().Perm())
			}
			cfg, err := clientcmd.BuildConfigFromFlags("", path)
			if err != nil {
				t.Fatalf("load written kubeconfig: %v", err)
			}
			if cfg.Host != tc.wantServer || cfg.BearerToken != "secret" {
				t.Errorf("written kubeconfig: host %q token %q, want %q with the token inlined", cfg.Host, cfg.BearerToken, tc.wantServer)
			}
			cleanup()
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("cleanup left %s (%v)", path, err)
			}
		})
	}
}
