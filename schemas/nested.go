package schemas

import _ "embed"

var (
	// SensorReadingNested is sensor_reading_nested.avsc: the sensor
	// reading's measurements beside nested records, enums, a categorical
	// string, an array, a map and nullable unions, twice the flat reading's
	// data, as `make bench` scores side by side with the flat SensorReading.
	//
	//go:embed sensor_reading_nested.avsc
	SensorReadingNested string
	// SensorReadingGrouped is sensor_reading_nested_grouped.avsc: the flat
	// SensorReading's values grouped in nested records (a nullable one
	// among them), with a site and a status, the two categorical features:
	// what `make bench` holds to the 15% beside the flat record,
	// nesting and categories without more data.
	//
	//go:embed sensor_reading_nested_grouped.avsc
	SensorReadingGrouped string
)
