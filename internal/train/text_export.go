package train

import (
	"fmt"
	"maps"
	"strings"

	"github.com/streamscore/streamscore/internal/onnx"
)

// InputText names the exported text classifier's input: string [N, 1].
const InputText = "text"

// ONNX Runtime's contrib operator set, home of the Tokenizer operator.
const (
	domainMicrosoft       = "com.microsoft"
	opsetMicrosoftVersion = 1
)

// Text graph settings that Go's tokenizer and vectorizer mirror.
const (
	// textPad fills the Tokenizer's rows of fewer words than the longest.
	// It is not a word, so no vocabulary n-gram contains it and padding
	// never counts.
	textPad = "#"
	// normFloor stands in for a zero norm, whose row is all zeros: the
	// division then gives 0, as scikit-learn leaves a zero row unscaled.
	normFloor = 1e-30
)

// ONNX returns the classifier as an ONNX model whose input InputText is the
// raw text, string [N, 1], and whose outputs are OutputProbabilities (float32
// [N, 2], class 0 then class 1), OutputLabel (int64 [N], 1 when the logit
// is positive, that is when the probability of class 1 exceeds one half)
// and OutputMargin (the logit, float32 [N, 1]). ONNX Runtime reproduces
// PredictProbaClasses within float32 rounding, in the tails too.
//
// The graph is:
//
//	Reshape [N, 1] → [N]
//	StringNormalizer (LOWER, locale C.UTF-8 or C)
//	com.microsoft Tokenizer (tokenexp wordPattern(), mincharnum MinTokenChars)
//	TfIdfVectorizer (mode TF: raw n-gram counts over the vocabulary)
//	Max, Log, Min, Add: 1 + ln(count) where count ≥ 1   (if SublinearTF)
//	Mul by the idf weights
//	MatMul by the coefficients; ReduceL2, Max, Div      (if L2Normalize)
//	Add the intercept: the logit
//	the binary head (addBinaryHead): float64 logistic functions; the label
//
// A character block (AnalyzerChar) counts with a Tokenizer into code
// points, an ai.onnx.ml LabelEncoder and a TfIdfVectorizer over ids (see
// charNodes); its values are prefixed with "char_". With
// AnalyzerWordChar both blocks branch from the lowercased texts, each up to
// its own normalised dot product, and an Add sums the two before the
// intercept.
//
// Normalising the dot product rather than the vector is exact, since
// (x/‖x‖)·w = (x·w)/‖x‖, and saves a pass over the [N, vocabulary] matrix.
// meta becomes the model's metadata_props.
//
// ONNX Runtime rejects a batch with a text that is not UTF-8, as
// PredictProba rejects the text. onnxruntime_go hands strings to it as C
// strings, so it sees a text only up to its first NUL byte.
func (m *TextModel) ONNX(meta map[string]string) (*onnx.Model, error) {
	if m.blocks == nil {
		return nil, fmt.Errorf("export ONNX: %w", errNotFitted)
	}
	var parts []string
	opsets := []onnx.Opset{
		{Domain: onnx.DomainDefault, Version: onnx.OpsetVersion},
		{Domain: domainMicrosoft, Version: opsetMicrosoftVersion},
	}
	for _, v := range m.blocks {
		parts = append(parts, fmt.Sprintf("%s %d..%d-grams (%d features)", v.unit(), v.minN, v.maxN, len(v.vocab)))
		if v.chars { // its LabelEncoder
			opsets = append(opsets, onnx.Opset{Domain: onnx.DomainML, Version: onnx.OpsetMLVersion})
		}
	}
	return &onnx.Model{
		IRVersion:    onnx.IRVersion,
		ProducerName: "streamscore",
		Doc:          fmt.Sprintf("text classifier: TF-IDF of %s, logistic regression", strings.Join(parts, " and ")),
		Opsets:       opsets,
		Metadata:     maps.Clone(meta),
		Graph:        m.graph(),
	}, nil
}

func (m *TextModel) graph() onnx.Graph {
	g := onnx.Graph{
		Name:   "tfidf_logistic_regression",
		Inputs: []onnx.ValueInfo{onnx.TensorInfo(InputText, onnx.TypeString, onnx.DimParam(batchDim), onnx.DimValue(1))},
		Initializers: []onnx.Tensor{
			onnx.Int64Tensor("flat_shape", []int64{1}, []int64{-1}),
		},
		Nodes: []onnx.Node{
			opNode("Reshape", []string{InputText, "flat_shape"}, "texts"),
			m.blocks[0].tokenizer.lowercaseNode("texts", "lowercase"),
		},
	}
	var dots []string
	offset := 0
	for _, v := range m.blocks {
		coef := m.coef[offset : offset+len(v.vocab)]
		offset += len(v.vocab)
		dots = append(dots, v.addDot(&g, "lowercase", coef))
	}
	logitInputs := dots
	if len(dots) > 1 {
		g.Nodes = append(g.Nodes, opNode("Add", dots, "dot_sum"))
		logitInputs = []string{"dot_sum"}
	}
	g.Initializers = append(g.Initializers, onnx.FloatTensor("intercept", nil, []float32{float32(m.intercept)}))
	g.Nodes = append(g.Nodes, opNode("Add", []string{logitInputs[0], "intercept"}, "logit"))
	addBinaryHead(&g, "logit") // also defines "one", used by the blocks
	return g
}

// addDot adds to g the nodes of the block's part of the logit, its TF-IDF
// vector of the lowercased texts dotted with coef, and returns the name of
// that [N, 1] value. Word blocks keep the value names the graph had before
// character blocks existed; character blocks prefix theirs with "char_".
func (v *textVectorizer) addDot(g *onnx.Graph, lowercase string, coef []float64) string {
	prefix := ""
	if v.chars {
		prefix = "char_"
	}
	name := func(s string) string { return prefix + s }
	numFeatures := int64(len(v.vocab))
	coef32 := make([]float32, len(coef))
	for j, c := range coef {
		coef32[j] = float32(c)
	}
	idf := make([]float32, len(v.idf))
	for j, w := range v.idf {
		idf[j] = float32(w)
	}
	g.Initializers = append(g.Initializers,
		onnx.FloatTensor(name("idf"), []int64{numFeatures}, idf),
		onnx.FloatTensor(name("coef"), []int64{numFeatures, 1}, coef32),
	)
	if v.chars {
		g.Nodes = append(g.Nodes, v.charNodes(lowercase, name("counts"), prefix)...)
	} else {
		g.Nodes = append(g.Nodes,
			v.tokenizer.tokenizerNode(lowercase, "words"),
			v.tfIdfVectorizerNode("words", "counts"),
		)
	}
	tf := name("counts")
	if v.sublinear {
		g.Nodes = append(g.Nodes,
			opNode("Max", []string{name("counts"), "one"}, name("counts_or_1")),
			opNode("Log", []string{name("counts_or_1")}, name("log_counts")),
			opNode("Min", []string{name("counts"), "one"}, name("present")),
			opNode("Add", []string{name("log_counts"), name("present")}, name("sublinear_tf")),
		)
		tf = name("sublinear_tf")
	}
	g.Nodes = append(g.Nodes,
		opNode("Mul", []string{tf, name("idf")}, name("tfidf")),
		opNode("MatMul", []string{name("tfidf"), name("coef")}, name("dot")),
	)
	if !v.l2 {
		return name("dot")
	}
	g.Initializers = append(g.Initializers, onnx.FloatTensor(name("norm_floor"), nil, []float32{normFloor}))
	g.Nodes = append(g.Nodes,
		opNode("ReduceL2", []string{name("tfidf")}, name("norm"), onnx.Ints("axes", 1), onnx.Int("keepdims", 1)),
		opNode("Max", []string{name("norm"), name("norm_floor")}, name("safe_norm")),
		opNode("Div", []string{name("dot"), name("safe_norm")}, name("normalized_dot")),
	)
	return name("normalized_dot")
}

// lowercaseNode returns a StringNormalizer that lowercases a string tensor
// of shape [C] (or [1, C]: it accepts no other) as t.lower does. It names
// its locale, as the default, en_US.UTF-8, is missing from minimal Linux
// images, where the session would fail to load: C.UTF-8 comes with glibc
// 2.35 and later (and with Debian's libc-bin before), and C with every C
// library.
func (t textTokenizer) lowercaseNode(input, output string) onnx.Node {
	locale := "C.UTF-8"
	if t.lowercase == LowercaseASCII {
		locale = "C"
	}
	return onnx.Node{
		OpType:  "StringNormalizer",
		Name:    output,
		Inputs:  []string{input},
		Outputs: []string{output},
		Attributes: []onnx.Attribute{
			onnx.String("case_change_action", "LOWER"),
			onnx.Int("is_case_sensitive", 1),
			onnx.String("locale", locale),
		},
	}
}

// tokenizerNode returns a com.microsoft Tokenizer that splits each string
// of a [N] tensor into its words, giving [N, T] where T is the most words of
// any string (0 if none has any) and shorter rows end in textPad.
func (t textTokenizer) tokenizerNode(input, output string) onnx.Node {
	return onnx.Node{
		OpType:  "Tokenizer",
		Domain:  domainMicrosoft,
		Name:    output,
		Inputs:  []string{input},
		Outputs: []string{output},
		Attributes: []onnx.Attribute{
			onnx.Int("mark", 0),
			onnx.String("pad_value", textPad),
			onnx.String("tokenexp", wordPattern()),
			onnx.Int("mincharnum", int64(t.minChars)),
		},
	}
}

// tfIdfVectorizerNode returns a TfIdfVectorizer that counts the vocabulary
// n-grams of each row of words, output column j counting v.vocab[j].
//
// pool_strings lists the words of every n-gram, vocabulary order, which
// groups n-grams by length; ngram_counts gives the pool position where the
// n-grams of each length 1..maxN start. TfIdfVectorizer slides over each row
// and counts every run of consecutive words that is in the pool, which is
// what forEachNGram enumerates.
func (v *textVectorizer) tfIdfVectorizerNode(input, output string) onnx.Node {
	var pool []string
	ngramCounts := make([]int64, v.maxN)
	indexes := make([]int64, len(v.vocab))
	j := 0
	for n := 1; n <= v.maxN; n++ {
		ngramCounts[n-1] = int64(len(pool))
		for ; j < len(v.vocab) && ngramLength(v.vocab[j]) == n; j++ {
			pool = append(pool, strings.Split(v.vocab[j], ngramSeparator)...)
			indexes[j] = int64(j)
		}
	}
	return onnx.Node{
		OpType:  "TfIdfVectorizer",
		Name:    output,
		Inputs:  []string{input},
		Outputs: []string{output},
		Attributes: []onnx.Attribute{
			onnx.String("mode", "TF"),
			onnx.Int("min_gram_length", int64(v.minN)),
			onnx.Int("max_gram_length", int64(v.maxN)),
			onnx.Int("max_skip_count", 0),
			onnx.Ints("ngram_counts", ngramCounts...),
			onnx.Ints("ngram_indexes", indexes...),
			onnx.Strings("pool_strings", pool...),
		},
	}
}
