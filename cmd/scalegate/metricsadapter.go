package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	basecmd "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/cmd/options"

	"github.com/scalegate/scalegate/metricsadapter"
)

// Defaults of the adapter's server that differ from the library's: loopback
// only, and the port the testbed's APIService points at.
const (
	adapterBindAddress = "127.0.0.1"
	adapterSecurePort  = 6444
	podCacheSyncLimit  = 30 * time.Second
)

const metricsAdapterLong = `Serve custom.metrics.k8s.io per-pod metrics, scraped from Prometheus text
endpoints such as the mock NIM's /metrics, so that a real HPA controller can
read them through an APIService.

Every gauge or untyped series carrying both a namespace and a pod label is
served under its metric name for that pod; series that differ only in other
labels (such as model_name) are summed, unless the HPA's metric selector picks
some of them. Counters and histograms are not served. A pods query lists the
matching pods from the API server and answers for those with a fresh value;
pods being deleted are skipped. Values are quantities in milli-units (500m).

Every --source is scraped each --scrape-interval. The default of 1s suits the
testbed, which runs at a tenth of real time; production-like setups use 15s.
A failed scrape keeps the previous values until they are older than
--metrics-max-age, then they are dropped.

Both custom.metrics.k8s.io/v1beta2 and v1beta1 are served, over HTTPS with a
self-signed certificate (written to --cert-dir when set, else kept in memory).
The lister, authentication and authorization kubeconfigs default to the one
chosen by --kubeconfig and --context. -n is ignored: every namespace is served.
The flags after --rename are the server library's own.`

const metricsAdapterExample = `  scalegate metrics-adapter --kubeconfig admin.kubeconfig \
    --source http://127.0.0.1:8000/metrics --cert-dir ./adapter-certs`

// metricsAdapterOptions are the metrics-adapter command's flags.
type metricsAdapterOptions struct {
	Sources        []string
	ScrapeInterval time.Duration
	ScrapeTimeout  time.Duration
	MaxAge         time.Duration
	Renames        []string

	// Adapter holds the server library's options, bound to its own flags.
	Adapter *basecmd.AdapterBase
	// Config is what Complete made of the scrape flags.
	Config metricsadapter.Config

	kube   *kubeFlags
	errOut io.Writer
}

func newCmdMetricsAdapter(d *Deps) *cobra.Command {
	return newCmdMetricsAdapterWith(d, nil)
}

// newCmdMetricsAdapterWith builds the command; tests pass runF to capture the
// completed options instead of serving.
func newCmdMetricsAdapterWith(d *Deps, runF func(*metricsAdapterOptions) error) *cobra.Command {
	o := &metricsAdapterOptions{kube: d.Kube, errOut: d.ErrOut}

	serverOpts := options.NewCustomMetricsAdapterServerOptions()
	serverOpts.SecureServing.BindAddress = net.ParseIP(adapterBindAddress)
	serverOpts.SecureServing.BindPort = adapterSecurePort
	serverOpts.SecureServing.ServerCert.CertDirectory = "" // in memory unless --cert-dir is given
	libFlags := pflag.NewFlagSet("metrics-adapter", pflag.ContinueOnError)
	o.Adapter = &basecmd.AdapterBase{
		Name:                              "scalegate-metrics-adapter",
		CustomMetricsAdapterServerOptions: serverOpts,
		FlagSet:                           libFlags,
	}
	o.Adapter.InstallFlags()

	cmd := &cobra.Command{
		Use:     "metrics-adapter --source URL [--source URL]... [flags]",
		Short:   "Serve scraped per-pod metrics as custom.metrics.k8s.io for the HPA",
		Long:    metricsAdapterLong,
		Example: metricsAdapterExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return o.Run(cmd.Context())
		},
	}

	f := cmd.Flags()
	f.SortFlags = false
	f.StringArrayVar(&o.Sources, "source", nil, "Prometheus text endpoint to scrape, e.g. http://127.0.0.1:8000/metrics (repeatable; required)")
	f.DurationVar(&o.ScrapeInterval, "scrape-interval", metricsadapter.DefaultScrapeInterval,
		"how often every source is scraped, also each value's window (the testbed runs at a tenth of real time; production-like setups use 15s)")
	f.DurationVar(&o.ScrapeTimeout, "scrape-timeout", 0, "limit on one scrape of one source (default: the scrape interval)")
	f.DurationVar(&o.MaxAge, "metrics-max-age", 0, "how long a value is served after its scrape; at least the scrape interval (default: 3 scrape intervals)")
	f.StringArrayVar(&o.Renames, "rename", nil, "serve source metric FROM as TO, as FROM=TO, e.g. num_requests_waiting=nim_queue_depth (repeatable)")
	f.AddFlagSet(libFlags)
	return cmd
}

// Complete turns the scrape flags into a metricsadapter.Config.
func (o *metricsAdapterOptions) Complete() error {
	o.Config = metricsadapter.Config{
		Sources:        o.Sources,
		ScrapeInterval: o.ScrapeInterval,
		ScrapeTimeout:  o.ScrapeTimeout,
		MaxAge:         o.MaxAge,
	}
	for _, r := range o.Renames {
		from, to, ok := strings.Cut(r, "=")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !ok || from == "" || to == "" {
			return &UsageError{fmt.Errorf("--rename %q: want FROM=TO, e.g. num_requests_waiting=nim_queue_depth", r)}
		}
		if o.Config.Renames == nil {
			o.Config.Renames = make(map[string]string)
		}
		if prev, dup := o.Config.Renames[from]; dup && prev != to {
			return &UsageError{fmt.Errorf("--rename %s: renamed twice, to %s and to %s", from, prev, to)}
		}
		o.Config.Renames[from] = to
	}
	return nil
}

// Validate checks the scrape configuration and the server library's options.
func (o *metricsAdapterOptions) Validate() error {
	if len(o.Sources) == 0 {
		return &UsageError{errors.New("no --source given: name at least one metrics endpoint, e.g. --source http://127.0.0.1:8000/metrics")}
	}
	if o.ScrapeInterval <= 0 {
		return &UsageError{fmt.Errorf("--scrape-interval %s: must be positive", o.ScrapeInterval)}
	}
	if o.MaxAge != 0 && o.MaxAge < o.ScrapeInterval {
		return &UsageError{fmt.Errorf("--metrics-max-age %s is shorter than --scrape-interval %s: values would vanish between scrapes", o.MaxAge, o.ScrapeInterval)}
	}
	if o.ScrapeTimeout > o.ScrapeInterval {
		return &UsageError{fmt.Errorf("--scrape-timeout %s exceeds --scrape-interval %s", o.ScrapeTimeout, o.ScrapeInterval)}
	}
	if err := o.Config.Validate(); err != nil {
		return &UsageError{err}
	}
	if errs := o.Adapter.CustomMetricsAdapterServerOptions.Validate(); len(errs) > 0 {
		return &UsageError{utilerrors.NewAggregate(errs)}
	}
	return nil
}

// Run scrapes and serves until ctx is cancelled.
func (o *metricsAdapterOptions) Run(ctx context.Context) error {
	kubeconfig, cleanup, err := adapterKubeconfig(o.kube)
	if err != nil {
		return err
	}
	defer cleanup()
	for _, p := range []*string{
		&o.Adapter.RemoteKubeConfigFile,
		&o.Adapter.Authentication.RemoteKubeConfigFile,
		&o.Adapter.Authorization.RemoteKubeConfigFile,
	} {
		if *p == "" {
			*p = kubeconfig
		}
	}

	log := slog.New(slog.NewTextHandler(o.errOut, nil))
	scraper, err := metricsadapter.NewScraper(o.Config, metricsadapter.Deps{Log: log})
	if err != nil {
		return &UsageError{err}
	}
	factory, err := o.Adapter.Informers()
	if err != nil {
		return &EnvError{fmt.Errorf("connect to the API server: %w (see --lister-kubeconfig or --kubeconfig)", err)}
	}
	pods := factory.Core().V1().Pods()
	o.Adapter.WithCustomMetrics(metricsadapter.NewProvider(scraper.Store(), pods.Lister()))

	server, err := o.Adapter.Server()
	if err != nil {
		return &EnvError{fmt.Errorf("set up the adapter server: %w", err)}
	}
	addr := "?"
	if ln := server.GenericAPIServer.SecureServingInfo; ln != nil && ln.Listener != nil {
		addr = ln.Listener.Addr().String()
	}
	cfg := scraper.Config()
	err = server.GenericAPIServer.AddPostStartHook("scalegate-serving-notice", func(genericapiserver.PostStartHookContext) error {
		_, err := fmt.Fprintf(o.errOut, "metrics-adapter: serving custom.metrics.k8s.io (v1beta2, v1beta1) on https://%s; scraping %d source(s) every %s, max age %s\n",
			addr, len(cfg.Sources), cfg.ScrapeInterval, cfg.MaxAge)
		return err
	})
	if err != nil {
		return fmt.Errorf("add serving notice: %w", err)
	}

	// Wait for the pod cache before serving, so the first HPA query does not
	// see an empty namespace. The server starts the same informers again;
	// Start is idempotent.
	factory.Start(ctx.Done())
	syncCtx, cancel := context.WithTimeout(ctx, podCacheSyncLimit)
	synced := cache.WaitForCacheSync(syncCtx.Done(), pods.Informer().HasSynced)
	cancel()
	if !synced {
		if ctx.Err() != nil {
			return nil
		}
		return &EnvError{fmt.Errorf("list pods from the API server: no complete answer within %s (check --lister-kubeconfig or --kubeconfig and that it may list pods)", podCacheSyncLimit)}
	}

	scrapeCtx, stopScraping := context.WithCancel(ctx)
	scrapeDone := make(chan error, 1)
	go func() { scrapeDone <- scraper.Run(scrapeCtx) }()
	err = o.Adapter.Run(ctx)
	stopScraping() // the server may have stopped on its own
	<-scrapeDone   // always nil: scrape failures are logged, not returned
	if err != nil {
		return fmt.Errorf("serve custom metrics: %w", err)
	}
	return nil
}

// adapterKubeconfig returns the path of a kubeconfig file for the server
// library, which takes only a path and always uses that file's current
// context. With --kubeconfig and no --context that is the file itself;
// otherwise the context chosen by the usual rules is written, minified and
// with credentials inlined, to a private temporary file that cleanup
// removes. An empty path means no kubeconfig was found and the library uses
// the in-cluster service account.
func adapterKubeconfig(k *kubeFlags) (path string, cleanup func(), err error) {
	cleanup = func() {}
	if k.Context == "" && k.Kubeconfig != "" {
		return k.Kubeconfig, cleanup, nil
	}
	raw, err := k.clientConfig().RawConfig()
	if err != nil {
		return "", cleanup, &EnvError{fmt.Errorf("load kubeconfig: %w", err)}
	}
	if len(raw.Contexts) == 0 {
		if k.Context != "" {
			return "", cleanup, &UsageError{fmt.Errorf("--context %s: no kubeconfig found (set --kubeconfig or KUBECONFIG)", k.Context)}
		}
		return "", cleanup, nil
	}
	if k.Context != "" {
		if _, ok := raw.Contexts[k.Context]; !ok {
			return "", cleanup, &UsageError{fmt.Errorf("--context %s: not in the kubeconfig", k.Context)}
		}
		raw.CurrentContext = k.Context
	}
	if err := clientcmdapi.MinifyConfig(&raw); err != nil {
		return "", cleanup, &EnvError{fmt.Errorf("select kubeconfig context: %w", err)}
	}
	if err := clientcmdapi.FlattenConfig(&raw); err != nil {
		return "", cleanup, &EnvError{fmt.Errorf("inline kubeconfig credentials: %w", err)}
	}
	dir, err := os.MkdirTemp("", "scalegate-metrics-adapter-")
	if err != nil {
		return "", cleanup, fmt.Errorf("write adapter kubeconfig: %w", err)
	}
	cleanup = func() { _ = os.RemoveAll(dir) } // best effort; the directory is private and temporary
	path = filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(raw, path); err != nil {
		cleanup()
		return "", func() {}, fmt.Errorf("write adapter kubeconfig: %w", err)
	}
	return path, cleanup, nil
}
