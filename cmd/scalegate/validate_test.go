package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidateFlags(t *testing.T) {
	dir := t.TempDir()
	badProfile := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badProfile, []byte("schemaVersion: 1\nmaxLatency: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, o *validateOptions)
	}{
		{name: "defaults", args: []string{"--endpoint", "http://127.0.0.1:8000"}, check: func(t *testing.T, o *validateOptions) {
			c := o.cfg
			if c.Users != 100 || c.Duration != 120*time.Second || c.Deployment != "coding-assistant" || c.Namespace != "production" {
				t.Errorf("cfg = %+v", c)
			}
			if c.Profile.BaselineReplicas != 2 || !strings.HasPrefix(c.Dir, "runs"+string(filepath.Separator)) {
				t.Errorf("profile %+v, dir %s", c.Profile, c.Dir)
			}
		}},
		{name: "duration as a duration", args: []string{"--endpoint", "http://x", "--duration", "2m", "-n", "ml"}, check: func(t *testing.T, o *validateOptions) {
			if o.cfg.Duration != 2*time.Minute || o.cfg.Namespace != "ml" {
				t.Errorf("duration %s namespace %s", o.cfg.Duration, o.cfg.Namespace)
			}
		}},
		{name: "api key from the environment only", args: []string{"--endpoint", "http://x", "--api-key-env", "MY_KEY"}, env: map[string]string{"MY_KEY": "s3cret"},
			check: func(t *testing.T, o *validateOptions) {
				if o.cfg.APIKey != "s3cret" {
					t.Errorf("api key not read from MY_KEY")
				}
			}},
		{name: "an unset key variable is warned about", args: []string{"--endpoint", "http://x", "--api-key-env", "SCALEGATE_TEST_UNSET_KEY"},
			check: func(t *testing.T, o *validateOptions) {
				if o.cfg.APIKey != "" {
					t.Errorf("api key %q from an unset variable", o.cfg.APIKey)
				}
				if got := o.deps.ErrOut.(*bytes.Buffer).String(); !strings.Contains(got, "SCALEGATE_TEST_UNSET_KEY, which is not set") {
					t.Errorf("stderr %q lacks the warning", got)
				}
			}},
		{name: "zero users", args: []string{"--endpoint", "http://x", "--users", "0"}, wantErr: "--users 0: want at least 1"},
		{name: "negative duration", args: []string{"--endpoint", "http://x", "--duration", "-5"}, wantErr: "want a positive duration"},
		{name: "bad duration", args: []string{"--endpoint", "http://x", "--duration", "soon"}, wantErr: "want a number of seconds or a duration"},
		{name: "no endpoint", args: nil, wantErr: "--endpoint is required"},
		{name: "bad output", args: []string{"--endpoint", "http://x", "-o", "yaml"}, wantErr: "want one of table, json, junit"},
		{name: "unknown profile field", args: []string{"--endpoint", "http://x", "--profile", badProfile}, wantErr: "known fields"},
		{name: "unknown flag", args: []string{"--endpoint", "http://x", "--userz", "3"}, wantErr: "unknown flag: --userz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var got *validateOptions
			d := &Deps{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}, Kube: &kubeFlags{Kubeconfig: filepath.Join(dir, "none")}}
			root := newCmdRoot(d)
			for _, c := range root.Commands() {
				if c.Name() == "validate" {
					root.RemoveCommand(c)
				}
			}
			root.AddCommand(newCmdValidate(d, func(o *validateOptions) error { got = o; return nil }))
			root.SetArgs(append([]string{"validate"}, tc.args...))
			err := root.Execute()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				var usage *UsageError
				if !errors.As(err, &usage) {
					t.Errorf("err %T is not a usage error (exit 2)", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, got)
		})
	}
}
