package stream

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math"
	"os/exec"
	"strconv"
	"testing"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/train"
	"github.com/streamscore/streamscore/schemas"
)

// python3 is Debian's interpreter, which sees the python3-avro package; the
// python3 on PATH may not.
const python3 = "/usr/bin/python3"

// TestOutputMargin scores sensor readings with a binary and a multiclass
// classifier whose specs declare a margin output, and with one whose spec
// declares none, then decodes the outputs with goavro and with
// python3-avro: each record's margin is, bit for bit, its row's margin as
// the model computes it, widened from float32, keyed like the REST answer
// (a binary classifier's logit under its last label); null without one.
func TestOutputMargin(t *testing.T) {
	if _, err := exec.LookPath(python3); err != nil {
		t.Fatalf("%s is missing: run `make setup` (scripts/setup.sh)", python3)
	}
	const n = 40
	binary := sample.SensorSpec("bench", "1")
	binary.Outputs.Margin = train.OutputMargin
	noMargin := sample.SensorSpec("bench", "2")
	tests := []struct {
		name string
		onnx func(t *testing.T) []byte
	}{
		{"binary", func(t *testing.T) []byte { return sensorModel(t, binary) }},
		{"multiclass", multiclassSensorModel},
		{"no margin", func(t *testing.T) []byte { return sensorModel(t, noMargin) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, n)
			m, err := model.Load(tt.onnx(t), model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			want := modelMargins(t, m, f.records)

			out := newOutcomes()
			p := f.processor(Config{}, m, sinkFunc(out.emit))
			defer p.close()
			run(t, p, f.records)
			values := make([]string, n)
			outSchemas := map[uint32]string{}
			for i, rec := range f.records {
				r := out.one(t, rec)
				if r.reason != "" {
					t.Fatalf("record %d dead-lettered: %s", i, header(r.out, deadletter.HeaderErrorReason))
				}
				id, body, err := serde.ParseFrame(r.out.Value)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := outSchemas[id]; !ok {
					s, err := f.client.GetSchema(int(id))
					if err != nil {
						t.Fatal(err)
					}
					outSchemas[id] = s.Schema()
				}
				values[i] = hex.EncodeToString(r.out.Value)
				checkGoavroMargin(t, i, outSchemas[id], body, want[i])
			}
			for i, got := range pythonMargins(t, outSchemas, values) {
				checkPythonMargin(t, i, got, want[i])
			}
		})
	}
}

// sensorModel trains a small sensor classifier under spec.
func sensorModel(t *testing.T, spec model.Spec) []byte {
	t.Helper()
	data, err := sample.SensorModel(context.Background(), spec, smallModel(), 2000)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// multiclassSensorModel is a three-class model of the sensor features:
// class a's raw score depends on the temperature, class b's on the CO2,
// class c's is constant; the leaves are not round in binary, so a margin
// that passed through a narrower type or a wrong row would show.
func multiclassSensorModel(t *testing.T) []byte {
	t.Helper()
	stump := func(feature int32, threshold, low, high float32) train.Tree {
		return train.Tree{Nodes: []train.Node{
			{Feature: feature, Threshold: threshold, Left: 1, Right: 2},
			{Leaf: true, Value: low},
			{Leaf: true, Value: high},
		}}
	}
	ens := &train.Ensemble{
		Objective:   train.MulticlassLogLoss,
		NumFeatures: len(sample.SensorFeatures),
		BaseScores:  []float32{0.1, -0.2, 0.3},
		Trees: []train.Tree{
			stump(0, 23, -1.1, 2.7),  // temperature
			stump(4, 620, 0.3, -3.9), // co2
			{Nodes: []train.Node{{Leaf: true, Value: 0.7}}},
		},
	}
	spec := sample.SensorSpec("bench", "3")
	spec.Labels = []string{"a", "b", "c"}
	spec.Outputs.Margin = train.OutputMargin
	meta, err := spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ens.ONNX(map[string]string{model.SpecMetadataKey: meta})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// modelMargins runs m on the records, in one batch, and returns each
// row's margin by label, as the REST answer keys it, or nil.
func modelMargins(t *testing.T, m *model.Model, records []*kgo.Record) []map[string]float64 {
	t.Helper()
	codec, err := goavro.NewCodec(schemas.SensorReading)
	if err != nil {
		t.Fatal(err)
	}
	b := m.NewBatch()
	defer b.Close()
	for _, rec := range records {
		native, _, err := codec.NativeFromBinary(rec.Value[5:])
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add(native.(map[string]any)); err != nil {
			t.Fatal(err)
		}
	}
	results, err := m.Run(b)
	if err != nil {
		t.Fatal(err)
	}
	labels := m.Spec().Labels
	want := make([]map[string]float64, len(results))
	for i, r := range results {
		if r.Margin == nil {
			continue
		}
		want[i] = map[string]float64{}
		for c, v := range r.Margin {
			want[i][labels[len(labels)-len(r.Margin)+c]] = float64(v)
		}
	}
	return want
}

// checkGoavroMargin decodes an output body with goavro and compares its
// margin with want, bit for bit.
func checkGoavroMargin(t *testing.T, row int, outSchema string, body []byte, want map[string]float64) {
	t.Helper()
	codec, err := goavro.NewCodec(outSchema)
	if err != nil {
		t.Fatal(err)
	}
	native, rest, err := codec.NativeFromBinary(body)
	if err != nil || len(rest) != 0 {
		t.Fatalf("row %d: goavro decode: %v (%d bytes left)", row, err, len(rest))
	}
	margin := native.(map[string]any)[serde.PredictionField].(map[string]any)["margin"]
	if want == nil {
		if margin != nil {
			t.Errorf("row %d: goavro margin %v, want null", row, margin)
		}
		return
	}
	got, _ := margin.(map[string]any)["map"].(map[string]any)
	if len(got) != len(want) {
		t.Fatalf("row %d: goavro margin %v, want %v", row, margin, want)
	}
	for label, w := range want {
		if v, ok := got[label].(float64); !ok || math.Float64bits(v) != math.Float64bits(w) {
			t.Errorf("row %d: goavro margin[%q] = %v, want %v", row, label, got[label], w)
		}
	}
}

// pythonMargins decodes output values with python3-avro
// (testdata/decode_margins.py) and returns each one's margin, each double
// as float.hex().
func pythonMargins(t *testing.T, outSchemas map[uint32]string, values []string) []map[string]string {
	t.Helper()
	job := map[string]any{"schemas": map[string]string{}, "values": values}
	for id, s := range outSchemas {
		job["schemas"].(map[string]string)[strconv.FormatUint(uint64(id), 10)] = s
	}
	in, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python3, "testdata/decode_margins.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("decode_margins.py: %v\n%s", err, stderr.Bytes())
	}
	var margins []map[string]string
	if err := json.Unmarshal(out, &margins); err != nil {
		t.Fatalf("decode_margins.py printed %q: %v", out, err)
	}
	if len(margins) != len(values) {
		t.Fatalf("python decoded %d values, want %d", len(margins), len(values))
	}
	return margins
}

// checkPythonMargin compares a margin python3-avro decoded with want, bit
// for bit.
func checkPythonMargin(t *testing.T, row int, got map[string]string, want map[string]float64) {
	t.Helper()
	if (got == nil) != (want == nil) || len(got) != len(want) {
		t.Fatalf("row %d: python margin %v, want %v", row, got, want)
	}
	for label, w := range want {
		v, err := strconv.ParseFloat(got[label], 64)
		if err != nil || math.Float64bits(v) != math.Float64bits(w) {
			t.Errorf("row %d: python margin[%q] = %s (%v), want %v", row, label, got[label], err, w)
		}
	}
}
