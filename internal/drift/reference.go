package drift

import (
	"encoding/json"
	"math"
	"math/rand/v2"

	"github.com/streamscore/streamscore/internal/model"
)

const (
	// MaxSampleRows is the most training rows, and predictions, whose
	// values the quantile bins are cut from; a reservoir sample of that
	// many (a seeded one: the same rows give the same profile) stands for
	// more. Counts, null rates, extremes, category shares and the
	// out-of-vocabulary rate are of every row.
	MaxSampleRows = 100_000
	// maxSampleValues bounds a reservoir's values, over all columns, so a
	// wide model samples fewer rows.
	maxSampleValues = 4_000_000
	// MaxProfileBytes bounds a profile's JSON. A catalog version holds
	// its spec and profile in one metadata record of at most about 1 MiB;
	// the features past the bound are left out (Profile.Truncated).
	MaxProfileBytes = 200 << 10
	sampleSeed      = 0x5eed
)

// Row is one training row in the model's column layout, as a batch holds
// it: per spec input, its float columns or its text.
type Row struct {
	// Numbers are each float input's columns; nil for a string input.
	Numbers [][]float32
	// Nulls, beside Numbers, say which columns were null or absent (and
	// took the feature's default or the null code); a nil slice says none
	// was.
	Nulls [][]bool
	// Texts are each string input's text; "" for a float input.
	Texts []string
}

// Reference builds a model version's Profile from its training rows and
// the model's predictions on them. Not safe for concurrent use.
type Reference struct {
	spec      model.Spec
	cols      []column
	truncated bool
	stats     []refColumn
	rows      int64
	sample    reservoir
	batchRow  rowBuffer

	score     scoreKind
	scored    int64
	scores    reservoir
	scoreVals []float32
	classes   classCounter
}

// refColumn is what a reference keeps of one column.
type refColumn struct {
	nulls    int64
	min, max float64
	codes    []int64   // categorical: rows per code
	values   []float32 // the reservoir's values (text: lengths), NaN where null
	vocab    *vocabulary
	words    int64
	outside  int64
}

// NewReference returns an empty reference of spec's rows. vocab gives a
// text input's vocabulary, by input index; a text input without one has
// no out-of-vocabulary rate.
func NewReference(spec model.Spec, vocab map[int]TextVocabulary) *Reference {
	cols, truncated := specColumns(spec)
	r := &Reference{spec: spec, cols: cols, truncated: truncated, score: scoreOf(spec), classes: newClassCounter(spec.Labels)}
	r.stats = make([]refColumn, len(cols))
	for i, c := range cols {
		st := &r.stats[i]
		st.min, st.max = math.Inf(1), math.Inf(-1)
		switch c.kind {
		case KindCategorical:
			st.codes = make([]int64, c.feature.Codes())
		case KindText:
			if v, ok := vocab[c.input]; ok {
				st.vocab = newVocabulary(v)
			}
		}
	}
	sampleRows := MaxSampleRows
	if len(cols) > 0 {
		sampleRows = min(sampleRows, max(maxSampleValues/len(cols), 1000))
	}
	r.sample = newReservoir(sampleRows, 1)
	r.scores = newReservoir(MaxSampleRows, 2)
	for i := range r.stats {
		if r.cols[i].kind != KindCategorical {
			r.stats[i].values = make([]float32, 0, min(sampleRows, 1<<12))
		}
	}
	return r
}

// Add adds one training row.
func (r *Reference) Add(row Row) {
	r.rows++
	slot := r.sample.offer()
	for i, c := range r.cols {
		st := &r.stats[i]
		var v float32
		null := false
		if c.kind == KindText {
			text := row.Texts[c.input]
			v = float32(len(text))
			if st.vocab != nil {
				words, outside := st.vocab.count(text)
				st.words += words
				st.outside += outside
			}
		} else {
			v = row.Numbers[c.input][c.col]
			if nulls := row.Nulls; nulls != nil && nulls[c.input] != nil {
				null = nulls[c.input][c.col]
			}
		}
		if c.kind == KindCategorical {
			if code := int(v); float32(code) == v && code >= 0 && code < len(st.codes) {
				st.codes[code]++
				null = null || code == c.feature.CodeNull()
			}
			if null {
				st.nulls++
			}
			continue
		}
		if null {
			st.nulls++
			v = float32(math.NaN()) // left out of the quantiles
		} else if f := float64(v); finite(f) {
			st.min, st.max = min(st.min, f), max(st.max, f)
		}
		st.values = keep(st.values, slot, v)
	}
}

// AddBatchRow adds row of b, a batch of the model's training rows.
func (r *Reference) AddBatchRow(b *model.Batch, row int) {
	r.Add(r.batchRow.of(r.spec, b, row))
}

// rowBuffer holds a batch row's slices as a Row.
type rowBuffer struct {
	numbers [][]float32
	nulls   [][]bool
	texts   []string
}

func (rb *rowBuffer) of(spec model.Spec, b *model.Batch, row int) Row {
	n := len(spec.Inputs)
	if len(rb.texts) != n {
		rb.numbers, rb.nulls, rb.texts = make([][]float32, n), make([][]bool, n), make([]string, n)
	}
	for i := range n {
		rb.numbers[i], rb.nulls[i] = b.Numbers(i, row)
		rb.texts[i] = b.Text(i, row)
	}
	return Row{Numbers: rb.numbers, Nulls: rb.nulls, Texts: rb.texts}
}

// AddPrediction adds the model's prediction on one training row. The
// caller may give it fewer rows than Add (a sample of them): the
// prediction's reference is of the rows given.
func (r *Reference) AddPrediction(res model.Result) {
	r.scored++
	if classifier(r.spec) {
		r.classes.add(res)
	}
	if r.score != noScore && res.HasValue {
		r.scoreVals = keep(r.scoreVals, r.scores.offer(), float32(res.Value))
	}
}

// Rows is the number of training rows added.
func (r *Reference) Rows() int64 { return r.rows }

// Profile is the reference of the rows and predictions added, at most
// MaxProfileBytes of JSON.
func (r *Reference) Profile() *Profile {
	p := &Profile{Rows: r.rows, Features: []FeatureProfile{}, Truncated: r.truncated}
	if r.score != noScore {
		sorted := sortedFinite(r.scoreVals)
		p.Prediction.Edges = quantileEdges(sorted)
		p.Prediction.Shares = binShares(sorted, p.Prediction.Edges)
	}
	p.Prediction.ClassShares = r.classes.shares(r.scored)
	budget := MaxProfileBytes - jsonSize(p)
	for i, c := range r.cols {
		f := r.featureProfile(i, c)
		if budget -= jsonSize(f) + 1; budget < 0 {
			p.Truncated = true
			break
		}
		p.Features = append(p.Features, f)
	}
	return p
}

func (r *Reference) featureProfile(i int, c column) FeatureProfile {
	st := &r.stats[i]
	f := FeatureProfile{Name: c.name, Kind: c.kind, Input: c.input, Column: c.col}
	if r.rows > 0 {
		f.NullRate = roundShare(float64(st.nulls) / float64(r.rows))
	}
	if c.kind == KindCategorical {
		f.Shares = make([]float64, len(st.codes))
		for code, n := range st.codes {
			if r.rows > 0 {
				f.Shares[code] = roundShare(float64(n) / float64(r.rows))
			}
		}
		return f
	}
	sorted := sortedFinite(st.values)
	f.Edges = quantileEdges(sorted)
	f.Shares = binShares(sorted, f.Edges)
	if st.min <= st.max {
		f.Min, f.Max = st.min, st.max
	}
	if c.kind == KindText && st.vocab != nil {
		f.Vocabulary = st.vocab.encode()
		oov := 0.0
		if st.words > 0 {
			oov = roundShare(float64(st.outside) / float64(st.words))
		}
		f.OOVRate = &oov
	}
	return f
}

// jsonSize is v's JSON length.
func jsonSize(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return math.MaxInt / 2 // never kept: a profile holds only finite numbers
	}
	return len(b)
}

// reservoir chooses a uniform sample of up to size items of a stream, with
// a fixed seed.
type reservoir struct {
	size int
	seen int
	rng  *rand.Rand
}

func newReservoir(size int, stream uint64) reservoir {
	return reservoir{size: size, rng: rand.New(rand.NewPCG(sampleSeed, stream))}
}

// offer counts one more item and returns the slot it takes in the
// sample: the next one while the sample fills, then a random slot or -1
// when the item is left out.
func (s *reservoir) offer() int {
	s.seen++
	if s.seen <= s.size {
		return s.seen - 1
	}
	if j := s.rng.IntN(s.seen); j < s.size {
		return j
	}
	return -1
}

// keep puts v in vals at slot (see offer).
func keep(vals []float32, slot int, v float32) []float32 {
	switch {
	case slot < 0:
	case slot == len(vals):
		vals = append(vals, v)
	default:
		vals[slot] = v
	}
	return vals
}
