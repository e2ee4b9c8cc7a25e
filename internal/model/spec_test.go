package model_test

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// validSpec is a spec every Validate row starts from and breaks one way.
func validSpec() model.Spec {
	return model.Spec{
		Name:   "sensor-anomaly",
		Task:   model.Classification,
		Labels: []string{"normal", "anomaly"},
		Inputs: []model.Input{
			{Name: "features", Fields: columns("temperature", "humidity")},
			{Name: "text", Type: model.StringInput, Fields: columns("note")},
		},
		Outputs: model.Outputs{Scores: "probabilities"},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*model.Spec)
		wantErr string // "" when the spec is valid
	}{
		{"valid", func(*model.Spec) {}, ""},
		{"label-only classifier needs no labels", func(s *model.Spec) {
			s.Labels, s.Outputs = nil, model.Outputs{Label: "label"}
		}, ""},
		{"regressor", func(s *model.Spec) {
			s.Task, s.Labels, s.Outputs = model.Regression, nil, model.Outputs{Value: "variable"}
		}, ""},
		{"explicit float type", func(s *model.Spec) { s.Inputs[0].Type = model.FloatInput }, ""},
		{"no name", func(s *model.Spec) { s.Name = "" }, "name is empty"},
		{"no task", func(s *model.Spec) { s.Task = "" }, `task "" is neither`},
		{"bad task", func(s *model.Spec) { s.Task = "clustering" }, `task "clustering" is neither "classification" nor "regression"`},
		{"classifier without outputs", func(s *model.Spec) { s.Outputs = model.Outputs{Value: "v"} }, "a classifier needs outputs.scores or outputs.label"},
		{"classifier with scores and no labels", func(s *model.Spec) { s.Labels = nil }, "at least two labels, got 0"},
		{"classifier with scores and one label", func(s *model.Spec) { s.Labels = []string{"only"} }, "at least two labels, got 1"},
		{"regressor without value", func(s *model.Spec) { s.Task = model.Regression }, "a regressor needs outputs.value"},
		{"no inputs", func(s *model.Spec) { s.Inputs = nil }, "no inputs"},
		{"input without name", func(s *model.Spec) { s.Inputs[1].Name = "" }, "an input has no name"},
		{"duplicate input", func(s *model.Spec) { s.Inputs[1] = s.Inputs[0] }, `input "features" is mapped twice`},
		{"input without fields", func(s *model.Spec) { s.Inputs[0].Fields = nil }, `input "features" has no fields`},
		{"string input with two fields", func(s *model.Spec) {
			s.Inputs[1].Fields = columns("note", "subject")
		}, `string input "text" takes exactly one field, got 2`},
		{"string input with a default", func(s *model.Spec) {
			zero := 0.0
			s.Inputs[1].Fields[0].Default = &zero
		}, `string input "text": field "note" cannot have a numeric default`},
		{"unknown input type", func(s *model.Spec) { s.Inputs[0].Type = "double" }, `input "features" has type "double"; want "float" or "string"`},
		{"column without field", func(s *model.Spec) { s.Inputs[0].Fields[1].Field = "" }, `input "features" column 1 has no field name`},
		{"negative max_text_bytes", func(s *model.Spec) { s.MaxTextBytes = -1 }, "max_text_bytes is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := validSpec()
			tt.edit(&spec)
			err := spec.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			requireErr(t, err, model.ErrBadSpec, tt.wantErr)
		})
	}
}

func TestParseSpec(t *testing.T) {
	const valid = `{"name": "m", "task": "classification", "labels": ["a", "b"],
		"inputs": [{"name": "features", "fields": [{"field": "x"}, {"field": "y", "default": -1}]}],
		"outputs": {"scores": "probabilities"}}`
	tests := []struct {
		name    string
		json    string
		wantErr string // "" when the JSON is a valid spec
	}{
		{"valid", valid, ""},
		{"valid with trailing whitespace", valid + "\n\t \n", ""},
		{"unknown top-level field", strings.Replace(valid, `"labels"`, `"lables"`, 1), `unknown field "lables"`},
		{"unknown nested field", strings.Replace(valid, `"default"`, `"defualt"`, 1), `unknown field "defualt"`},
		{"not JSON", `name: m`, "invalid character"},
		{"empty", ``, "EOF"},
		{"wrong JSON type", strings.Replace(valid, `["a", "b"]`, `"a,b"`, 1), "labels"},
		{"trailing data", valid + `{"name": "other"}`, "after the spec"},
		{"valid JSON, invalid spec", strings.Replace(valid, `"name": "m"`, `"name": ""`, 1), "name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := model.ParseSpec([]byte(tt.json))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseSpec: %v", err)
				}
				want := -1.0
				if spec.Name != "m" || len(spec.Inputs[0].Fields) != 2 || *spec.Inputs[0].Fields[1].Default != want {
					t.Fatalf("ParseSpec decoded %+v", spec)
				}
				return
			}
			requireErr(t, err, model.ErrBadSpec, tt.wantErr)
		})
	}
}

func TestSpecMarshalRoundTrip(t *testing.T) {
	spec := validSpec()
	spec.Version = "3"
	zero := 0.0
	spec.Inputs[0].Fields[1].Default = &zero
	spec.AllowNonFinite, spec.MaxTextBytes = true, 512
	// A default of zero must survive, as it is not the same as no
	// default: the round trip compares the pointers' values.
	checkRoundTrip(t, spec)
	if errors.Is(spec.Validate(), model.ErrBadSpec) {
		t.Error("the round-trip spec is invalid")
	}
}

// TestValidateFeatures checks the options of a feature: paths, arrays,
// categories and time parts, each refusal naming the input and the feature.
func TestValidateFeatures(t *testing.T) {
	one := func(f model.Feature) func(*model.Spec) {
		return func(s *model.Spec) { s.Inputs[0].Fields[1] = f }
	}
	text := func(f model.Feature) func(*model.Spec) {
		return func(s *model.Spec) { s.Inputs[1].Fields[0] = f }
	}
	pad, def := 0.0, 1.0
	tests := []struct {
		name    string
		edit    func(*model.Spec)
		wantErr string // "" when valid; else what follows `input "..." field "...": `
	}{
		{"nested path", one(model.Feature{Field: "location.lat"}), ""},
		{"map key", one(model.Feature{Field: `attributes["fw.version"]`}), ""},
		{"array index", one(model.Feature{Field: "window[3]"}), ""},
		{"whole array", one(model.Feature{Field: "window", Length: 8}), ""},
		{"whole array padded", one(model.Feature{Field: "window", Length: 8, Pad: &pad}), ""},
		{"whole array of the most columns", one(model.Feature{Field: "window", Length: model.MaxArrayLength}), ""},
		{"whole array with a default", one(model.Feature{Field: "window", Length: 2, Default: &def}), ""},
		{"categories", one(model.Feature{Field: "status", Categories: []string{"OK", "WARN"}}), ""},
		{"empty string category", one(model.Feature{Field: "status", Categories: []string{""}}), ""},
		{"unknown other", one(model.Feature{Field: "site", Categories: []string{"a"}, Unknown: model.UnknownOther}), ""},
		{"unknown dead_letter", one(model.Feature{Field: "site", Categories: []string{"a"}, Unknown: model.UnknownDeadLetter}), ""},
		{"unknown category", one(model.Feature{Field: "site", Categories: []string{"a", "b"}, Unknown: model.UnknownCategory, UnknownCategory: "b"}), ""},
		{"hour of day", one(model.Feature{Field: "ts", Part: model.HourOfDay}), ""},
		{"day of week with a default", one(model.Feature{Field: "ts", Part: model.DayOfWeek, Default: &def}), ""},
		{"nested text", text(model.Feature{Field: "device.note"}), ""},
		{"the most categories", one(model.Feature{Field: "s", Categories: manyCategories(model.MaxCategories)}), ""},
		{"the most columns", func(s *model.Spec) { s.Inputs[0].Fields = arrays(model.MaxWidth / model.MaxArrayLength) }, ""},

		{"path syntax", one(model.Feature{Field: "location..lat"}), `input "features" field "location..lat": bad path syntax: "location..lat" at offset 9`},
		{"path with a space", one(model.Feature{Field: "sepal length"}), `field "sepal length": bad path syntax`},
		{"text path syntax", text(model.Feature{Field: "note["}), `input "text" field "note[": bad path syntax`},
		{"length zero with pad", one(model.Feature{Field: "w", Pad: &pad}), `input "features" field "w": pad goes with length`},
		{"negative length", one(model.Feature{Field: "w", Length: -1}), "length -1 is out of 1..4096"},
		{"length too long", one(model.Feature{Field: "w", Length: model.MaxArrayLength + 1}), "length 4097 is out of 1..4096"},
		{"array of categories", one(model.Feature{Field: "w", Length: 2, Categories: []string{"a"}}), "an array (length) is read as numbers, not categories or time parts"},
		{"array of parts", one(model.Feature{Field: "w", Length: 2, Part: model.HourOfDay}), "an array (length) is read as numbers"},
		{"unknown part", one(model.Feature{Field: "ts", Part: "minute"}), `part "minute" is neither "hour_of_day" nor "day_of_week"`},
		{"part with categories", one(model.Feature{Field: "ts", Part: model.HourOfDay, Categories: []string{"1"}}), "a time part is a number column, not categories"},
		{"empty categories", one(model.Feature{Field: "s", Categories: []string{}}), "categories is empty; a categorical feature needs at least one"},
		{"duplicate category", one(model.Feature{Field: "s", Categories: []string{"a", "b", "a"}}), `category "a" is listed twice`},
		{"categorical default", one(model.Feature{Field: "s", Categories: []string{"a"}, Default: &def}), "a categorical feature has no default: null and absent have their own code"},
		{"unknown without categories", one(model.Feature{Field: "s", Unknown: model.UnknownOther}), "unknown and unknown_category go with categories"},
		{"unknown_category without categories", one(model.Feature{Field: "s", UnknownCategory: "a"}), "unknown and unknown_category go with categories"},
		{"bad unknown", one(model.Feature{Field: "s", Categories: []string{"a"}, Unknown: "drop"}), `unknown "drop" is none of "other", "category", "dead_letter"`},
		{"unknown_category not in the table", one(model.Feature{Field: "s", Categories: []string{"a"}, Unknown: model.UnknownCategory, UnknownCategory: "z"}), `unknown_category "z" is not one of the categories`},
		{"unknown_category missing", one(model.Feature{Field: "s", Categories: []string{"a"}, Unknown: model.UnknownCategory}), `unknown_category "" is not one of the categories`},
		{"unknown_category without its policy", one(model.Feature{Field: "s", Categories: []string{"a"}, UnknownCategory: "a"}), `unknown_category goes with unknown "category"`},
		{"unknown_category beside dead_letter", one(model.Feature{Field: "s", Categories: []string{"a"}, Unknown: model.UnknownDeadLetter, UnknownCategory: "a"}), `unknown_category goes with unknown "category"`},
		{"huge index", one(model.Feature{Field: "w[2147483647]", Default: &def}), `bad path syntax: "w[2147483647]" at offset 2: an index is at most 65536`},
		{"index of ten million", one(model.Feature{Field: "w[10000000]", Default: &def}), "an index is at most 65536"},
		{"path of 8M steps", one(model.Feature{Field: "a" + strings.Repeat(".a", 8_000_000), Default: &def}), "a path is at most 1024 bytes"},
		{"path of 65 steps", one(model.Feature{Field: "a" + strings.Repeat("[0]", 64)}), "a path has at most 64 steps"},
		{"category not valid UTF-8", one(model.Feature{Field: "s", Categories: []string{"a\xff", "b"}}), `category "a\xff" is not valid UTF-8`},
		{"categories alike once JSON", one(model.Feature{Field: "s", Categories: []string{"a\xff", "a\xfe"}}), `category "a\xff" is not valid UTF-8`},
		{"too many categories", one(model.Feature{Field: "s", Categories: manyCategories(model.MaxCategories + 1)}), "65535 categories, over the 65534 a feature takes"},
		{"too many columns", func(s *model.Spec) { s.Inputs[0].Fields = arrays(model.MaxWidth/model.MaxArrayLength + 1) },
			`input "features" is 69632 columns wide, over the 65536 an input takes`},
		{"too many fields", func(s *model.Spec) { s.Inputs[0].Fields = columns(manyCategories(model.MaxWidth + 1)...) },
			`input "features" has 65537 fields, over the 65536 columns an input takes`},
		{"categories on a string input", text(model.Feature{Field: "note", Categories: []string{"a"}}), `input "text" field "note": a string input takes the text as it is; categories are read into a float input`},
		{"length on a string input", text(model.Feature{Field: "note", Length: 2}), "a string input takes one string, not an array"},
		{"part on a string input", text(model.Feature{Field: "note", Part: model.DayOfWeek}), "a string input takes text, not a part of a timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := validSpec()
			tt.edit(&spec)
			err := spec.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				for _, in := range spec.Inputs {
					if _, err := in.Reader(); err != nil {
						t.Errorf("Reader of a valid input: %v", err)
					}
				}
				return
			}
			requireErr(t, err, model.ErrBadSpec, tt.wantErr)
			// Reader refuses what Validate does, for callers that build
			// one from an input alone.
			for _, in := range spec.Inputs {
				if _, rerr := in.Reader(); rerr != nil {
					requireErr(t, rerr, model.ErrBadSpec, tt.wantErr)
					return
				}
			}
			t.Error("every input's Reader accepted what Validate refused")
		})
	}
}

// manyCategories is n distinct names, each a valid path too: c0, c1, ...
func manyCategories(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "c" + strconv.Itoa(i)
	}
	return out
}

// arrays is n whole-array features of the longest length.
func arrays(n int) []model.Feature {
	out := make([]model.Feature, n)
	for i := range out {
		out[i] = model.Feature{Field: "w" + strconv.Itoa(i), Length: model.MaxArrayLength}
	}
	return out
}

// TestMaxCategoriesFitTheTrainer holds model's bound on categories to the
// codes the trainer splits on: the categories, other and null. model does
// not import train, so the two constants are kept together here.
func TestMaxCategoriesFitTheTrainer(t *testing.T) {
	if model.MaxCategories+2 != train.MaxCategoryCodes {
		t.Errorf("MaxCategories = %d; want train.MaxCategoryCodes-2 = %d", model.MaxCategories, train.MaxCategoryCodes-2)
	}
}

// TestTimePart computes the parts of a timestamp in UTC.
func TestTimePart(t *testing.T) {
	tests := []struct {
		at   time.Time
		part string
		want float64
	}{
		{time.Date(2024, 2, 29, 13, 45, 0, 0, time.UTC), model.HourOfDay, 13},
		{time.Date(2024, 2, 29, 13, 45, 0, 0, time.UTC), model.DayOfWeek, 3},                   // Thursday
		{time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC), model.DayOfWeek, 0},                      // Monday
		{time.Date(2024, 3, 3, 23, 59, 59, 0, time.UTC), model.DayOfWeek, 6},                   // Sunday
		{time.Date(2024, 3, 4, 0, 30, 0, 0, time.FixedZone("CET", 3600)), model.HourOfDay, 23}, // 23:30 UTC
		{time.Date(2024, 3, 4, 0, 30, 0, 0, time.FixedZone("CET", 3600)), model.DayOfWeek, 6},
		{time.UnixMilli(0), model.HourOfDay, 0},
		{time.UnixMilli(0), model.DayOfWeek, 3}, // 1 January 1970 was a Thursday
	}
	for _, tt := range tests {
		got, err := model.TimePart(tt.at, tt.part)
		if err != nil || got != tt.want {
			t.Errorf("TimePart(%v, %s) = %v, %v; want %v", tt.at, tt.part, got, err, tt.want)
		}
	}
	if _, err := model.TimePart(time.Now(), "minute"); !errors.Is(err, model.ErrBadSpec) {
		t.Errorf("TimePart of an unknown part = %v; want ErrBadSpec", err)
	}
}

// TestSpecFeaturesRoundTrip keeps every feature option through the JSON a
// model's metadata holds, and a flat spec's JSON as it was.
func TestSpecFeaturesRoundTrip(t *testing.T) {
	pad := -1.0
	spec := validSpec()
	spec.Inputs[0].Fields = []model.Feature{
		{Field: "location.lat"},
		{Field: "window", Length: 8, Pad: &pad},
		{Field: "status", Categories: []string{"OK", "WARN"}, Unknown: model.UnknownCategory, UnknownCategory: "OK"},
		{Field: "ts", Part: model.DayOfWeek},
	}
	checkRoundTrip(t, spec)
	flat, err := validSpec().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	const want = `"inputs":[{"name":"features","fields":[{"field":"temperature"},{"field":"humidity"}]},{"name":"text","type":"string","fields":[{"field":"note"}]}]`
	if !strings.Contains(flat, want) {
		t.Errorf("a flat spec marshals as %s; want its inputs as before: %s", flat, want)
	}
}

// TestTimeOfPartsReadsBackItsParts: a time built from parts gives those
// parts back through TimePart, and a value that is no part is a null.
func TestTimeOfPartsReadsBackItsParts(t *testing.T) {
	parts := []string{model.HourOfDay, model.DayOfWeek}
	for day := range 7 {
		for hour := range 24 {
			tm, ok := model.TimeOfParts(parts, []float32{float32(hour), float32(day)}).(time.Time)
			if !ok {
				t.Fatalf("hour %d day %d: not a time", hour, day)
			}
			h, _ := model.TimePart(tm, model.HourOfDay)
			d, _ := model.TimePart(tm, model.DayOfWeek)
			if h != float64(hour) || d != float64(day) {
				t.Fatalf("hour %d day %d read back as %v %v", hour, day, h, d)
			}
		}
	}
	for _, cols := range [][]float32{{24, 0}, {0, 7}, {-1, 0}, {1.5, 0}, {0, float32(math.NaN())}} {
		if v := model.TimeOfParts(parts, cols); v != nil {
			t.Errorf("parts %v: %v, want null", cols, v)
		}
	}
}

// checkRoundTrip fails t unless spec comes back unchanged from Marshal and
// ParseSpec.
func checkRoundTrip(t *testing.T, spec model.Spec) {
	t.Helper()
	text, err := spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := model.ParseSpec([]byte(text))
	if err != nil {
		t.Fatalf("ParseSpec(Marshal()): %v", err)
	}
	if !reflect.DeepEqual(got, spec) {
		t.Errorf("round trip changed the spec:\n got %+v\nwant %+v", got, spec)
	}
}
