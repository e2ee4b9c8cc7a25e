package jobs_test

import (
	"github.com/streamscore/streamscore/internal/fit/fittest"
	"github.com/streamscore/streamscore/internal/testkit"
)

// Helpers shared with the tests of fit.
var (
	sensorRows           = testkit.SensorRows
	labelledSensorSchema = testkit.LabelledSensorSchema
	gbdtOptions          = fittest.GBDTOptions
	mustJSON             = fittest.MustJSON
	learntTable          = fittest.LearntTable
)
