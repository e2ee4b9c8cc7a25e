package datasets

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// loadFile opens file in dir and parses it, naming the data set (title) and
// the file in any error.
func loadFile(dir, file, title string, parse func(io.Reader) ([]Record, error)) ([]Record, error) {
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		return nil, fmt.Errorf("%s data set: %w", title, err)
	}
	defer f.Close()
	recs, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s data set %s: %w", title, f.Name(), err)
	}
	return recs, nil
}

// csvWithHeader reads r as CSV whose first row must be header, and whose
// every row has as many fields.
func csvWithHeader(r io.Reader, header []string) (*csv.Reader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(header)
	got, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrBadData, err)
	}
	if !slices.Equal(got, header) {
		return nil, fmt.Errorf("%w: header %q, want %q", ErrBadData, got, header)
	}
	return cr, nil
}

// parseCSV maps every row of a CSV with header to a record, in file order,
// naming the line of a row that record refuses.
func parseCSV(r io.Reader, header []string, record func(row []string) (Record, error)) ([]Record, error) {
	cr, err := csvWithHeader(r, header)
	if err != nil {
		return nil, err
	}
	cr.ReuseRecord = true
	var out []Record
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadData, err)
		}
		rec, err := record(row)
		if err != nil {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("%w: line %d: %w", ErrBadData, line, err)
		}
		out = append(out, rec)
	}
}
