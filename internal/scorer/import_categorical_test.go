package scorer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
)

// TestImportedSklearnModelWithCategoricalInputs serves a scikit-learn
// model with categorical inputs that was exported to ONNX by hand, as a
// user without skl2onnx would: testdata/sklearn_categorical.py fits a
// OneHotEncoder (handle_unknown="ignore") on two strings and a scaler on
// two numbers before a multinomial LogisticRegression, and writes the
// graph with onnx.helper (ai.onnx.ml OneHotEncoder with cats_strings on
// string inputs, Concat, MatMul, Add, Softmax). The side spec
// (testdata/fleet_sklearn_spec.json) maps an enum (status), a string in a
// nested record (device.vendor) and two numbers, one nested
// (location.lat), onto the graph's three inputs. Every fleet reading
// produced, vendors scikit-learn never saw included, must be scored once
// with the probabilities scikit-learn's predict_proba gives for the same
// record, within relative 1e-5.
func TestImportedSklearnModelWithCategoricalInputs(t *testing.T) {
	const topic, trainRows, n = "fleet.imported", 2000, 300
	e := newEnv(t, topic)
	id, codec := e.register(topic+"-value", fleetSchema(t))
	dir := t.TempDir()
	gen := newFleetGen(21)

	type row struct {
		Key         string  `json:"key,omitempty"`
		Status      string  `json:"status"`
		Vendor      string  `json:"vendor"`
		Temperature float64 `json:"temperature"`
		Lat         float64 `json:"lat"`
		Condition   string  `json:"condition,omitempty"`
	}
	writeRows := func(name string, rows []row) string {
		t.Helper()
		var b strings.Builder
		for _, r := range rows {
			b.WriteString(mustJSON(t, r) + "\n")
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var training []row
	for range trainRows {
		rd := gen.next()
		training = append(training, row{Status: rd.Status, Vendor: rd.Vendor, Temperature: rd.Temperature, Lat: rd.Lat, Condition: rd.condition()})
	}

	// The records to score, one in ten from a vendor training never saw.
	var records []*kgo.Record
	var readings []fleetReading
	for i := range n {
		rd := gen.next()
		if i%10 == 3 {
			rd.Vendor = "umbrella"
		}
		readings = append(readings, rd)
		records = append(records, &kgo.Record{Topic: topic, Key: []byte(rd.DeviceID), Value: frame(t, id, codec, rd.native())})
	}
	var scoring []row
	for i, r := range e.produce(records...) {
		rd := readings[i]
		scoring = append(scoring, row{Key: coordinates(r), Status: rd.Status, Vendor: rd.Vendor, Temperature: rd.Temperature, Lat: rd.Lat})
	}

	modelPath, expectedPath := filepath.Join(dir, "sklearn.onnx"), filepath.Join(dir, "expected.json")
	run(t, python3, "testdata/sklearn_categorical.py", writeRows("train.jsonl", training), writeRows("score.jsonl", scoring), modelPath, expectedPath)
	var expected struct {
		Classes []string `json:"classes"`
		Rows    []struct {
			Key   string    `json:"key"`
			Proba []float64 `json:"proba"`
		} `json:"rows"`
	}
	b, err := os.ReadFile(expectedPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &expected); err != nil {
		t.Fatal(err)
	}
	specText, err := os.ReadFile("testdata/fleet_sklearn_spec.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := model.ParseSpec(specText)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(expected.Classes, spec.Labels) {
		t.Fatalf("scikit-learn's classes %q; the side spec's labels %q", expected.Classes, spec.Labels)
	}
	want := map[string][]float64{}
	for _, r := range expected.Rows {
		want[r.Key] = r.Proba
	}

	sc := e.config(topic)
	sc.Model.Path, sc.Model.SpecPath = modelPath, "testdata/fleet_sklearn_spec.json"
	_, stop := e.start(sc)
	outputs := e.consumeUntil(n, topic+".scored")
	if err := stop(); err != nil {
		t.Fatalf("scorer run: %v", err)
	}
	if dlq := e.consumeAvailable(topic + ".dlq"); len(dlq) != 0 {
		t.Fatalf("%d records were dead-lettered; first: %s %s", len(dlq), header(dlq[0], deadletter.HeaderErrorClass), header(dlq[0], deadletter.HeaderErrorReason))
	}
	if lost, dup := e.tally(topic, outputs); lost > 0 || dup > 0 || len(outputs) != n {
		t.Fatalf("%d outputs for %d inputs: %d without one, %d duplicated", len(outputs), n, lost, dup)
	}
	unknown := 0
	for i, out := range outputs {
		src := sourceOf(out)
		proba, ok := want[src]
		if !ok {
			t.Fatalf("output %d names source %s, which was not produced", i, src)
		}
		pred := decodeFramed(t, e, out.Value)["prediction"].(map[string]any)
		if pred["model_name"] != "fleet-sklearn" || !strings.HasPrefix(pred["model_version"].(string), "sha256-") {
			t.Errorf("%s: scored by %v@%v", src, pred["model_name"], pred["model_version"])
		}
		scores := pred["scores"].(map[string]any)
		for c, label := range spec.Labels {
			if got := asFloat(t, scores[label]); !withinParity(got, proba[c]) {
				t.Errorf("%s: %s is %.9g; scikit-learn's predict_proba gives %.9g", src, label, got, proba[c])
			}
		}
		if scoring[slices.IndexFunc(scoring, func(r row) bool { return r.Key == src })].Vendor == "umbrella" {
			unknown++
		}
	}
	if unknown != n/10 {
		t.Errorf("%d outputs of an unknown vendor, want %d", unknown, n/10)
	}
}
