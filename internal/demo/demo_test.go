package demo_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/demo"
)

// TestDemoScoresAndAccountsForEveryRecord runs the demo briefly on free
// ports and checks what it shows: scored records of both streams, dead
// letters with reasons, and a summary where every consumed record was
// scored or dead-lettered.
func TestDemoScoresAndAccountsForEveryRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two models and runs for seconds")
	}
	var out bytes.Buffer
	err := demo.Run(context.Background(), demo.Config{
		Dir: t.TempDir(), RegistryAddr: "127.0.0.1:0", HTTPAddrs: [2]string{"127.0.0.1:0", "127.0.0.1:0"},
		Rate: 1000, BadEvery: 50, Duration: 4 * time.Second, Out: &out,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"by sensor-anomaly@1", "dead letter  bad_magic", "dead letter  oversize"} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	m := regexp.MustCompile(`consumed (\d+), scored (\d+), dead-lettered (\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no summary:\n%s", text)
	}
	consumed, scored, dead := atoi(m[1]), atoi(m[2]), atoi(m[3])
	if consumed == 0 || consumed != scored+dead || dead == 0 {
		t.Fatalf("summary: consumed %d, scored %d, dead-lettered %d", consumed, scored, dead)
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
