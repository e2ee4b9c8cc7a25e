package online

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// checkInvariants recomputes what the join holds from its structures and
// compares it with what it accounts: the bytes charged, the counts, the
// waiting heap, and the conservation of labels (each valid label is matched,
// waiting, unmatched, late or a duplicate).
func checkInvariants(j *Join, labelsAdded int64) error {
	var bytes, preds, labels int64
	for n := j.oldest; n != nil; n = n.next {
		bytes += heldBytes(n)
		if n.isLabel {
			labels++
			if n.entry.label != n {
				return fmt.Errorf("held label of key %q is not its entry's label", n.entry.key)
			}
		} else {
			preds++
		}
	}
	for key, e := range j.entries {
		if e.key != key {
			return fmt.Errorf("entry %q filed under %q", e.key, key)
		}
		if e.label == nil && len(e.preds) == 0 {
			return fmt.Errorf("entry %q holds nothing", key)
		}
		bytes += entryBytes(key)
	}
	s := j.Stats()
	switch {
	case s.HeldBytes != bytes:
		return fmt.Errorf("charged %d bytes, holds %d", s.HeldBytes, bytes)
	case s.HeldBytes > j.cfg.Budget:
		return fmt.Errorf("holds %d bytes, over the budget of %d", s.HeldBytes, j.cfg.Budget)
	case s.HeldPredictions != preds || s.HeldLabels != labels:
		return fmt.Errorf("counts %d predictions and %d labels, holds %d and %d", s.HeldPredictions, s.HeldLabels, preds, labels)
	}
	for i, l := range j.waiting {
		if int(l.waitIndex) != i || l.matched || l.at+j.wait <= j.now {
			return fmt.Errorf("waiting label %d: index %d, matched %v, deadline passed %v", i, l.waitIndex, l.matched, l.at+j.wait <= j.now)
		}
	}
	if got := s.Invalid + s.Duplicate + s.Late + s.Unmatched + s.MatchedLabels + s.WaitingLabels; got != labelsAdded {
		return fmt.Errorf("labels: %d added, %d accounted for (%+v)", labelsAdded, got, s)
	}
	return nil
}

// randomEvents draws events over few keys, versions and seconds, so that
// every case meets the others: waits, duplicates, replacements, evictions,
// closed windows.
func randomEvents(r *rand.Rand, n int) []event {
	classes := []string{"no", "yes", "maybe"}
	var events []event
	clock := 0.0
	for range n {
		key := fmt.Sprintf("k%d", r.IntN(40))
		sec := clock + r.Float64()*20 - 10
		switch r.IntN(10) {
		case 0:
			clock += r.Float64() * 30
			events = append(events, flush(clock))
		case 1, 2, 3, 4:
			version := fmt.Sprintf("v%d", r.IntN(4))
			role := []string{RoleChampion, RoleShadow, "canary"}[r.IntN(3)]
			scores := []float64{r.Float64(), r.Float64()}
			events = append(events, event{prediction: &Prediction{
				Key: key, Version: version, Role: role, Label: classes[r.IntN(3)], Score: r.Float64(), Scores: scores[:r.IntN(3)], At: at(sec),
			}})
		default:
			clock += r.Float64()
			events = append(events, event{label: &Label{Key: key, Class: classes[r.IntN(3)], Value: r.NormFloat64(), At: at(sec)}})
		}
	}
	return events
}

func TestJoinKeepsBudgetAndAccounts(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 200 {
		cfg := binaryConfig()
		if trial%3 == 1 {
			cfg = Config{Task: TaskRegression}
		}
		cfg.Window = time.Duration(1+r.IntN(60)) * time.Second
		cfg.LabelWait = time.Duration(r.IntN(40)) * time.Second
		cfg.Budget = int64(r.IntN(8000))
		cfg.PairCap = 1 + r.IntN(20)
		j := mustJoin(t, cfg)
		var labels int64
		for i, e := range randomEvents(r, 400) {
			if e.label != nil {
				labels++
			}
			e.apply(j)
			if err := checkInvariants(j, labels); err != nil {
				t.Fatalf("trial %d (%+v), after event %d: %v", trial, cfg, i, err)
			}
		}
	}
}
