package serde

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// Ids under which testRegistry seeds the project's input schemas.
const (
	sensorID = 1
	textID   = 2
)

// projectSchema reads schemas/<name>.avsc from the repository root.
func projectSchema(tb testing.TB, name string) string {
	tb.Helper()
	path := filepath.Join("..", "..", "schemas", name+".avsc")
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read project schema %s: %v (the repository's schemas/ directory must be present)", path, err)
	}
	return string(b)
}

// testRegistry is a fake Confluent schema registry served over HTTP by
// srfake, with the sensor and text schemas seeded, and a srclient pointed at
// it with srclient's own cache off, so every GetSchema reaches the server.
type testRegistry struct {
	fake   *srfake.Registry
	client *srclient.SchemaRegistryClient

	mu       sync.Mutex
	requests map[string]int // "METHOD path" -> count
}

func newTestRegistry(tb testing.TB) *testRegistry {
	tb.Helper()
	r := &testRegistry{fake: srfake.New(), requests: make(map[string]int)}
	tb.Cleanup(r.fake.Close)
	r.fake.Intercept(func(_ http.ResponseWriter, req *http.Request) bool {
		r.mu.Lock()
		r.requests[req.Method+" "+req.URL.Path]++
		r.mu.Unlock()
		return false
	})
	r.fake.SeedSchema("sensors-value", 1, sensorID, sr.Schema{Schema: projectSchema(tb, "sensor_reading"), Type: sr.TypeAvro})
	r.fake.SeedSchema("texts-value", 1, textID, sr.Schema{Schema: projectSchema(tb, "text_message"), Type: sr.TypeAvro})
	r.client = srclient.NewSchemaRegistryClient(r.fake.URL(), srclient.WithClient(&http.Client{Timeout: 5 * time.Second}))
	r.client.CachingEnabled(false)
	return r
}

// requestsTo returns how many requests with this method and exact path the
// registry has received.
func (r *testRegistry) requestsTo(method, path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[method+" "+path]
}

// fetches returns how many times the schema of id was asked for.
func (r *testRegistry) fetches(id int) int {
	return r.requestsTo(http.MethodGet, "/schemas/ids/"+strconv.Itoa(id))
}

// newDecoder returns a Decoder over the registry's client.
func (r *testRegistry) newDecoder(tb testing.TB, cfg DecoderConfig) *Decoder {
	tb.Helper()
	d, err := NewDecoder(r.client, cfg)
	if err != nil {
		tb.Fatalf("NewDecoder: %v", err)
	}
	return d
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sensorRecord is a SensorReading in goavro's native form; i varies it.
func sensorRecord(i int) map[string]any {
	var battery any
	if i%2 == 0 {
		battery = goavro.Union("double", 3.6+float64(i%10)/100)
	}
	return map[string]any{
		"device_id":     "dev-" + strconv.Itoa(i),
		"ts":            time.UnixMilli(1767225600000 + int64(i)).UTC(),
		"temperature":   20.5 + float64(i%7),
		"humidity":      45.0,
		"pressure":      1013.25,
		"light":         300.0,
		"co2":           600.0 + float64(i%50),
		"vibration":     0.02,
		"sound":         40.0,
		"rssi":          int32(-60 - i%30),
		"uptime_s":      int64(3600 * i),
		"battery_volts": battery,
	}
}

// textRecord is a TextMessage in goavro's native form.
func textRecord(i int) map[string]any {
	var lang any
	if i%2 == 1 {
		lang = goavro.Union("string", "en")
	}
	return map[string]any{
		"id":       "msg-" + strconv.Itoa(i),
		"ts":       time.UnixMilli(1767225600000 + int64(i)).UTC(),
		"text":     "hello ☃ number " + strconv.Itoa(i),
		"language": lang,
	}
}

// encodeFrame encodes native with a codec for schema and frames it with id.
func encodeFrame(tb testing.TB, schema string, id uint32, native map[string]any) []byte {
	tb.Helper()
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		tb.Fatalf("compile schema: %v", err)
	}
	out, err := codec.BinaryFromNative(AppendFrame(nil, id), native)
	if err != nil {
		tb.Fatalf("encode: %v", err)
	}
	return out
}

// outputID is enc.Output's id, for tests where every output schema has
// today's Prediction: an output without a margin is an error.
func outputID(t testing.TB, enc *OutputEncoder, inTopic, outTopic string, in *Schema) (uint32, error) {
	out, err := enc.Output(inTopic, outTopic, in)
	if out.NoMargin {
		t.Errorf("output schema %d of input schema %d has no margin", out.ID, in.ID)
	}
	return out.ID, err
}
