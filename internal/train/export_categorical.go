package train

import (
	"encoding/binary"
	"fmt"

	"github.com/streamscore/streamscore/internal/onnx"
)

// An ensemble with categorical splits is exported with the same
// TreeEnsembleRegressor (ai.onnx.ml opset 3) as one without, every split
// a BRANCH_LEQ: the graph first computes, for each distinct category set,
// a membership column that holds 0 when a row's code is in the set and 1
// when not, and appends these columns to the features; a split on the set
// becomes "column <= 0.5". Two things weigh against ai.onnx.ml opset 5's
// TreeEnsemble and its BRANCH_MEMBER nodes, which hold the sets in the
// trees. ONNX Runtime 1.24 walks an ensemble that mixes node modes about
// 2.5 times slower than one of BRANCH_LEQ nodes alone, for which it has a
// fast path (the bench's 100-tree model of two categorical features: 2.2
// us a record against 1.0 us here). And it is slow to open one, as it
// unrolls every set into a chain of equality tests: a session of that
// model took 0.03 to 0.7 s to open, of 400-tree four-class ones 0.5 to 6 s
// and more, where each of these opens in about 10 ms here. Opset 3 is also
// what the python onnx checker (1.12) knows.

// setColumns lays out the membership columns of an ensemble's category
// sets: those of each categorical feature, in increasing feature order,
// after the NumFeatures input columns.
type setColumns struct {
	numFeatures int
	features    []*setFeature
	byFeature   map[int32]*setFeature
}

// setFeature is one categorical feature's distinct sets, in the order the
// trees first split on them.
type setFeature struct {
	feature int
	// codes is one past the largest code in any of the sets: the
	// membership table's rows are codes 0 to codes-1 and, last, the row
	// of every value that is no such code, which no set holds.
	codes int
	sets  []CategorySet
	index map[string]int // setKey(set) -> position in sets
	first int            // the column of sets[0] in the trees' input
}

// newSetColumns collects the distinct category sets of e's trees, equal
// sets once per feature.
func newSetColumns(e *Ensemble) *setColumns {
	c := &setColumns{numFeatures: e.NumFeatures, byFeature: map[int32]*setFeature{}}
	for f, categorical := range e.categoricalFeatures() {
		if categorical {
			sf := &setFeature{feature: f, index: map[string]int{}}
			c.features = append(c.features, sf)
			c.byFeature[int32(f)] = sf
		}
	}
	for i := range e.Trees {
		t := &e.Trees[i]
		for j, n := range t.Nodes {
			set := t.categories(j)
			if n.Leaf || set == nil {
				continue
			}
			sf := c.byFeature[n.Feature]
			key := setKey(set)
			if _, ok := sf.index[key]; ok {
				continue
			}
			sf.index[key] = len(sf.sets)
			sf.sets = append(sf.sets, set)
			sf.codes = max(sf.codes, set.Codes()[set.Len()-1]+1)
		}
	}
	first := e.NumFeatures
	for _, sf := range c.features {
		sf.first = first
		first += len(sf.sets)
	}
	return c
}

// setKey identifies a set by its codes: trailing zero words, which a set
// built by hand may have, do not count.
func setKey(set CategorySet) string {
	n := len(set)
	for n > 0 && set[n-1] == 0 {
		n--
	}
	b := make([]byte, 0, 8*n)
	for _, w := range set[:n] {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return string(b)
}

// column returns the trees' input column that holds a row's membership
// of set, a set of feature f that newSetColumns collected.
func (c *setColumns) column(f int32, set CategorySet) int64 {
	sf := c.byFeature[f]
	return int64(sf.first + sf.index[setKey(set)])
}

// membershipThreshold sends a row left, into the set, when its membership
// column holds 0 and right when it holds 1.
const membershipThreshold float32 = 0.5

// addMembership adds to g the nodes that compute the trees' input, float32
// [N, NumFeatures + sets]: the features, then each categorical feature's
// membership columns,
//
//	values = features[:, categorical]                           [N, K]
//	code   = values if whole and 0 <= values < codes else codes [N, K]
//	member = table_f[int64(code[:, k])]                         [N, m_f] each
//	input  = concat(features, member_0, ..., member_K-1)
//
// where table_f, float32 [codes_f + 1, m_f], holds in row c and column j 0
// when code c is in feature f's set j and 1 when not, and its last row,
// that of every value that is no code (a fraction, a negative, NaN, an
// infinity, a code no set holds), all 1: such values go right, as
// CategorySet.Contains has it. The test of a code is the linear models'
// (addCategoricalScores), so that Gather never reads outside a table,
// which ONNX Runtime would refuse with an error rather than score. It
// returns the name of the trees' input.
func (c *setColumns) addMembership(g *onnx.Graph) string {
	k := int64(len(c.features))
	features, codes := make([]int64, k), make([]float32, k)
	for i, sf := range c.features {
		features[i], codes[i] = int64(sf.feature), float32(sf.codes)
	}
	g.Initializers = append(g.Initializers,
		onnx.Int64Tensor("set_features", []int64{k}, features),
		onnx.FloatTensor("set_zero", nil, []float32{0}),
		onnx.FloatTensor("set_codes", []int64{k}, codes),
	)
	g.Nodes = append(g.Nodes,
		opNode("Gather", []string{InputFeatures, "set_features"}, "set_values", onnx.Int("axis", 1)),
		opNode("Floor", []string{"set_values"}, "set_floor"),
		opNode("Equal", []string{"set_floor", "set_values"}, "set_is_whole"),
		opNode("GreaterOrEqual", []string{"set_values", "set_zero"}, "set_not_negative"),
		opNode("Less", []string{"set_values", "set_codes"}, "set_below_codes"),
		opNode("And", []string{"set_is_whole", "set_not_negative"}, "set_whole_not_negative"),
		opNode("And", []string{"set_whole_not_negative", "set_below_codes"}, "set_is_code"),
		opNode("Where", []string{"set_is_code", "set_values", "set_codes"}, "set_code_values"),
		opNode("Cast", []string{"set_code_values"}, "set_rows", onnx.Int("to", int64(onnx.TypeInt64))),
	)
	const output = "tree_features"
	concat := []string{InputFeatures}
	for i, sf := range c.features {
		column := fmt.Sprintf("set_column_%d", i)
		rows := fmt.Sprintf("set_rows_%d", sf.feature)
		table := fmt.Sprintf("set_table_%d", sf.feature)
		member := fmt.Sprintf("set_membership_%d", sf.feature)
		g.Initializers = append(g.Initializers,
			onnx.Int64Tensor(column, nil, []int64{int64(i)}),
			onnx.FloatTensor(table, []int64{int64(sf.codes + 1), int64(len(sf.sets))}, sf.table()),
		)
		g.Nodes = append(g.Nodes,
			opNode("Gather", []string{"set_rows", column}, rows, onnx.Int("axis", 1)),
			opNode("Gather", []string{table, rows}, member, onnx.Int("axis", 0)),
		)
		concat = append(concat, member)
	}
	g.Nodes = append(g.Nodes, opNode("Concat", concat, output, onnx.Int("axis", 1)))
	return output
}

// table returns the feature's membership table, row-major [codes+1, sets].
func (sf *setFeature) table() []float32 {
	m := len(sf.sets)
	t := make([]float32, (sf.codes+1)*m)
	for code := range sf.codes + 1 {
		for j, set := range sf.sets {
			if code == sf.codes || !set.has(code) {
				t[code*m+j] = 1
			}
		}
	}
	return t
}
