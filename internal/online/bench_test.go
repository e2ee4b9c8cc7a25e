package online

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkJoin measures one record's way through the join: its
// predictions added, then its label, which matches them, with a flush every
// thousand records. Every record has a new key, built in the loop (one of
// the allocations reported). The budgets make the join evict, as it does
// in its steady state.
func BenchmarkJoin(b *testing.B) {
	variants := []struct {
		name    string
		budget  int64
		shadow  bool
		pending int // records predicted ahead of their label
	}{
		{"champion, 64MiB", 64 << 20, false, 1000},
		{"champion and shadow, 64MiB", 64 << 20, true, 1000},
		{"champion and shadow, 1MiB", 1 << 20, true, 1000},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			cfg := binaryConfig()
			cfg.Budget = v.budget
			cfg.LabelWait = time.Minute
			j := mustJoin(b, cfg)
			key := func(i int) string { return "record-" + strconv.Itoa(i) }
			predict := func(i int) {
				p := Prediction{Key: key(i), Version: "v1", Role: RoleChampion, Label: "yes", Score: 0.7, At: at(float64(i) / 1000)}
				j.AddPrediction(p)
				if v.shadow {
					p.Version, p.Role, p.Score = "v2", RoleShadow, 0.6
					j.AddPrediction(p)
				}
			}
			for i := range v.pending {
				predict(i)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				predict(i + v.pending)
				j.AddLabel(Label{Key: key(i), Class: []string{"no", "yes"}[i%2], At: at(float64(i)/1000 + 1)})
				if i%1000 == 999 {
					j.Flush(at(float64(i)/1000 + 1))
				}
				i++
			}
			if s := j.Stats(); s.Duplicate+s.Late+s.Unmatched > 0 {
				b.Fatalf("labels went unmatched: %+v", s)
			}
		})
	}
}
