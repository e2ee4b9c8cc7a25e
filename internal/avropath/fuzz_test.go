package avropath_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/avropath"
)

// FuzzParse checks that Parse never panics, and that what it accepts
// prints to a canonical form that parses back to the same path.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"a", "a.b", "a[0]", `a["k.j"]`, `a["\u0000"]`, `a["\ud800"]`, "a[01]", "a[2147483648]",
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
// goavro decodes to: Read and Missing never panic, and fail only with
// ErrShape.
func FuzzRead(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, "a.b[0]")
	f.Add([]byte{5, 5, 5, 5, 5, 5, 5}, "a[1].b")
	f.Add([]byte{6, 0, 6, 1, 7, 2}, `a["double"]`)
	f.Add([]byte{8, 6, 6, 6, 1}, "double.a[0][1]")
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		p, err := avropath.Parse(path)
		if err != nil {
			return
		}
		g := &gen{data: data}
		rec, _ := g.value(0).(map[string]any)
		if rec == nil {
			rec = map[string]any{"a": g.value(0)}
		}
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
	})
}

// gen builds a value from fuzz bytes: scalars of every Go type goavro
// decodes to, records and maps (with keys that look like union branches),
// union wrappers, arrays.
type gen struct {
	data []byte
	i    int
}

func (g *gen) next() byte {
	if g.i >= len(g.data) {
		return 0
	}
	b := g.data[g.i]
	g.i++
	return b
}

var keys = []string{"a", "b", "double", "map", "array", "io.x.R", "long.timestamp-millis", "null", "k.j", ""}

func (g *gen) value(depth int) any {
	b := g.next()
	if depth > 6 {
		b %= 6
	}
	switch b % 10 {
	case 0:
		return nil
	case 1:
		return float64(b)
	case 2:
		return int64(b)
	case 3:
		return "s"
	case 4:
		return b%2 == 0
	case 5:
		return time.UnixMilli(int64(b))
	case 6, 7:
		n := int(g.next() % 4)
		m := make(map[string]any, n)
		for range n {
			m[keys[int(g.next())%len(keys)]] = g.value(depth + 1)
		}
		return m
	default:
		n := int(g.next() % 4)
		a := make([]any, n)
		for j := range a {
			a[j] = g.value(depth + 1)
		}
		return a
	}
}
