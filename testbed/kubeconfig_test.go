package testbed

import (
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

func TestKubeconfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	if err := writeKubeconfig(kubeconfig("https://127.0.0.1:6443", ca, "tok", "production"), path); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if cfg.CurrentContext != ContextName || ctx == nil {
		t.Fatalf("current context %q", cfg.CurrentContext)
	}
	cl, user := cfg.Clusters[ctx.Cluster], cfg.AuthInfos[ctx.AuthInfo]
	tests := []struct {
		name      string
		got, want any
	}{
		{name: "server", got: cl.Server, want: "https://127.0.0.1:6443"},
		{name: "CA is embedded", got: string(cl.CertificateAuthorityData), want: string(ca)},
		{name: "TLS is verified", got: cl.InsecureSkipTLSVerify, want: false},
		{name: "token", got: user.Token, want: "tok"},
		{name: "namespace", got: ctx.Namespace, want: "production"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	rest, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	if rest.Host != "https://127.0.0.1:6443" || rest.BearerToken != "tok" {
		t.Errorf("rest config host %q token %q", rest.Host, rest.BearerToken)
	}
}
