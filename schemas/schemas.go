// Package schemas embeds the Avro schemas in this directory, so the demo,
// the tests and the benchmark register exactly the files users read.
package schemas

import _ "embed"

var (
	// SensorReading is sensor_reading.avsc.
	//go:embed sensor_reading.avsc
	SensorReading string
	// TextMessage is text_message.avsc.
	//go:embed text_message.avsc
	TextMessage string
	// Prediction is prediction.avsc, the field the scorer appends.
	//go:embed prediction.avsc
	Prediction string
	// Monitor is monitor.avsc, the record of one monitoring window
	// (drift or online metrics) the scorer writes to <topic>.monitor.
	//go:embed monitor.avsc
	Monitor string
)
