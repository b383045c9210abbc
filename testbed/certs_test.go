package testbed

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGenerateCredentials(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	c, err := GenerateCredentials(t.TempDir(), now)
	if err != nil {
		t.Fatal(err)
	}
	ca := readCert(t, c.CACert)
	fpCA := readCert(t, c.FrontProxyCACert)

	tests := []struct {
		name    string
		leaf    string
		roots   *x509.Certificate
		usage   x509.ExtKeyUsage
		dnsName string
		ip      string
		cn      string
	}{
		{name: "serving cert for loopback", leaf: c.ServingCert, roots: ca, usage: x509.ExtKeyUsageServerAuth, dnsName: "localhost", ip: "127.0.0.1", cn: "kube-apiserver"},
		{name: "serving cert for the service name", leaf: c.ServingCert, roots: ca, usage: x509.ExtKeyUsageServerAuth, dnsName: "kubernetes.default.svc", cn: "kube-apiserver"},
		{name: "front-proxy client", leaf: c.FrontProxyCert, roots: fpCA, usage: x509.ExtKeyUsageClientAuth, cn: FrontProxyClientName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf := readCert(t, tc.leaf)
			pool := x509.NewCertPool()
			pool.AddCert(tc.roots)
			opts := x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{tc.usage}, DNSName: tc.dnsName}
			if _, err := leaf.Verify(opts); err != nil {
				t.Fatalf("verify: %v", err)
			}
			if tc.ip != "" {
				if err := leaf.VerifyHostname(tc.ip); err != nil {
					t.Errorf("ip %s: %v", tc.ip, err)
				}
			}
			if leaf.Subject.CommonName != tc.cn {
				t.Errorf("CN = %q, want %q", leaf.Subject.CommonName, tc.cn)
			}
		})
	}

	t.Run("front-proxy client does not chain to the cluster CA", func(t *testing.T) {
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		leaf := readCert(t, c.FrontProxyCert)
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
			t.Fatal("verified against the wrong CA")
		}
	})
	t.Run("service-account key pair matches", func(t *testing.T) {
		kraw, _ := os.ReadFile(c.SAKey)
		praw, _ := os.ReadFile(c.SAPub)
		kb, _ := pem.Decode(kraw)
		pb, _ := pem.Decode(praw)
		key, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.ParsePKIXPublicKey(pb.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if !key.PublicKey.Equal(pub) {
			t.Fatal("sa.pub is not sa.key's public key")
		}
	})
	t.Run("token file and key modes", func(t *testing.T) {
		raw, err := os.ReadFile(c.Tokens)
		if err != nil {
			t.Fatal(err)
		}
		want := c.Token + ",admin,admin,system:masters\n"
		if string(raw) != want || len(c.Token) != 32 {
			t.Fatalf("tokens.csv = %q, want %q", raw, want)
		}
		for _, p := range []string{c.CAKey, c.ServingKey, c.FrontProxyKey, c.SAKey, c.Tokens} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %v, want 0600", p, fi.Mode().Perm())
			}
		}
	})
	t.Run("service IP is in the service range", func(t *testing.T) {
		_, n, err := net.ParseCIDR(serviceCIDR)
		if err != nil || !n.Contains(net.ParseIP(serviceIP)) || !strings.HasPrefix(serviceIP, "10.96.") {
			t.Fatalf("%s not in %s", serviceIP, serviceCIDR)
		}
	})
}
