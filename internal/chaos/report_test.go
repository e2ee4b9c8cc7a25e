//go:build chaos

package chaos

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// outcome is what one test, in one mode, ended with.
type outcome struct {
	fault, mode                    string
	in, out, dlq, duplicated, lost int64
}

const reportHeader = "fault | mode | in | out | dlq | duplicated | lost"

func (o outcome) String() string {
	return fmt.Sprintf("%s | %s | %d | %d | %d | %d | %d", o.fault, o.mode, o.in, o.out, o.dlq, o.duplicated, o.lost)
}

// reportMu serialises appends to CHAOS_REPORT: the modes run in parallel.
var reportMu sync.Mutex

// report logs the outcome as one line and, when CHAOS_REPORT names a file,
// appends the line to it (after a header line, if the file is new), so
// that a `make chaos` run leaves a table to paste into the docs. It runs
// before the checks, so a failing run is reported too.
func report(t *testing.T, o outcome) {
	t.Helper()
	t.Logf("report: %s\n        %s", reportHeader, o)
	path := os.Getenv("CHAOS_REPORT")
	if path == "" {
		return
	}
	reportMu.Lock()
	defer reportMu.Unlock()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("CHAOS_REPORT: %v", err)
		return
	}
	defer f.Close()
	text := o.String() + "\n"
	if info, err := f.Stat(); err == nil && info.Size() == 0 {
		text = reportHeader + "\n" + text
	}
	if _, err := f.WriteString(text); err != nil {
		t.Errorf("CHAOS_REPORT: %v", err)
	}
}
