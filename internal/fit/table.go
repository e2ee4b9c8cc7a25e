package fit

import (
	"github.com/streamscore/streamscore/internal/model"
)

// Table holds rows mapped, one record at a time as they arrive, into the
// columns a model of its options trains on (see columns): a reader fills
// it from records it keeps no copy of, and FitTable trains on it as it is.
// Build it with NewTable, Add every record, then Finish it once.
type Table struct {
	c    *columns
	kind LabelKind // the label kind Finish keeps; zero: most rows'
}

// TableConfig tunes NewTable.
type TableConfig struct {
	// Extra are features of another model (the champion) to keep raw
	// beside the model's own, so that it can be judged on the same rows:
	// those the model does not read the same way (see ExtraFeatures).
	Extra []model.Feature
	// ExtraAllowNonFinite is that model's Spec.AllowNonFinite: whether its
	// scorer takes a NaN or infinite value of Extra or refuses the record.
	ExtraAllowNonFinite bool
	// LabelKind, when set, is the label kind a classifier's rows must
	// have: a test source's rows are held to the training rows' kind.
	LabelKind LabelKind
}

// NewTable makes an empty table for opts, with room for up to expect rows
// (capped by opts.Sample), reserved up front so that filling it never
// copies a column: expect should be a tight bound on the rows to come.
func NewTable(opts Options, cfg TableConfig, expect int) (*Table, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	l := newLayout(opts, cfg.Extra)
	l.extraAllowNonFinite = cfg.ExtraAllowNonFinite
	return &Table{c: newColumns(l, expect), kind: cfg.LabelKind}, nil
}

// Add maps one record, stamped ts (Unix milliseconds) and found at
// partition and offset, which order the rows and choose the Sample. A
// record that cannot be mapped is counted in Unusable; the error is a
// classifier's label with more distinct values than a model takes
// (ErrTooManyClasses), which should stop the reading.
func (t *Table) Add(rec map[string]any, ts int64, partition int32, offset int64) error {
	return t.c.add(rec, ts, partition, offset)
}

// Finish orders the rows by time, then partition and offset, and drops a
// classifier's rows whose label is of another kind than TableConfig's
// LabelKind, or than most rows' (counted as mixed_label_kind).
func (t *Table) Finish() {
	t.c.finish(t.kind)
}

// Len is the number of rows kept.
func (t *Table) Len() int { return t.c.Len() }

// Reserved is how many rows the table has room for without growing.
func (t *Table) Reserved() int { return cap(t.c.labels) }

// Unusable counts the records a model cannot train on, by reason
// (bad_label, missing_feature, mixed_label_kind, ...).
func (t *Table) Unusable() map[string]int { return t.c.skipped }

// SampledOut counts the usable rows the Sample budget left out, once
// finished.
func (t *Table) SampledOut() int { return t.c.sampledOut }

// LabelKind is a classifier's label kind, once finished.
func (t *Table) LabelKind() LabelKind { return t.c.kind }

// ClassCounts counts a classifier's rows by class name (nil for a
// regressor): what a Sample kept.
func (t *Table) ClassCounts() map[string]int {
	if t.c.layout.task == model.Regression {
		return nil
	}
	out := map[string]int{}
	for i := range t.c.Len() {
		out[t.c.className(i)]++
	}
	return out
}
