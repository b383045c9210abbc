package testbed

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Tool is one control-plane binary the testbed builds from a tool module of
// its own (tools/<dir>, outside the product's go.mod).
type Tool struct {
	// Name is the binary's name.
	Name string
	// ModuleDir is the tool module's folder, relative to the repository root.
	ModuleDir string
	// VersionOf is the module whose version keys the cache, so a bump of it
	// in the tool module's go.mod rebuilds the binary.
	VersionOf string
	// Package is what `go build` builds, inside ModuleDir.
	Package string
}

// Tools are the binaries Build makes, in start order.
var Tools = []Tool{
	{Name: "etcd", ModuleDir: "tools/etcd", VersionOf: "go.etcd.io/etcd/server/v3", Package: "."},
	{Name: "kube-apiserver", ModuleDir: "tools/kube", VersionOf: "k8s.io/kubernetes", Package: "k8s.io/kubernetes/cmd/kube-apiserver"},
	{Name: "kube-controller-manager", ModuleDir: "tools/kube", VersionOf: "k8s.io/kubernetes", Package: "k8s.io/kubernetes/cmd/kube-controller-manager"},
	{Name: "kwok", ModuleDir: "tools/kwok", VersionOf: "sigs.k8s.io/kwok", Package: "sigs.k8s.io/kwok/cmd/kwok"},
}

// Binaries maps a tool's name to the path of its built binary.
type Binaries map[string]string

// BinDir is where built binaries are cached, relative to the repository root:
// BinDir/<name>-<version>/<name>.
const BinDir = ".cache/bin"

// Build makes every tool binary that is not cached yet under root's BinDir
// and returns the paths of all of them. A cached binary is never rebuilt;
// bumping a tool module's version changes its cache key. Progress and the go
// command's output go to out.
func Build(ctx context.Context, root string, out io.Writer) (Binaries, error) {
	if out == nil {
		out = io.Discard
	}
	bins := Binaries{}
	missing := map[string][]Tool{} // by module dir, so one go build links several
	var order []string
	for _, t := range Tools {
		version, err := moduleVersion(ctx, filepath.Join(root, t.ModuleDir), t.VersionOf)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", t.Name, err)
		}
		path := filepath.Join(root, BinDir, t.Name+"-"+version, t.Name)
		bins[t.Name] = path
		if isExecutable(path) {
			continue
		}
		if _, seen := missing[t.ModuleDir]; !seen {
			order = append(order, t.ModuleDir)
		}
		missing[t.ModuleDir] = append(missing[t.ModuleDir], t)
	}
	for _, dir := range order {
		if err := buildGroup(ctx, root, dir, missing[dir], bins, out); err != nil {
			return nil, err
		}
	}
	return bins, nil
}

// buildGroup builds the tools of one module with a single go build, into a
// temporary folder, then moves each binary into its cache folder, so an
// interrupted build never leaves a half-written binary that counts as built.
func buildGroup(ctx context.Context, root, moduleDir string, tools []Tool, bins Binaries, out io.Writer) error {
	names := make([]string, len(tools))
	pkgs := make([]string, len(tools))
	for i, t := range tools {
		names[i], pkgs[i] = t.Name, t.Package
	}
	if err := os.MkdirAll(filepath.Join(root, BinDir), 0o755); err != nil {
		return fmt.Errorf("build %s: %w", strings.Join(names, ", "), err)
	}
	tmp, err := os.MkdirTemp(filepath.Join(root, BinDir), ".build-")
	if err != nil {
		return fmt.Errorf("build %s: %w", strings.Join(names, ", "), err)
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintf(out, "building %s (in %s; minutes on a cold cache)\n", strings.Join(names, ", "), moduleDir)
	start := time.Now()
	args := append([]string{"build", "-o", tmp + string(filepath.Separator)}, pkgs...)
	if err := runGo(ctx, filepath.Join(root, moduleDir), out, args...); err != nil {
		return fmt.Errorf("build %s in %s: %w", strings.Join(names, ", "), moduleDir, err)
	}
	for _, t := range tools {
		built := filepath.Join(tmp, t.Name)
		if t.Package == "." {
			// go build names a main package after its module's last element.
			built = filepath.Join(tmp, filepath.Base(t.ModuleDir))
		}
		dst := bins[t.Name]
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("install %s: %w", t.Name, err)
		}
		if err := os.Rename(built, dst); err != nil {
			return fmt.Errorf("install %s: %w", t.Name, err)
		}
	}
	fmt.Fprintf(out, "built %s in %s\n", strings.Join(names, ", "), time.Since(start).Round(time.Second))
	return nil
}

// BuildScalegate builds the scalegate command from the tree at root into
// dir/scalegate. Up calls it every time, so the testbed always runs the
// mock NIM and the adapter of the current tree.
func BuildScalegate(ctx context.Context, root, dir string, out io.Writer) (string, error) {
	dst := filepath.Join(dir, "scalegate")
	if err := runGo(ctx, root, out, "build", "-o", dst, "./cmd/scalegate"); err != nil {
		return "", fmt.Errorf("build scalegate: %w (does `go build ./cmd/scalegate` pass?)", err)
	}
	return dst, nil
}

// moduleVersion asks the go command for the version of module mod as the
// tool module in dir requires it.
func moduleVersion(ctx context.Context, dir, mod string) (string, error) {
	var buf bytes.Buffer
	if err := runGo(ctx, dir, &buf, "list", "-m", "-f", "{{.Version}}", mod); err != nil {
		return "", fmt.Errorf("read the version of %s in %s: %w", mod, dir, err)
	}
	v := strings.TrimSpace(lastLine(buf.String()))
	if v == "" {
		return "", fmt.Errorf("read the version of %s in %s: empty answer", mod, dir)
	}
	return v, nil
}

// runGo runs the go command in dir, outside any go.work, teeing its output to
// out; on failure the error carries the output's last lines.
func runGo(ctx context.Context, dir string, out io.Writer, args ...string) error {
	if out == nil {
		out = io.Discard
	}
	var tail tailBuffer
	cmd := exec.CommandContext(ctx, goCommand(), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdout = io.MultiWriter(out, &tail)
	cmd.Stderr = io.MultiWriter(out, &tail)
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("go command not found: %w (put Go on PATH)", err)
		}
		if t := strings.TrimSpace(tail.String()); t != "" {
			return fmt.Errorf("go %s: %w:\n%s", args[0], err, t)
		}
		return fmt.Errorf("go %s: %w", args[0], err)
	}
	return nil
}

func goCommand() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// tailBuffer keeps the last few kilobytes written to it.
type tailBuffer struct{ b []byte }

const tailBytes = 4 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2*tailBytes {
		t.b = append(t.b[:0], t.b[len(t.b)-tailBytes:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return lastLines(t.b, 20) }

// lastLines returns at most n final lines of b.
func lastLines(b []byte, n int) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
