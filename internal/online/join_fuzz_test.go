package online

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// FuzzJoin feeds the join events decoded from the input, four bytes each,
// and checks that it neither panics nor breaks its accounting or budget.
// The first bytes choose the configuration.
func FuzzJoin(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0})
	// Label before prediction, then duplicate label, then flush.
	f.Add([]byte{1, 10, 1, 3, 1, 20, 2, 1, 5, 0, 0, 1, 1, 0, 2, 1, 5, 0, 4, 0, 0, 0, 200, 0})
	// A tiny budget evicting everything: prediction larger than the budget.
	f.Add([]byte{0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 2, 0, 0, 0, 3, 0, 0, 255})
	// Regression, times far before the epoch and far after.
	f.Add([]byte{2, 3, 4, 5, 1, 255, 0, 0, 2, 255, 255, 255, 0, 128, 255, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 {
			return
		}
		cfg := Config{Task: TaskClassification, Labels: []string{"no", "yes"}}
		switch data[0] % 3 {
		case 1:
			cfg.Labels = append(cfg.Labels, "maybe")
		case 2:
			cfg = Config{Task: TaskRegression}
		}
		cfg.Budget = 1 + int64(data[1])*64
		cfg.Window = time.Duration(1+data[2]) * time.Second
		cfg.LabelWait = time.Duration(data[3]) * time.Second
		cfg.PairCap = 1 + int(data[0]/3)
		j := mustJoin(t, cfg)
		var labels int64
		for i := 4; i+4 <= len(data); i += 4 {
			op, key, sec, x := data[i], data[i+1], data[i+2], data[i+3]
			when := t0.Add(time.Duration(int8(sec)) * time.Duration(1+int(x)%5) * time.Second)
			k := fmt.Sprintf("k%d", key%16)
			switch op % 4 {
			case 0:
				j.Flush(when)
			case 1:
				j.AddPrediction(Prediction{
					Key: k, Version: fmt.Sprintf("v%d", op/4%3), Role: []string{RoleChampion, RoleShadow, ""}[x%3],
					Label: []string{"no", "yes", "maybe", ""}[x%4], Score: float64(x) / 255,
					Scores: []float64{float64(x) / 255, 1 - float64(x)/255, math.NaN()}[:int(op/16)%4], At: when,
				})
			default:
				labels++
				j.AddLabel(Label{Key: k, Class: []string{"no", "yes", "maybe"}[x%3], Value: float64(int8(x)), At: when})
			}
			if err := checkInvariants(j, labels); err != nil {
				t.Fatalf("after event %d: %v", i/4, err)
			}
		}
		j.Flush(t0.Add(24 * time.Hour))
		if err := checkInvariants(j, labels); err != nil {
			t.Fatalf("after the last flush: %v", err)
		}
	})
}
