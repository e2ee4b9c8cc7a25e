package testkit

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

// Build compiles the project's commands (such as "scorer", "stack",
// "trainer") from the working tree into dir and returns each binary's path
// by name, so process tests exercise exactly the code being changed.
func Build(dir string, commands ...string) (map[string]string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	bins := map[string]string{}
	for _, c := range commands {
		args = append(args, "./cmd/"+c)
		bins[c] = filepath.Join(dir, c)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return bins, nil
}

// Proc is a child process whose stderr (and stdout, unless the caller
// reads it) goes to a log file.
type Proc struct {
	Name    string
	Cmd     *exec.Cmd
	LogPath string
	// Started is when the process was started, just before.
	Started time.Time
	done    chan struct{}
	waitErr error // read only after done
}

// StartProc starts bin. When withStdout is set, the process's stdout is
// returned for the caller to read; otherwise it goes to the log too. The
// process is killed, if still running, when the test ends; the tail of its
// log is printed if the test failed, and the log kept under $CHAOS_LOGS
// when that is set.
func StartProc(t testing.TB, name, logPath string, withStdout bool, bin string, args ...string) (*Proc, io.Reader) {
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
	p := &Proc{Name: name, Cmd: cmd, LogPath: logPath, Started: started, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.Running() {
			p.Cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("last lines of %s's log (%s):\n%s", p.Name, p.LogPath, p.Tail(30))
		}
		keepLog(t, logPath)
	})
	return p, stdout
}

// keepLog copies a process log under $CHAOS_LOGS, when it is set, since
// the test's temporary directory does not outlive the test.
func keepLog(t testing.TB, logPath string) {
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

// Done is closed once the process has exited and been waited for.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// ExitStatus describes how the process ended; call it once Done is closed.
func (p *Proc) ExitStatus() string {
	if p.waitErr == nil {
		return "exit status 0"
	}
	return p.waitErr.Error()
}

// Kill9 sends SIGKILL and waits until the process is gone, so that
// whatever comes next starts from a dead process, not a dying one.
func (p *Proc) Kill9(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("SIGKILL %s: %v", p.Name, err)
	}
	<-p.done
}

// Stop sends SIGTERM and waits up to timeout for a clean exit; it returns
// an error when the process did not exit, or exited non-zero.
func (p *Proc) Stop(timeout time.Duration) error {
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGTERM %s: %w", p.Name, err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not exit within %v of SIGTERM; killed", p.Name, timeout)
	}
	if p.waitErr != nil {
		return fmt.Errorf("%s stopped on SIGTERM with %w", p.Name, p.waitErr)
	}
	return nil
}

// Tail returns the last n lines of the process's log.
func (p *Proc) Tail(n int) string {
	raw, err := os.ReadFile(p.LogPath)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// PeakRSS is the most resident memory the running process has held
// (VmHWM in /proc/PID/status, Linux only), in bytes.
func (p *Proc) PeakRSS() (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", p.Cmd.Process.Pid)
}

// Stack is the broker and schema registry process (cmd/stack).
type Stack struct {
	t      testing.TB
	bin    string
	logDir string
	cfg    StackConfig
	starts int
	// Proc is the running process; Brokers (host:port) and RegistryURL
	// are where it listens.
	Proc        *Proc
	Brokers     string
	RegistryURL string
}

// StackConfig says how to run the stack. A restartable stack needs a data
// directory; Restart brings it back on the ports it bound the first time,
// so that clients that know only the old addresses find it again.
type StackConfig struct {
	DataDir      string // empty: memory only
	KafkaPort    int    // 0: any free port
	RegistryAddr string // empty: 127.0.0.1 on any free port
	Partitions   int    // of topics created on first use
}

// StartStack runs bin (cmd/stack) and waits until it listens.
func StartStack(t testing.TB, bin, logDir string, cfg StackConfig) *Stack {
	t.Helper()
	if cfg.RegistryAddr == "" {
		cfg.RegistryAddr = "127.0.0.1:0"
	}
	s := &Stack{t: t, bin: bin, logDir: logDir, cfg: cfg}
	s.Start()
	return s
}

// Start runs the stack and waits for its ready line.
func (s *Stack) Start() {
	s.t.Helper()
	s.starts++
	name := fmt.Sprintf("stack #%d", s.starts)
	args := []string{
		"-dir=" + s.cfg.DataDir, "-kafka-port", strconv.Itoa(s.cfg.KafkaPort),
		"-registry-addr", s.cfg.RegistryAddr, "-partitions", strconv.Itoa(max(s.cfg.Partitions, 1)),
	}
	p, stdout := StartProc(s.t, name, fmt.Sprintf("%s/stack-%d.log", s.logDir, s.starts), true, s.bin, args...)
	s.Proc = p
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
			p.Cmd.Process.Kill()
			<-p.done
		}
		s.t.Fatalf("%s did not start (%s): stdout %q", name, p.ExitStatus(), line)
	}
	for _, kv := range strings.Fields(line)[1:] {
		switch k, v, _ := strings.Cut(kv, "="); k {
		case "kafka":
			s.Brokers = v
		case "registry":
			s.RegistryURL = v
		}
	}
	if s.Brokers == "" || s.RegistryURL == "" {
		s.t.Fatalf("%s: ready line %q names no broker or registry", name, line)
	}
	// Later starts take the ports this one bound, which were free when it
	// asked for any (port 0) and are held by the stack until it stops.
	_, kafkaPort, err := net.SplitHostPort(s.Brokers)
	if err == nil {
		s.cfg.KafkaPort, err = strconv.Atoi(kafkaPort)
	}
	if err != nil {
		s.t.Fatalf("%s: broker address %q: %v", name, s.Brokers, err)
	}
	s.cfg.RegistryAddr = strings.TrimPrefix(s.RegistryURL, "http://")
}

// Restart stops the stack cleanly (it persists its state on SIGTERM),
// keeps it down for downFor, and starts it again on the same directory
// and ports. It returns how long the broker was away.
//
// While the stack is down its ports are free, and nothing holds them for
// it: a listener asking for any free port, or an outgoing connection
// taking a local port, could be given one of them in that window, and the
// restart would then fail with "address already in use", naming the port.
// The kernel hands such ports out of a range of about 28,000 from varying
// offsets, so that takes a rare coincidence within the few seconds the
// stack is down, unlike a port picked, closed and bound again later by
// whichever test asks first.
func (s *Stack) Restart(downFor time.Duration) time.Duration {
	s.t.Helper()
	began := time.Now()
	if err := s.Proc.Stop(60 * time.Second); err != nil {
		s.t.Fatalf("restart the stack: %v", err)
	}
	time.Sleep(downFor) // the outage itself: the fault, not a synchronisation
	oldBrokers, oldRegistry := s.Brokers, s.RegistryURL
	s.Start()
	if s.Brokers != oldBrokers || s.RegistryURL != oldRegistry {
		s.t.Fatalf("the stack came back at %s, %s instead of %s, %s", s.Brokers, s.RegistryURL, oldBrokers, oldRegistry)
	}
	return time.Since(began)
}
