//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/e2e-framework/pkg/env"
	"sigs.k8s.io/e2e-framework/pkg/envconf"

	"github.com/scalegate/scalegate/testbed"
)

// dirEnv names the variable that overrides the suite's testbed folder.
const dirEnv = "SCALEGATE_E2E_DIR"

var (
	testenv env.Environment
	// cluster is the testbed Setup started; nil until then.
	cluster *testbed.Cluster
	// failed records that some test failed, so Finish points at the logs.
	failed atomic.Bool
	// suite is the testbed configuration every feature can read.
	suite = testbed.Config{
		// Its own folder, so the suite never collides with a testbed a
		// developer started with make testbed-up.
		Dir:        ".cache/testbed-e2e",
		TimeScale:  10,
		SyncPeriod: time.Second,
	}
)

func TestMain(m *testing.M) {
	if d := os.Getenv(dirEnv); d != "" {
		suite.Dir = d
	}
	dir, err := testbed.ResolveDir(suite.Dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	suite.Dir = dir

	cfg := envconf.New().WithKubeconfigFile(filepath.Join(dir, "kubeconfig")).WithNamespace(testbed.DefaultNamespace)
	testenv = env.NewWithConfig(cfg)
	testenv.Setup(func(ctx context.Context, _ *envconf.Config) (context.Context, error) {
		c, err := testbed.Up(ctx, suite, testbed.Deps{Out: os.Stderr})
		if err != nil {
			failed.Store(true)
			return ctx, fmt.Errorf("start the testbed: %w", err)
		}
		cluster = c
		return ctx, nil
	})
	testenv.AfterEachTest(func(ctx context.Context, _ *envconf.Config, t *testing.T) (context.Context, error) {
		if t.Failed() {
			failed.Store(true)
		}
		return ctx, nil
	})
	testenv.Finish(func(ctx context.Context, _ *envconf.Config) (context.Context, error) {
		if failed.Load() {
			fmt.Fprintf(os.Stderr, "e2e: a test failed; the component logs are kept in %s\n", filepath.Join(dir, "logs"))
		}
		if cluster == nil {
			return ctx, nil
		}
		return ctx, cluster.Stop()
	})
	os.Exit(testenv.Run(m))
}
