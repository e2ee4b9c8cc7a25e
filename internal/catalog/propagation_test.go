package catalog_test

import (
	"net"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamscore/streamscore/internal/catalog"
)

// TestSyncWaitsForTheBrokerToLearnAnEnsuredTopic starts a catalog right
// after another one created the topic and published to it, against a
// broker that, as a real broker does while a new topic's metadata
// propagates, answers metadata requests for the topic as if it did not
// exist. Having ensured the topic, the catalog knows it exists: Sync
// returns no error, and only once the catalog has read the version.
func TestSyncWaitsForTheBrokerToLearnAnEnsuredTopic(t *testing.T) {
	b := newBroker(t)
	writer, err := catalog.New(b.opts, "models", nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := publish(t, writer, "sensor", 1000)
	writer.Close()

	learn := b.unknownTopic(t, "models")
	c := b.catalog(t)
	ctx := testContext(t)
	if err := c.EnsureTopic(ctx); err != nil {
		t.Fatal(err)
	}
	// More denials than a Sync that gives up after a second look asks
	// for (its metadata is cached), fewer than one that waits does.
	learn(10)
	if err := c.Sync(ctx); err != nil {
		t.Fatalf("Sync while the broker does not know the topic yet: %v", err)
	}
	if got, err := c.Get("sensor", v.Version); err != nil || got.SHA256 != v.SHA256 {
		t.Errorf("after Sync the catalog has version %d, %v; want %d", got.Version, err, v.Version)
	}
}

// TestSyncOfAnUnensuredMissingTopicIsEmpty: a catalog that has not
// ensured its topic takes the broker's word that it does not exist, and
// Sync returns at once with an empty catalog.
func TestSyncOfAnUnensuredMissingTopicIsEmpty(t *testing.T) {
	b := newBroker(t)
	c := b.catalog(t)
	if err := c.Sync(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if m := c.Models(); len(m) != 0 {
		t.Errorf("models %v in a catalog without a topic", m)
	}
}

// unknownTopic makes the broker answer metadata requests for topic alone,
// or for every topic, as if the topic did not exist (the cluster must have
// no other topic), until learn(n) has been called and n more have been
// answered so.
func (b *broker) unknownTopic(t *testing.T, topic string) (learn func(n int32)) {
	t.Helper()
	// The broker's address, read now: control functions run on the
	// cluster's loop, which ListenAddrs waits for.
	host, portText, err := net.SplitHostPort(b.cluster.ListenAddrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatal(err)
	}
	var left atomic.Int32
	left.Store(-1) // not counting yet
	b.cluster.ControlKey(int16(kmsg.Metadata), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.MetadataRequest)
		all := req.Topics == nil
		if !all && (len(req.Topics) != 1 || req.Topics[0].Topic == nil || *req.Topics[0].Topic != topic) {
			return nil, nil, false // the broker answers; this function stays
		}
		// Kept once kept: the last denial drops it.
		b.cluster.KeepControl()
		if n := left.Load(); n > 0 && left.Add(-1) == 0 {
			b.cluster.DropControl()
		}
		resp := req.ResponseKind().(*kmsg.MetadataResponse)
		resp.Version = req.Version
		broker := kmsg.NewMetadataResponseBroker()
		broker.NodeID, broker.Host, broker.Port = 0, host, int32(port)
		resp.Brokers = append(resp.Brokers, broker)
		resp.ControllerID = 0
		if !all { // asked about every topic, it knows none
			rt := kmsg.NewMetadataResponseTopic()
			rt.Topic = kmsg.StringPtr(topic)
			rt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	return func(n int32) { left.Store(n) }
}
