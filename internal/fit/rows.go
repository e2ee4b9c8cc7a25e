package fit

// Rows are training rows, oldest first, however their owner holds them.
// The trainer reads them one record at a time, so rows kept compactly (the
// REST API's typed columns, a history's columns) are never all turned into
// maps at once.
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

// refusingRows are rows some of which a model's scorer would refuse for a
// reason known before reading them (a champion's feature the trainer read
// raw, see readExtra): such a row is counted as skipped for the reason,
// as the scorer would dead-letter it.
type refusingRows interface {
	Rows
	Refused(i int) (reason string, refused bool)
}
