//go:build chaos

package chaos

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is a child process whose stderr (and, for the scorer, stdout) goes
// to a log file under the test's temporary directory.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	started time.Time     // just before the process was started
	done    chan struct{} // closed once the process has been waited for
	waitErr error         // the exit status; read only after done
}

// startProc starts bin. When withStdout is set, the process's stdout is
// returned for the caller to read; otherwise it goes to the log too. The
// process is killed, if still running, when the test ends, and its log's
// tail is printed if the test failed.
func startProc(t *testing.T, name, logPath string, withStdout bool, bin string, args ...string) (*proc, io.Reader) {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logFile
	var stdout io.Reader
	if withStdout {
		if stdout, err = cmd.StdoutPipe(); err != nil {
			t.Fatal(err)
		}
	} else {
		cmd.Stdout = logFile
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, started: started, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.running() {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("last lines of %s's log (%s):\n%s", p.name, p.logPath, p.tail(30))
		}
		keepLog(t, logPath)
	})
	return p, stdout
}

// keepLog copies a process log under CHAOS_LOGS, when it is set, since the
// test's temporary directory does not outlive the test.
func keepLog(t *testing.T, logPath string) {
	dir := os.Getenv("CHAOS_LOGS")
	if dir == "" {
		return
	}
	dir = filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_"))
	raw, err := os.ReadFile(logPath)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, filepath.Base(logPath)), raw, 0o644)
	}
	if err != nil {
		t.Errorf("CHAOS_LOGS: %v", err)
	}
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// exitStatus describes how the process ended; call it once done is closed.
func (p *proc) exitStatus() string {
	if p.waitErr == nil {
		return "exit status 0"
	}
	return p.waitErr.Error()
}

// kill9 sends SIGKILL, the fault, and waits until the process is gone, so
// that whatever comes next starts from a dead process, not a dying one.
func (p *proc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("SIGKILL %s: %v", p.name, err)
	}
	<-p.done
}

// stop sends SIGTERM and waits up to timeout for a clean exit; it returns
// an error when the process did not exit, or exited non-zero.
func (p *proc) stop(timeout time.Duration) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGTERM %s: %w", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not exit within %v of SIGTERM; killed", p.name, timeout)
	}
	if p.waitErr != nil {
		return fmt.Errorf("%s stopped on SIGTERM with %w", p.name, p.waitErr)
	}
	return nil
}

// tail returns the last n lines of the process's log.
func (p *proc) tail(n int) string {
	raw, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// stack is the broker and schema registry process (cmd/stack).
type stack struct {
	t       *testing.T
	logDir  string
	args    []string
	proc    *proc
	starts  int
	brokers string // host:port
	regURL  string
}

// stackConfig says how to run the stack. A restartable stack needs a data
// directory and fixed ports, so that the scorer and the producer, which
// know only the old addresses, find it again.
type stackConfig struct {
	dataDir      string // empty: memory only
	kafkaPort    int    // 0: any free port
	registryAddr string // empty: 127.0.0.1 on any free port
}

func startStack(t *testing.T, logDir string, cfg stackConfig) *stack {
	t.Helper()
	if cfg.registryAddr == "" {
		cfg.registryAddr = "127.0.0.1:0"
	}
	s := &stack{t: t, logDir: logDir, args: []string{
		"-dir=" + cfg.dataDir, "-kafka-port", strconv.Itoa(cfg.kafkaPort),
		"-registry-addr", cfg.registryAddr, "-partitions", strconv.Itoa(partitions),
	}}
	s.start()
	return s
}

// start runs the stack and waits for its ready line.
func (s *stack) start() {
	s.t.Helper()
	s.starts++
	name := fmt.Sprintf("stack #%d", s.starts)
	p, stdout := startProc(s.t, name, fmt.Sprintf("%s/stack-%d.log", s.logDir, s.starts), true, stackBin, s.args...)
	s.proc = p
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			ready <- sc.Text()
		}
		close(ready)
		io.Copy(io.Discard, stdout) // nothing more is expected; never block the child
	}()
	var line string
	select {
	case line = <-ready:
	case <-time.After(60 * time.Second):
		s.t.Fatalf("%s printed no ready line within 60s", name)
	}
	if !strings.HasPrefix(line, "ready ") {
		// Its stdout ended without the line: it is exiting, or hung.
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
		s.t.Fatalf("%s did not start (%s): stdout %q", name, p.exitStatus(), line)
	}
	for _, kv := range strings.Fields(line)[1:] {
		switch k, v, _ := strings.Cut(kv, "="); k {
		case "kafka":
			s.brokers = v
		case "registry":
			s.regURL = v
		}
	}
	if s.brokers == "" || s.regURL == "" {
		s.t.Fatalf("%s: ready line %q names no broker or registry", name, line)
	}
}

// restart stops the stack cleanly (it persists its state on SIGTERM),
// keeps it down for downFor, and starts it again on the same directory
// and ports. It returns how long the broker was away.
func (s *stack) restart(downFor time.Duration) time.Duration {
	s.t.Helper()
	began := time.Now()
	if err := s.proc.stop(60 * time.Second); err != nil {
		s.t.Fatalf("restart the stack: %v", err)
	}
	time.Sleep(downFor) // the outage itself: the fault, not a synchronisation
	oldBrokers, oldRegistry := s.brokers, s.regURL
	s.start()
	if s.brokers != oldBrokers || s.regURL != oldRegistry {
		s.t.Fatalf("the stack came back at %s, %s instead of %s, %s", s.brokers, s.regURL, oldBrokers, oldRegistry)
	}
	return time.Since(began)
}

// freeAddr returns a loopback address with a port nobody listens on now.
// Another process could take it before the stack does; on loopback, in a
// test, that is unlikely enough.
func freeAddr(t *testing.T) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr)
	return addr.String(), addr.Port
}
