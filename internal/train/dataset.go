package train

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidData is wrapped by errors about the shape or content of training
// or prediction data.
var ErrInvalidData = errors.New("invalid data")

// Dataset is a training set: a row-major feature matrix and one label per
// row. Features may be NaN (missing); labels may not.
type Dataset struct {
	features    []float32
	numFeatures int
	labels      []float64
	// categories[f] is the number of category codes of a categorical
	// feature f, 0 for a numeric one; nil while every feature is numeric.
	categories []int
}

// NewDataset checks that features holds len(labels) rows of numFeatures
// values each and that every label is finite. It keeps the slices without
// copying them; do not modify them while the Dataset is in use.
func NewDataset(features []float32, numFeatures int, labels []float64) (*Dataset, error) {
	if numFeatures < 1 {
		return nil, fmt.Errorf("%w: numFeatures %d must be at least 1", ErrInvalidData, numFeatures)
	}
	if len(labels) == 0 || len(labels) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d rows, want between 1 and %d", ErrInvalidData, len(labels), math.MaxInt32)
	}
	if len(features) != len(labels)*numFeatures {
		return nil, fmt.Errorf("%w: %d feature values for %d rows of %d features", ErrInvalidData, len(features), len(labels), numFeatures)
	}
	for i, y := range labels {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			return nil, fmt.Errorf("%w: label of row %d is %v", ErrInvalidData, i, y)
		}
	}
	return &Dataset{features: features, numFeatures: numFeatures, labels: labels}, nil
}

// NumRows returns the number of rows.
func (d *Dataset) NumRows() int { return len(d.labels) }

// NumFeatures returns the number of features per row.
func (d *Dataset) NumFeatures() int { return d.numFeatures }

// Row returns the features of row i.
func (d *Dataset) Row(i int) []float32 {
	return d.features[i*d.numFeatures : (i+1)*d.numFeatures]
}

// Label returns the label of row i.
func (d *Dataset) Label(i int) float64 { return d.labels[i] }

// value returns feature f of row i.
func (d *Dataset) value(i, f int) float32 { return d.features[i*d.numFeatures+f] }

// MaxCategoryCodes bounds the codes of one categorical feature: the GBDT
// keeps a category set per split as a bitset of this many bits.
const MaxCategoryCodes = 1 << 16

// SetCategorical marks feature f as categorical with codes 0 to codes-1:
// every value of the column must be one of them, whole and not NaN (a
// record's null is a category code of its own, chosen by whoever maps the
// records). The GBDT splits such a feature on sets of codes and the linear
// family one-hot encodes it.
func (d *Dataset) SetCategorical(f, codes int) error {
	if f < 0 || f >= d.numFeatures {
		return fmt.Errorf("%w: categorical feature %d of %d", ErrInvalidData, f, d.numFeatures)
	}
	if codes < 1 || codes > MaxCategoryCodes {
		return fmt.Errorf("%w: feature %d has %d category codes, want 1 to %d", ErrInvalidData, f, codes, MaxCategoryCodes)
	}
	for i := range d.labels {
		v := d.value(i, f)
		if !(v >= 0 && v < float32(codes)) || v != float32(math.Trunc(float64(v))) {
			return fmt.Errorf("%w: row %d: categorical feature %d is %v, not a code from 0 to %d", ErrInvalidData, i, f, v, codes-1)
		}
	}
	if d.categories == nil {
		d.categories = make([]int, d.numFeatures)
	}
	d.categories[f] = codes
	return nil
}

// Categories returns the number of category codes of feature f, or 0 when
// f is numeric.
func (d *Dataset) Categories(f int) int {
	if d.categories == nil {
		return 0
	}
	return d.categories[f]
}
