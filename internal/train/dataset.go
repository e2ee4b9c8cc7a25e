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
