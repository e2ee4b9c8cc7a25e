package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// process is a child process whose CPU time can be read while it runs.
type process struct {
	cmd      *exec.Cmd
	done     chan error
	exited   chan struct{} // closed when the process has ended
	logPath  string
	httpAddr string // the scorer's metrics endpoint
}

func start(ctx context.Context, logPath string, name string, args ...string) (*process, *bufio.Scanner, error) {
	cmd := exec.Command(name, args...)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{cmd: cmd, done: make(chan error, 1), exited: make(chan struct{}), logPath: logPath}
	go func() {
		err := cmd.Wait()
		logFile.Close()
		close(p.exited)
		p.done <- err
	}()
	return p, bufio.NewScanner(stdout), nil
}

// stop asks the process to end and waits for it.
func (p *process) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		return errors.New("did not stop within 30s of SIGTERM; killed")
	}
}

// logTail returns the last n bytes of the process's log.
func (p *process) logTail(n int) string {
	raw, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	return string(raw[max(0, len(raw)-n):])
}

// cpu returns the process's user plus system CPU time so far, from
// /proc/PID/stat (fields 14 and 15, in clock ticks).
func (p *process) cpu() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, may hold spaces; fields are counted after it.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// peakRSS returns the process's peak resident memory (VmHWM).
func (p *process) peakRSS() int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

func (b *bench) build(ctx context.Context) error {
	progress("building the scorer and the stack")
	bin := filepath.Join(b.dir, "bin")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin+"/", "./cmd/scorer", "./cmd/stack")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	b.scorerBin = filepath.Join(bin, "scorer")
	if !b.o.parts[partFull] {
		return nil
	}
	// The same scorer with the avro guard compiled out, to measure what
	// the guard costs side by side; never a binary to run otherwise.
	noGuard := filepath.Join(b.dir, "bin-noguard")
	cmd = exec.CommandContext(ctx, "go", "build", "-tags", "avroguard_off", "-o", noGuard+"/", "./cmd/scorer")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -tags avroguard_off: %w", err)
	}
	b.noGuardBin = filepath.Join(noGuard, "scorer")
	return nil
}

// startStack runs the broker and registry in their own process.
func (b *bench) startStack(ctx context.Context) error {
	kafkaPort, err := freePort()
	if err != nil {
		return err
	}
	registryPort, err := freePort()
	if err != nil {
		return err
	}
	p, out, err := start(ctx, filepath.Join(b.dir, "stack.log"), filepath.Join(b.dir, "bin", "stack"),
		"-dir", filepath.Join(b.dir, "stack"), "-kafka-port", strconv.Itoa(kafkaPort),
		"-registry-addr", "127.0.0.1:"+strconv.Itoa(registryPort), "-partitions", strconv.Itoa(b.o.partitions))
	if err != nil {
		return err
	}
	b.stack = p
	if !out.Scan() || !strings.HasPrefix(out.Text(), "ready ") {
		p.stop()
		return fmt.Errorf("stack did not start; see %s", filepath.Join(b.dir, "stack.log"))
	}
	for _, kv := range strings.Fields(out.Text())[1:] {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "kafka":
			b.brokers = []string{v}
		case "registry":
			b.registryURL = v
		}
	}
	b.client, err = kgo.NewClient(kgo.SeedBrokers(b.brokers...), kgo.ProducerLinger(0),
		kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		return err
	}
	b.admin = kadm.NewClient(b.client)
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitStable waits until the group has a member with partitions, so that a
// fixed-rate measurement does not count the group join as latency.
func (b *bench) waitStable(ctx context.Context, group string, proc *process) error {
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	for {
		described, err := b.admin.DescribeGroups(ctx, group)
		if err == nil {
			if g, ok := described[group]; ok && g.State == "Stable" && len(g.Members) > 0 {
				return nil
			}
		}
		select {
		case err := <-proc.done:
			return fmt.Errorf("consumer exited before joining group %s: %v", group, err)
		case <-ctx.Done():
			return fmt.Errorf("group %s never became stable: %w", group, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
