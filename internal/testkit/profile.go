package testkit

import (
	"testing"

	"github.com/streamscore/streamscore/internal/catalog"
)

// AssertProfile fails t unless v carries a drift reference of trainRows
// training rows that describes its spec: one feature per column, each of
// the spec's (drift's Profile.Check).
func AssertProfile(t testing.TB, v catalog.Version, trainRows int) {
	t.Helper()
	p := v.Profile
	if p == nil {
		t.Fatalf("%s v%d has no drift profile", v.Name, v.Version)
	}
	if p.Rows != int64(trainRows) {
		t.Errorf("%s v%d: profile of %d rows, trained on %d", v.Name, v.Version, p.Rows, trainRows)
	}
	if err := p.Check(v.Spec); err != nil {
		t.Errorf("%s v%d: %v", v.Name, v.Version, err)
	}
	width := 0
	for _, in := range v.Spec.Inputs {
		width += in.Width()
	}
	if len(p.Features) != width {
		t.Errorf("%s v%d: profile of %d features, the spec has %d columns", v.Name, v.Version, len(p.Features), width)
	}
}
