package datasets

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// ErrBadData marks a data file that does not have the expected shape.
var ErrBadData = errors.New("bad data")

// SensorEpoch is the event time of every mote's first reading: the day the
// data set names, at midnight UTC, since it gives no time of day.
var SensorEpoch = time.Date(2010, time.May, 9, 0, 0, 0, 0, time.UTC)

// SensorInterval is the time between two readings of a mote.
const SensorInterval = 5 * time.Second

// SensorFile is the data file, relative to the unpacked package.
const SensorFile = "data/data.csv"

// sensorHeader is data.csv's header, whose columns datapackage.json
// documents.
var sensorHeader = []string{"reading", "mote_id", "indoor", "humidity", "temperature", "label"}

// LoadSensors reads the sensor data set unpacked in dir.
func LoadSensors(dir string) ([]Record, error) {
	return loadFile(dir, SensorFile, "sensor", ParseSensors)
}

// ParseSensors reads data.csv: one record per reading, in file order.
func ParseSensors(r io.Reader) ([]Record, error) {
	return parseCSV(r, sensorHeader, sensorRecord)
}

func sensorRecord(row []string) (Record, error) {
	var ints [3]int
	for i, col := range []int{0, 1, 5} { // reading, mote_id, label
		v, err := strconv.Atoi(row[col])
		if err != nil {
			return Record{}, fmt.Errorf("%s: %w", sensorHeader[col], err)
		}
		ints[i] = v
	}
	reading, mote, label := ints[0], ints[1], ints[2]
	if reading < 1 {
		return Record{}, fmt.Errorf("reading %d is not positive", reading)
	}
	if label != 0 && label != 1 {
		return Record{}, fmt.Errorf("label %d is not 0 or 1", label)
	}
	indoor, err := strconv.ParseBool(row[2])
	if err != nil {
		return Record{}, fmt.Errorf("indoor: %w", err)
	}
	var values [2]float64
	for i, col := range []int{3, 4} { // humidity, temperature
		if values[i], err = strconv.ParseFloat(row[col], 64); err != nil {
			return Record{}, fmt.Errorf("%s: %w", sensorHeader[col], err)
		}
		if math.IsNaN(values[i]) || math.IsInf(values[i], 0) {
			return Record{}, fmt.Errorf("%s: %v is not a measurement", sensorHeader[col], values[i])
		}
	}
	ts := SensorEpoch.Add(time.Duration(reading-1) * SensorInterval)
	return Record{
		Key:  strconv.Itoa(mote),
		Time: ts,
		Value: map[string]any{
			"mote_id":     int32(mote),
			"reading":     int32(reading),
			"ts":          ts,
			"indoor":      indoor,
			"humidity":    values[0],
			"temperature": values[1],
			"anomaly":     label == 1,
		},
	}, nil
}
