package scorer_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/testkit"
)

// Both tests below give the member that goes away the longest session and
// rebalance timeouts kfake accepts, five minutes, so that a scorer which
// had to wait for the group to expire it could not pass waitFor's 30 s.
const expiryNeverSeen = 5 * time.Minute

// TestRestartedScorerTakesItsPartitionsBack restarts a scorer after a
// crash under the same static identity: the dead member owned every
// partition and never left the group, and the restarted scorer must own
// them and score every record at once, not after the dead member's
// session times out.
func TestRestartedScorerTakesItsPartitionsBack(t *testing.T) {
	cases := []struct {
		name string
		// identify gives the scorer its static identity, instance.
		identify func(cfg *scorer.Config, instance string)
	}{
		{"at least once, -instance-id", func(cfg *scorer.Config, instance string) {
			cfg.Stream.InstanceID = instance
		}},
		{"exactly once, the transactional id as instance id", func(cfg *scorer.Config, instance string) {
			cfg.Stream.ExactlyOnce, cfg.Stream.TransactionalID = true, instance
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const topic, instance = "restarted", "scorer-0"
			e := newEnv(t, topic)
			id, _ := e.register(topic+"-value", sensorSchema)
			inputs := e.produceReadings(topic, id, 300)
			for p, end := range e.endOffsets(topic) {
				if end == 0 {
					t.Fatalf("partition %d got no input: the test would not show it reassigned", p)
				}
			}
			cfg := e.config(topic)
			c.identify(&cfg, instance)
			dead := e.crashedMember(cfg.Stream.Group, topic, instance)

			began := time.Now()
			svc, stop := e.start(cfg)
			testkit.WaitFor(t, "the restarted scorer owns partitions", svc.Ready)
			ready := time.Since(began)
			var outputs []*kgo.Record
			if cfg.Stream.ExactlyOnce {
				outputs = e.consumeCommitted(len(inputs), topic+".scored")
			} else {
				outputs = e.consumeUntil(len(inputs), topic+".scored")
			}
			t.Logf("restarted: ready after %v, every input scored after %v", ready.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
			scored := map[string]bool{}
			for _, out := range outputs {
				scored[sourceOf(out)] = true
			}
			for _, in := range inputs {
				if src := coordinates(in); !scored[src] {
					t.Errorf("input %s has no output", src)
				}
			}

			state, members := e.describeGroup(cfg.Stream.Group)
			if len(members) != 1 || members[0].instance != instance || members[0].id == dead || members[0].partitions != 3 {
				t.Errorf("group %s: members %+v; want the restarted scorer alone as %s, owning all 3 partitions, under a new member id (the dead one was %s)",
					state, members, instance, dead)
			}
			if err := stop(); err != nil {
				t.Fatalf("restarted scorer: %v", err)
			}
		})
	}
}

// TestCleanStopLeavesTheGroupAtOnce stops one of two static members
// cleanly. franz-go's Close sends no LeaveGroup for a static member, so
// without the scorer's own leave its partitions would wait for its session
// to time out; with it, the other scorer owns every partition at once.
// The hand-over drains and commits before the leave, so no input is lost
// or scored twice.
func TestCleanStopLeavesTheGroupAtOnce(t *testing.T) {
	const topic = "leaving"
	e := newEnv(t, topic)
	id, _ := e.register(topic+"-value", sensorSchema)
	first := e.produceReadings(topic, id, 3000)
	start := func(instance string) (*scorer.Service, func() error) {
		cfg := e.config(topic)
		cfg.Stream.InstanceID, cfg.Stream.SessionTimeout = instance, expiryNeverSeen
		return e.start(cfg)
	}
	group := e.config(topic).Stream.Group

	a, stopA := start("scorer-a")
	testkit.WaitFor(t, "scorer-a owns partitions", a.Ready)
	b, stopB := start("scorer-b")
	testkit.WaitFor(t, "both scorers own partitions", func() bool {
		_, members := e.describeGroup(group)
		return a.Ready() && b.Ready() && len(members) == 2 && members[0].partitions+members[1].partitions == 3
	})
	e.consumeUntil(len(first), topic+".scored")

	if err := stopA(); err != nil {
		t.Fatalf("scorer-a: %v", err)
	}
	var members []member
	testkit.WaitFor(t, "scorer-b owns every partition", func() bool {
		_, members = e.describeGroup(group)
		return len(members) == 1 && members[0].instance == "scorer-b" && members[0].partitions == 3
	})

	second := e.produceReadings(topic, id, 3000)
	outputs := e.consumeUntil(len(first)+len(second), topic+".scored")
	if err := stopB(); err != nil {
		t.Fatalf("scorer-b: %v", err)
	}
	seen := map[string]int{}
	for _, out := range outputs {
		seen[sourceOf(out)]++
	}
	for _, in := range slices.Concat(first, second) {
		if n := seen[coordinates(in)]; n != 1 {
			t.Errorf("input %s has %d outputs, want 1", coordinates(in), n)
		}
	}
}

// crashedMember joins group as the static member instance, consuming
// topic, waits until it owns all three partitions, and goes silent without
// leaving, as a process killed with SIGKILL does: franz-go's Close sends
// no LeaveGroup for a static member, which the group is checked to still
// hold. It commits nothing. It returns the dead member's id.
func (e *env) crashedMember(group, topic, instance string) string {
	e.t.Helper()
	var owned atomic.Int32
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.stack.Brokers()...),
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.InstanceID(instance),
		kgo.SessionTimeout(expiryNeverSeen), kgo.RebalanceTimeout(expiryNeverSeen), kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			owned.Add(int32(len(assigned[topic])))
		}))
	if err != nil {
		e.t.Fatal(err)
	}
	testkit.WaitFor(e.t, "the doomed member owns every partition", func() bool { return owned.Load() == 3 })
	cl.Close()
	state, members := e.describeGroup(group)
	if len(members) != 1 || members[0].instance != instance || members[0].partitions != 3 {
		e.t.Fatalf("group %s after the crash: members %+v; want %s still holding all 3 partitions", state, members, instance)
	}
	return members[0].id
}

// member is one group member as the coordinator describes it.
type member struct {
	id, instance string // instance is "" for a dynamic member
	partitions   int
}

func (m member) String() string {
	return fmt.Sprintf("{id %s instance %q partitions %d}", m.id, m.instance, m.partitions)
}

// describeGroup returns the group's state and members, sorted by
// instance id.
func (e *env) describeGroup(group string) (string, []member) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	described, err := kadm.NewClient(e.client).DescribeGroups(ctx, group)
	if err == nil {
		err = described.Error()
	}
	if err != nil {
		e.t.Fatalf("describe group %s: %v", group, err)
	}
	g := described[group]
	var members []member
	for _, m := range g.Members {
		mb := member{id: m.MemberID}
		if m.InstanceID != nil {
			mb.instance = *m.InstanceID
		}
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range c.Topics {
				mb.partitions += len(t.Partitions)
			}
		}
		members = append(members, mb)
	}
	slices.SortFunc(members, func(a, b member) int { return cmp.Compare(a.instance, b.instance) })
	return g.State, members
}
