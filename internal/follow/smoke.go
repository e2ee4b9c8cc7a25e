package follow

import (
	"errors"
	"fmt"
	"math"

	"github.com/streamscore/streamscore/internal/model"
)

// errSmoke marks a version that failed the smoke batch.
var errSmoke = errors.New("smoke batch failed")

// smoke runs a candidate model on one batch before it serves. The batch is
// the records of the last batch the serving model scored: real traffic,
// every record of which the serving model could map, so a candidate that
// cannot map one of them would dead-letter records the serving model
// scores, and is refused. Before any traffic (at start, or a scorer that
// has seen none), it is a full batch of synthetic rows (syntheticRows).
// Either way the batch is as large as batches get (model.Load
// only ran one row), which catches graphs that only run small batches. The
// run must succeed and every score and value be finite.
func smoke(m *model.Model, records []map[string]any, maxBatch int) error {
	if len(records) == 0 {
		records = syntheticRows(m.Spec(), maxBatch)
	}
	b := m.NewBatch()
	defer b.Close()
	for i, rec := range records {
		if b.Full() {
			break
		}
		if err := b.Add(rec); err != nil {
			return fmt.Errorf("%w: record %d of the last batch scored: %w", errSmoke, i, err)
		}
	}
	results, err := m.Run(b)
	if err != nil {
		return fmt.Errorf("%w: %d rows: %w", errSmoke, b.Len(), err)
	}
	for i, r := range results {
		if r.HasValue && !finite(r.Value) {
			return fmt.Errorf("%w: row %d: value %v", errSmoke, i, r.Value)
		}
		for _, s := range r.Scores {
			if !finite(float64(s)) {
				return fmt.Errorf("%w: row %d: scores %v", errSmoke, i, r.Scores)
			}
		}
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// syntheticRows are n records holding every path the spec reads
// (model.Spec.ZeroRecord: zeros, empty texts, null categories, arrays of
// the declared length, nested as the paths say).
func syntheticRows(spec model.Spec, n int) []map[string]any {
	row := spec.ZeroRecord()
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = row // read only: one map serves every row
	}
	return rows
}
