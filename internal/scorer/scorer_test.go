package scorer_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/scorer"
)

// TestScoresEveryRecordOnceInOrder runs the scorer over generated readings
// and checks that every input offset has exactly one output, that outputs
// keep each input's fields, key and per-partition order, and that they name
// the model version.
func TestScoresEveryRecordOnceInOrder(t *testing.T) {
	const topic, n = "sensors", 3000
	e := newEnv(t, topic)
	id, codec := e.register(topic+"-value", sensorSchema)

	gen := sample.NewSensors(42, 50, 0.05)
	inputs := make(map[string]map[string]any, n)
	var records []*kgo.Record
	for range n {
		rec, _ := gen.Next()
		records = append(records, &kgo.Record{Topic: topic, Key: []byte(rec["device_id"].(string)), Value: frame(t, id, codec, rec)})
	}
	for _, r := range e.produce(records...) {
		inputs[coordinates(r)] = nil
	}
	_, stop := e.start(e.config(topic))

	outputs := e.consumeUntil(n, topic+".scored")
	if err := stop(); err != nil {
		t.Fatalf("scorer run: %v", err)
	}
	if dlq := e.consumeAvailable(topic + ".dlq"); len(dlq) != 0 {
		t.Fatalf("%d good records were dead-lettered; first: %s", len(dlq), header(dlq[0], deadletter.HeaderErrorReason))
	}

	bySource := map[string]*kgo.Record{}
	for _, r := range records {
		bySource[coordinates(r)] = r
	}
	lastOffset := map[string]int64{} // output partition + source partition -> source offset
	for _, out := range outputs {
		src := sourceOf(out)
		in, ok := bySource[src]
		if !ok {
			t.Fatalf("output names unknown source %q", src)
		}
		delete(bySource, src)
		if string(out.Key) != string(in.Key) {
			t.Errorf("%s: key %q, want the input's %q", src, out.Key, in.Key)
		}
		orderKey := fmt.Sprintf("%d<-%s", out.Partition, header(out, deadletter.HeaderSourcePartition))
		if last, seen := lastOffset[orderKey]; seen && in.Offset <= last {
			t.Errorf("output partition %d has source offset %d after %d", out.Partition, in.Offset, last)
		}
		lastOffset[orderKey] = in.Offset
		checkOutput(t, e, in, out)
	}
	if len(bySource) != 0 {
		t.Fatalf("%d inputs have no output", len(bySource))
	}
}

// checkOutput decodes an output with the schema the registry holds for its
// id and compares it with its input.
func checkOutput(t *testing.T, e *env, in, out *kgo.Record) {
	t.Helper()
	native := decodeFramed(t, e, out.Value)
	inNative := decodeFramed(t, e, in.Value)
	for field, want := range inNative {
		if got := native[field]; !reflect.DeepEqual(got, want) {
			t.Fatalf("field %s: output %v, input %v", field, got, want)
		}
	}
	pred := native["prediction"].(map[string]any)
	if pred["model_name"] != "sensor-anomaly" || pred["model_version"] != "7" {
		t.Fatalf("prediction names model %v version %v", pred["model_name"], pred["model_version"])
	}
	label := pred["label"].(map[string]any)["string"].(string)
	scores := pred["scores"].(map[string]any)
	normal, anomaly := scores["normal"].(float64), scores["anomaly"].(float64)
	if math.Abs(normal+anomaly-1) > 1e-5 {
		t.Fatalf("scores %v do not sum to 1", scores)
	}
	if want := map[bool]string{true: "anomaly", false: "normal"}[anomaly > normal]; label != want {
		t.Fatalf("label %q with scores %v", label, scores)
	}
	if got := header(out, deadletter.HeaderModel); got != "sensor-anomaly@7" {
		t.Fatalf("model header %q", got)
	}
}

// decodeFramed decodes a Confluent-framed value with its registered schema.
func decodeFramed(t *testing.T, e *env, value []byte) map[string]any {
	t.Helper()
	if len(value) < 5 || value[0] != 0 {
		t.Fatalf("value is not Confluent-framed: % x", value[:min(len(value), 8)])
	}
	s, err := e.registry.GetSchema(int(binary.BigEndian.Uint32(value[1:5])))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := goavro.NewCodec(s.Schema())
	if err != nil {
		t.Fatal(err)
	}
	native, rest, err := codec.NativeFromBinary(value[5:])
	if err != nil || len(rest) != 0 {
		t.Fatalf("decode: %v (%d bytes left)", err, len(rest))
	}
	return native.(map[string]any)
}

// consumeAvailable reads what a topic holds now, up to its high watermark.
func (e *env) consumeAvailable(topic string) []*kgo.Record {
	e.t.Helper()
	end := e.endOffsets(topic)
	total := int64(0)
	for _, o := range end {
		total += o
	}
	if total == 0 {
		return nil
	}
	return e.consumeUntil(int(total), topic)
}

// TestBadInputsAreDeadLetteredWithReasons feeds one record of every error
// class between good ones and checks that each input has exactly one result,
// that every bad one is in the dead-letter topic unchanged with its class,
// reason and source, and that the good ones around them were scored.
func TestBadInputsAreDeadLetteredWithReasons(t *testing.T) {
	const topic = "mixed"
	e := newEnv(t, topic)
	id, codec := e.register(topic+"-value", sensorSchema)

	// Schemas under other subjects give ids whose records do not fit the
	// model: a field missing, a field of the wrong type, a nullable field.
	noCO2 := strings.Replace(sensorSchema, `{"name": "co2", "type": "double", "doc": "CO2 concentration, ppm."},`, "", 1)
	noCO2ID, noCO2Codec := e.register("other-no-co2-value", noCO2)
	textTemp := strings.Replace(sensorSchema, `{"name": "temperature", "type": "double"`, `{"name": "temperature", "type": "string"`, 1)
	textTempID, textTempCodec := e.register("other-text-temp-value", textTemp)
	nullCO2 := strings.Replace(sensorSchema, `{"name": "co2", "type": "double"`, `{"name": "co2", "type": ["null", "double"], "default": null`, 1)
	nullCO2ID, nullCO2Codec := e.register("other-null-co2-value", nullCO2)

	gen := sample.NewSensors(7, 10, 0)
	reading := func() map[string]any { r, _ := gen.Next(); return r }
	good := func() []byte { return frame(t, id, codec, reading()) }
	withTemp := func(v float64) []byte { r := reading(); r["temperature"] = v; return frame(t, id, codec, r) }
	valid := good()

	cases := []struct {
		name, reason string
		value        []byte
	}{
		{"bad magic byte", deadletter.BadMagic, append([]byte{1}, valid[1:]...)},
		{"empty value", deadletter.Truncated, nil},
		{"header cut short", deadletter.Truncated, valid[:3]},
		{"unknown schema id", deadletter.UnknownSchema, append([]byte{0, 0, 0, 0x27, 0x0f}, valid[5:]...)},
		{"truncated avro", deadletter.CorruptAvro, valid[:len(valid)/2]},
		{"trailing bytes", deadletter.CorruptAvro, append(append([]byte{}, valid...), 0x02, 0x04)},
		{"missing feature field", deadletter.MissingFeature, frame(t, noCO2ID, noCO2Codec, without(reading(), "co2"))},
		{"null feature without default", deadletter.MissingFeature, frame(t, nullCO2ID, nullCO2Codec, with(reading(), "co2", nil))},
		{"wrong feature type", deadletter.WrongType, frame(t, textTempID, textTempCodec, with(reading(), "temperature", "hot"))},
		{"NaN feature", deadletter.NonFinite, withTemp(math.NaN())},
		{"infinite feature", deadletter.NonFinite, withTemp(math.Inf(1))},
		{"double overflowing float32", deadletter.NonFinite, withTemp(1e300)},
		{"oversize value", deadletter.Oversize, append(append([]byte{}, valid...), make([]byte, 5000)...)},
	}
	var records []*kgo.Record
	wantReason := map[string]string{}
	for i, c := range cases {
		records = append(records, &kgo.Record{Topic: topic, Key: []byte(c.name), Value: good()})
		records = append(records, &kgo.Record{Topic: topic, Key: []byte(c.name), Value: c.value,
			Headers: []kgo.RecordHeader{{Key: "case", Value: []byte(fmt.Sprint(i))}}})
	}
	e.produce(records...)
	for i := 1; i < len(records); i += 2 {
		wantReason[coordinates(records[i])] = cases[i/2].reason
	}

	cfg := e.config(topic)
	cfg.Stream.MaxRecordBytes = 4096
	_, stop := e.start(cfg)
	results := e.consumeUntil(len(records), topic+".scored", topic+".dlq")
	if err := stop(); err != nil {
		t.Fatalf("scorer run: %v", err)
	}

	seen := map[string]bool{}
	var outputs, deadLetters int
	for _, r := range results {
		src := sourceOf(r)
		if seen[src] {
			t.Errorf("%s has two results", src)
		}
		seen[src] = true
		want, bad := wantReason[src]
		switch {
		case r.Topic == topic+".scored":
			outputs++
			if bad {
				t.Errorf("%s (%s) was scored, want dead letter %s", src, r.Key, want)
			}
		case !bad:
			t.Errorf("good record %s was dead-lettered: %s", src, header(r, deadletter.HeaderErrorReason))
		default:
			deadLetters++
			checkDeadLetter(t, r, records, want)
		}
	}
	if outputs+deadLetters != len(records) || deadLetters != len(cases) {
		t.Fatalf("in %d, out %d, dead letters %d; want out %d and %d dead letters",
			len(records), outputs, deadLetters, len(records)-len(cases), len(cases))
	}
}

func checkDeadLetter(t *testing.T, dl *kgo.Record, inputs []*kgo.Record, wantReason string) {
	t.Helper()
	name := string(dl.Key)
	if got := header(dl, deadletter.HeaderErrorClass); got != wantReason {
		t.Errorf("%s: class %q, want %q (reason: %s)", name, got, wantReason, header(dl, deadletter.HeaderErrorReason))
	}
	if header(dl, deadletter.HeaderErrorReason) == "" {
		t.Errorf("%s: no readable reason", name)
	}
	if header(dl, "case") == "" {
		t.Errorf("%s: the input's own headers were dropped", name)
	}
	for _, in := range inputs {
		if coordinates(in) == sourceOf(dl) && string(in.Value) != string(dl.Value) {
			t.Errorf("%s: dead letter value differs from the input", name)
		}
	}
}

func without(m map[string]any, field string) map[string]any { delete(m, field); return m }

func with(m map[string]any, field string, v any) map[string]any { m[field] = v; return m }

// TestRefusesModelThatCannotScoreInputSchema checks the startup check: a
// model whose feature is missing from the latest input schema is refused
// with an error naming the field.
func TestRefusesModelThatCannotScoreInputSchema(t *testing.T) {
	const topic = "lacking"
	e := newEnv(t, topic)
	e.register(topic+"-value", strings.Replace(sensorSchema, `{"name": "co2", "type": "double", "doc": "CO2 concentration, ppm."},`, "", 1))
	_, err := scorer.New(e.config(topic), nil)
	if !errors.Is(err, model.ErrSchemaMismatch) || !strings.Contains(err.Error(), `"co2"`) {
		t.Fatalf("scorer.New = %v; want a schema mismatch naming co2", err)
	}
}

// TestHealthReadinessAndMetrics checks the HTTP endpoints once the scorer
// has scored a record.
func TestHealthReadinessAndMetrics(t *testing.T) {
	const topic = "observed"
	e := newEnv(t, topic)
	id, codec := e.register(topic+"-value", sensorSchema)
	rec, _ := sample.NewSensors(1, 1, 0).Next()
	e.produce(&kgo.Record{Topic: topic, Value: frame(t, id, codec, rec)})
	svc, _ := e.start(e.config(topic))
	e.consumeUntil(1, topic+".scored")

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + svc.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get("/readyz"); code != http.StatusOK || !strings.Contains(body, "sensor-anomaly") {
		t.Errorf("/readyz = %d %q", code, body)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{
		`streamscore_records_in_total{topic="observed"} 1`,
		`streamscore_records_out_total{topic="observed"} 1`,
		`streamscore_model_info{name="sensor-anomaly",version="7"} 1`,
		`streamscore_inference_seconds_count 1`,
		`streamscore_end_to_end_seconds_count 1`,
		`streamscore_consumer_lag_records{partition=`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestScoresAnOldBacklog scores records stamped hours ago, as a backlog
// left by an outage is: franz-go's delivery timeout counts from a record's
// timestamp, which outputs keep, so a scorer with one set failed every
// such result before sending it (found by the kill -9 chaos test).
func TestScoresAnOldBacklog(t *testing.T) {
	const topic, n = "old", 500
	e := newEnv(t, topic)
	id, codec := e.register(topic+"-value", sensorSchema)
	gen := sample.NewSensors(8, 20, 0.05)
	stamped := time.Now().Add(-3 * time.Hour)
	var records []*kgo.Record
	for range n {
		rec, _ := gen.Next()
		records = append(records, &kgo.Record{Topic: topic, Value: frame(t, id, codec, rec), Timestamp: stamped})
	}
	e.produce(records...)
	_, stop := e.start(e.config(topic))
	outputs := e.consumeUntil(n, topic+".scored")
	if err := stop(); err != nil {
		t.Fatalf("scorer run: %v", err)
	}
	if got := outputs[0].Timestamp; !got.Equal(stamped.Truncate(time.Millisecond)) {
		t.Errorf("output timestamp %v, want the input's %v", got, stamped)
	}
}
