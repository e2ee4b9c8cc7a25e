// Package sample generates realistic, deterministic records for the demo,
// the tests and the benchmark: sensor readings with labelled anomalies, and
// short text messages labelled spam or ham. The same seed always gives the
// same records, so a benchmark run and its Python twin see identical data.
package sample

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/streamscore/streamscore/schemas"
)

// SensorFeatures are the numeric fields of schemas/sensor_reading.avsc that
// a sensor model reads, in column order.
var SensorFeatures = []string{
	"temperature", "humidity", "pressure", "light", "co2",
	"vibration", "sound", "rssi", "uptime_s", "battery_volts",
}

// Sensors generates sensor readings. Most are normal; a few per hundred are
// anomalies of one of several kinds (overheating machinery, a leak, a dying
// battery, a failing radio), mixed into otherwise plausible values so that
// a model has to learn the combination and not one threshold.
type Sensors struct {
	rng         *rand.Rand
	devices     int
	anomalyRate float64
	start       time.Time
	n           int64
	// shift is added to every reading's temperature (see Shift).
	shift float64
}

// NewSensors returns a generator over devices devices.
func NewSensors(seed uint64, devices int, anomalyRate float64) *Sensors {
	return &Sensors{
		rng:         rand.New(rand.NewPCG(seed, seed^0x5eed)),
		devices:     devices,
		anomalyRate: anomalyRate,
		start:       time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// Shift moves the temperature of every later reading by degrees, on top
// of any earlier shift: the sensors have been moved to a warmer (or
// cooler) place. Anomalies are drawn as before around the new baseline,
// so a reading is an anomaly for the same reasons as before the shift; a
// model that learnt the old temperatures takes the new normal for
// overheating.
func (s *Sensors) Shift(degrees float64) { s.shift += degrees }

// Next returns the next reading as goavro's native form of
// io.streamscore.sensors.SensorReading, and whether it is an anomaly.
func (s *Sensors) Next() (map[string]any, bool) {
	r := s.rng
	device := int(s.n) % s.devices
	s.n++
	temp := 21 + s.shift + 2.5*r.NormFloat64()
	humidity := 45 + 8*r.NormFloat64()
	vibration := math.Abs(1.5 + 0.5*r.NormFloat64())
	rssi := -70 + 8*r.NormFloat64()
	volts := 3.6 + 0.08*r.NormFloat64()
	sound := 45 + 5*r.NormFloat64()

	anomaly := r.Float64() < s.anomalyRate
	if anomaly {
		switch r.IntN(4) {
		case 0: // overheating machinery: hot, shaking, loud
			temp += 9 + 4*r.Float64()
			vibration *= 2.5 + r.Float64()
			sound += 8
		case 1: // a leak: humid and cooler
			humidity += 25 + 10*r.Float64()
			temp -= 3
		case 2: // a dying battery on a weak link
			volts -= 0.6 + 0.3*r.Float64()
			rssi -= 12
		default: // a failing radio that also reboots
			rssi -= 20 + 5*r.Float64()
			vibration *= 1.8
		}
	}
	rec := map[string]any{
		"device_id":     fmt.Sprintf("dev-%04d", device),
		"ts":            s.start.Add(time.Duration(s.n) * 100 * time.Millisecond),
		"temperature":   temp,
		"humidity":      humidity,
		"pressure":      1013 + 6*r.NormFloat64(),
		"light":         math.Exp(5 + r.NormFloat64()),
		"co2":           600 + 90*r.NormFloat64(),
		"vibration":     vibration,
		"sound":         sound,
		"rssi":          int32(math.Round(rssi)),
		"uptime_s":      int64(3600 + r.IntN(86400*30)),
		"battery_volts": nil,
	}
	if device%3 != 0 { // every third device is mains powered
		rec["battery_volts"] = map[string]any{"double": volts}
	}
	return rec, anomaly
}

// LabelledSensorSchema is schemas/sensor_reading.avsc with the label as a
// last field, the boolean "anomaly": the schema of a history topic, the
// readings with their truth, that a trainer learns from.
func LabelledSensorSchema() (string, error) {
	var s map[string]any
	if err := json.Unmarshal([]byte(schemas.SensorReading), &s); err != nil {
		return "", err
	}
	fields, ok := s["fields"].([]any)
	if !ok {
		return "", errors.New("the sensor reading schema has no fields")
	}
	s["name"] = "LabelledSensorReading"
	s["fields"] = append(fields, map[string]any{"name": "anomaly", "type": "boolean", "default": false,
		"doc": "Whether the reading is an anomaly: its truth, known when the history is written."})
	b, err := json.Marshal(s)
	return string(b), err
}
