package testbed

import (
	"fmt"
	"os"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ContextName names the cluster, user and context in the testbed's
// kubeconfig.
const ContextName = "scalegate-testbed"

// kubeconfig returns a kubeconfig for the API server at server, trusting
// only the testbed's CA and authenticating with the admin token. Its context
// defaults to namespace.
func kubeconfig(server string, caPEM []byte, token, namespace string) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[ContextName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[ContextName] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[ContextName] = &clientcmdapi.Context{Cluster: ContextName, AuthInfo: ContextName, Namespace: namespace}
	cfg.CurrentContext = ContextName
	return cfg
}

// writeKubeconfig writes cfg to path, readable by its owner only (it holds
// the admin token).
func writeKubeconfig(cfg *clientcmdapi.Config, path string) error {
	raw, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("encode kubeconfig: %w", err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}
