package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Deps are what commands take from the outside world, so tests can swap them.
type Deps struct {
	Out    io.Writer // the report, and nothing else
	ErrOut io.Writer // progress, logs and hints
	Kube   *kubeFlags
}

func defaultDeps() *Deps {
	return &Deps{Out: os.Stdout, ErrOut: os.Stderr, Kube: &kubeFlags{}}
}

// kubeFlags are the Kubernetes connection flags every command shares. They
// follow kubectl: --kubeconfig, then $KUBECONFIG, then ~/.kube/config, then the
// in-cluster service account when scalegate runs as a Job.
type kubeFlags struct {
	Kubeconfig string
	Context    string
	Namespace  string
}

func (k *kubeFlags) clientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: k.Context}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
}

// RESTConfig resolves the flags into a client configuration.
func (k *kubeFlags) RESTConfig() (*rest.Config, error) {
	cc := k.clientConfig()
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, &EnvError{fmt.Errorf("load kubeconfig: %w (%s)", err, k.hint(cc))}
	}
	return cfg, nil
}

// hint says where the configuration was looked for, and which contexts
// exist when a context was asked for.
func (k *kubeFlags) hint(cc clientcmd.ClientConfig) string {
	if k.Context != "" {
		if raw, err := cc.RawConfig(); err == nil {
			names := slices.Sorted(maps.Keys(raw.Contexts))
			return fmt.Sprintf("the kubeconfig has the contexts: %s", strings.Join(names, ", "))
		}
	}
	if k.Kubeconfig != "" {
		return "check the --kubeconfig path"
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		for _, p := range filepath.SplitList(env) {
			if _, err := os.Stat(p); err != nil {
				return fmt.Sprintf("KUBECONFIG names %s, which cannot be read: %v", p, err)
			}
		}
		return "check the files KUBECONFIG names"
	}
	return "set --kubeconfig or KUBECONFIG, or run inside a cluster"
}

// NamespaceOr returns -n when set, else the kubeconfig context's namespace,
// else def.
func (k *kubeFlags) NamespaceOr(def string) string {
	if k.Namespace != "" {
		return k.Namespace
	}
	if ns, explicit, err := k.clientConfig().Namespace(); err == nil && explicit {
		return ns
	}
	return def
}

const rootLong = `scalegate checks that the HorizontalPodAutoscaler of an LLM inference service
keeps its promises under the bursty traffic real users send.

Exit codes:
  0    every promise passed (or the command succeeded)
  1    at least one promise failed
  2    usage, flag or profile error
  3    inconclusive: the run ended before the promises could be decided
  4    environment error: cluster, RBAC or endpoint unreachable or misconfigured
  130  interrupted; the partial report and journals were still written`

func newCmdRoot(d *Deps) *cobra.Command {
	root := &cobra.Command{
		Use:           "scalegate",
		Short:         "Validate LLM inference autoscaling against its promises",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(d.Out)
	root.SetErr(d.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &UsageError{err}
	})

	pf := root.PersistentFlags()
	pf.StringVar(&d.Kube.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	pf.StringVar(&d.Kube.Context, "context", "", "kubeconfig context to use")
	pf.StringVarP(&d.Kube.Namespace, "namespace", "n", "", "namespace of the inference deployment (default: the context's, else production)")

	root.AddCommand(
		newCmdVersion(d),
		newCmdValidate(d, nil),
		newCmdProfile(d),
		newCmdManifests(d),
		newCmdMockNIM(d),
		newCmdMetricsAdapter(d),
	)
	return root
}

// isFlagError reports whether cobra rejected the command line itself.
func isFlagError(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") ||
		strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") ||
		strings.Contains(msg, "accepts ") && strings.Contains(msg, "arg(s)")
}
