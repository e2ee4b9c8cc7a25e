package avropath_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/testkit"
)

// FuzzParse checks that Parse never panics, and that what it accepts
// prints to a canonical form that parses back to the same path.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"a", "a.b", "a[0]", `a["k.j"]`, `a["\u0000"]`, `a["\ud800"]`, `a["\ud83d\ude00"]`, `a["\\ud800"]`, "a[01]", "a[65536]", "a[65537]", "a[2147483648]",
		"a..b", "a[", `a["`, `a["\"]`, "a.b[3].c", `m["x"][1]["y"]`, "", ".", "[", "é", "a\x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := avropath.Parse(s)
		if err != nil {
			if !errors.Is(err, avropath.ErrSyntax) {
				t.Fatalf("Parse(%q) = %v; not ErrSyntax", s, err)
			}
			return
		}
		again, err := avropath.Parse(p.String())
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, p.String(), err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("Parse(%q).String() = %q parses to another path", s, p.String())
		}
	})
}

// FuzzRead reads random paths from random nested values of the shapes
// goavro decodes to: Read and Missing, ReadJSON and MissingJSON never
// panic, and fail only with ErrShape.
func FuzzRead(f *testing.F) {
	f.Add([]byte{1, 12, 1, 1, 12, 1, 1, 1, 7}, "a.b")
	f.Add([]byte{1, 14, 3, 12, 1, 1, 1, 1}, "a[1].b")
	f.Add([]byte{1, 12, 1, 6, 13, 1, 1, 1, 2}, `a["double"].b`)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 1, 14, 2, 14, 2, 1, 1}, "double[0][1]")
	f.Add([]byte{1, 12, 1, 12, 1, 1}, "a.°C")
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		p, err := avropath.Parse(path)
		if err != nil {
			return
		}
		rec := testkit.NewNativeValues(data).Record()
		v, present, err := p.Read(rec)
		if err != nil {
			if !errors.Is(err, avropath.ErrShape) || present {
				t.Fatalf("Read = %v, %v; want ErrShape", present, err)
			}
			return
		}
		if !present {
			if v != nil {
				t.Fatalf("Read = %#v, not present", v)
			}
			if p.Missing(rec) == "" {
				t.Fatal("Missing says nothing")
			}
		}
		v, present, err = p.ReadJSON(rec)
		if err != nil {
			if !errors.Is(err, avropath.ErrShape) || present {
				t.Fatalf("ReadJSON = %v, %v; want ErrShape", present, err)
			}
			return
		}
		if !present && (v != nil || p.MissingJSON(rec) == "") {
			t.Fatalf("ReadJSON = %#v, not present; MissingJSON %q", v, p.MissingJSON(rec))
		}
	})
}
