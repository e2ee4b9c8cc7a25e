package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
)

// noProfile is what an import without -profile-sample says: the scorer
// reports the version's drift windows without a reference to compare with.
const noProfile = "no reference profile: drift is not measured for this version; give -profile-sample"

// errProfileSample marks a -profile-sample file an import cannot use: the
// import is refused.
var errProfileSample = fmt.Errorf("%w: profile sample", errImport)

// importProfile is the drift reference of an imported model, built from
// a sample of the rows it was trained on: a JSON Lines file, one record a
// line keyed by Avro field names as the REST API's rows are, each scored
// by the model in ONNX Runtime for the prediction's reference. A record
// the model cannot score is skipped and counted; a file with none it can
// is refused.
func importProfile(m *model.Model, file string) (p *drift.Profile, skipped int, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errProfileSample, err)
	}
	defer f.Close()
	var readErr error
	records := func(yield func(map[string]any) bool) {
		dec := json.NewDecoder(f)
		dec.UseNumber()
		for line := 1; ; line++ {
			var rec map[string]any
			if err := dec.Decode(&rec); err == io.EOF {
				return
			} else if err != nil {
				readErr = fmt.Errorf("%w: %s record %d: %w", errProfileSample, file, line, err)
				return
			}
			if !yield(jsonRecord(rec).(map[string]any)) {
				return
			}
		}
	}
	p, skipped, err = drift.ProfileRecords(m, records)
	switch {
	case readErr != nil:
		return nil, skipped, readErr
	case errors.Is(err, drift.ErrBadProfile):
		return nil, skipped, fmt.Errorf("%w: %s: %w", errProfileSample, file, err)
	case err != nil:
		return nil, skipped, err
	}
	return p, skipped, nil
}

// jsonRecord turns JSON's numbers into what a decoded Avro record holds,
// as the REST API does: an integer as int64 (a category table holds ints
// in decimal), any other number as float64.
func jsonRecord(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, item := range x {
			x[k] = jsonRecord(item)
		}
	case []any:
		for i, item := range x {
			x[i] = jsonRecord(item)
		}
	}
	return v
}
