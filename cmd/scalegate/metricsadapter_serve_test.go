package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPIServer answers the few calls the adapter makes to the API server:
// a pod list and watch, and subject access reviews, which it always allows.
func fakeAPIServer(t *testing.T, podList string) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	var unexpected []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/api/v1/pods" && q.Get("watch") == "true" && q.Get("sendInitialEvents") == "true":
			// No streaming lists here: the reflector falls back to list.
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"BadRequest","code":400}`)
		case r.URL.Path == "/api/v1/pods" && q.Get("watch") == "true":
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case r.URL.Path == "/api/v1/pods":
			fmt.Fprint(w, podList)
		case r.URL.Path == "/apis/authorization.k8s.io/v1/subjectaccessreviews" && r.Method == http.MethodPost:
			fmt.Fprint(w, `{"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1","status":{"allowed":true}}`)
		default:
			mu.Lock()
			unexpected = append(unexpected, r.Method+" "+r.URL.String())
			mu.Unlock()
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if len(unexpected) > 0 {
			t.Logf("unexpected API calls: %v", unexpected)
		}
	})
	return srv
}

// lineWatcher is an io.Writer that closes seen once a line contains want.
type lineWatcher struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (l *lineWatcher) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if strings.Contains(l.buf.String(), l.want) {
		l.once.Do(func() { close(l.seen) })
	}
	return len(p), nil
}

func (l *lineWatcher) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() //nolint:errcheck // only its port is wanted
	return ln.Addr().(*net.TCPAddr).Port
}

// TestMetricsAdapterServes starts the real adapter server in process on a
// loopback port and reads a metric through both API versions.
func TestMetricsAdapterServes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	api := fakeAPIServer(t, `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"10"},"items":[
		{"metadata":{"name":"nim-a","namespace":"prod","labels":{"app":"nim"}}},
		{"metadata":{"name":"nim-b","namespace":"prod","labels":{"app":"nim"}}},
		{"metadata":{"name":"nim-gone","namespace":"prod","labels":{"app":"nim"},"deletionTimestamp":"2026-12-01T10:00:00Z"}},
		{"metadata":{"name":"web","namespace":"prod","labels":{"app":"web"}}}]}`)
	nim := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `# TYPE nim_queue_depth gauge
nim_queue_depth{namespace="prod",pod="nim-a"} 50
nim_queue_depth{namespace="prod",pod="nim-b"} 2.5
nim_queue_depth{namespace="prod",pod="nim-gone"} 9
nim_queue_depth{namespace="prod",pod="web"} 1
`)
	}))
	t.Cleanup(nim.Close)

	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "`+api.URL+`"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: fake, context: {cluster: fake, user: u}}]
current-context: fake
`), 0o600); err != nil {
		t.Fatal(err)
	}
	certDir := filepath.Join(dir, "certs")
	port := freePort(t)

	errOut := &lineWatcher{want: "metrics-adapter: serving", seen: make(chan struct{})}
	d := &Deps{Out: io.Discard, ErrOut: errOut, Kube: &kubeFlags{}}
	root := newCmdRoot(d)
	root.SetArgs([]string{"metrics-adapter", "--kubeconfig", kc, "--source", nim.URL + "/metrics",
		"--secure-port", strconv.Itoa(port), "--cert-dir", certDir, "--authentication-skip-lookup"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("adapter returned %v after cancel, want nil", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("adapter did not stop on cancel")
		}
	})

	select {
	case <-errOut.seen:
	case err := <-done:
		t.Fatalf("adapter exited before serving: %v\n%s", err, errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("adapter not serving after 30s:\n%s", errOut.String())
	}
	if !strings.Contains(errOut.String(), fmt.Sprintf("on https://127.0.0.1:%d;", port)) {
		t.Errorf("serving line lacks the address:\n%s", errOut.String())
	}

	// The serving certificate was written to --cert-dir; trust exactly it.
	pem, err := os.ReadFile(filepath.Join(certDir, "apiserver.crt"))
	if err != nil {
		t.Fatalf("serving cert not in --cert-dir: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := fmt.Sprintf("https://127.0.0.1:%d/apis/custom.metrics.k8s.io", port)

	type item struct {
		DescribedObject struct{ Name string } `json:"describedObject"`
		MetricName      string                `json:"metricName"` // v1beta1
		Metric          struct{ Name string } `json:"metric"`     // v1beta2
		Value           string                `json:"value"`
		WindowSeconds   *int64                `json:"windowSeconds"`
	}
	get := func(version string) (int, []item, string) {
		resp, err := client.Get(base + "/" + version + "/namespaces/prod/pods/*/nim_queue_depth?labelSelector=app%3Dnim")
		if err != nil {
			t.Fatalf("GET %s: %v", version, err)
		}
		defer resp.Body.Close() //nolint:errcheck // read path
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("read %s: %v", version, err)
		}
		var list struct{ Items []item }
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(body, &list); err != nil {
				t.Fatalf("decode %s: %v\n%s", version, err, body)
			}
		}
		return resp.StatusCode, list.Items, string(body)
	}

	for _, version := range []string{"v1beta2", "v1beta1"} {
		var items []item
		var code int
		var body string
		// The first scrape races the server start; it lands within a few ms.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			code, items, body = get(version)
			if code == http.StatusOK && len(items) == 2 {
				break
			}
		}
		if code != http.StatusOK || len(items) != 2 {
			t.Fatalf("%s: status %d, body %s", version, code, body)
		}
		got := map[string]string{}
		for _, it := range items {
			got[it.DescribedObject.Name] = it.Value
			name, windowOK := it.Metric.Name, it.WindowSeconds != nil && *it.WindowSeconds == 1
			if version == "v1beta1" {
				name, windowOK = it.MetricName, true // v1beta1 has no windowSeconds
			}
			if name != "nim_queue_depth" || !windowOK {
				t.Errorf("%s item %+v", version, it)
			}
		}
		if got["nim-a"] != "50" || got["nim-b"] != "2500m" {
			t.Errorf("%s values = %v, want nim-a 50 and nim-b 2500m", version, got)
		}
	}

	resp, err := client.Get(base + "/v1beta2/namespaces/prod/pods/*/no_such_metric")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() //nolint:errcheck // read path
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown metric: status %d, want 404", resp.StatusCode)
	}
}
