package model_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// scoreTolerance bounds how far ONNX Runtime's probabilities may be from
// the ensemble's own: both sum the same float32 leaves, and differ only in
// the rounding of the sigmoid.
const scoreTolerance = 1e-5

// treeFixture is a real classifier: a 20-tree ensemble trained on a few
// thousand rows, exported to ONNX with its spec and loaded.
type treeFixture struct {
	ens   *train.Ensemble
	names []string
	model *model.Model
}

func newTreeFixture(t *testing.T) treeFixture {
	t.Helper()
	const numFeatures = 4
	names := featureNames(numFeatures)
	ens := fit(t, train.BinaryLogLoss, 20, 4, 3000, numFeatures)
	m := load(t, ensembleModel(t, ens, treeSpec(model.Classification, names)), model.Options{})
	return treeFixture{ens: ens, names: names, model: m}
}

// score adds the rows (row-major, one record each) to b, which must be
// empty, runs it, and checks every result against Ensemble.PredictProba. It
// returns how many rows were predicted anomalous.
func (f treeFixture) score(t *testing.T, b *model.Batch, rows []float32) (anomalies int) {
	t.Helper()
	nf := f.ens.NumFeatures
	for i := 0; i < len(rows); i += nf {
		addAll(t, b, record(f.names, rows[i:i+nf]))
	}
	results := run(t, f.model, b)
	labels := f.model.Spec().Labels
	want := make([]float32, 2)
	for i, r := range results {
		if err := f.ens.PredictProba(rows[i*nf:(i+1)*nf], want); err != nil {
			t.Fatal(err)
		}
		if len(r.Scores) != 2 {
			t.Fatalf("row %d: %d scores; want 2", i, len(r.Scores))
		}
		for c := range want {
			if d := math.Abs(float64(r.Scores[c] - want[c])); d > scoreTolerance {
				t.Errorf("row %d: P(%s) = %v; the ensemble says %v (off by %g)", i, labels[c], r.Scores[c], want[c], d)
			}
		}
		best := 0
		if r.Scores[1] > r.Scores[0] {
			best = 1
		}
		if r.Label != labels[best] {
			t.Errorf("row %d: label %q for scores %v; want the argmax %q", i, r.Label, r.Scores, labels[best])
		}
		if !r.HasValue || r.Value != float64(r.Scores[1]) {
			t.Errorf("row %d: value %v (has %v); want P(anomaly) = %v", i, r.Value, r.HasValue, r.Scores[1])
		}
		anomalies += best
	}
	return anomalies
}

func TestTreeEnsembleScores(t *testing.T) {
	f := newTreeFixture(t)
	b := newBatch(t, f.model)
	nf := f.ens.NumFeatures
	rows, _ := synthetic(2, 128, nf, train.BinaryLogLoss)
	for _, n := range []int{1, 7, 128} {
		t.Run(fmt.Sprintf("%d rows", n), func(t *testing.T) {
			b.Reset()
			anomalies := f.score(t, b, rows[:n*nf])
			if n == 128 && (anomalies == 0 || anomalies == n) {
				t.Errorf("%d of %d rows anomalous: the model did not learn both classes, so the test proves little", anomalies, n)
			}
		})
	}
}

// Tensors are cached per row count over the batch's buffers; a batch reused
// with new rows, at new and at already seen row counts, must score the new
// rows and not stale ones.
func TestBatchReuse(t *testing.T) {
	f := newTreeFixture(t)
	b := newBatch(t, f.model)
	nf := f.ens.NumFeatures
	for i, n := range []int{7, 3, 128, 7, 1, 3, 128} {
		rows, _ := synthetic(uint64(100+i), n, nf, train.BinaryLogLoss)
		b.Reset()
		if b.Len() != 0 {
			t.Fatalf("run %d: Len after Reset = %d", i, b.Len())
		}
		f.score(t, b, rows)
	}
}

func TestEmptyBatchRun(t *testing.T) {
	spec := identitySpec("x", "y")
	m := load(t, encode(t, identityGraph(2), &spec), model.Options{})
	results, err := m.Run(newBatch(t, m))
	if err != nil || len(results) != 0 {
		t.Errorf("Run of an empty batch = %v, %v; want no results and no error", results, err)
	}
}

func TestRunRefusesAnotherModelsBatch(t *testing.T) {
	spec := identitySpec("x", "y")
	data := encode(t, identityGraph(2), &spec)
	m1, m2 := load(t, data, model.Options{}), load(t, data, model.Options{})
	b := newBatch(t, m2)
	addAll(t, b, map[string]any{"x": 1.0, "y": 2.0})
	if _, err := m1.Run(b); err == nil {
		t.Error("Run accepted a batch made by another model")
	}
}

func TestBatchFull(t *testing.T) {
	spec := identitySpec("x", "y")
	m := load(t, encode(t, identityGraph(2), &spec), model.Options{MaxBatch: 4})
	b := newBatch(t, m)
	for i := range 4 {
		if b.Full() {
			t.Fatalf("Full after %d of 4 rows", i)
		}
		addAll(t, b, map[string]any{"x": float64(i), "y": 0.0})
	}
	if !b.Full() {
		t.Error("not Full after 4 of 4 rows")
	}
	err := b.Add(map[string]any{"x": 4.0, "y": 0.0})
	if !errors.Is(err, model.ErrBatchFull) {
		t.Fatalf("fifth Add: %v; want ErrBatchFull", err)
	}
	if b.Len() != 4 {
		t.Fatalf("Len after a refused Add = %d; want 4", b.Len())
	}
	for i, r := range run(t, m, b) {
		if r.Scores[0] != float32(i) {
			t.Errorf("row %d scored x = %v; want %d", i, r.Scores[0], i)
		}
	}
	b.Reset()
	if err := b.Add(map[string]any{"x": 9.0, "y": 0.0}); err != nil || b.Len() != 1 || b.Full() {
		t.Errorf("after Reset: Add = %v, Len = %d, Full = %v; want nil, 1, false", err, b.Len(), b.Full())
	}
}

func TestRemoveLast(t *testing.T) {
	for _, textFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("text first %v", textFirst), func(t *testing.T) {
			spec := mixedSpec(textFirst)
			m := load(t, encode(t, mixedGraph(), &spec), model.Options{})
			b := newBatch(t, m)
			b.RemoveLast() // a no-op on an empty batch
			if b.Len() != 0 {
				t.Fatalf("Len after RemoveLast on an empty batch = %d", b.Len())
			}
			addAll(t, b,
				map[string]any{"x": 1.0, "y": 10.0, "body": "spam"},
				map[string]any{"x": 2.0, "y": 20.0, "body": "ham"},
			)
			b.RemoveLast()
			if b.Len() != 1 {
				t.Fatalf("Len after RemoveLast = %d; want 1", b.Len())
			}
			addAll(t, b, map[string]any{"x": 3.0, "y": 30.0, "body": "other"})
			checkScores(t, run(t, m, b), [][]float32{{1, 10, 1}, {3, 30, 0.5}})
		})
	}
}

// A record that fails on any column of any input leaves no trace: the
// inputs filled before the failing one are cut back too.
func TestFailedAddLeavesBatchUnchanged(t *testing.T) {
	bad := []struct {
		name   string
		record map[string]any
		want   error
	}{
		{"first float column absent", map[string]any{"y": 1.0, "body": "spam"}, model.ErrMissingFeature},
		{"second float column wrong", map[string]any{"x": 1.0, "y": "one", "body": "spam"}, model.ErrWrongType},
		{"float column non-finite", map[string]any{"x": 1.0, "y": math.Inf(1), "body": "spam"}, model.ErrNonFinite},
		{"text null", map[string]any{"x": 1.0, "y": 1.0, "body": nil}, model.ErrMissingFeature},
		{"text wrong type", map[string]any{"x": 1.0, "y": 1.0, "body": 5.0}, model.ErrWrongType},
		{"float column an Avro map", map[string]any{"x": map[string]any{"a": 1.0, "b": 2.0}, "y": 1.0, "body": "spam"}, model.ErrWrongType},
		{"float column an empty Avro map", map[string]any{"x": map[string]any{}, "y": 1.0, "body": "spam"}, model.ErrWrongType},
		{"text an Avro map", map[string]any{"x": 1.0, "y": 1.0, "body": map[string]any{"a": "x", "b": "y"}}, model.ErrWrongType},
	}
	for _, textFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("text first %v", textFirst), func(t *testing.T) {
			spec := mixedSpec(textFirst)
			m := load(t, encode(t, mixedGraph(), &spec), model.Options{})
			b := newBatch(t, m)
			addAll(t, b, map[string]any{"x": 1.0, "y": 10.0, "body": "ham"})
			for _, tt := range bad {
				if err := b.Add(tt.record); !errors.Is(err, tt.want) {
					t.Errorf("Add(%s) = %v; want %v", tt.name, err, tt.want)
				}
				if b.Len() != 1 {
					t.Fatalf("Len after failed Add(%s) = %d; want 1", tt.name, b.Len())
				}
			}
			addAll(t, b, map[string]any{"x": 2.0, "y": 20.0, "body": "spam"})
			checkScores(t, run(t, m, b), [][]float32{{1, 10, 0}, {2, 20, 1}})
		})
	}
}

// checkScores compares each result's scores with a row of want.
func checkScores(t *testing.T, results []model.Result, want [][]float32) {
	t.Helper()
	if len(results) != len(want) {
		t.Fatalf("%d results; want %d", len(results), len(want))
	}
	for i, r := range results {
		if len(r.Scores) != len(want[i]) {
			t.Errorf("row %d: scores %v; want %v", i, r.Scores, want[i])
			continue
		}
		for c := range want[i] {
			if !same(r.Scores[c], want[i][c]) {
				t.Errorf("row %d: scores %v; want %v", i, r.Scores, want[i])
				break
			}
		}
	}
}
