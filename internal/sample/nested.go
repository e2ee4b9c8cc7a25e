package sample

import (
	"fmt"
	"math/rand/v2"
)

// Sites are the site codes of schemas/sensor_reading_nested.avsc: sixteen
// cities, three sites each. Devices are spread over them unevenly, the
// first far busier than the last, as a fleet's sites are.
var Sites = func() []string {
	cities := []string{"ams", "ber", "cph", "dub", "fra", "hel", "lis", "lon", "mad", "mil", "osl", "par", "pra", "sto", "vie", "war"}
	sites := make([]string, 0, 3*len(cities))
	for n := 1; n <= 3; n++ {
		for _, c := range cities {
			sites = append(sites, fmt.Sprintf("%s-%02d", c, n))
		}
	}
	return sites
}()

// DeviceModels are the symbols of the DeviceModel enum, and Statuses those
// of Status.
var (
	DeviceModels = []string{"X100", "X200", "T9", "HX5", "LR2"}
	Statuses     = []string{"OK", "WARN", "FAIL", "MAINTENANCE"}
	zones        = []string{"A", "B", "C", "D", "E", "F"}
	owners       = []string{"facilities", "production", "research"}
)

const (
	// hotSiteTemp is how much warmer than elsewhere a foundry site's air
	// is, normally: a reading that would be overheating anywhere else is
	// an ordinary one there, so a model has to know the site.
	hotSiteTemp = 8.0
	// lowCellVolts is how much lower than the others' a T9's cell runs:
	// its healthy battery reads as another model's dying one.
	lowCellVolts = 0.6
	// windowLen is how many earlier vibration values a reading carries.
	windowLen = 4
)

// hotSite reports whether site i is a foundry, warmer than the others.
func hotSite(i int) bool { return i%5 == 2 }

// reportedStatus is the status a device reports with a reading, from a
// uniform draw u: FAIL or WARN with most anomalies, WARN or MAINTENANCE
// with a few normal readings, OK otherwise. It says something, not
// everything, about the anomaly.
func reportedStatus(u float64, anomaly bool) string {
	switch {
	case anomaly && u < 0.25:
		return "FAIL"
	case anomaly && u < 0.55, !anomaly && u < 0.04:
		return "WARN"
	case !anomaly && u < 0.06:
		return "MAINTENANCE"
	}
	return "OK"
}

// nestedDevice is what does not change between a device's readings.
type nestedDevice struct {
	site     int
	model    string
	firmware string
	lat, lon float64
	floor    any // nil outdoors, or the Avro union's int branch
	attrs    map[string]any
	window   []any // its last vibration values, oldest first
}

// NestedSensors generates readings of schemas/sensor_reading_nested.avsc.
// The measurements are those of Sensors with the same seed and devices,
// changed where the device's site or model says so (a foundry's air is
// warmer, a T9's cell lower); the anomalies are the same, and a device's
// status says something, not everything, about them. The same seed always
// gives the same readings.
type NestedSensors struct {
	flat    *Sensors
	rng     *rand.Rand
	devices []nestedDevice
	n       int
}

// NewNestedSensors returns a generator over devices devices.
func NewNestedSensors(seed uint64, devices int, anomalyRate float64) *NestedSensors {
	rng := rand.New(rand.NewPCG(seed^0x9e57ed, seed))
	s := &NestedSensors{flat: NewSensors(seed, devices, anomalyRate), rng: rng, devices: make([]nestedDevice, devices)}
	for i := range s.devices {
		site := zipf(rng, len(Sites))
		d := nestedDevice{
			site:     site,
			model:    DeviceModels[zipf(rng, len(DeviceModels))],
			firmware: fmt.Sprintf("2.%d.%d", 2+rng.IntN(3), rng.IntN(10)),
			// Sites lie between Lisbon and Helsinki; a device within a
			// kilometre or so of its site's centre.
			lat:    38 + float64(site*7%24) + 0.01*rng.NormFloat64(),
			lon:    -9 + float64(site*11%34) + 0.01*rng.NormFloat64(),
			attrs:  map[string]any{"zone": zones[rng.IntN(len(zones))]},
			window: make([]any, 0, windowLen),
		}
		if rng.IntN(3) > 0 { // a third are outdoors
			d.floor = map[string]any{"int": int32(rng.IntN(6))}
		}
		if rng.IntN(4) == 0 {
			d.attrs["owner"] = owners[rng.IntN(len(owners))]
		}
		s.devices[i] = d
	}
	return s
}

// zipf draws an index below n, index i with a weight of 1/(i+1).
func zipf(rng *rand.Rand, n int) int {
	total := 0.0
	for i := range n {
		total += 1 / float64(i+1)
	}
	u := rng.Float64() * total
	for i := range n {
		if u -= 1 / float64(i+1); u < 0 {
			return i
		}
	}
	return n - 1
}

// Next returns the next reading as goavro's native form of
// io.streamscore.sensors.NestedSensorReading, and whether it is an anomaly.
func (s *NestedSensors) Next() (map[string]any, bool) {
	flat, anomaly := s.flat.Next()
	d := &s.devices[s.n%len(s.devices)] // the flat generator's device
	s.n++
	r := s.rng

	temp := flat["temperature"].(float64)
	if hotSite(d.site) {
		temp += hotSiteTemp
	}
	volts := flat["battery_volts"]
	if v, ok := volts.(map[string]any); ok && d.model == "T9" {
		volts = map[string]any{"double": v["double"].(float64) - lowCellVolts}
	}
	status := reportedStatus(r.Float64(), anomaly)
	vibration := flat["vibration"].(float64)
	window := make([]any, len(d.window))
	copy(window, d.window)
	if len(d.window) == windowLen {
		d.window = append(d.window[:0], d.window[1:]...)
	}
	d.window = append(d.window, vibration)

	rec := map[string]any{
		"device_id": flat["device_id"],
		"ts":        flat["ts"],
		"site":      Sites[d.site],
		"status":    status,
		"device": map[string]any{
			"model":         d.model,
			"firmware":      d.firmware,
			"battery_volts": volts,
		},
		"location": map[string]any{
			"lat":   d.lat,
			"lon":   d.lon,
			"floor": d.floor,
		},
		"temperature":      temp,
		"humidity":         flat["humidity"],
		"pressure":         flat["pressure"],
		"light":            flat["light"],
		"co2":              flat["co2"],
		"vibration":        vibration,
		"vibration_window": window,
		"sound":            flat["sound"],
		"rssi":             flat["rssi"],
		"uptime_s":         flat["uptime_s"],
		"attributes":       d.attrs,
	}
	return rec, anomaly
}
