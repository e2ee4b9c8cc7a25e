package scorer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
)

// fleetJob is a training job on the fleet history, as a job file gives it:
// the features named by their paths, a whole window of four, the
// hour and day of the timestamp, and the nullable nested calibration and
// humidity with defaults. %s are the name, the family, the array option,
// the categorical options and the params.
const fleetJob = `
name: %s
source: {topic: fleet.history}
options:
  family: %s
  label: anomaly
  features: [temperature, location.lat, status, device.model, site, window, attributes.firmware, ts, calibration.offset, humidity]
  defaults: {calibration.offset: 0, humidity: 50}
  arrays: {window: %s}
  time_parts: {ts: [hour_of_day, day_of_week]}
  categorical: %s
  params: %s
`

// fleetCase is a kind of live record, and what the scorer must do with it.
type fleetCase struct {
	name  string
	alter func(*fleetReading)
}

var fleetCases = []fleetCase{
	{"plain", func(*fleetReading) {}},
	{"unknown_site", func(rd *fleetReading) { rd.Site = "site-99" }},
	{"unseen_model", func(rd *fleetReading) { rd.Model = "Z9" }},
	{"unknown_firmware", func(rd *fleetReading) { rd.Attributes["firmware"] = "9.9" }},
	{"no_firmware", func(rd *fleetReading) { delete(rd.Attributes, "firmware") }},
	{"nulls", func(rd *fleetReading) { rd.Calibration, rd.Humidity = nil, nil }},
	{"short_window", func(rd *fleetReading) { rd.Window = rd.Window[:2] }},
	{"long_window", func(rd *fleetReading) { rd.Window = append(rd.Window[:4:4], rd.Window[3]+1) }},
}

// fleetVariant is one training of the fleet history and what its spec
// makes the scorer do with each case: "" is scored, else the dead-letter
// class.
type fleetVariant struct {
	name, family, arrays, categorical, params string
	want                                      map[string]string
	// skippedShort is whether training skips the history's short windows.
	skippedShort bool
}

var fleetVariants = []fleetVariant{{
	name: "fleet-padded", family: "gbdt", arrays: "{length: 4, pad: 0}", categorical: "{}",
	params: "{max_iter: 60, max_depth: 4, random_state: 1}",
	// Unknown categories go to "other"; a short window is padded.
	want: map[string]string{"long_window": "wrong_type"},
}, {
	name: "fleet-strict", family: "gbdt", arrays: "{length: 4}",
	categorical: "{site: {unknown: dead_letter}, device.model: {unknown: category, unknown_category: X100}}",
	params:      "{max_iter: 60, max_depth: 4, random_state: 1}",
	// An unknown site is refused as asked, an unseen model read as X100,
	// an unknown firmware still "other"; a short window is refused.
	want:         map[string]string{"unknown_site": "unknown_category", "short_window": "short_array", "long_window": "wrong_type"},
	skippedShort: true,
}, {
	name: "fleet-linear", family: "linear", arrays: "{length: 4, pad: 0}", categorical: "{}",
	params: "{max_iter: 500}",
	want:   map[string]string{"long_window": "wrong_type"},
}}

// TestFleetSchemaTrainedAndScoredEndToEnd is issue 13 end to end over
// kfake: a history of fleet readings (nested records, enums, a categorical
// string, a fixed-length array, a map and nullable unions) is trained by a
// trainer job whose features are paths, published to the catalog with its
// category tables, and served by a scorer on a live topic. For each of
// three trainings (gbdt padding short windows, gbdt refusing them and an
// unknown site, linear one-hot) every live record has exactly one output,
// or one dead letter of the documented class, by offsets; records with
// unknown categories are scored; and each output's scores equal ONNX
// Runtime's on the catalog's artifact for the same record.
//
// Parity, and why this way: the catalog keeps the ONNX artifact and not
// the Go ensemble, so the Go model's side is the trainer's own check
// (Result.Divergence, Go against ONNX Runtime on every holdout row, within
// fit.ParityTolerance), asserted here; the scorer's side is checked
// against a direct ONNX Runtime run (internal/model) of the artifact read
// back from the catalog, fed with columns this test computes from the
// records by its own reading of design.md's rules (fleetReading.encode)
// through a flat spec of plain numeric fields. Equal scores then mean the
// scorer read every path, category, padded window and time part as
// documented, and the documented relative 1e-5 holds end to end.
func TestFleetSchemaTrainedAndScoredEndToEnd(t *testing.T) {
	const history, n = "fleet.history", 3000
	e := newEnv(t, "fleet")
	hist := e.produceFleetHistory(history, n)
	shortInHistory := 0
	siteCounts := map[string]int{}
	for _, rd := range hist {
		if len(rd.Window) < 4 {
			shortInHistory++
		}
		siteCounts[rd.Site]++
	}

	decoder, err := serde.NewDecoder(e.registry, serde.DecoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cat := e.models().cat
	runner := &jobs.Runner{KafkaOpts: []kgo.Opt{kgo.SeedBrokers(e.stack.Brokers()...)}, Decoder: decoder, Catalog: cat,
		Schemas: jobs.RegistrySchemas{Registry: e.registry}}

	// A model of the plain numbers only: the label hardly depends on them,
	// so the full models must beat it by far.
	baseline := runFleetJob(t, runner, `
name: fleet-baseline
source: {topic: fleet.history}
options: {family: gbdt, label: anomaly, features: [temperature, location.lon, humidity], defaults: {humidity: 50}, params: {max_iter: 60, max_depth: 4}}
`)
	baseAUC := baseline.Version.Metrics[fit.MetricAUC]

	for _, v := range fleetVariants {
		t.Run(v.name, func(t *testing.T) {
			ve := *e
			ve.t = t
			out := runFleetJob(t, runner, fmt.Sprintf(fleetJob, v.name, v.family, v.arrays, v.categorical, v.params))
			if auc := out.Version.Metrics[fit.MetricAUC]; auc < baseAUC+0.1 {
				t.Errorf("holdout AUC %.3f, the plain-number baseline's %.3f: the paths and categories were not learnt from", auc, baseAUC)
			}
			if out.Result == nil || out.Result.Divergence > fit.ParityTolerance {
				t.Fatalf("the trainer's Go/ONNX Runtime parity: %+v", out.Result)
			}
			t.Logf("%s v%d: holdout AUC %.4f (plain-number baseline %.4f), Go/ONNX Runtime divergence on the holdout %.3g",
				v.name, out.Version.Version, out.Version.Metrics[fit.MetricAUC], baseAUC, out.Result.Divergence)
			// Every other row is usable: the nullable features have defaults,
			// and a null firmware is a category of its own.
			wantSkipped := map[string]int{}
			if v.skippedShort {
				wantSkipped["short_array"] = shortInHistory
			}
			if got := out.Result.Skipped; !maps.Equal(nonZero(got), wantSkipped) {
				t.Errorf("training skipped %v; want %v: the history has %d short windows, which this training %s",
					got, wantSkipped, shortInHistory, map[bool]string{true: "skips", false: "pads"}[v.skippedShort])
			}
			artifact := catalogArtifact(t, cat, out)
			checkFleetGraph(t, v, artifact)
			features := checkFleetSpec(t, v, out, artifact, siteCounts)
			ve.scoreFleet(v, out, artifact, features)
		})
	}
}

// nonZero is counts without its zero entries.
var nonZero = testkit.NonZero

// produceFleetHistory registers the labelled fleet schema under topic's
// subject and writes n readings, returning them.
func (e *env) produceFleetHistory(topic string, n int) []fleetReading {
	e.t.Helper()
	id, codec := e.register(topic+"-value", fleetHistorySchema(e.t))
	gen := newFleetGen(1)
	hist := make([]fleetReading, n)
	records := make([]*kgo.Record, n)
	for i := range records {
		rd := gen.next()
		rec := rd.native()
		rec["anomaly"] = rd.anomaly()
		hist[i] = rd
		records[i] = &kgo.Record{Topic: topic, Key: []byte(rd.DeviceID), Value: frame(e.t, id, codec, rec), Timestamp: rd.TS}
	}
	e.produce(records...)
	return hist
}

// runFleetJob runs a job given as job-file YAML, which must publish the
// model's first version as its champion.
func runFleetJob(t *testing.T, runner *jobs.Runner, text string) *jobs.Outcome {
	t.Helper()
	var job jobs.Job
	dec := yaml.NewDecoder(strings.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&job); err != nil {
		t.Fatalf("job %s: %v", text, err)
	}
	job.Options = job.Options.WithDefaults()
	if err := job.Validate(); err != nil {
		t.Fatalf("job %s: %v", text, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := runner.Run(ctx, job, false, nil)
	if err != nil || !out.Promoted {
		t.Fatalf("training %s: %+v, %v", job.Name, out, err)
	}
	return out
}

// catalogArtifact reads a version's ONNX back from the catalog, checking
// it is what the trainer published.
func catalogArtifact(t *testing.T, cat *catalog.Catalog, out *jobs.Outcome) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	artifact, err := cat.Artifact(ctx, out.Version.Name, out.Version.Version)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(artifact)
	if hex.EncodeToString(sum[:]) != out.Version.SHA256 || !bytes.Equal(artifact, out.Result.ONNX) {
		t.Fatalf("the catalog's artifact of %s v%d is not the one the trainer published", out.Version.Name, out.Version.Version)
	}
	return artifact
}

// checkFleetGraph checks that the categories reach the model as
// categories: a gbdt's trees split on category sets (a TreeEnsembleRegressor
// reading membership columns that set tables compute in the graph), and a
// linear model has no trees. testdata/onnx_nodes.py reads the graph.
func checkFleetGraph(t *testing.T, v fleetVariant, artifact []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), v.name+".onnx")
	if err := os.WriteFile(path, artifact, 0o644); err != nil {
		t.Fatal(err)
	}
	var graph struct {
		Opsets    map[string]int `json:"opsets"`
		Ops       []string       `json:"ops"`
		SetTables int            `json:"set_tables"`
	}
	if err := json.Unmarshal([]byte(run(t, python3, "testdata/onnx_nodes.py", path)), &graph); err != nil {
		t.Fatal(err)
	}
	trees := slices.Contains(graph.Ops, "TreeEnsembleRegressor")
	switch v.family {
	case "gbdt":
		if !trees || graph.SetTables == 0 {
			t.Errorf("gbdt graph: operators %v, opsets %v, %d category set tables; want a TreeEnsembleRegressor splitting on category sets",
				graph.Ops, graph.Opsets, graph.SetTables)
		}
	case "linear":
		if trees {
			t.Errorf("linear graph: operators %v", graph.Ops)
		}
	}
}

// checkFleetSpec checks the published spec column by column: the paths
// in the job's order, the window as four columns, the timestamp as two
// parts, and the category tables learnt from the history (most frequent
// first), with the variant's unknown-category options; and that the ONNX
// artifact carries the same spec, tables included, so a scorer given the
// file alone maps values as training did. It returns the columns.
func checkFleetSpec(t *testing.T, v fleetVariant, out *jobs.Outcome, artifact []byte, siteCounts map[string]int) []specFeature {
	t.Helper()
	doc := parseSpecDoc(t, out.Version.Spec)
	if len(doc.Inputs) != 1 {
		t.Fatalf("spec inputs: %+v", doc.Inputs)
	}
	features := doc.Inputs[0].Fields
	var fields []string
	for _, f := range features {
		fields = append(fields, f.Field+map[bool]string{true: ":" + f.Part}[f.Part != ""])
	}
	want := []string{"temperature", "location.lat", "status", "device.model", "site", "window", "attributes.firmware",
		"ts:hour_of_day", "ts:day_of_week", "calibration.offset", "humidity"}
	if !slices.Equal(fields, want) {
		t.Fatalf("spec columns %v, want %v", fields, want)
	}
	byField := map[string]specFeature{}
	for _, f := range features {
		byField[f.Field] = f
	}
	sites := slices.Sorted(maps.Keys(siteCounts))
	for _, c := range []struct {
		field string
		table []string // the values, in any order
		first string   // the most frequent
	}{
		{"status", []string{"FAIL", "OK", "WARN"}, "OK"},
		{"device.model", []string{"X100", "X200", "X300"}, "X100"},
		{"site", sites, "site-01"},
		{"attributes.firmware", []string{"1.0", "1.1", "2.0"}, "1.1"},
	} {
		f := byField[c.field]
		if got := slices.Sorted(slices.Values(f.Categories)); !slices.Equal(got, c.table) || f.Categories[0] != c.first {
			t.Errorf("%s: categories %q; want %q, %s first", c.field, f.Categories, c.table, c.first)
		}
	}
	// Most frequent first. Training counts its own rows only (not the
	// holdout's), so near ties in the whole history's counts may swap; far
	// apart ones may not.
	site := byField["site"]
	for i := 1; i < len(site.Categories); i++ {
		if prev, c := siteCounts[site.Categories[i-1]], siteCounts[site.Categories[i]]; c > prev+prev/5 {
			t.Errorf("site categories %q are not most frequent first: %s has %d readings, %s before it %d",
				site.Categories, site.Categories[i], c, site.Categories[i-1], prev)
		}
	}
	for _, f := range features {
		for _, c := range f.Categories {
			if c == "" {
				t.Errorf("%s: an empty category in %q", f.Field, f.Categories)
			}
		}
	}
	if w := byField["window"]; w.Length != 4 || (w.Pad != nil) != strings.Contains(v.arrays, "pad") || (w.Pad != nil && *w.Pad != 0) {
		t.Errorf("window column: %+v, from arrays %s", w, v.arrays)
	}
	if d := byField["calibration.offset"]; d.Default == nil || *d.Default != 0 {
		t.Errorf("calibration.offset column: %+v", d)
	}
	dm := byField["device.model"]
	if strings.Contains(v.categorical, "dead_letter") {
		if site.Unknown != "dead_letter" || dm.Unknown != "category" || dm.UnknownCategory != "X100" {
			t.Errorf("site %+v, device.model %+v; want dead_letter, and category X100", site, dm)
		}
	} else if (site.Unknown != "" && site.Unknown != "other") || (dm.Unknown != "" && dm.Unknown != "other") {
		t.Errorf("site %+v, device.model %+v; want other", site, dm)
	}

	// The artifact's own spec, as a scorer reading it alone takes it.
	m, err := model.Load(artifact, model.Options{})
	if err != nil {
		t.Fatalf("the catalog's artifact does not load with its own spec: %v", err)
	}
	defer m.Close()
	embedded := m.Spec()
	embedded.Version = out.Version.Spec.Version
	if got, want := mustJSON(t, embedded), mustJSON(t, out.Version.Spec); got != want {
		t.Errorf("the artifact's spec differs from the catalog's:\n%s\n%s", got, want)
	}
	return features
}

// scoreFleet serves version out on a live topic of its own, produces
// every case there while the scorer runs, and checks each record's one
// result, and the scores' parity with ONNX Runtime on the artifact.
func (e *env) scoreFleet(v fleetVariant, out *jobs.Outcome, artifact []byte, features []specFeature) {
	t := e.t
	topic := "fleet.live." + strings.TrimPrefix(v.name, "fleet-")
	id, codec := e.register(topic+"-value", fleetSchema(t))
	cfg := e.config(topic)
	cfg.Model.Path, cfg.Model.Name = "", v.name
	_, stop := e.start(cfg)

	// 200 plain readings and 12 of each other case, shuffled, in three
	// batches while the scorer runs.
	gen := newFleetGen(uint64(len(v.name)) + 100)
	var kinds []fleetCase
	for _, c := range fleetCases {
		for range map[bool]int{true: 200, false: 12}[c.name == "plain"] {
			kinds = append(kinds, c)
		}
	}
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	type input struct {
		rd      fleetReading
		kind    string
		want    string // "" scored, else the dead-letter class
		row     []float32
		encoded string // what encode says of it
	}
	inputs := map[string]*input{} // by coordinates
	for batch := range slices.Chunk(kinds, (len(kinds)+2)/3) {
		var records []*kgo.Record
		var pending []*input
		for _, c := range batch {
			rd := gen.next()
			if len(rd.Window) < 4 {
				rd.Window = append(rd.Window, rd.Window[2]) // plain means plain
			}
			c.alter(&rd)
			in := &input{rd: rd, kind: c.name, want: v.want[c.name]}
			in.row, in.encoded = rd.encode(t, features)
			if in.encoded != in.want {
				t.Fatalf("case %s: the spec's documented reading gives %q, the case wants %q (spec columns %+v)", c.name, in.encoded, in.want, features)
			}
			records = append(records, &kgo.Record{Topic: topic, Key: []byte(rd.DeviceID), Value: frame(t, id, codec, rd.native()),
				Headers: []kgo.RecordHeader{{Key: "case", Value: []byte(c.name)}}})
			pending = append(pending, in)
		}
		for i, r := range e.produce(records...) {
			inputs[coordinates(r)] = pending[i]
		}
	}
	results := e.consumeUntil(len(inputs), topic+".scored", topic+".dlq")
	if err := stop(); err != nil {
		t.Fatalf("scorer run: %v", err)
	}
	scored, dlq := e.consumeAvailable(topic+".scored"), e.consumeAvailable(topic+".dlq")
	if lost, dup := e.tally(topic, scored, dlq); lost > 0 || dup > 0 || len(scored)+len(dlq) != len(inputs) {
		t.Fatalf("%d inputs: %d outputs, %d dead letters, %d inputs without a result, %d duplicated (consumed %d)",
			len(inputs), len(scored), len(dlq), lost, dup, len(results))
	}

	// Dead letters: exactly the cases the variant refuses, each with its class.
	for _, r := range dlq {
		in := inputs[sourceOf(r)]
		class := header(r, deadletter.HeaderErrorClass)
		if in.want == "" || class != in.want {
			t.Errorf("%s (%s): dead-lettered as %q (%s); want %s", sourceOf(r), in.kind, class, header(r, deadletter.HeaderErrorReason),
				map[bool]string{true: "an output", false: in.want}[in.want == ""])
		}
	}

	// Outputs: what the variant scores, the input's fields kept, and
	// scores equal to ONNX Runtime's on the artifact for the same columns.
	flat := flatModel(t, out.Version.Spec, artifact, width(features))
	defer flat.Close()
	batch := flat.NewBatch()
	defer batch.Close()
	perKind := map[string]int{}
	for _, r := range scored {
		in := inputs[sourceOf(r)]
		if in.want != "" {
			t.Errorf("%s (%s): scored; want a dead letter of class %s", sourceOf(r), in.kind, in.want)
			continue
		}
		perKind[in.kind]++
		native := decodeFramed(t, e, r.Value)
		for field, want := range in.rd.nativeDecoded(t, codec) {
			if got := native[field]; !reflect.DeepEqual(got, want) {
				t.Errorf("%s: output field %s is %v, the input's %v", sourceOf(r), field, got, want)
			}
		}
		pred := native["prediction"].(map[string]any)
		if pred["model_name"] != v.name || pred["model_version"] != fmt.Sprint(out.Version.Version) {
			t.Errorf("%s: scored by %v@%v, want %s@%d", sourceOf(r), pred["model_name"], pred["model_version"], v.name, out.Version.Version)
		}
		want := flatScores(t, flat, batch, in.row)
		scores := pred["scores"].(map[string]any)
		for i, label := range out.Version.Spec.Labels {
			if got := asFloat(t, scores[label]); !withinParity(got, float64(want[i])) {
				t.Errorf("%s (%s): score of %s is %.9g, ONNX Runtime on the artifact gives %.9g for columns %v",
					sourceOf(r), in.kind, label, got, want[i], in.row)
			}
		}
	}
	t.Logf("%d inputs: %d outputs (by case %v), %d dead letters", len(inputs), len(scored), perKind, len(dlq))
	for _, c := range fleetCases {
		if v.want[c.name] == "" && perKind[c.name] != map[bool]int{true: 200, false: 12}[c.name == "plain"] {
			t.Errorf("case %s: %d outputs", c.name, perKind[c.name])
		}
	}
}

// nativeDecoded is the reading as a consumer decodes it, to compare with
// an output's copy of the input's fields.
func (rd fleetReading) nativeDecoded(t *testing.T, codec *goavro.Codec) map[string]any {
	t.Helper()
	b, err := codec.BinaryFromNative(nil, rd.native())
	if err != nil {
		t.Fatal(err)
	}
	native, _, err := codec.NativeFromBinary(b)
	if err != nil {
		t.Fatal(err)
	}
	return native.(map[string]any)
}

// width is the number of columns of these features.
func width(features []specFeature) int {
	w := 0
	for _, f := range features {
		w += max(f.Length, 1)
	}
	return w
}

// flatModel loads artifact with a spec of width plain numeric fields
// c00, c01, ... in place of its own, so that a record of precomputed
// columns feeds it exactly those columns.
func flatModel(t *testing.T, spec model.Spec, artifact []byte, width int) *model.Model {
	t.Helper()
	flat := spec
	cols := make([]model.Feature, width)
	for i := range cols {
		cols[i] = model.Feature{Field: fmt.Sprintf("c%02d", i)}
	}
	flat.Inputs = []model.Input{{Name: spec.Inputs[0].Name, Type: model.FloatInput, Fields: cols}}
	m, err := model.Load(artifact, model.Options{Spec: &flat})
	if err != nil {
		t.Fatalf("the artifact with a flat spec: %v", err)
	}
	return m
}

// flatScores scores one row of columns with a flat model.
func flatScores(t *testing.T, m *model.Model, b *model.Batch, row []float32) []float32 {
	t.Helper()
	rec := make(map[string]any, len(row))
	for i, x := range row {
		rec[fmt.Sprintf("c%02d", i)] = float64(x)
	}
	b.Reset()
	if err := b.Add(rec); err != nil {
		t.Fatal(err)
	}
	res, err := m.Run(b)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(res[0].Scores)
}

// TestScorerRefusesPathsTheSchemaLacks starts a scorer with a side spec
// whose paths the latest fleet schema cannot feed: a field a nested record
// lacks (which an older version had), a step into a string, an index into
// a map, and a double read as a category. The scorer must refuse at
// start-up, before consuming, naming every such path and its Avro type at
// once.
func TestScorerRefusesPathsTheSchemaLacks(t *testing.T) {
	const topic = "fleet.refused"
	e := newEnv(t, topic)
	// An older version had location.alt; the latest, which is checked, has not.
	e.register(topic+"-value", strings.Replace(fleetSchema(t), `{"name": "lon", "type": "double"}`,
		`{"name": "lon", "type": "double"}, {"name": "alt", "type": "double"}`, 1))
	e.register(topic+"-value", fleetSchema(t))
	// The sensor model's ten columns, mapped onto fleet paths.
	spec := `{"name": "fleet-refused", "task": "classification", "labels": ["normal", "anomaly"],
	  "inputs": [{"name": "features", "fields": [
	    {"field": "temperature"},
	    {"field": "location.lat"},
	    {"field": "humidity", "default": 50},
	    {"field": "status", "categories": ["OK", "WARN", "FAIL"]},
	    {"field": "device.model", "categories": ["X100"]},
	    {"field": "location.alt"},
	    {"field": "site.code"},
	    {"field": "attributes[2]"},
	    {"field": "location.lon", "categories": ["north", "south"]},
	    {"field": "calibration.offset", "default": 0}]}],
	  "outputs": {"scores": "probabilities"}}`
	specPath := filepath.Join(t.TempDir(), "refused.json")
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := e.config(topic)
	cfg.Model.SpecPath = specPath
	_, err := scorer.New(cfg, nil)
	if err == nil {
		t.Fatal("scorer.New accepted paths the schema lacks")
	}
	t.Logf("refused as: %v", err)
	if !errors.Is(err, model.ErrSchemaMismatch) {
		t.Errorf("scorer.New = %v; want a schema mismatch", err)
	}
	// One problem per path, each naming the path and the Avro type it
	// meets, however the problems are joined.
	problems := strings.FieldsFunc(err.Error(), func(r rune) bool { return r == ';' || r == '\n' })
	for _, want := range []struct{ path, avroType string }{
		{"location.alt", "Location"},
		{"site.code", "string"},
		{"attributes[2]", "map<string>"},
		{"location.lon", "double"},
	} {
		named := false
		for _, p := range problems {
			named = named || strings.Contains(p, want.path) && strings.Contains(p, want.avroType)
		}
		if !named {
			t.Errorf("the refusal does not name %s beside its Avro type %s: %v", want.path, want.avroType, err)
		}
	}
}
