package main

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/scalegate/scalegate/testbed"
)

func TestUpFlags(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		want    testbed.Config
		wantErr string
	}{
		{name: "defaults", argv: nil, want: testbed.Config{Dir: testbed.DefaultDir, TimeScale: 10, SyncPeriod: time.Second,
			Namespace: "production", Slots: 8, StartTimeout: testbed.DefaultStartTimeout}},
		{name: "every flag", argv: []string{"--dir", "/tmp/tb", "--time-scale", "5", "--sync-period", "2s", "--ready-delay", "30s",
			"-n", "ns", "--slots", "4", "--control-plane-only", "--start-timeout", "1m"},
			want: testbed.Config{Dir: "/tmp/tb", TimeScale: 5, SyncPeriod: 2 * time.Second, ReadyDelay: 30 * time.Second,
				Namespace: "ns", Slots: 4, ControlPlaneOnly: true, StartTimeout: time.Minute}},
		{name: "zero time scale", argv: []string{"--time-scale", "0"}, wantErr: "--time-scale 0: must be 1 or more"},
		{name: "zero sync period", argv: []string{"--sync-period", "0s"}, wantErr: "--sync-period 0s: must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *upOptions
			d := &Deps{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
			cmd := newCmdUp(d, func(o *upOptions) error { got = o; return nil })
			cmd.SetArgs(tc.argv)
			cmd.SetOut(d.Out)
			cmd.SetErr(d.ErrOut)
			err := cmd.Execute()
			if tc.wantErr != "" {
				var u *usageError
				if err == nil || err.Error() != tc.wantErr || !errors.As(err, &u) {
					t.Fatalf("error %v, want usage error %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.cfg != tc.want {
				t.Errorf("config\n got %+v\nwant %+v", got.cfg, tc.want)
			}
		})
	}
}

func TestCommandsExist(t *testing.T) {
	root := newCmdRoot(&Deps{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	for _, name := range []string{"build", "up", "down", "status", "env"} {
		if c, _, err := root.Find([]string{name}); err != nil || c.Name() != name {
			t.Errorf("no %s command: %v", name, err)
		}
	}
}
