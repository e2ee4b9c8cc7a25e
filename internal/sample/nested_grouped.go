package sample

import "math/rand/v2"

// GroupedSensors generates readings of
// schemas/sensor_reading_nested_grouped.avsc: the readings of Sensors with
// the same seed and devices, value for value, grouped in nested records
// (env, motion, link, and power, null on mains power), with the site a
// device is at and the status it reports. Only a foundry site's
// temperature differs from the flat reading's (warmer by hotSiteTemp, as
// in NestedSensors), so that a model has to read the site; the anomalies
// are the same, and the status says something, not everything, about
// them. The record carries no more values than the flat one but these two
// categories: what nesting and categories cost, and nothing else. The same
// seed always gives the same readings.
type GroupedSensors struct {
	flat  *Sensors
	rng   *rand.Rand
	sites []int // each device's site, an index into Sites
	n     int
}

// NewGroupedSensors returns a generator over devices devices.
func NewGroupedSensors(seed uint64, devices int, anomalyRate float64) *GroupedSensors {
	rng := rand.New(rand.NewPCG(seed^0x6a0c9ed, seed))
	s := &GroupedSensors{flat: NewSensors(seed, devices, anomalyRate), rng: rng, sites: make([]int, devices)}
	for i := range s.sites {
		s.sites[i] = zipf(rng, len(Sites))
	}
	return s
}

// Next returns the next reading as goavro's native form of
// io.streamscore.sensors.GroupedSensorReading, and whether it is an
// anomaly.
func (s *GroupedSensors) Next() (map[string]any, bool) {
	flat, anomaly := s.flat.Next()
	site := s.sites[s.n%len(s.sites)] // the flat generator's device
	s.n++
	temp := flat["temperature"].(float64)
	if hotSite(site) {
		temp += hotSiteTemp
	}
	var power any // null on mains power, as the flat battery_volts
	if v, ok := flat["battery_volts"].(map[string]any); ok {
		power = map[string]any{"io.streamscore.sensors.Power": map[string]any{"battery_volts": v["double"]}}
	}
	rec := map[string]any{
		"device_id": flat["device_id"],
		"ts":        flat["ts"],
		"site":      Sites[site],
		"status":    reportedStatus(s.rng.Float64(), anomaly),
		"env": map[string]any{
			"temperature": temp,
			"humidity":    flat["humidity"],
			"pressure":    flat["pressure"],
			"light":       flat["light"],
			"co2":         flat["co2"],
		},
		"motion": map[string]any{
			"vibration": flat["vibration"],
			"sound":     flat["sound"],
		},
		"link": map[string]any{
			"rssi":     flat["rssi"],
			"uptime_s": flat["uptime_s"],
		},
		"power": power,
	}
	return rec, anomaly
}

// groupedPaths maps each of SensorFeatures to its path in a grouped
// reading, in the flat model's column order.
var groupedPaths = map[string]string{
	"temperature":   "env.temperature",
	"humidity":      "env.humidity",
	"pressure":      "env.pressure",
	"light":         "env.light",
	"co2":           "env.co2",
	"vibration":     "motion.vibration",
	"sound":         "motion.sound",
	"rssi":          "link.rssi",
	"uptime_s":      "link.uptime_s",
	"battery_volts": "power.battery_volts",
}
