package train

import "fmt"

// PredictProbaClasses writes the probabilities of class 0 and class 1 of
// text into dst, which must have two elements: the exported graph's
// "probabilities" row, each class's own logistic function of the logit
// rounded once to float32. Unlike 1 - PredictProba, which keeps no digit
// of a probability below about 1e-16, the less likely class keeps its
// relative precision however rare it is.
func (m *TextModel) PredictProbaClasses(text string, dst []float32) error {
	if len(dst) != 2 {
		return fmt.Errorf("%w: %d probabilities for a binary classifier", ErrInvalidData, len(dst))
	}
	logit, err := m.logit(text)
	if err != nil {
		return err
	}
	dst[0], dst[1] = binaryProbabilities(logit)
	return nil
}
