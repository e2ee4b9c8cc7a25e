package drift

// Kinds of feature a profile describes (FeatureProfile.Kind).
const (
	KindNumeric     = "numeric"
	KindCategorical = "categorical"
	KindText        = "text"
)

// Profile is a model version's reference: what its training rows looked
// like, feature by feature, and what the model predicted on them.
type Profile struct {
	Rows int64 `json:"rows"`
	// Features are one per model column, in the spec's input and column
	// order (see the package doc for their names).
	Features   []FeatureProfile `json:"features"`
	Prediction ScoreProfile     `json:"prediction"`
	// Truncated is set when the model has more columns than a profile
	// holds (MaxFeatures, or MaxProfileBytes of JSON): Features are a
	// prefix of its columns, and the others are not monitored.
	Truncated bool `json:"truncated,omitempty"`
}

// FeatureProfile is one model column's reference.
type FeatureProfile struct {
	Name   string `json:"name"`   // the feature path; an array element as window[3]
	Kind   string `json:"kind"`   // KindNumeric, KindCategorical, KindText
	Input  int    `json:"input"`  // index into spec.Inputs
	Column int    `json:"column"` // column within that input (0 for text)
	// Edges are the interior cut points of the quantile bins (numeric: of
	// the value; text: of the length in bytes), ascending and distinct.
	Edges []float64 `json:"edges,omitempty"`
	// Shares are the reference share of rows per bin: len(Edges)+1 bins,
	// or for a categorical feature one per code (len(categories)+2).
	Shares   []float64 `json:"shares"`
	NullRate float64   `json:"null_rate"`
	// Min and Max are numeric: of the non-null training values; text: of
	// the lengths.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// OOVRate is text: the share of training words outside the vocabulary.
	OOVRate *float64 `json:"oov_rate,omitempty"`
	// Vocabulary is text: the vocabulary's words, encoded as vocabulary.go
	// says.
	Vocabulary string `json:"vocabulary,omitempty"`
}

// ScoreProfile is the reference of what the model predicted on its
// training rows.
type ScoreProfile struct {
	// Edges are the quantile cut points of the score (binary classifier:
	// the positive class's; regressor: the value; multiclass: none).
	Edges  []float64 `json:"edges,omitempty"`
	Shares []float64 `json:"shares,omitempty"`
	// ClassShares is the share of rows predicted as each class.
	ClassShares map[string]float64 `json:"class_shares,omitempty"`
}

// Report is the statistics of one window of live rows.
type Report struct {
	Records    int64
	Reference  bool
	Features   []FeatureReport
	Prediction PredictionReport
}

// FeatureReport is one column in a window. A statistic is nil when it is
// not defined: no reference, KS of a categorical or text feature, no rows.
type FeatureReport struct {
	Name, Kind                    string
	PSI, KS, OutOfRangeRate, Mean *float64
	NullRate                      float64
}

// PredictionReport is the prediction in a window.
type PredictionReport struct {
	PSI, Mean   *float64
	ClassShares map[string]float64
}
