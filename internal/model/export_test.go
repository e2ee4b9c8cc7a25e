package model

// MetadataProp exposes metadataProp to the external tests.
var MetadataProp = metadataProp

// ColumnNumbers reads each numeric column of r by the general way alone,
// without AppendNumbers' plain lookups, for tests that hold the two equal.
func ColumnNumbers(r *InputReader, rec map[string]any) ([]float64, error) {
	out := make([]float64, len(r.cols))
	for i := range r.cols {
		v, _, err := r.cols[i].number(rec)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
