package fit_test

import (
	"github.com/streamscore/streamscore/internal/fit/fittest"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/testkit"
)

// Helpers shared with the tests of jobs.
var (
	sensorRows  = testkit.SensorRows
	gbdtOptions = fittest.GBDTOptions
	mustJSON    = fittest.MustJSON
	learntTable = fittest.LearntTable
)

// nonZeroCounts is counts without its zero entries.
var nonZeroCounts = testkit.NonZero

// textRows generates labelled messages, with "spam" or "ham" in "label".
func textRows(seed uint64, n int) []map[string]any {
	gen := sample.NewTexts(seed, 0.3)
	rows := make([]map[string]any, n)
	for i := range rows {
		rec, spam := gen.Next()
		rec["label"] = map[bool]string{true: "spam", false: "ham"}[spam]
		rows[i] = rec
	}
	return rows
}
