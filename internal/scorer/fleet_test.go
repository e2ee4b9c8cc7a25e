package scorer_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

// The fleet reading (testdata/fleet_reading.avsc) is a schema as producers
// write them: nested records, enums, a categorical string, an array, a map
// and nullable unions. The tests of issue 13 train and score on it; this
// file generates its records and reads their features the test's own way,
// apart from internal/avropath and internal/model, so that the scorer's
// mapping is checked against the documented contract and not against
// itself.

// fleetSchema is testdata/fleet_reading.avsc.
func fleetSchema(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/fleet_reading.avsc")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fleetHistorySchema is the fleet schema with the label a trainer learns,
// a boolean "anomaly", as a history topic holds it.
func fleetHistorySchema(t *testing.T) string {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal([]byte(fleetSchema(t)), &s); err != nil {
		t.Fatal(err)
	}
	s["name"] = "LabelledFleetReading"
	s["fields"] = append(s["fields"].([]any), map[string]any{"name": "anomaly", "type": "boolean", "default": false})
	return mustJSON(t, s)
}

// fleetReading is one record of the fleet schema, as plain Go values.
type fleetReading struct {
	DeviceID    string
	TS          time.Time
	Temperature float64
	Lat, Lon    float64
	Status      string // OK, WARN, FAIL
	Model       string // X100, X200, X300, Z9
	Vendor      string
	Site        string
	Window      []float64
	Attributes  map[string]string
	Calibration *float64 // calibration.offset; nil: the union is null
	Humidity    *float64 // nil: null

	trend float64 // the window's slope per reading, which the label reads whatever the window holds
	noise float64 // the label's noise
}

// Sites, the first far more frequent than the rest; site-03 and site-07
// raise the anomaly risk.
var (
	fleetSites       = []string{"site-01", "site-02", "site-03", "site-04", "site-05", "site-06", "site-07", "site-08", "site-09", "site-10"}
	fleetSiteWeights = []float64{40, 18, 12, 9, 7, 5, 4, 2.5, 1.5, 1}
)

// fleetGen generates fleet readings. Every draw comes from one seeded
// source, so a seed gives the same readings every run.
type fleetGen struct {
	r     *rand.Rand
	start time.Time
	i     int
}

func newFleetGen(seed uint64) *fleetGen {
	// A Monday at midnight UTC: readings then cover every hour and day.
	return &fleetGen{r: rand.New(rand.NewPCG(seed, 13)), start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)}
}

func (g *fleetGen) pick(values []string, weights []float64) string {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := g.r.Float64() * total
	for i, w := range weights {
		if x < w {
			return values[i]
		}
		x -= w
	}
	return values[len(values)-1]
}

// next is a reading as a history holds them: models X100 to X300 only
// (never Z9), sites site-01 to site-10, firmware 1.0, 1.1 or 2.0 or none,
// and about 3% of windows one reading short.
func (g *fleetGen) next() fleetReading {
	r := g.r
	g.i++
	rd := fleetReading{
		DeviceID:    fmt.Sprintf("dev-%03d", r.IntN(60)),
		TS:          g.start.Add(time.Duration(g.i)*17*time.Minute + time.Duration(r.IntN(600))*time.Second).Truncate(time.Millisecond),
		Temperature: 20 + 5*r.NormFloat64(),
		Lat:         30 + 30*r.Float64(),
		Lon:         -10 + 40*r.Float64(),
		Status:      g.pick([]string{"OK", "WARN", "FAIL"}, []float64{0.7, 0.2, 0.1}),
		Model:       g.pick([]string{"X100", "X200", "X300"}, []float64{0.5, 0.3, 0.2}),
		Vendor:      g.pick([]string{"acme", "globex", "initech"}, []float64{0.5, 0.3, 0.2}),
		Site:        g.pick(fleetSites, fleetSiteWeights),
		Attributes:  map[string]string{"owner": g.pick([]string{"ops", "lab"}, []float64{0.8, 0.2})},
		trend:       r.NormFloat64(),
		noise:       r.NormFloat64(),
	}
	n := 4
	if r.Float64() < 0.03 {
		n = 3
	}
	for k := range n {
		rd.Window = append(rd.Window, rd.Temperature+rd.trend*float64(k-3)+0.1*r.NormFloat64())
	}
	if fw := g.pick([]string{"1.0", "1.1", "2.0", ""}, []float64{0.3, 0.4, 0.25, 0.05}); fw != "" {
		rd.Attributes["firmware"] = fw
	}
	if r.Float64() < 0.7 {
		off := 2*r.Float64() - 1
		rd.Calibration = &off
	}
	if r.Float64() < 0.8 {
		h := 30 + 50*r.Float64()
		rd.Humidity = &h
	}
	return rd
}

// anomaly is the label of the trainer tests: it depends on the status,
// the site, the firmware (a map value), the device model (an enum in a
// nested record), the latitude (a nested double), the window's trend, the
// hour of day and the calibration (a nullable nested record), and little
// on the plain numbers, so a model that cannot read the former is visibly
// worse.
func (rd fleetReading) anomaly() bool {
	risk := -2.5
	switch rd.Status {
	case "FAIL":
		risk += 2.5
	case "WARN":
		risk += 1
	}
	if rd.Site == "site-03" || rd.Site == "site-07" {
		risk += 2
	}
	if rd.Attributes["firmware"] == "1.0" {
		risk += 1.5
	}
	if rd.Model == "X300" {
		risk += 1.5
	}
	if rd.Lat > 50 {
		risk += 1
	}
	if rd.trend > 0.7 {
		risk += 1.2
	}
	if rd.TS.UTC().Hour() < 6 {
		risk += 1
	}
	if rd.Calibration != nil && *rd.Calibration > 0.5 {
		risk += 0.8
	}
	return risk+0.5*rd.noise > 0
}

// condition is the class of the import test's scikit-learn model: it
// depends on the status (an enum), the vendor (a string in a nested record)
// and two numbers, one of them nested.
func (rd fleetReading) condition() string {
	risk := 0.3*(rd.Temperature-20) + 0.05*(rd.Lat-45) + 0.7*rd.noise
	switch rd.Status {
	case "FAIL":
		risk += 2
	case "WARN":
		risk += 1
	}
	switch rd.Vendor {
	case "initech":
		risk += 1.5
	case "globex":
		risk -= 1
	}
	switch {
	case risk > 1.5:
		return "failing"
	case risk > 0.3:
		return "degraded"
	}
	return "ok"
}

// native is the reading in goavro's native form for the fleet schema.
func (rd fleetReading) native() map[string]any {
	window := make([]any, len(rd.Window))
	for i, v := range rd.Window {
		window[i] = v
	}
	attrs := make(map[string]any, len(rd.Attributes))
	for k, v := range rd.Attributes {
		attrs[k] = v
	}
	var cal, hum any
	if rd.Calibration != nil {
		cal = goavro.Union("io.streamscore.fleet.Calibration", map[string]any{"offset": *rd.Calibration})
	}
	if rd.Humidity != nil {
		hum = goavro.Union("double", *rd.Humidity)
	}
	return map[string]any{
		"device_id":   rd.DeviceID,
		"ts":          rd.TS,
		"temperature": rd.Temperature,
		"location":    map[string]any{"lat": rd.Lat, "lon": rd.Lon},
		"status":      rd.Status,
		"device":      map[string]any{"model": rd.Model, "vendor": rd.Vendor},
		"site":        rd.Site,
		"window":      window,
		"attributes":  attrs,
		"calibration": cal,
		"humidity":    hum,
	}
}

// read is the test's own reading of a feature path: present is false for
// a null or absent value.
func (rd fleetReading) read(t *testing.T, path string) (value any, present bool) {
	t.Helper()
	switch path {
	case "temperature":
		return rd.Temperature, true
	case "location.lat":
		return rd.Lat, true
	case "location.lon":
		return rd.Lon, true
	case "status":
		return rd.Status, true
	case "device.model":
		return rd.Model, true
	case "device.vendor":
		return rd.Vendor, true
	case "site":
		return rd.Site, true
	case "window":
		return rd.Window, true
	case "attributes.firmware":
		v, ok := rd.Attributes["firmware"]
		return v, ok
	case "ts":
		return rd.TS, true
	case "calibration.offset":
		if rd.Calibration == nil {
			return nil, false
		}
		return *rd.Calibration, true
	case "humidity":
		if rd.Humidity == nil {
			return nil, false
		}
		return *rd.Humidity, true
	}
	t.Fatalf("the test reads no path %q", path)
	return nil, false
}

// specFeature is a spec column as design.md documents its JSON; the test
// reads the spec through JSON so that it checks the documented names and
// not only the Go ones.
type specFeature struct {
	Field           string   `json:"field"`
	Default         *float64 `json:"default"`
	Categories      []string `json:"categories"`
	Unknown         string   `json:"unknown"`
	UnknownCategory string   `json:"unknown_category"`
	Length          int      `json:"length"`
	Pad             *float64 `json:"pad"`
	Part            string   `json:"part"`
}

type specDoc struct {
	Labels []string `json:"labels"`
	Inputs []struct {
		Name   string        `json:"name"`
		Type   string        `json:"type"`
		Fields []specFeature `json:"fields"`
	} `json:"inputs"`
}

func parseSpecDoc(t *testing.T, spec any) specDoc {
	t.Helper()
	var doc specDoc
	if err := json.Unmarshal([]byte(mustJSON(t, spec)), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// encode maps a reading onto columns by the documented rules (design.md
// §2), or returns the dead-letter class the scorer must give it.
//
// Category codes: i for categories[i], len(categories) for other,
// len(categories)+1 for null or absent. unknown: "other" (the default),
// "category" (unknown_category's code) or "dead_letter". An array with a
// length is that many columns, padded with pad when shorter and refused
// without one (short_array); a longer one is refused (wrong_type). A
// timestamp's part is of its UTC time, Monday 0.
func (rd fleetReading) encode(t *testing.T, features []specFeature) (row []float32, deadLetter string) {
	t.Helper()
	for _, f := range features {
		v, present := rd.read(t, f.Field)
		switch {
		case f.Categories != nil:
			code := -1
			switch {
			case !present:
				code = len(f.Categories) + 1
			default:
				code = slices.Index(f.Categories, v.(string))
			}
			if code < 0 {
				switch f.Unknown {
				case "", "other":
					code = len(f.Categories)
				case "category":
					code = slices.Index(f.Categories, f.UnknownCategory)
					if code < 0 {
						t.Fatalf("%s: unknown_category %q is not in the table %v", f.Field, f.UnknownCategory, f.Categories)
					}
				case "dead_letter":
					return nil, "unknown_category"
				default:
					t.Fatalf("%s: unknown %q", f.Field, f.Unknown)
				}
			}
			row = append(row, float32(code))
		case f.Length > 0:
			arr := v.([]float64)
			if len(arr) > f.Length {
				return nil, "wrong_type"
			}
			if len(arr) < f.Length && f.Pad == nil {
				return nil, "short_array"
			}
			for k := range f.Length {
				x := 0.0
				if k < len(arr) {
					x = arr[k]
				} else {
					x = *f.Pad
				}
				row = append(row, float32(x))
			}
		case f.Part != "":
			ts := v.(time.Time).UTC()
			switch f.Part {
			case "hour_of_day":
				row = append(row, float32(ts.Hour()))
			case "day_of_week":
				row = append(row, float32((int(ts.Weekday())+6)%7))
			default:
				t.Fatalf("%s: part %q", f.Field, f.Part)
			}
		default:
			if !present {
				if f.Default == nil {
					return nil, "missing_feature"
				}
				row = append(row, float32(*f.Default))
				continue
			}
			switch x := v.(type) {
			case float64:
				row = append(row, float32(x))
			case time.Time:
				row = append(row, float32(x.UnixMilli()))
			default:
				t.Fatalf("%s: the test has no numeric reading of %T", f.Field, v)
			}
		}
	}
	return row, ""
}

// withinParity applies the parity rule of the day (internal/fit's
// scoreAllowance for a class probability): relative 1e-5 of want, but no
// less than float32's smallest normal number.
func withinParity(got, want float64) bool {
	return math.Abs(got-want) <= math.Max(1e-5*math.Abs(want), 0x1p-126)
}

// asFloat reads an Avro float or double.
func asFloat(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	}
	t.Fatalf("score %v is a %T", v, v)
	return 0
}
