package trainer

import "math"

// Rows are training rows, oldest first, however their owner holds them.
// The trainer reads them one record at a time, so rows kept compactly (the
// REST API's typed columns) are never all turned into maps at once.
type Rows interface {
	Len() int
	// Record returns row i as a record, as a Kafka record decodes. An
	// implementation that builds records may clear and fill scratch, a
	// map owned by the caller, and return it: a record is then read before
	// the next call with the same scratch, and never kept.
	Record(i int, scratch map[string]any) map[string]any
}

// Records are rows held as records.
type Records []map[string]any

// Len is the number of records.
func (r Records) Len() int { return len(r) }

// Record returns record i itself.
func (r Records) Record(i int, _ map[string]any) map[string]any { return r[i] }

// span is rows [from, to) of rows.
type span struct {
	rows     Rows
	from, to int
}

func (s span) Len() int { return s.to - s.from }

func (s span) Record(i int, scratch map[string]any) map[string]any {
	return s.rows.Record(s.from+i, scratch)
}

// splitRows is Split for any Rows.
func splitRows(rows Rows, holdout float64) (trainRows, holdoutRows Rows) {
	n := rows.Len()
	cut := n - holdoutLen(n, holdout)
	return span{rows, 0, cut}, span{rows, cut, n}
}

// holdoutLen is how many of n rows the holdout takes: the fraction,
// rounded up.
func holdoutLen(n int, holdout float64) int {
	return int(math.Ceil(float64(n) * holdout))
}
