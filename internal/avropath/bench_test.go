package avropath_test

import (
	"testing"
)

// BenchmarkRead reads one path of each shape from a decoded record. Read
// runs once per feature per record in the scorer: it must not allocate.
func BenchmarkRead(b *testing.B) {
	rec := record()
	for _, path := range []string{
		"temperature",     // flat, as specs were before paths
		"location.lat",    // a nested record
		"place.depth",     // a nullable record, then a nullable double
		"attributes.zone", // a map key
		`attributes["fw.version"]`,
		"window[2]",          // an array element
		"opt_window[1]",      // a nullable array of nullable doubles
		"points[1].x",        // a record in an array
		"attributes.missing", // absent
	} {
		p := mustParse(b, path)
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := p.Read(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestReadDoesNotAllocate(t *testing.T) {
	rec := record()
	for _, path := range []string{"temperature", "location.lat", "place.depth", "attributes.zone", "window[2]", "opt_window[1]", "points[1].x", "attributes.missing", "no_place.name"} {
		p := mustParse(t, path)
		if n := testing.AllocsPerRun(100, func() { _, _, _ = p.Read(rec) }); n != 0 {
			t.Errorf("Read %s: %.0f allocations; want 0", path, n)
		}
	}
}
