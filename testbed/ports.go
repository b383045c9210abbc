package testbed

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// loopback is the only address the testbed binds.
const loopback = "127.0.0.1"

// pickPorts returns n distinct free loopback ports. It holds every listener
// until all are chosen, so the kernel never hands out the same port twice;
// another process can still take one before the component binds it, which
// checkFree and the start-up checks then report.
func pickPorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close() // only probing; nothing was served
		}
	}()
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(loopback, "0"))
		if err != nil {
			return nil, fmt.Errorf("pick a free port on %s: %w", loopback, err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// PortBusyError says a port a component needs is taken.
type PortBusyError struct {
	Port int
	By   string // who holds it, when /proc tells; empty otherwise
}

func (e *PortBusyError) Error() string {
	if e.By != "" {
		return fmt.Sprintf("port %d busy (used by %s)", e.Port, e.By)
	}
	return fmt.Sprintf("port %d busy (used by another process)", e.Port)
}

// checkFree returns a *PortBusyError when port cannot be bound on loopback.
func checkFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(port)))
	if err != nil {
		return &PortBusyError{Port: port, By: portOwner(port)}
	}
	l.Close() // only probing
	return nil
}

// portOwner names the process listening on a TCP port ("pid 123 (etcd)"),
// from /proc; it returns "" when it cannot tell.
func portOwner(port int) string {
	inodes := listeningInodes("/proc/net/tcp", port)
	for k, v := range listeningInodes("/proc/net/tcp6", port) {
		inodes[k] = v
	}
	if len(inodes) == 0 {
		return ""
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return ""
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				comm, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				return fmt.Sprintf("pid %d (%s)", pid, strings.TrimSpace(string(comm)))
			}
		}
	}
	return ""
}

// listeningInodes returns the socket inodes listening on port in a
// /proc/net/tcp-format table.
func listeningInodes(table string, port int) map[string]bool {
	out := map[string]bool{}
	f, err := os.Open(table)
	if err != nil {
		return out
	}
	defer f.Close() // read only
	return parseListeningInodes(bufio.NewScanner(f), port)
}

func parseListeningInodes(sc *bufio.Scanner, port int) map[string]bool {
	out := map[string]bool{}
	want := fmt.Sprintf(":%04X", port)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(fields) < 10 || fields[3] != "0A" { // 0A is LISTEN
			continue
		}
		if strings.HasSuffix(fields[1], want) {
			out[fields[9]] = true
		}
	}
	return out
}
