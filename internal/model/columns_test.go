package model_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/avroguard"
	"github.com/streamscore/streamscore/internal/model"
)

// wantNulls is which of bodyFeatures' columns rec has null or absent:
// those that take a default or the null code.
func wantNulls(rec map[string]any) []bool {
	window := rec["window"].([]any)
	_, fw := rec["attrs"].(map[string]any)["fw"]
	nulls := make([]bool, 0, 23)
	nulls = append(nulls, false, false, false, false, false, false, false) // temp .. loc.lon
	nulls = append(nulls, rec["power"] == nil, rec["opt"] == nil)
	nulls = append(nulls, false, false, false, false) // the whole window, padded
	nulls = append(nulls, len(window) < 2, !fw)
	nulls = append(nulls, false, false, false, false, rec["note"] == nil) // site .. note
	return append(nulls, false, false, false)                             // ts and its parts
}

// TestNumbersSayWhichColumnsWereNull: a scored row's columns come back
// with the very values the model was fed, and a null flag set exactly on
// the columns whose value was null or absent, whether the row was read
// from the body or from goavro's record.
func TestNumbersSayWhichColumnsWereNull(t *testing.T) {
	fx := newBodyFixture(t)
	m := bodyModel(t, bodyFeatures(model.UnknownOther))
	fromBody, fromRecord := newBatch(t, m), newBatch(t, m)
	rng := rand.New(rand.NewPCG(3, 5))
	var recs []map[string]any
	for range 64 {
		rec := randomReading(rng)
		body, err := fx.codec.BinaryFromNative(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.guard.Check(body, avroguard.Limits{}); err != nil {
			t.Fatal(err)
		}
		if !fromBody.AddBody(fx.tree, body) {
			t.Fatalf("AddBody declined %v", rec)
		}
		if err := fromRecord.Add(fx.decode(t, body)); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	fed := scores(t, m, fromRecord)
	nulls := 0
	for name, b := range map[string]*model.Batch{"body": fromBody, "record": fromRecord} {
		for row, rec := range recs {
			values, got := b.Numbers(0, row)
			if !sameBits(values, fed[row]) {
				t.Fatalf("%s row %d: Numbers %v, the model was fed %v", name, row, values, fed[row])
			}
			if want := wantNulls(rec); !slices.Equal(got, want) {
				t.Fatalf("%s row %d: nulls %v, want %v (record %v)", name, row, got, want, rec)
			}
			for _, n := range got {
				if n {
					nulls++
				}
			}
		}
	}
	if nulls == 0 {
		t.Fatal("no row had a null: the test shows nothing")
	}
}

// TestNumbersDropARemovedRow: RemoveLast and a refused Add take the null
// flags back with the row, so the next row's flags are its own.
func TestNumbersDropARemovedRow(t *testing.T) {
	m := bodyModel(t, []model.Feature{{Field: "a", Default: ptr(0)}, {Field: "b", Default: ptr(0)}})
	b := newBatch(t, m)
	if err := b.Add(map[string]any{"a": nil, "b": nil}); err != nil {
		t.Fatal(err)
	}
	b.RemoveLast()
	if err := b.Add(map[string]any{"a": 1.0, "b": "not a number"}); err == nil {
		t.Fatal("Add took a string for a number")
	}
	if err := b.Add(map[string]any{"a": 2.0, "b": nil}); err != nil {
		t.Fatal(err)
	}
	values, nulls := b.Numbers(0, 0)
	if !slices.Equal(values, []float32{2, 0}) || !slices.Equal(nulls, []bool{false, true}) {
		t.Fatalf("row 0: %v %v, want [2 0] [false true]", values, nulls)
	}
}

// TestTextOfAScoredRow: a string input's row is its text, and a float
// input of the same model has no text.
func TestTextOfAScoredRow(t *testing.T) {
	spec := mixedSpec(false)
	m := load(t, encode(t, mixedGraph(), &spec), model.Options{})
	b := newBatch(t, m)
	rec := map[string]any{"x": 1.0, "y": 2.0, "body": "hello"}
	if err := b.Add(rec); err != nil {
		t.Fatal(err)
	}
	for i, in := range m.Spec().Inputs {
		values, _ := b.Numbers(i, 0)
		if in.Type == model.StringInput {
			if got := b.Text(i, 0); got != "hello" || values != nil {
				t.Fatalf("text input: Text %q, Numbers %v", got, values)
			}
			continue
		}
		if b.Text(i, 0) != "" || len(values) != in.Width() {
			t.Fatalf("float input %q: Text %q, Numbers %v", in.Name, b.Text(i, 0), values)
		}
	}
}

// TestAddBodyAllocatesNothing: once the batch has met the schema, reading
// a body (null flags included) allocates nothing.
func TestAddBodyAllocatesNothing(t *testing.T) {
	fx := newBodyFixture(t)
	m := bodyModel(t, bodyFeatures(model.UnknownOther))
	b := newBatch(t, m)
	rec := randomReading(rand.New(rand.NewPCG(1, 2)))
	rec["power"], rec["window"] = goavro.Union("io.fleet.Power", map[string]any{"volts": 3.0}), []any{1.0, 2.0}
	body, err := fx.codec.BinaryFromNative(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	add := func() {
		if b.Full() {
			b.Reset()
		}
		if !b.AddBody(fx.tree, body) {
			t.Fatal("AddBody declined")
		}
	}
	add()
	if n := testing.AllocsPerRun(200, add); n != 0 {
		t.Fatalf("AddBody allocated %v times a row", n)
	}
}
