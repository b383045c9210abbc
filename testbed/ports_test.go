package testbed

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

func TestPickPorts(t *testing.T) {
	ports, err := pickPorts(6)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v: want 6 distinct positive ports", ports)
		}
		seen[p] = true
		if err := checkFree(p); err != nil {
			t.Errorf("picked port %d is not free: %v", p, err)
		}
	}
}

func TestCheckFreeNamesTheOwner(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	err = checkFree(port)
	var busy *PortBusyError
	if !errors.As(err, &busy) || busy.Port != port {
		t.Fatalf("error %v, want *PortBusyError for %d", err, port)
	}
	if _, statErr := os.Stat("/proc/net/tcp"); statErr == nil {
		want := fmt.Sprintf("port %d busy (used by pid %d (", port, os.Getpid())
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %q, want prefix %q", err, want)
		}
	}
}

func TestParseListeningInodes(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1A0B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1A0B 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1A0C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 100 0 0 10 0
`
	got := parseListeningInodes(bufio.NewScanner(strings.NewReader(table)), 0x1A0B)
	if len(got) != 1 || !got["111"] {
		t.Fatalf("inodes %v, want only 111 (the LISTEN socket on port 0x1A0B)", got)
	}
}
