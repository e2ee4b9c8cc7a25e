package serde

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/sr"
)

func TestDecodeReturnsRecordSchemaAndBody(t *testing.T) {
	reg := newTestRegistry(t)
	d := reg.newDecoder(t, DecoderConfig{})
	tests := []struct {
		name   string
		schema string
		id     uint32
		native map[string]any
		fields int
		full   string
	}{
		{"sensor with battery", "sensor_reading", sensorID, sensorRecord(2), 12, "io.streamscore.sensors.SensorReading"},
		{"sensor without battery", "sensor_reading", sensorID, sensorRecord(3), 12, "io.streamscore.sensors.SensorReading"},
		{"text with language", "text_message", textID, textRecord(1), 4, "io.streamscore.text.TextMessage"},
		{"text without language", "text_message", textID, textRecord(2), 4, "io.streamscore.text.TextMessage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			value := encodeFrame(t, projectSchema(t, tt.schema), tt.id, tt.native)
			got, err := d.Decode(value)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.Checked.SchemaID != tt.id || got.Checked.Schema.ID != tt.id || got.Checked.Schema.Name != tt.full || len(got.Record) != tt.fields {
				t.Fatalf("got id %d, schema %d %s, a record of %d fields; want %d %s with %d",
					got.Checked.SchemaID, got.Checked.Schema.ID, got.Checked.Schema.Name, len(got.Record), tt.id, tt.full, tt.fields)
			}
			if &got.Checked.Body[0] != &value[headerLen] || len(got.Checked.Body) != len(value)-headerLen {
				t.Fatalf("Body does not alias the value after the header")
			}
			if !reflect.DeepEqual(got.Record, tt.native) {
				t.Fatalf("Record = %v, want %v", got.Record, tt.native)
			}
		})
	}
}

func TestDecoderFetchesEachIDOnceUnderConcurrency(t *testing.T) {
	reg := newTestRegistry(t)
	d := reg.newDecoder(t, DecoderConfig{})
	values := [][]byte{
		encodeFrame(t, projectSchema(t, "sensor_reading"), sensorID, sensorRecord(1)),
		encodeFrame(t, projectSchema(t, "text_message"), textID, textRecord(1)),
	}
	const workers, perWorker = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				if _, err := d.Decode(values[(w+i)%len(values)]); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Decode: %v", err)
	}
	for _, id := range []int{sensorID, textID} {
		if n := reg.fetches(id); n != 1 {
			t.Errorf("schema %d fetched %d times, want 1", id, n)
		}
	}
}

func TestDecoderUnknownIDIsRememberedForTTL(t *testing.T) {
	reg := newTestRegistry(t)
	clock := newFakeClock()
	d := reg.newDecoder(t, DecoderConfig{NegativeTTL: 30 * time.Second, Now: clock.Now})
	value := AppendFrame(nil, 99)

	_, err := d.Decode(value)
	if !errors.Is(err, ErrUnknownSchema) || !strings.Contains(err.Error(), "schema id 99") {
		t.Fatalf("err = %v, want ErrUnknownSchema naming schema id 99", err)
	}
	if errors.Is(err, ErrRegistryUnavailable) {
		t.Fatalf("err = %v is also ErrRegistryUnavailable", err)
	}
	clock.Advance(29 * time.Second)
	if _, err := d.Decode(value); !errors.Is(err, ErrUnknownSchema) {
		t.Fatalf("second Decode err = %v, want ErrUnknownSchema", err)
	}
	if n := reg.fetches(99); n != 1 {
		t.Fatalf("within the TTL the registry was asked %d times, want 1", n)
	}
	clock.Advance(time.Second)
	if _, err := d.Decode(value); !errors.Is(err, ErrUnknownSchema) {
		t.Fatalf("Decode after TTL err = %v, want ErrUnknownSchema", err)
	}
	if n := reg.fetches(99); n != 2 {
		t.Fatalf("after the TTL the registry was asked %d times in all, want 2", n)
	}

	// An id registered after it was found missing decodes once the TTL ends.
	reg.fake.SeedSchema("late-value", 1, 99, sr.Schema{Schema: projectSchema(t, "text_message"), Type: sr.TypeAvro})
	value = encodeFrame(t, projectSchema(t, "text_message"), 99, textRecord(5))
	if _, err := d.Decode(value); !errors.Is(err, ErrUnknownSchema) {
		t.Fatalf("within the TTL err = %v, want the remembered ErrUnknownSchema", err)
	}
	clock.Advance(30 * time.Second)
	if _, err := d.Decode(value); err != nil {
		t.Fatalf("after the TTL Decode: %v", err)
	}
}

func TestDecoderRegistryDown(t *testing.T) {
	reg := newTestRegistry(t)
	d := reg.newDecoder(t, DecoderConfig{})
	sensor := encodeFrame(t, projectSchema(t, "sensor_reading"), sensorID, sensorRecord(1))
	text := encodeFrame(t, projectSchema(t, "text_message"), textID, textRecord(1))
	if _, err := d.Decode(sensor); err != nil {
		t.Fatalf("Decode before the registry went down: %v", err)
	}

	reg.fake.Close()

	if _, err := d.Decode(sensor); err != nil {
		t.Fatalf("cached id with the registry down: %v", err)
	}
	_, err := d.Decode(text)
	if !errors.Is(err, ErrRegistryUnavailable) || errors.Is(err, ErrUnknownSchema) {
		t.Fatalf("uncached id with the registry down: err = %v, want ErrRegistryUnavailable only", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("schema id %d", textID)) {
		t.Fatalf("err = %v does not name the schema id", err)
	}
}

func TestDecoderRegistryFailuresAreRetriable(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
	}{
		{"500 with registry error", http.StatusInternalServerError, "application/json", `{"error_code":50001,"message":"store error"}`},
		{"503 from a proxy", http.StatusServiceUnavailable, "text/html", "<html>busy</html>"},
		{"404 without registry error (wrong URL)", http.StatusNotFound, "text/plain", "404 page not found"},
		{"401 unauthorized", http.StatusUnauthorized, "application/json", `{"error_code":40101,"message":"unauthorized"}`},
		{"200 that is not JSON", http.StatusOK, "text/plain", "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newTestRegistry(t)
			d := reg.newDecoder(t, DecoderConfig{})
			var mu sync.Mutex
			failing := true
			reg.fake.Intercept(func(w http.ResponseWriter, _ *http.Request) bool {
				mu.Lock()
				defer mu.Unlock()
				if !failing {
					return false
				}
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
				return true
			})
			value := encodeFrame(t, projectSchema(t, "sensor_reading"), sensorID, sensorRecord(1))
			for range 2 {
				_, err := d.Decode(value)
				if !errors.Is(err, ErrRegistryUnavailable) || errors.Is(err, ErrUnknownSchema) {
					t.Fatalf("err = %v, want ErrRegistryUnavailable only", err)
				}
			}
			mu.Lock()
			failing = false
			mu.Unlock()
			if _, err := d.Decode(value); err != nil {
				t.Fatalf("after the registry recovered: %v", err)
			}
			if n := reg.fetches(sensorID); n != 3 {
				t.Fatalf("registry asked %d times, want 3: every failure must be retried, not remembered", n)
			}
		})
	}
}

func TestDecoderPermanentSchemaErrors(t *testing.T) {
	tests := []struct {
		name    string
		schema  sr.Schema
		wantErr error
	}{
		{"primitive top level", sr.Schema{Schema: `"string"`, Type: sr.TypeAvro}, ErrNotRecord},
		{"array top level", sr.Schema{Schema: `{"type":"array","items":"long"}`, Type: sr.TypeAvro}, ErrNotRecord},
		{"union top level", sr.Schema{Schema: `["null","string"]`, Type: sr.TypeAvro}, ErrNotRecord},
		{"enum top level", sr.Schema{Schema: `{"type":"enum","name":"E","symbols":["A"]}`, Type: sr.TypeAvro}, ErrNotRecord},
		{"record that does not compile", sr.Schema{Schema: `{"type":"record","name":"R","fields":[{"name":"x","type":"nope"}]}`, Type: sr.TypeAvro}, ErrUnsupportedSchema},
		{"protobuf", sr.Schema{Schema: `syntax = "proto3"; message M { string a = 1; }`, Type: sr.TypeProtobuf}, ErrUnsupportedSchema},
		{"json schema", sr.Schema{Schema: `{"type":"object"}`, Type: sr.TypeJSON}, ErrUnsupportedSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newTestRegistry(t)
			const id = 40
			reg.fake.SeedSchema("odd-value", 1, id, tt.schema)
			d := reg.newDecoder(t, DecoderConfig{})
			value := append(AppendFrame(nil, id), 0, 0)
			for range 2 {
				_, err := d.Decode(value)
				if !errors.Is(err, tt.wantErr) || errors.Is(err, ErrRegistryUnavailable) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			}
			if n := reg.fetches(id); n != 1 {
				t.Fatalf("registry asked %d times, want 1: the schema of an id never changes", n)
			}
		})
	}
}

func TestDecoderRejectsSchemaReferences(t *testing.T) {
	reg := newTestRegistry(t)
	reg.fake.SeedSchema("address-value", 1, 50, sr.Schema{
		Schema: `{"type":"record","name":"Address","namespace":"x","fields":[{"name":"city","type":"string"}]}`,
		Type:   sr.TypeAvro,
	})
	reg.fake.SeedSchema("user-value", 1, 51, sr.Schema{
		Schema:     `{"type":"record","name":"User","namespace":"x","fields":[{"name":"home","type":"x.Address"}]}`,
		Type:       sr.TypeAvro,
		References: []sr.SchemaReference{{Name: "x.Address", Subject: "address-value", Version: 1}},
	})
	d := reg.newDecoder(t, DecoderConfig{})
	_, err := d.Decode(append(AppendFrame(nil, 51), 2, 'a'))
	if !errors.Is(err, ErrUnsupportedSchema) || !strings.Contains(err.Error(), "references") {
		t.Fatalf("err = %v, want ErrUnsupportedSchema about references", err)
	}
}

func TestDecodeRejectsBadValues(t *testing.T) {
	reg := newTestRegistry(t)
	d := reg.newDecoder(t, DecoderConfig{})
	good := encodeFrame(t, projectSchema(t, "text_message"), textID, textRecord(1))
	tests := []struct {
		name    string
		value   []byte
		wantErr error
	}{
		{"empty", nil, ErrTruncated},
		{"four bytes", []byte{0, 0, 0, 0}, ErrTruncated},
		{"bad magic", append([]byte{1}, good[1:]...), ErrBadMagic},
		{"empty body", AppendFrame(nil, textID), ErrCorruptAvro},
		{"truncated body", good[:len(good)-3], ErrCorruptAvro},
		{"trailing garbage", append(append([]byte(nil), good...), 0xde, 0xad), ErrCorruptAvro},
		{"one trailing zero", append(append([]byte(nil), good...), 0), ErrCorruptAvro},
		{"huge string length", append(AppendFrame(nil, textID), 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), ErrCorruptAvro},
		{"negative string length", append(AppendFrame(nil, textID), 0x01, 'a'), ErrCorruptAvro},
		{"union index out of range", append(append([]byte(nil), good[:len(good)-4]...), 0x04), ErrCorruptAvro},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.Decode(tt.value)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestDecoderConfig(t *testing.T) {
	reg := newTestRegistry(t)
	tests := []struct {
		name        string
		getter      SchemaGetter
		cfg         DecoderConfig
		errContains string
	}{
		{name: "zero config", getter: reg.client},
		{name: "explicit TTL", getter: reg.client, cfg: DecoderConfig{NegativeTTL: time.Second}},
		{name: "negative TTL", getter: reg.client, cfg: DecoderConfig{NegativeTTL: -time.Second}, errContains: "must not be negative"},
		{name: "no registry", getter: nil, errContains: "nil schema getter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDecoder(tt.getter, tt.cfg)
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("NewDecoder: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("err = %v, want one containing %q", err, tt.errContains)
			}
		})
	}
}

// TestDecodeMatchesGoavroOnPythonFrames decodes frames written by the Python
// reference implementation (testdata/gen_python_fixtures.py).
func TestDecodeMatchesGoavroOnPythonFrames(t *testing.T) {
	reg := newTestRegistry(t)
	d := reg.newDecoder(t, DecoderConfig{})
	for _, c := range loadPythonFixtures(t) {
		t.Run(c.Name, func(t *testing.T) {
			got, err := d.Decode(c.InputFrame)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			codec, err := goavro.NewCodec(projectSchema(t, c.InputSchema))
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := codec.NativeFromBinary(c.InputFrame[headerLen:])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Record, want) {
				t.Fatalf("Record = %v, want %v", got.Record, want)
			}
		})
	}
}

// pythonFixture is one case of testdata/python_fixtures.json.
type pythonFixture struct {
	Name        string   `json:"name"`
	InputSchema string   `json:"input_schema"`
	InputID     uint32   `json:"input_id"`
	OutputID    uint32   `json:"output_id"`
	InputFrame  hexBytes `json:"input_frame"`
	OutputFrame hexBytes `json:"output_frame"`
	Prediction  struct {
		ModelName    string   `json:"model_name"`
		ModelVersion string   `json:"model_version"`
		Label        *string  `json:"label"`
		Value        *float64 `json:"value"`
		Scores       [][2]any `json:"scores"`
		ScoredAtMs   int64    `json:"scored_at_ms"`
		// Margin is null, or pairs like Scores.
		Margin *[][2]any `json:"margin"`
	} `json:"prediction"`
}

// TestCheckLeavesToDecodeWhatOnlyGoavroFinds: Check frames, looks up and
// guards a value without decoding it, so trailing bytes, which only
// goavro's decode finds, pass Check and fail Checked.Decode as
// ErrCorruptAvro naming the id; a good value's Checked decodes to the
// record Decode returns, and carries the schema's type tree for reading
// features from the body.
func TestCheckLeavesToDecodeWhatOnlyGoavroFinds(t *testing.T) {
	reg := newTestRegistry(t)
	d := reg.newDecoder(t, DecoderConfig{})
	good := encodeFrame(t, projectSchema(t, "sensor_reading"), sensorID, sensorRecord(2))
	c, err := d.Check(good)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if c.Schema.Tree == nil || c.Cost <= 0 {
		t.Fatalf("Checked has tree %v and cost %d; want a tree and a positive cost", c.Schema.Tree, c.Cost)
	}
	rec, err := c.Decode()
	if err != nil || !reflect.DeepEqual(rec, sensorRecord(2)) {
		t.Fatalf("Decode = %v, %v; want the record", rec, err)
	}
	trailing := append(append([]byte(nil), good...), 0)
	c, err = d.Check(trailing)
	if err != nil {
		t.Fatalf("Check of a body with a trailing byte: %v; want it left to Decode", err)
	}
	if _, err := c.Decode(); !errors.Is(err, ErrCorruptAvro) || !strings.Contains(err.Error(), fmt.Sprintf("schema id %d", sensorID)) {
		t.Fatalf("Decode of a body with a trailing byte: %v; want ErrCorruptAvro naming schema id %d", err, sensorID)
	}
}
