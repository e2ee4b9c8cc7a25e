package train

import (
	"math"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/streamscore/streamscore/internal/onnx"
)

// tailRelTolerance is the largest relative error allowed for a
// probability, down to float32's smallest normal number.
const tailRelTolerance = 1e-5

// smallestNormal32 is float32's smallest normal number; below it a float32
// has fewer significant bits, so errors are measured against it instead.
const smallestNormal32 = 0x1p-126

// tailMargins returns the margins the tail test scores: -80 to 80 in
// steps of 1/8, which includes every integer and quarter exactly. At ±80
// the rarer class has probability 1.8e-35, still a normal float32.
func tailMargins() []float32 {
	var m []float32
	for i := -640; i <= 640; i++ {
		m = append(m, float32(i)/8)
	}
	return m
}

// tailCase is one exported family with margins the test controls: rows
// that give the margins wanted, one row per margin, scored by ONNX
// Runtime and by the Go model.
type tailCase struct {
	name       string
	numClasses int
	// scores gives the class scores a row's margin m becomes: the logit m
	// alone for a binary classifier.
	scores func(m float32) []float32
	// run scores the margins in ONNX Runtime and returns the
	// probabilities and margin outputs, row-major.
	run func(t *testing.T, margins []float32) (proba, margin []float32)
	// goProba is the Go model's probabilities, row-major.
	goProba func(t *testing.T, margins []float32) []float32
}

// TestHeadTailParity scores margins from -80 to 80 with every exported
// family, through ONNX Runtime and in Go, and checks that each class
// probability is within tailRelTolerance of the float64 truth, relative
// to the probability itself (to smallestNormal32 below it), that ONNX
// Runtime orders the rows as the float64 truth rounded to float32 does
// (strictly where those differ, equal only where they are equal), and that
// the margin output is the margin.
//
// ONNX Runtime 1.24's float32 Sigmoid fails it: 5.96e-8 at -16 and 8.94e-8
// at -17, and 0 below -18.
func TestHeadTailParity(t *testing.T) {
	margins := tailMargins()
	for _, tc := range tailCases() {
		t.Run(tc.name, func(t *testing.T) {
			proba, margin := tc.run(t, margins)
			goProba := tc.goProba(t, margins)
			k := tc.numClasses
			width := len(tc.scores(0))
			if len(proba) != len(margins)*k || len(margin) != len(margins)*width || len(goProba) != len(margins)*k {
				t.Fatalf("%d probabilities, %d margins and %d Go probabilities for %d rows of %d classes", len(proba), len(margin), len(goProba), len(margins), k)
			}
			truth := make([]float64, len(margins)*k)
			for i, m := range margins {
				scores := tc.scores(m)
				trueProbabilities(scores, truth[i*k:(i+1)*k])
				for j, s := range scores {
					if got := margin[i*width+j]; got != s {
						t.Errorf("margin %v: margin output column %d is %v, want %v", m, j, got, s)
					}
				}
			}
			worstORT := checkRelative(t, "ONNX Runtime", margins, k, proba, truth)
			worstGo := checkRelative(t, "Go", margins, k, goProba, truth)
			checkOrder(t, margins, k, proba, truth)
			t.Logf("worst relative error over %d margins: ONNX Runtime %.3g, Go %.3g", len(margins), worstORT, worstGo)
		})
	}
}

// trueProbabilities writes the float64 probabilities of class scores:
// the logistic function of a single logit, the softmax of several.
func trueProbabilities(scores []float32, dst []float64) {
	if len(scores) == 1 {
		z := float64(scores[0])
		dst[0], dst[1] = 1/(1+math.Exp(z)), 1/(1+math.Exp(-z))
		return
	}
	var sum float64
	for _, s := range scores {
		sum += math.Exp(float64(s))
	}
	for c, s := range scores {
		dst[c] = math.Exp(float64(s)) / sum
	}
}

// checkRelative fails the test where a probability is further from the
// truth than tailRelTolerance allows, and returns the worst relative
// error.
func checkRelative(t *testing.T, who string, margins []float32, k int, got []float32, truth []float64) float64 {
	t.Helper()
	worst := 0.0
	for i, want := range truth {
		rel := math.Abs(float64(got[i])-want) / math.Max(want, smallestNormal32)
		worst = max(worst, rel)
		if rel > tailRelTolerance || math.IsNaN(rel) {
			t.Errorf("%s: margin %v, class %d: probability %v, want %v (relative error %.3g)", who, margins[i/k], i%k, got[i], want, rel)
		}
	}
	return worst
}

// checkOrder fails the test where two consecutive margins give
// probabilities ordered otherwise than the truth rounded to float32.
func checkOrder(t *testing.T, margins []float32, k int, got []float32, truth []float64) {
	t.Helper()
	for i := range len(margins) - 1 {
		for c := range k {
			a, b := i*k+c, (i+1)*k+c
			if want, have := compare32(float32(truth[a]), float32(truth[b])), compare32(got[a], got[b]); want != have {
				t.Errorf("class %d: margins %v, %v give probabilities %v, %v; rounded truth %v, %v", c, margins[i], margins[i+1], got[a], got[b], float32(truth[a]), float32(truth[b]))
			}
		}
	}
}

func compare32(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func tailCases() []tailCase {
	binary := func(m float32) []float32 { return []float32{m} }
	multiclass := func(m float32) []float32 { return []float32{m, 0, 0} }
	return []tailCase{
		tabularTailCase("gbdt binary", binary, stairEnsemble(BinaryLogLoss, 1), indexRows),
		tabularTailCase("gbdt multiclass", multiclass, stairEnsemble(MulticlassLogLoss, 3), indexRows),
		tabularTailCase("linear binary", binary, identityLinear(BinaryLogLoss, 1), marginRows),
		tabularTailCase("linear multiclass", multiclass, identityLinear(MulticlassLogLoss, 3), marginRows),
		textTailCase(),
	}
}

// tabularTailCase scores rows built by rowsOf from the margins with a
// model that build makes for them.
func tabularTailCase(name string, scores func(float32) []float32, build func([]float32) tabularModel, rowsOf func([]float32) []float32) tailCase {
	k := len(scores(0))
	if k == 1 {
		k = 2
	}
	return tailCase{
		name:       name,
		numClasses: k,
		scores:     scores,
		run: func(t *testing.T, margins []float32) ([]float32, []float32) {
			model, err := build(margins).ONNX(nil)
			if err != nil {
				t.Fatalf("ONNX: %v", err)
			}
			rows := rowsOf(margins)
			input, err := ort.NewTensor(ort.NewShape(int64(len(margins)), 1), rows)
			if err != nil {
				t.Fatal(err)
			}
			defer input.Destroy()
			return runTail(t, model, input)
		},
		goProba: func(t *testing.T, margins []float32) []float32 {
			dst := make([]float32, len(margins)*k)
			if err := build(margins).PredictProbaBatch(rowsOf(margins), dst); err != nil {
				t.Fatal(err)
			}
			return dst
		},
	}
}

// runTail runs an exported classifier on one input and returns its
// probabilities and margin outputs.
func runTail(t *testing.T, model *onnx.Model, input ort.Value) ([]float32, []float32) {
	t.Helper()
	session := newORTSession(t, model, []string{model.Graph.Inputs[0].Name}, []string{OutputProbabilities, OutputMargin})
	outputs := []ort.Value{nil, nil} // ONNX Runtime allocates them
	if err := session.Run([]ort.Value{input}, outputs); err != nil {
		t.Fatalf("ONNX Runtime: %v", err)
	}
	defer outputs[0].Destroy()
	defer outputs[1].Destroy()
	proba := append([]float32(nil), outputs[0].(*ort.Tensor[float32]).GetData()...)
	margin := append([]float32(nil), outputs[1].(*ort.Tensor[float32]).GetData()...)
	return proba, margin
}

// indexRows gives row i the feature value i, the leaf index of a
// stairEnsemble.
func indexRows(margins []float32) []float32 {
	rows := make([]float32, len(margins))
	for i := range rows {
		rows[i] = float32(i)
	}
	return rows
}

// marginRows gives each row its margin as its one feature.
func marginRows(margins []float32) []float32 { return margins }

// stairEnsemble returns a model of one feature whose tree for class 0
// sends the value i to a leaf worth margins[i], with base scores of 0 and
// (for a multiclass one) one-leaf trees worth 0 for the other classes: its
// class scores for row i are exactly (margins[i], 0, ...).
func stairEnsemble(obj Objective, numOutputs int) func([]float32) tabularModel {
	return func(margins []float32) tabularModel {
		e := &Ensemble{Objective: obj, NumFeatures: 1, BaseScores: make([]float32, numOutputs)}
		var stairs Tree
		addStairs(&stairs, margins, 0)
		e.Trees = append(e.Trees, stairs)
		for range numOutputs - 1 {
			e.Trees = append(e.Trees, Tree{Nodes: []Node{{Leaf: true}}})
		}
		return e
	}
}

// addStairs appends to t a balanced subtree whose leaves hold values, the
// first for feature values up to first, and returns its root's index.
func addStairs(t *Tree, values []float32, first int) int32 {
	at := int32(len(t.Nodes))
	if len(values) == 1 {
		t.Nodes = append(t.Nodes, Node{Leaf: true, Value: values[0]})
		return at
	}
	half := len(values) / 2
	t.Nodes = append(t.Nodes, Node{Feature: 0, Threshold: float32(first+half) - 0.5})
	left := addStairs(t, values[:half], first)
	right := addStairs(t, values[half:], first+half)
	t.Nodes[at].Left, t.Nodes[at].Right = left, right
	return at
}

// identityLinear returns a linear model of one feature whose class scores
// are (x, 0, ...): weight 1 on the feature for class 0, no intercepts, no
// standardisation.
func identityLinear(obj Objective, numOutputs int) func([]float32) tabularModel {
	return func([]float32) tabularModel {
		coef := make([]float32, numOutputs)
		coef[0] = 1
		return &LinearModel{
			Objective: obj, NumFeatures: 1,
			Means: []float32{0}, Scales: []float32{1},
			Coefficients: coef, Intercepts: make([]float32, numOutputs),
		}
	}
}

// textTailCase scores texts of a model with two words whose logit is
// -80 + count("a") + count("b")/8, exact in float32 and float64: raw
// counts, idf 1, no normalisation.
func textTailCase() tailCase {
	m := &TextModel{
		blocks: textBlocks{{
			tokenizer: textTokenizer{lowercase: LowercaseUnicode, minChars: 1},
			minN:      1, maxN: 1,
			vocab: []string{"a", "b"},
			index: map[string]int32{"a": 0, "b": 1},
			idf:   []float64{1, 1},
		}},
		coef:      []float64{1, 0.125},
		intercept: -80,
	}
	texts := func(margins []float32) []string {
		out := make([]string, len(margins))
		for i, margin := range margins {
			eighths := int(margin*8) + 640
			out[i] = strings.Repeat("a ", eighths/8) + strings.Repeat("b ", eighths%8)
		}
		return out
	}
	return tailCase{
		name:       "text",
		numClasses: 2,
		scores:     func(m float32) []float32 { return []float32{m} },
		run: func(t *testing.T, margins []float32) ([]float32, []float32) {
			model, err := m.ONNX(nil)
			if err != nil {
				t.Fatalf("ONNX: %v", err)
			}
			input := newStringTensor(t, texts(margins), int64(len(margins)), 1)
			defer input.Destroy()
			return runTail(t, model, input)
		},
		goProba: func(t *testing.T, margins []float32) []float32 {
			dst := make([]float32, 2*len(margins))
			for i, text := range texts(margins) {
				if err := m.PredictProbaClasses(text, dst[2*i:2*i+2]); err != nil {
					t.Fatal(err)
				}
			}
			return dst
		},
	}
}
