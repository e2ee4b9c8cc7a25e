package fit

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
)

// TestMetricsMatchScikitLearn computes every metric on random cases, with
// ties among the scores, and compares it with scikit-learn's.
func TestMetricsMatchScikitLearn(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type reference struct {
		Kind      string    `json:"kind"`
		Truth     []float64 `json:"truth"`
		Scores    []float32 `json:"scores,omitempty"`
		Predicted []float64 `json:"predicted,omitempty"`
		Classes   int       `json:"classes,omitempty"`
	}
	var cases []reference
	for _, k := range []int{2, 2, 3, 5} {
		n := 500
		c := reference{Kind: "classification", Classes: k}
		for range n {
			y := rng.IntN(k)
			c.Truth = append(c.Truth, float64(y))
			row := make([]float32, k)
			var sum float32
			for j := range row {
				// Rounded to 0.05, so many scores tie; a little signal.
				v := float32(math.Round((rng.Float64()+boolf(j == y)*0.3)*20) / 20)
				row[j] = v + 0.01
				sum += row[j]
			}
			for j := range row {
				row[j] /= sum
			}
			c.Scores = append(c.Scores, row...)
		}
		cases = append(cases, c)
	}
	reg := reference{Kind: "regression"}
	for range 300 {
		y := rng.NormFloat64() * 10
		reg.Truth = append(reg.Truth, y)
		reg.Predicted = append(reg.Predicted, y+rng.NormFloat64()*3)
	}
	cases = append(cases, reg)

	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "testdata/scores_reference.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scikit-learn reference (run `make setup`): %v\n%s", err, stderr.String())
	}
	var want []map[string]float64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(cases) {
		t.Fatalf("scikit-learn scored %d cases of %d", len(want), len(cases))
	}
	for i, c := range cases {
		var got Metrics
		if c.Kind == "regression" {
			got = scoreRegressor(c.Truth, c.Predicted)
		} else {
			truth := make([]int, len(c.Truth))
			for j, y := range c.Truth {
				truth[j] = int(y)
			}
			got = scoreClassifier(truth, c.Scores, c.Classes)
		}
		for name, w := range want[i] {
			// log_loss in float32 scores: 1e-6; the rest are exact sums.
			if g, ok := got[name]; !ok || math.Abs(g-w) > 1e-6 {
				t.Errorf("case %d (%s, %d classes): %s = %v, scikit-learn %v", i, c.Kind, c.Classes, name, g, w)
			}
		}
	}
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
