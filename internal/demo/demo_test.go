package demo_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/demo"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"
)

func TestMain(m *testing.M) { os.Exit(ortkit.Main(m)) }

// TestDemoScoresAndAccountsForEveryRecord runs the demo on free ports until
// both streams have scored records and two kinds of bad record have been
// dead-lettered, and checks its summary: records scored on each input
// topic, dead letters by class, and every consumed record scored or
// dead-lettered. It waits on those counts, not on a length of time: under
// load the models train and the scorers join their groups later.
func TestDemoScoresAndAccountsForEveryRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two models and runs for seconds")
	}
	// A bound on a broken demo, never reached by a working one.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	enough := func(c demo.Totals) bool {
		return c.OutByTopic["sensors"] >= 100 && c.OutByTopic["messages"] >= 25 &&
			c.ByReason["bad_magic"] > 0 && c.ByReason["oversize"] > 0
	}
	var out bytes.Buffer
	err := demo.Run(ctx, demo.Config{
		Dir: t.TempDir(), RegistryAddr: "127.0.0.1:0", HTTPAddrs: [2]string{"127.0.0.1:0", "127.0.0.1:0"},
		Rate: 1000, BadEvery: 50, Until: enough, Out: &out,
		Logger: slog.New(slog.DiscardHandler), Library: ortkit.Library(),
	})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if ctx.Err() != nil {
		t.Fatalf("the demo did not score both streams and dead-letter both kinds in 5 minutes:\n%s", out.String())
	}
	text := out.String()
	m := regexp.MustCompile(`consumed (\d+), scored (\d+) \(messages (\d+), sensors (\d+)\), dead-lettered (\d+) \(([^)]*)\)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no summary with counts by topic:\n%s", text)
	}
	consumed, scored, messages, sensors, dead := atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4]), atoi(m[5])
	if consumed != scored+dead || scored != messages+sensors || sensors < 100 || messages < 25 {
		t.Fatalf("summary: consumed %d, scored %d (messages %d, sensors %d), dead-lettered %d", consumed, scored, messages, sensors, dead)
	}
	for _, class := range []string{"bad_magic", "oversize"} {
		if !strings.Contains(m[6], class) {
			t.Errorf("summary's dead letters (%s) lack %s", m[6], class)
		}
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
