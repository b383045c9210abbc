package testbed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestJoinYAML(t *testing.T) {
	tests := []struct {
		name string
		docs []string
		want string
	}{
		{name: "one", docs: []string{"a: 1\n"}, want: "a: 1\n"},
		{name: "separated by --- lines", docs: []string{"a: 1\n", "b: 2"}, want: "a: 1\n---\nb: 2\n"},
		{name: "a leading --- is not doubled", docs: []string{"---\na: 1\n", "---\nb: 2\n"}, want: "a: 1\n---\nb: 2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var docs [][]byte
			for _, d := range tc.docs {
				docs = append(docs, []byte(d))
			}
			if got := string(joinYAML(docs)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadKustomization(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- b.yaml\n- a.yaml\n",
		"a.yaml":             "kind: Stage\nmetadata:\n  name: a\n",
		"b.yaml":             "kind: Stage\nmetadata:\n  name: b\n",
		"unlisted.yaml":      "kind: Stage\nmetadata:\n  name: unlisted\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	docs, err := readKustomization(dir)
	if err != nil {
		t.Fatal(err)
	}
	joined := string(joinYAML(docs))
	var names []string
	for _, d := range strings.Split(joined, "\n---\n") {
		var s struct {
			Metadata struct{ Name string } `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(d), &s); err != nil {
			t.Fatal(err)
		}
		names = append(names, s.Metadata.Name)
	}
	if got := strings.Join(names, ","); got != "b,a" {
		t.Errorf("stages %s, want b,a (the kustomization's order, unlisted files left out)", got)
	}

	if _, err := readKustomization(t.TempDir()); err == nil {
		t.Error("no error for a folder without kustomization.yaml")
	}
}
