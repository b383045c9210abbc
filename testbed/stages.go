package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// StageDirs are the kwok stage sets the testbed loads, relative to the kwok
// module's root: a node goes Ready at once, and pods follow the "general"
// lifecycle. During the pod-ready delay a pod is Pending (Initialized=True,
// Ready=False, ContainersReady=False, containers waiting ContainerCreating,
// a pod IP already set); when the delay ends it turns Running and Ready in one
// step. The HPA therefore counts a loading pod as unready, never as a Running
// pod without metrics.
var StageDirs = []string{"kustomize/stage/node/fast", "kustomize/stage/pod/general"}

// kwokStages reads the stage YAMLs shipped in the kwok module that the tool
// module in kwokModuleDir requires, and joins them into one multi-document
// YAML.
func kwokStages(ctx context.Context, kwokModuleDir string) ([]byte, error) {
	dir, err := moduleDir(ctx, kwokModuleDir, "sigs.k8s.io/kwok")
	if err != nil {
		return nil, err
	}
	var docs [][]byte
	for _, sd := range StageDirs {
		d, err := readKustomization(filepath.Join(dir, sd))
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
	return joinYAML(docs), nil
}

// readKustomization returns the resources a kustomization.yaml lists, in its
// order.
func readKustomization(dir string) ([][]byte, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read kwok stages: %w", err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(raw, &k); err != nil {
		return nil, fmt.Errorf("read kwok stages %s: %w", dir, err)
	}
	if len(k.Resources) == 0 {
		return nil, fmt.Errorf("read kwok stages %s: kustomization lists no resources", dir)
	}
	var docs [][]byte
	for _, r := range k.Resources {
		b, err := os.ReadFile(filepath.Join(dir, r))
		if err != nil {
			return nil, fmt.Errorf("read kwok stages: %w", err)
		}
		docs = append(docs, b)
	}
	return docs, nil
}

// joinYAML joins YAML documents with "---" lines. kwok silently loads no
// stage from documents that are merely concatenated.
func joinYAML(docs [][]byte) []byte {
	var buf bytes.Buffer
	for i, d := range docs {
		d = bytes.TrimPrefix(bytes.TrimSpace(d), []byte("---\n"))
		if i > 0 {
			buf.WriteString("\n---\n")
		}
		buf.Write(d)
	}
	buf.WriteString("\n")
	return buf.Bytes()
}

// moduleDir returns where the module cache holds module mod, as the module
// in dir requires it, downloading it first if needed.
func moduleDir(ctx context.Context, dir, mod string) (string, error) {
	var buf bytes.Buffer
	if err := runGo(ctx, dir, &buf, "mod", "download", "-json", mod); err != nil {
		return "", fmt.Errorf("locate module %s: %w", mod, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(buf.Bytes(), &info); err != nil {
		return "", fmt.Errorf("locate module %s: %w", mod, err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("locate module %s: %s", mod, strings.TrimSpace(info.Error))
	}
	return info.Dir, nil
}
