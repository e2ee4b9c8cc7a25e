package schemas

import _ "embed"

// SensorReadingNested is sensor_reading_nested.avsc: the sensor reading's
// measurements beside nested records, enums, a categorical string, an array,
// a map and nullable unions, as `make bench` scores side by side with the
// flat SensorReading.
//
//go:embed sensor_reading_nested.avsc
var SensorReadingNested string
