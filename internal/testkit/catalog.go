package testkit

import (
	"math/rand/v2"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/sample"
)

// SensorVersion is the catalog metadata of a sensor model version, trained
// on two partitions of a day of readings: what catalog tests publish.
func SensorVersion(name string) catalog.Version {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return catalog.Version{
		Name: name, Family: "gbdt", Spec: sample.SensorSpec(name, ""),
		Metrics: map[string]float64{"auc": 0.93, "logloss": 0.21},
		Source: catalog.Source{
			Topic:  "sensors",
			Ranges: []catalog.OffsetRange{{Partition: 0, Start: 0, End: 5000}, {Partition: 1, Start: 10, End: 4990}},
			From:   day, To: day.AddDate(0, 0, 1),
		},
		Params: []byte(`{"num_trees":20,"max_depth":4}`),
	}
}

// RandomBytes are n pseudo-random bytes, the same for the same seed: an
// artifact's stand-in.
func RandomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
