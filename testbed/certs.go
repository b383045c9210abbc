package testbed

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Credentials are the files the control plane authenticates with. All paths
// are absolute.
type Credentials struct {
	CACert, CAKey                     string // cluster CA: signs the API server's serving certificate
	ServingCert, ServingKey           string // kube-apiserver's serving certificate
	FrontProxyCACert, FrontProxyCAKey string // CA of the aggregation layer's client certificate
	FrontProxyCert, FrontProxyKey     string // CN front-proxy-client, clientAuth
	SAKey, SAPub                      string // service-account token signing pair
	Tokens                            string // static token file: one admin in system:masters
	Token                             string // the admin's bearer token
}

// certValidity is long enough for any test run and short enough that a
// leaked testbed key is worthless soon.
const certValidity = 7 * 24 * time.Hour

// GenerateCredentials writes fresh keys, certificates and a static token
// file into dir, using only Go's crypto. now is the certificates' NotBefore.
func GenerateCredentials(dir string, now time.Time) (*Credentials, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	c := &Credentials{
		CACert: p("ca.crt"), CAKey: p("ca.key"),
		ServingCert: p("apiserver.crt"), ServingKey: p("apiserver.key"),
		FrontProxyCACert: p("front-proxy-ca.crt"), FrontProxyCAKey: p("front-proxy-ca.key"),
		FrontProxyCert: p("front-proxy-client.crt"), FrontProxyKey: p("front-proxy-client.key"),
		SAKey: p("sa.key"), SAPub: p("sa.pub"),
		Tokens: p("tokens.csv"),
	}

	ca, caKey, err := newCA("scalegate-testbed-ca", now)
	if err != nil {
		return nil, err
	}
	serving := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(serviceIP)},
	}
	servingDER, servingKey, err := issue(serving, ca, caKey, now)
	if err != nil {
		return nil, err
	}

	fpCA, fpCAKey, err := newCA("scalegate-testbed-front-proxy-ca", now)
	if err != nil {
		return nil, err
	}
	fpClient := &x509.Certificate{
		Subject:     pkix.Name{CommonName: FrontProxyClientName},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	fpDER, fpKey, err := issue(fpClient, fpCA, fpCAKey, now)
	if err != nil {
		return nil, err
	}

	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate service-account key: %w", err)
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encode service-account public key: %w", err)
	}

	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("generate admin token: %w", err)
	}
	c.Token = hex.EncodeToString(tok)

	writes := []struct {
		path  string
		data  []byte
		block string
		mode  os.FileMode
	}{
		{c.CACert, ca.Raw, "CERTIFICATE", 0o644},
		{c.CAKey, mustPKCS8(caKey), "PRIVATE KEY", 0o600},
		{c.ServingCert, servingDER, "CERTIFICATE", 0o644},
		{c.ServingKey, mustPKCS8(servingKey), "PRIVATE KEY", 0o600},
		{c.FrontProxyCACert, fpCA.Raw, "CERTIFICATE", 0o644},
		{c.FrontProxyCAKey, mustPKCS8(fpCAKey), "PRIVATE KEY", 0o600},
		{c.FrontProxyCert, fpDER, "CERTIFICATE", 0o644},
		{c.FrontProxyKey, mustPKCS8(fpKey), "PRIVATE KEY", 0o600},
		{c.SAKey, x509.MarshalPKCS1PrivateKey(saKey), "RSA PRIVATE KEY", 0o600},
		{c.SAPub, saPub, "PUBLIC KEY", 0o644},
	}
	for _, w := range writes {
		if w.data == nil {
			return nil, fmt.Errorf("encode %s: unsupported key", w.path)
		}
		if err := os.WriteFile(w.path, pem.EncodeToMemory(&pem.Block{Type: w.block, Bytes: w.data}), w.mode); err != nil {
			return nil, fmt.Errorf("write %s: %w", w.path, err)
		}
	}
	line := fmt.Sprintf("%s,%s,%s,system:masters\n", c.Token, AdminUser, AdminUser)
	if err := os.WriteFile(c.Tokens, []byte(line), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", c.Tokens, err)
	}
	return c, nil
}

// AdminUser is the user name (and UID) of the static admin token.
const AdminUser = "admin"

// FrontProxyClientName is the CN of the aggregation layer's client
// certificate, and the one name --requestheader-allowed-names admits.
const FrontProxyClientName = "front-proxy-client"

// serviceIP is the first address of the service range: the kubernetes
// Service's cluster IP.
const (
	serviceCIDR = "10.96.0.0/16"
	serviceIP   = "10.96.0.1"
)

func newCA(cn string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate %s key: %w", cn, err)
	}
	tpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", cn, err)
	}
	return cert, key, nil
}

// issue signs a leaf certificate for a fresh key. tpl carries the subject,
// usages and names; issue fills in serial and validity.
func issue(tpl, ca *x509.Certificate, caKey crypto.Signer, now time.Time) ([]byte, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate %s key: %w", tpl.Subject.CommonName, err)
	}
	tpl.SerialNumber = serial()
	tpl.NotBefore = now.Add(-time.Hour)
	tpl.NotAfter = now.Add(certValidity)
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("sign %s: %w", tpl.Subject.CommonName, err)
	}
	return der, key, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// mustPKCS8 encodes key, or returns nil for a key type Go cannot encode
// (never for the keys made here).
func mustPKCS8(key crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil
	}
	return der
}
