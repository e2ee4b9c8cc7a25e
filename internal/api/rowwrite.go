package api

import (
	"math"

	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// write writes a kept row's columns into rec at their paths, as the
// trainer reads a record: numbers as float32, categories as their values,
// a short array as short as it came, a timestamp's parts as a time that
// has them. Missing values are left out (a missing category is null).
func (s rowSchema) write(values []float32, missing func(col int) bool, category func(cat int, index float32) string, rec map[string]any) {
	for _, f := range s.features {
		cols := values[f.col : f.col+f.width]
		switch f.kind {
		case fit.CategoryFeature:
			if missing(f.col) {
				_ = f.path.Put(rec, nil)
			} else {
				_ = f.path.Put(rec, category(f.cat, cols[0]))
			}
		case fit.ArrayFeature:
			n := 0
			for n < f.width && !missing(f.col+n) {
				n++
			}
			if n == 0 && !math.IsNaN(float64(cols[0])) {
				continue // absent
			}
			items := make([]any, n)
			for k := range n {
				items[k] = cols[k]
			}
			_ = f.path.Put(rec, items)
		case fit.PartsFeature:
			if !missing(f.col) {
				_ = f.path.Put(rec, model.TimeOfParts(f.parts, cols))
			}
		default:
			if !missing(f.col) {
				_ = f.path.Put(rec, cols[0])
			}
		}
	}
}
