//go:build chaos

package scorer_test

import (
	"testing"
	"time"
)

// TestRegistryDownThirtySeconds takes the schema registry away for 30 s
// while records keep arriving on three partitions. Partition 0 meets a
// schema id the scorer has not seen at the start of the outage; partitions
// 1 and 2 carry only the cached schema. During the outage partitions 1 and
// 2 keep being scored and partition 0 waits, retried with capped backoff;
// afterwards every input has its result, in both modes.
func TestRegistryDownThirtySeconds(t *testing.T) {
	for _, mode := range []string{"at-least-once", "exactly-once"} {
		t.Run(mode, func(t *testing.T) {
			exactlyOnce := mode == "exactly-once"
			o := newOutage(t, "registry-30s-"+map[bool]string{false: "alo", true: "eos"}[exactlyOnce])
			cfg := o.config()
			cfg.Stream.ExactlyOnce = exactlyOnce
			svc, stop := o.start(cfg)
			results := []string{o.topic + ".scored", cfg.Stream.DeadLetterTopic}
			progress := newResultCounter(t, o.env, exactlyOnce, results...)

			const perTick = 50
			in, perPartition := 0, map[int32]int{}
			tick := func() {
				for p := range int32(3) {
					o.produce(p, perTick, o.known)
					perPartition[p] += perTick
				}
				in += 3 * perTick
			}
			tick()
			progress.waitDistinct(in, "before the outage")

			o.down.Store(true)
			o.evolve()
			o.produce(0, 1, o.novel)
			in++
			start := time.Now()
			for time.Since(start) < 30*time.Second {
				tick()
				// Partitions 1 and 2 keep up during the outage: every
				// one of their records produced so far gets a result.
				progress.waitFor(func(sources map[string]bool) bool {
					return countPartitions(sources, o.topic, 1, 2) == perPartition[1]+perPartition[2]
				}, "partitions 1 and 2 scored during the outage")
				time.Sleep(time.Second) // the pace of the stream, not synchronisation
			}
			if got := countPartitions(progress.snapshot(), o.topic, 0); got != perTick {
				t.Fatalf("partition 0 has %d results during the outage, want the %d before it", got, perTick)
			}
			retries := metricValue(t, svc.Metrics(), "streamscore_registry_retries_total")
			o.down.Store(false)
			progress.waitDistinct(in, "after the outage")
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			// Backoff doubles from 100 ms to 5 s: about a dozen tries in
			// 30 s, not hundreds.
			if retries < 2 || retries > 30 {
				t.Errorf("%v registry retries in 30 s; want backoff from 100 ms capped at 5 s (about 12)", retries)
			}

			outputs, dlq := o.readAllCommitted(results[0]), o.readAllCommitted(results[1])
			lost, duplicated := o.tally(o.topic, outputs, dlq)
			report(t, "registry down 30 s (unknown id in partition 0)", mode, in, len(outputs), len(dlq), duplicated, lost)
			if lost > 0 || len(dlq) > 0 {
				t.Fatalf("%d inputs lost, %d dead-lettered", lost, len(dlq))
			}
			if exactlyOnce && duplicated > 0 {
				t.Fatalf("%d duplicates in exactly-once mode", duplicated)
			}
		})
	}
}
