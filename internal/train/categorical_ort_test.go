package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/streamscore/streamscore/internal/onnx"
	"github.com/streamscore/streamscore/internal/onnx/onnxtest"
)

// parityAllowance is the trainer's parity rule (internal/fit's
// scoreAllowance, ParityTolerance 1e-5): a class probability within 1e-5
// of Go's relative to itself, but no less than float32's smallest normal;
// a regressor's value within 1e-5 absolute.
func parityAllowance(regression bool, goScore float32) float64 {
	const tolerance, smallestNormal32 = 1e-5, 0x1p-126
	if regression {
		return tolerance
	}
	return math.Max(tolerance*math.Abs(float64(goScore)), smallestNormal32)
}

// ortOutputs runs an exported model on rows in ONNX Runtime and returns
// its outputs by name, label as float32.
func ortOutputs(t *testing.T, model *onnx.Model, numFeatures int, rows []float32, names []string) map[string][]float32 {
	t.Helper()
	session := newORTSession(t, model, []string{InputFeatures}, names)
	input, err := ort.NewTensor(ort.NewShape(int64(len(rows)/numFeatures), int64(numFeatures)), rows)
	if err != nil {
		t.Fatal(err)
	}
	defer input.Destroy()
	outputs := make([]ort.Value, len(names)) // ONNX Runtime allocates them
	if err := session.Run([]ort.Value{input}, outputs); err != nil {
		t.Fatalf("ONNX Runtime: %v", err)
	}
	got := map[string][]float32{}
	for i, name := range names {
		switch v := outputs[i].(type) {
		case *ort.Tensor[float32]:
			got[name] = slices.Clone(v.GetData())
		case *ort.Tensor[int64]:
			for _, l := range v.GetData() {
				got[name] = append(got[name], float32(l))
			}
		default:
			t.Fatalf("output %s is %T", name, v)
		}
		outputs[i].Destroy()
	}
	return got
}

// checkCategoricalParity scores rows with ens in Go and, exported, in ONNX
// Runtime: labels equal, raw scores (margin, or a regressor's value)
// bit for bit, probabilities within the parity rule.
func checkCategoricalParity(t *testing.T, ens *Ensemble, rows []float32) {
	t.Helper()
	model, err := ens.ONNX(nil)
	if err != nil {
		t.Fatal(err)
	}
	n, f, k := len(rows)/ens.NumFeatures, ens.NumFeatures, ens.NumOutputs()
	row := func(i int) []float32 { return rows[i*f : (i+1)*f] }
	goRaw := make([]float32, n*k)
	for i := range n {
		ens.rawScores(row(i), goRaw[i*k:(i+1)*k])
	}
	if ens.NumClasses() == 0 {
		got := ortOutputs(t, model, f, rows, []string{OutputVariable})[OutputVariable]
		for i := range n {
			if got[i] != goRaw[i] {
				t.Fatalf("row %v: ONNX Runtime value %v, Go %v", row(i), got[i], goRaw[i])
			}
		}
		return
	}
	got := ortOutputs(t, model, f, rows, []string{OutputLabel, OutputProbabilities, OutputMargin})
	labels := make([]float32, n)
	if err := ens.PredictBatch(rows, labels); err != nil {
		t.Fatal(err)
	}
	c := ens.NumClasses()
	proba := make([]float32, n*c)
	if err := ens.PredictProbaBatch(rows, proba); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !slices.Equal(got[OutputMargin][i*k:(i+1)*k], goRaw[i*k:(i+1)*k]) {
			t.Fatalf("row %v: ONNX Runtime margin %v, Go %v", row(i), got[OutputMargin][i*k:(i+1)*k], goRaw[i*k:(i+1)*k])
		}
		if got[OutputLabel][i] != labels[i] {
			t.Fatalf("row %v: ONNX Runtime label %v, Go %v", row(i), got[OutputLabel][i], labels[i])
		}
		for j := i * c; j < (i+1)*c; j++ {
			if diff := math.Abs(float64(got[OutputProbabilities][j] - proba[j])); !(diff <= parityAllowance(false, proba[j])) {
				t.Fatalf("row %v class %d: ONNX Runtime probability %v, Go %v", row(i), j-i*c, got[OutputProbabilities][j], proba[j])
			}
		}
	}
}

// categoricalProbeRows returns n rows of mixed data, one value in three
// replaced: a categorical feature's by a code never seen in training
// (siteSeen and up: categories the draw skips, other, null), by a value
// that is no code (a fraction, a negative, the first code past the last,
// a large number, NaN, an infinity) or by any of its codes; a numeric
// feature's by one of the ensemble's thresholds for it, a float32 step
// either side of one, NaN or an infinity.
func categoricalProbeRows(t *testing.T, ens *Ensemble, n int, seed uint64) []float32 {
	t.Helper()
	thresholds := make([][]float32, ens.NumFeatures)
	for _, tree := range ens.Trees {
		for i, node := range tree.Nodes {
			if !node.Leaf && tree.categories(i) == nil {
				thresholds[node.Feature] = append(thresholds[node.Feature], node.Threshold)
			}
		}
	}
	codes := map[int]int{1: siteCodes, 2: statusCodes}
	notCodes := []float32{2.5, 0.5, -1, float32(math.Copysign(0, -1)), siteCodes, 1000, 1e9,
		float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	rng := rand.New(rand.NewPCG(seed, 0x9e0b))
	rows := slices.Clone(mixedData(t, ens.Objective, n, seed).features)
	for i := range rows {
		f := i % ens.NumFeatures
		if rng.Float64() >= 1.0/3 {
			continue
		}
		if numCodes, ok := codes[f]; ok {
			switch u := rng.Float64(); {
			case u < 0.4 && f == 1:
				rows[i] = float32(siteSeen + rng.IntN(siteCodes-siteSeen))
			case u < 0.7:
				rows[i] = notCodes[rng.IntN(len(notCodes))]
			default:
				rows[i] = float32(rng.IntN(numCodes))
			}
			continue
		}
		switch u := rng.Float64(); {
		case u < 0.6 && len(thresholds[f]) > 0:
			rows[i] = thresholds[f][rng.IntN(len(thresholds[f]))]
		case u < 0.8 && len(thresholds[f]) > 0:
			rows[i] = math.Nextafter32(thresholds[f][rng.IntN(len(thresholds[f]))], float32(math.Inf(2*rng.IntN(2)-1)))
		case u < 0.9:
			rows[i] = float32(math.NaN())
		default:
			rows[i] = float32(math.Inf(2*rng.IntN(2) - 1))
		}
	}
	return rows
}

// TestCategoricalONNXMatchesGo fits mixed numeric and categorical data for
// each objective and checks ONNX Runtime's scores of the exported model
// against Go's on rows that hold unseen codes, "other" and "null", values
// that are no code, and numeric values on the thresholds.
func TestCategoricalONNXMatchesGo(t *testing.T) {
	for _, obj := range []Objective{BinaryLogLoss, MulticlassLogLoss, SquaredError} {
		t.Run(obj.String(), func(t *testing.T) {
			cfg := configFor(obj, 60)
			ens := fitForTest(t, cfg, mixedData(t, obj, 8000, 21))
			checkSplitKinds(t, ens)
			checkCategoricalParity(t, ens, categoricalProbeRows(t, ens, 4000, 22))
		})
	}
}

// checkSplitKinds fails unless ens splits on numbers and on sets of
// categories, small sets (at most 30 codes, all up to 30) and others,
// which reach the membership tables' rows past 30 and past 63.
func checkSplitKinds(t *testing.T, ens *Ensemble) {
	t.Helper()
	var numeric, smallSets, bigSets int
	for _, tree := range ens.Trees {
		for i, n := range tree.Nodes {
			set := tree.categories(i)
			switch {
			case n.Leaf:
			case set == nil:
				numeric++
			case set.Len() <= 30 && slices.Max(set.Codes()) <= 30:
				smallSets++
			default:
				bigSets++
			}
		}
	}
	t.Logf("%d trees: %d numeric splits, %d small and %d big category sets", len(ens.Trees), numeric, smallSets, bigSets)
	if numeric == 0 || smallSets == 0 || bigSets == 0 {
		t.Fatal("the ensemble does not split on every kind")
	}
}

// TestCategoricalONNXOfHandBuiltTrees exports trees built by hand: trees
// that are one leaf, after others, a set holding codes beyond 63 and a set
// of one code, and checks every code from -2 to 130 and non-codes in ONNX
// Runtime, and the model with the onnx checker.
func TestCategoricalONNXOfHandBuiltTrees(t *testing.T) {
	ens := &Ensemble{
		Objective:   SquaredError,
		NumFeatures: 2,
		BaseScores:  []float32{0.5},
		Trees: []Tree{
			{
				Nodes: []Node{
					{Feature: 1, Left: 1, Right: 2},
					{Feature: 0, Threshold: 1.5, Left: 3, Right: 4},
					{Feature: 1, Left: 5, Right: 6},
					{Leaf: true, Value: 1},
					{Leaf: true, Value: 2},
					{Leaf: true, Value: 4},
					{Leaf: true, Value: 8},
				},
				Categories: []CategorySet{0: NewCategorySet(0, 3, 31, 64, 65, 127), 2: NewCategorySet(100), 6: nil},
			},
			{Nodes: []Node{{Leaf: true, Value: 0.25}}},
			{
				Nodes: []Node{
					{Feature: 1, Left: 1, Right: 2},
					{Leaf: true, Value: 16},
					{Leaf: true, Value: 32},
				},
				Categories: []CategorySet{NewCategorySet(2, 5), nil, nil},
			},
			{Nodes: []Node{{Leaf: true, Value: 64}}},
		},
	}
	var rows []float32
	for _, x0 := range []float32{1, 2, float32(math.NaN())} {
		for code := -2; code <= 130; code++ {
			rows = append(rows, x0, float32(code))
		}
		for _, v := range []float32{2.5, 64.5, -0.5, float32(math.Copysign(0, -1)), 1e9, float32(math.NaN()), float32(math.Inf(1))} {
			rows = append(rows, x0, v)
		}
	}
	checkCategoricalParity(t, ens, rows)
	model, err := ens.ONNX(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	onnxtest.Check(t, b)
	// Spot checks of the Go side: code 3 goes left twice, 100 right then left.
	for _, tt := range []struct {
		row  []float32
		want float32
	}{
		{[]float32{1, 3}, 0.5 + 0.25 + 1 + 32 + 64},
		{[]float32{2, 100}, 0.5 + 0.25 + 4 + 32 + 64},
		{[]float32{2, 5}, 0.5 + 0.25 + 8 + 16 + 64},
		{[]float32{2, 5.5}, 0.5 + 0.25 + 8 + 32 + 64},
	} {
		if got, _ := ens.Predict(tt.row); got != tt.want {
			t.Errorf("Predict(%v) = %v, want %v", tt.row, got, tt.want)
		}
	}
}

// TestCategoricalONNXDeclaresInterface checks that an ensemble with
// categorical splits keeps the interface of every tabular model (input,
// outputs, shapes, metadata), with the operator sets and IR version of
// one without (ai.onnx.ml 3's TreeEnsembleRegressor, every split a
// BRANCH_LEQ, some on membership columns past the input's), and that the
// python onnx checker accepts it.
func TestCategoricalONNXDeclaresInterface(t *testing.T) {
	for _, tt := range declaredOutputs {
		t.Run(tt.obj.String(), func(t *testing.T) {
			ens := fitForTest(t, configFor(tt.obj, 3), mixedData(t, tt.obj, 2000, 23))
			model, err := ens.ONNX(map[string]string{"model_name": "fleet"})
			if err != nil {
				t.Fatal(err)
			}
			wantOpsets := []onnx.Opset{{Domain: onnx.DomainDefault, Version: onnx.OpsetVersion}, {Domain: onnx.DomainML, Version: onnx.OpsetMLVersion}}
			if !ens.hasCategoricalSplit() || model.IRVersion != onnx.IRVersion || !slices.Equal(model.Opsets, wantOpsets) {
				t.Errorf("IR version %d, opsets %v: want %d and %v, as without categorical splits", model.IRVersion, model.Opsets, onnx.IRVersion, wantOpsets)
			}
			checkLEQTrees(t, ens, model)
			b, err := model.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			onnxtest.Check(t, b)
			checkDeclaredInterface(t, b, mixedFeatures, tt.outputs, "fleet")
		})
	}
}

// checkLEQTrees fails unless model's trees are one TreeEnsembleRegressor
// whose splits are all BRANCH_LEQ, those on category sets reading a
// membership column past the input's, with the threshold that sends a 0,
// a code in the set, left.
func checkLEQTrees(t *testing.T, ens *Ensemble, model *onnx.Model) {
	t.Helper()
	var ops []string
	for _, n := range model.Graph.Nodes {
		if n.Domain == onnx.DomainML {
			ops = append(ops, n.OpType)
		}
	}
	if !slices.Equal(ops, []string{"TreeEnsembleRegressor"}) {
		t.Errorf("ai.onnx.ml operators %v, want one TreeEnsembleRegressor", ops)
	}
	a := treeAttributes{sets: newSetColumns(ens)}
	for i := range ens.Trees {
		a.addTree(int64(i), 0, &ens.Trees[i])
	}
	var sets int
	for i, mode := range a.modes {
		switch {
		case mode == "LEAF":
		case mode != "BRANCH_LEQ":
			t.Fatalf("node %d of the TreeEnsembleRegressor is %s", i, mode)
		case a.featureIDs[i] >= int64(ens.NumFeatures):
			sets++
			if a.values[i] != 0.5 {
				t.Errorf("node %d reads membership column %d against %v, want 0.5", i, a.featureIDs[i], a.values[i])
			}
		}
	}
	if sets == 0 {
		t.Error("no split reads a membership column")
	}
}
