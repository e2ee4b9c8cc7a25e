package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stackProc is the broker and schema registry (cmd/stack) in a process of
// its own, memory only, so that the records the broker holds are never
// counted in the trainer's memory, and can be measured apart.
type stackProc struct {
	cmd         *exec.Cmd
	done        chan struct{}
	waitErr     error // read only after done
	logPath     string
	brokers     string
	registryURL string
}

// startStack runs bin and waits for its "ready kafka=... registry=..."
// line. Topics created on first use get partitions partitions.
func startStack(ctx context.Context, bin, logPath string, partitions int) (*stackProc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-dir=", "-kafka-port=0", "-registry-addr=127.0.0.1:0",
		"-partitions="+strconv.Itoa(partitions))
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start stack: %w", err)
	}
	s := &stackProc{cmd: cmd, done: make(chan struct{}), logPath: logPath}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			ready <- sc.Text()
		}
		close(ready)
		for sc.Scan() { // nothing more is expected; never block the child
		}
	}()
	go func() {
		s.waitErr = cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	var line string
	select {
	case line = <-ready:
	case <-ctx.Done():
	case <-time.After(60 * time.Second):
	}
	for _, kv := range strings.Fields(strings.TrimPrefix(line, "ready ")) {
		switch k, v, _ := strings.Cut(kv, "="); k {
		case "kafka":
			s.brokers = v
		case "registry":
			s.registryURL = v
		}
	}
	if s.brokers == "" || s.registryURL == "" {
		s.stop()
		return nil, fmt.Errorf("stack did not start (ready line %q); see %s", line, logPath)
	}
	return s, nil
}

// stop asks the stack to end and waits for it.
func (s *stackProc) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.done:
		return s.waitErr
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return errors.New("stack did not stop within 30s of SIGTERM; killed")
	}
}

// memory returns the stack's resident memory now (VmRSS) and at its peak
// (VmHWM), in bytes.
func (s *stackProc) memory() (rss, peak int64, err error) {
	if rss, err = procStatus(s.cmd.Process.Pid, "VmRSS"); err != nil {
		return 0, 0, err
	}
	peak, err = procStatus(s.cmd.Process.Pid, "VmHWM")
	return rss, peak, err
}

// cpu returns the stack's user plus system CPU time so far.
func (s *stackProc) cpu() time.Duration { return procCPU(s.cmd.Process.Pid) }

// procStatus reads a "kB" field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// procCPU returns a process's user plus system CPU time so far, from
// /proc/PID/stat (fields 14 and 15, in clock ticks); 0 if unreadable.
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, may hold spaces; count fields after it.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100
