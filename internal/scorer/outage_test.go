package scorer_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/linkedin/goavro/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/testkit"
)

// outage is a test environment whose scorers reach the registry through a
// gate that can take it down, with two schema versions of the input: one
// the scorer caches at start, and one it has never seen.
type outage struct {
	*env
	topic         string
	down          atomic.Bool
	gateURL       string
	known, novel  uint32
	codec, novelC *goavro.Codec
	producer      *kgo.Client
	gen           *sample.Sensors
}

func newOutage(t *testing.T, topic string) *outage {
	o := &outage{env: newEnv(t, topic), topic: topic, gen: sample.NewSensors(3, 5, 0)}
	o.known, o.codec = o.register(topic+"-value", sensorSchema)
	registryURL, _ := url.Parse(o.stack.RegistryURL())
	proxy := httputil.NewSingleHostReverseProxy(registryURL)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.down.Load() {
			http.Error(w, "registry down for the test", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(gate.Close)
	o.gateURL = gate.URL
	// Records go to chosen partitions, keyed by partition, so that each
	// partition's outputs share an output partition and keep their order.
	var err error
	o.producer, err = kgo.NewClient(kgo.SeedBrokers(o.stack.Brokers()...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.producer.Close)
	return o
}

// config is a scorer configuration that reaches the registry through the
// gate.
func (o *outage) config() scorer.Config {
	cfg := o.env.config(o.topic)
	cfg.Registry.URL = o.gateURL
	return cfg
}

// evolve registers a new schema version behind the scorers' backs, once
// the registry is down to them, so that its first lookup is the one that
// meets the outage. (Registered before, a scorer would know it already: it
// reads the input subject's versions, in order, for their output schemas.)
func (o *outage) evolve() {
	evolved := strings.Replace(sensorSchema, `"fields": [`, `"fields": [{"name": "firmware", "type": ["null", "string"], "default": null},`, 1)
	o.novel, o.novelC = o.register(o.topic+"-value", evolved)
}

// produce writes n readings of schema id to a partition.
func (o *outage) produce(part int32, n int, id uint32) {
	o.t.Helper()
	var recs []*kgo.Record
	for range n {
		rec, _ := o.gen.Next()
		value := frame(o.t, id, o.codec, rec)
		if id == o.novel {
			rec["firmware"] = nil
			value = frame(o.t, id, o.novelC, rec)
		}
		recs = append(recs, &kgo.Record{Topic: o.topic, Partition: part, Key: []byte{byte('0' + part)}, Value: value})
	}
	if err := o.producer.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		o.t.Fatal(err)
	}
}

// fromPartition returns the results of one input partition.
func fromPartition(results []*kgo.Record, part string) []*kgo.Record {
	var out []*kgo.Record
	for _, r := range results {
		if header(r, deadletter.HeaderSourcePartition) == part {
			out = append(out, r)
		}
	}
	return out
}

// TestRegistryOutage takes the schema registry away mid-stream. A record
// of a schema id the scorer has not seen holds back its own partition
// instead of being dead-lettered, and the records behind it there wait in
// order; records of cached schemas in other partitions keep being scored.
// Once the registry is back, the held partition is scored, in order.
func TestRegistryOutage(t *testing.T) {
	o := newOutage(t, "outage")
	cfg := o.config()
	svc, stop := o.start(cfg)
	scored := o.topic + ".scored"

	o.produce(0, 5, o.known)
	o.produce(1, 5, o.known)
	o.consumeUntil(10, scored)

	o.down.Store(true)
	o.evolve()
	o.produce(0, 1, o.novel)  // unknown: partition 0 waits for the registry
	o.produce(0, 5, o.known)  // cached, but behind the unknown one
	o.produce(1, 10, o.known) // cached, in another partition: scored now
	during := o.consumeUntil(20, scored)
	if n := len(fromPartition(during, "0")); n != 5 {
		t.Fatalf("%d outputs of partition 0 during the outage, want the 5 from before it", n)
	}
	if v := metricValue(t, svc.Metrics(), "streamscore_held_back_partitions"); v != 1 {
		t.Fatalf("held-back partitions = %v during the outage, want 1", v)
	}
	if metricValue(t, svc.Metrics(), "streamscore_registry_retries_total") == 0 {
		t.Fatal("no registry retry counted during the outage")
	}
	if dlq := o.consumeAvailable(cfg.Stream.DeadLetterTopic); len(dlq) != 0 {
		t.Fatalf("a record was dead-lettered during the outage: %s", header(dlq[0], deadletter.HeaderErrorReason))
	}

	o.down.Store(false)
	outputs := o.consumeUntil(26, scored)
	testkit.WaitFor(t, "the partition is resumed", func() bool {
		return metricValue(t, svc.Metrics(), "streamscore_held_back_partitions") == 0
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	held := fromPartition(outputs, "0")
	for i, r := range held {
		if want := strconv.Itoa(i); header(r, deadletter.HeaderSourceOffset) != want {
			t.Fatalf("output %d of partition 0 is from offset %s, want %s: order lost", i, header(r, deadletter.HeaderSourceOffset), want)
		}
	}
	if _, ok := decodeFramed(t, o.env, held[5].Value)["firmware"]; !ok {
		t.Fatalf("the record of the new schema was not scored with it")
	}
	if dlq := o.consumeAvailable(cfg.Stream.DeadLetterTopic); len(dlq) != 0 {
		t.Fatalf("%d records were dead-lettered", len(dlq))
	}
}

// TestShutdownDuringOutageLosesNothing stops a scorer while a partition is
// held back: the commit must stop short of the held records, so a scorer
// started after the registry returns scores them.
func TestShutdownDuringOutageLosesNothing(t *testing.T) {
	o := newOutage(t, "outage-stop")
	cfg := o.config()
	svc, stop := o.start(cfg)
	scored := o.topic + ".scored"

	o.produce(0, 3, o.known)
	o.consumeUntil(3, scored)
	o.down.Store(true)
	o.evolve()
	o.produce(0, 1, o.novel)
	o.produce(0, 2, o.known)
	testkit.WaitFor(t, "the partition is held back", func() bool {
		return metricValue(t, svc.Metrics(), "streamscore_held_back_partitions") == 1
	})
	if err := stop(); err != nil {
		t.Fatalf("stopping during the outage: %v", err)
	}
	if n := len(o.consumeAvailable(scored)); n != 3 {
		t.Fatalf("%d outputs before the restart, want 3", n)
	}

	o.down.Store(false)
	_, stop = o.start(cfg)
	outputs := o.consumeUntil(6, scored)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var offsets []string
	for _, r := range outputs {
		offsets = append(offsets, header(r, deadletter.HeaderSourceOffset))
	}
	if got := strings.Join(offsets, ","); got != "0,1,2,3,4,5" {
		t.Fatalf("outputs are from offsets %s, want 0,1,2,3,4,5: each once, in order", got)
	}
}

// metricValue sums the samples of a counter or gauge family.
func metricValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	return labeledValue(t, g, name, "", "")
}

// TestRefusesToStartWhenTheRegistryRefusesIt checks that a registry that
// answers 401 (wrong credentials) stops the scorer at start, naming the
// registry, instead of a scorer that retries every record forever.
func TestRefusesToStartWhenTheRegistryRefusesIt(t *testing.T) {
	const topic = "unauthorized"
	e := newEnv(t, topic)
	e.register(topic+"-value", sensorSchema)
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error_code":401,"message":"Unauthorized"}`))
	}))
	defer refusing.Close()
	cfg := e.config(topic)
	cfg.Registry.URL = refusing.URL
	_, err := scorer.New(cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "schema registry") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("scorer.New = %v; want a registry error with the 401", err)
	}
}
