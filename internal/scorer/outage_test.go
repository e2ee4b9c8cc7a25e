package scorer_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/stream"
)

// TestRegistryOutage takes the schema registry away mid-stream: records of
// cached schemas keep being scored, and a record of a schema id the scorer
// has not seen waits for the registry instead of being dead-lettered, then
// is scored once the registry is back.
func TestRegistryOutage(t *testing.T) {
	const topic = "outage"
	e := newEnv(t, topic)
	id, codec := e.register(topic+"-value", sensorSchema)

	registryURL, _ := url.Parse(e.stack.RegistryURL())
	var down atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(registryURL)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "registry down for the test", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer gate.Close()

	cfg := e.config(topic)
	cfg.Registry.URL = gate.URL
	svc, stop := e.start(cfg)
	// A new schema version the scorer has never seen, registered behind
	// its back, so its first lookup is the one that meets the outage.
	evolved := strings.Replace(sensorSchema, `"fields": [`, `"fields": [{"name": "firmware", "type": ["null", "string"], "default": null},`, 1)
	newID, newCodec := e.register(topic+"-value", evolved)

	gen := sample.NewSensors(3, 5, 0)
	batch := func(n int, id uint32) []*kgo.Record {
		var out []*kgo.Record
		for range n {
			rec, _ := gen.Next()
			if id == newID {
				rec["firmware"] = nil
				out = append(out, &kgo.Record{Topic: topic, Value: frame(t, id, newCodec, rec)})
			} else {
				out = append(out, &kgo.Record{Topic: topic, Value: frame(t, id, codec, rec)})
			}
		}
		return out
	}

	e.produce(batch(10, id)...)
	e.consumeUntil(10, topic+".scored")

	down.Store(true)
	e.produce(batch(10, id)...)
	e.consumeUntil(20, topic+".scored") // cached schema: scored during the outage
	e.produce(batch(1, newID)...)
	waitFor(t, "the scorer retries the registry", func() bool {
		return counterValue(t, svc.Metrics(), "streamscore_registry_retries_total") > 0
	})
	if dlq := e.consumeAvailable(cfg.Stream.DeadLetterTopic); len(dlq) != 0 {
		t.Fatalf("a record was dead-lettered during the outage: %s", header(dlq[0], stream.HeaderErrorReason))
	}

	down.Store(false)
	outputs := e.consumeUntil(21, topic+".scored")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	last := decodeFramed(t, e, outputs[len(outputs)-1].Value)
	if _, ok := last["firmware"]; !ok {
		t.Fatalf("the record of the new schema was not scored with it: %v", last)
	}
	if dlq := e.consumeAvailable(cfg.Stream.DeadLetterTopic); len(dlq) != 0 {
		t.Fatalf("%d records were dead-lettered", len(dlq))
	}
}

// waitFor polls cond until it holds, failing the test after 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// counterValue sums a counter family's samples.
func counterValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
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
