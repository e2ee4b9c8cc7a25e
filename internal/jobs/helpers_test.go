package jobs_test

import "github.com/streamscore/streamscore/internal/fit/fittest"

// Helpers shared with the tests of fit.
var (
	sensorRows           = fittest.SensorRows
	labelledSensorSchema = fittest.LabelledSensorSchema
	gbdtOptions          = fittest.GBDTOptions
	mustJSON             = fittest.MustJSON
	learntTable          = fittest.LearntTable
)
