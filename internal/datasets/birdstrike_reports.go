package datasets

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// NoDamage is the damage class of a strike that left the aircraft
// unharmed; every other class, the undocumented codes included, is damage.
const NoDamage = "None"

// WildlifeSizes and TimesOfDay are the symbols of the BirdstrikeReport
// schema's enums, in declared order: the values birdstrikes.csv holds.
var (
	WildlifeSizes = []string{"Small", "Medium", "Large"}
	TimesOfDay    = []string{"Dawn", "Day", "Dusk", "Night"}
)

// LoadBirdstrikeReports reads the bird strikes data set unpacked in dir as
// a producer would report strikes (schemas/birdstrike_report.avsc): the
// categorical columns as their names, strings or enum symbols, with no
// numeric codes.
func LoadBirdstrikeReports(dir string) ([]Record, error) {
	return loadFile(dir, BirdstrikeFile, "bird strike reports", ParseBirdstrikeReports)
}

// ParseBirdstrikeReports reads birdstrikes.csv into BirdstrikeReport
// records, in file order (flight-date order), keyed and timed as
// ParseBirdstrikes keys and times them. The costs are left out, as there:
// they are known only after the damage.
func ParseBirdstrikeReports(r io.Reader) ([]Record, error) {
	n := 0
	return parseCSV(r, birdstrikeHeader, func(row []string) (Record, error) {
		n++
		return birdstrikeReport(n, row)
	})
}

func birdstrikeReport(n int, row []string) (Record, error) {
	day, err := time.Parse(time.DateOnly, row[3])
	if err != nil {
		return Record{}, fmt.Errorf("flight date: %w", err)
	}
	var speed any // null when the report gives none
	if row[13] != "" {
		knots, err := strconv.Atoi(row[13])
		if err != nil || knots < 0 {
			return Record{}, fmt.Errorf("speed %q is not a number of knots", row[13])
		}
		speed = map[string]any{"int": int32(knots)}
	}
	// The enums refuse any other symbol when encoded; refusing here names
	// the line instead.
	for _, c := range []struct {
		col     int
		symbols []string
	}{{7, WildlifeSizes}, {9, TimesOfDay}} {
		if !slices.Contains(c.symbols, row[c.col]) {
			return Record{}, fmt.Errorf("%s %q is none of %q", birdstrikeHeader[c.col], row[c.col], c.symbols)
		}
	}
	return Record{Key: strconv.Itoa(n), Time: day, Value: map[string]any{
		"flight_date":      day,
		"airport":          row[0],
		"aircraft":         row[1],
		"operator":         row[4],
		"origin_state":     row[5],
		"phase_of_flight":  row[6],
		"wildlife_size":    row[7],
		"wildlife_species": row[8],
		"time_of_day":      row[9],
		"speed_knots":      speed,
		"damage":           row[2],
		"damaged":          row[2] != NoDamage,
		"night":            row[9] == "Night",
	}}, nil
}
