package drift

import (
	"fmt"
	"iter"

	"github.com/streamscore/streamscore/internal/model"
)

// ProfileRecords is the reference profile of m on records: each record's
// columns as m's spec reads them, and m's prediction on it (run in ONNX
// Runtime). It is how a model trained elsewhere gets a reference from a
// sample of its training rows. A record the spec cannot read is skipped
// and counted; records none of which can be read are an error.
func ProfileRecords(m *model.Model, records iter.Seq[map[string]any]) (p *Profile, skipped int, err error) {
	ref := NewReference(m.Spec(), nil)
	b := m.NewBatch()
	defer b.Close()
	score := func() error {
		if b.Len() == 0 {
			return nil
		}
		results, err := m.Run(b)
		if err != nil {
			return fmt.Errorf("score the sample: %w", err)
		}
		for i, r := range results {
			ref.AddBatchRow(b, i)
			ref.AddPrediction(r)
		}
		b.Reset()
		return nil
	}
	for rec := range records {
		if err := b.Add(rec); err != nil {
			skipped++
			continue
		}
		if b.Full() {
			if err := score(); err != nil {
				return nil, skipped, err
			}
		}
	}
	if err := score(); err != nil {
		return nil, skipped, err
	}
	if ref.Rows() == 0 {
		return nil, skipped, fmt.Errorf("%w: none of the %d sample records can be read by the model", ErrBadProfile, skipped)
	}
	return ref.Profile(), skipped, nil
}
