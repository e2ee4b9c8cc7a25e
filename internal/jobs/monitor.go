package jobs

import (
	"errors"
	"fmt"
	"time"

	"github.com/streamscore/streamscore/internal/serde"
)

// ErrNotMonitorWindow is a record on a monitor topic that is not a
// monitoring window (schemas/monitor.avsc) the trainer can act on: of
// another schema, or missing a field the rules read.
var ErrNotMonitorWindow = errors.New("not a monitoring window")

// monitorRecordName is the full name of the record monitor.avsc defines.
const monitorRecordName = "io.streamscore.MonitorWindow"

// Kinds and roles of monitoring windows the trainer acts on.
const (
	windowDrift  = "drift"
	windowOnline = "online"
	roleChampion = "champion"
)

// monitorWindow is what the trainer reads of one monitoring window: who it
// describes, its span, the PSIs of a drift window and the comparison of an
// online window. The metrics it does not act on are left undecoded.
type monitorWindow struct {
	kind, model, version, role string
	start, end                 time.Time
	records                    int64
	features                   []featurePSI
	// predictionPSI is nil when the window has no prediction part or the
	// version no reference to compare with.
	predictionPSI *float64
	comparison    *comparison
}

// featurePSI is one feature's PSI; nil without a reference.
type featurePSI struct {
	name string
	psi  *float64
}

// comparison is the scorer's test of the shadow challenger against the
// champion on the labelled records both scored.
type comparison struct {
	championVersion, challengerVersion string
	metric, test                       string
	paired                             int64
	champion, challenger               float64
	z, pValue                          float64
}

// parseMonitorWindow reads a decoded record as a monitoring window. Its
// errors wrap ErrNotMonitorWindow.
func parseMonitorWindow(d serde.Decoded) (monitorWindow, error) {
	if name := d.Checked.Schema.Name; name != monitorRecordName {
		return monitorWindow{}, fmt.Errorf("%w: a record of %q (schema id %d)", ErrNotMonitorWindow, name, d.Checked.SchemaID)
	}
	r := fields{rec: d.Record}
	w := monitorWindow{
		kind: r.str("kind"), model: r.str("model_name"), version: r.str("model_version"), role: r.str("role"),
		start: r.time("window_start"), end: r.time("window_end"), records: r.long("records"),
	}
	for i, f := range r.list("features") {
		fr := fields{rec: asRecord(f), path: fmt.Sprintf("features[%d].", i)}
		if fr.rec == nil {
			fr.fail("", "is not a record")
			r.err = firstErr(r.err, fr.err)
			continue
		}
		w.features = append(w.features, featurePSI{name: fr.str("name"), psi: fr.optFloat("psi")})
		r.err = firstErr(r.err, fr.err)
	}
	if p := r.optRecord("prediction"); p != nil {
		pr := fields{rec: p, path: "prediction."}
		w.predictionPSI = pr.optFloat("psi")
		r.err = firstErr(r.err, pr.err)
	}
	if c := r.optRecord("comparison"); c != nil {
		cr := fields{rec: c, path: "comparison."}
		w.comparison = &comparison{
			championVersion: cr.str("champion_version"), challengerVersion: cr.str("challenger_version"),
			metric: cr.str("metric"), test: cr.str("test"), paired: cr.long("paired"),
			champion: cr.float("champion"), challenger: cr.float("challenger"), z: cr.float("z"), pValue: cr.float("p_value"),
		}
		r.err = firstErr(r.err, cr.err)
	}
	if r.err != nil {
		return monitorWindow{}, fmt.Errorf("%w: schema id %d: %w", ErrNotMonitorWindow, d.Checked.SchemaID, r.err)
	}
	return w, nil
}

// firstErr keeps the first error.
func firstErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// fields reads typed fields of a record in goavro's native form, keeping
// the first field that is absent or of another type.
type fields struct {
	rec  map[string]any
	path string // prefix naming the record in errors
	err  error
}

func (f *fields) fail(name, why string) {
	if f.err == nil {
		f.err = fmt.Errorf("%s%s %s", f.path, name, why)
	}
}

func get[T any](f *fields, name string) T {
	var zero T
	v, ok := f.rec[name]
	if !ok {
		f.fail(name, "is missing")
		return zero
	}
	t, ok := v.(T)
	if !ok {
		f.fail(name, fmt.Sprintf("is a %T, not a %T", v, zero))
	}
	return t
}

func (f *fields) str(name string) string    { return get[string](f, name) }
func (f *fields) long(name string) int64    { return get[int64](f, name) }
func (f *fields) float(name string) float64 { return get[float64](f, name) }
func (f *fields) list(name string) []any    { return get[[]any](f, name) }

// time reads a timestamp-millis (goavro gives a time.Time; a writer schema
// without the logical type, its milliseconds).
func (f *fields) time(name string) time.Time {
	switch v := f.rec[name].(type) {
	case time.Time:
		return v
	case int64:
		return time.UnixMilli(v).UTC()
	}
	f.fail(name, "is not a timestamp")
	return time.Time{}
}

// optFloat reads a ["null", "double"] union: nil for null.
func (f *fields) optFloat(name string) *float64 {
	v, ok := unionValue(f, name)
	if !ok || v == nil {
		return nil
	}
	x, isFloat := v.(float64)
	if !isFloat {
		f.fail(name, fmt.Sprintf("is a %T, not a double", v))
		return nil
	}
	return &x
}

// optRecord reads a ["null", record] union: nil for null.
func (f *fields) optRecord(name string) map[string]any {
	v, ok := unionValue(f, name)
	if !ok || v == nil {
		return nil
	}
	rec := asRecord(v)
	if rec == nil {
		f.fail(name, fmt.Sprintf("is a %T, not a record", v))
	}
	return rec
}

// unionValue is the branch value of a union field (goavro wraps a non-null
// branch in a map keyed by its type name), nil for null; ok is false when
// the field is missing or not a union.
func unionValue(f *fields, name string) (any, bool) {
	v, ok := f.rec[name]
	if !ok {
		f.fail(name, "is missing")
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	wrapped, isMap := v.(map[string]any)
	if !isMap || len(wrapped) != 1 {
		f.fail(name, "is not a union")
		return nil, false
	}
	for _, branch := range wrapped {
		return branch, true
	}
	return nil, true
}

func asRecord(v any) map[string]any {
	rec, _ := v.(map[string]any)
	return rec
}
