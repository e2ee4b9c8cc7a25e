package datasets

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// BirdstrikeFile is the bird strikes file, relative to the unpacked
// vega-datasets package.
const BirdstrikeFile = "data/birdstrikes.csv"

// SubstantialDamage is the damage class that labels a bird strike as the
// rare event: the FAA's "substantial" damage, which needs a major repair.
const SubstantialDamage = "Substantial"

// birdstrikeHeader is birdstrikes.csv's header, which datapackage.json
// documents.
var birdstrikeHeader = []string{
	"Airport Name", "Aircraft Make Model", "Effect Amount of damage", "Flight Date", "Aircraft Airline Operator",
	"Origin State", "Phase of flight", "Wildlife Size", "Wildlife Species", "Time of day",
	"Cost Other", "Cost Repair", "Cost Total $", "Speed IAS in knots",
}

// birdstrikeCodes are the categorical columns given a numeric code each,
// the field that carries it, and the code's rule. Wildlife size is ordinal
// (small 1, medium 2, large 3); the others take their category's rank in
// the sorted names of the whole file, from 1.
var birdstrikeCodes = []struct {
	col   int
	field string
}{
	{0, "airport_code"},
	{1, "aircraft_code"},
	{4, "operator_code"},
	{5, "state_code"},
	{6, "phase_code"},
	{7, "wildlife_size_code"},
	{8, "species_code"},
	{9, "time_of_day_code"},
}

var wildlifeSizes = map[string]int32{"Small": 1, "Medium": 2, "Large": 3}

// LoadBirdstrikes reads the bird strikes data set unpacked in dir.
func LoadBirdstrikes(dir string) ([]Record, error) {
	return loadFile(dir, BirdstrikeFile, "bird strikes", ParseBirdstrikes)
}

// ParseBirdstrikes reads birdstrikes.csv: one record per strike, in file
// order (which is flight-date order). The cost columns are left out: they
// are known only after the damage and would give the label away.
func ParseBirdstrikes(r io.Reader) ([]Record, error) {
	cr, err := csvWithHeader(r, birdstrikeHeader)
	if err != nil {
		return nil, err
	}
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadData, err)
	}
	codes := make(map[int]map[string]int32, len(birdstrikeCodes))
	for _, c := range birdstrikeCodes {
		codes[c.col] = rankCodes(rows, c.col)
	}
	codes[7] = wildlifeSizes
	out := make([]Record, 0, len(rows))
	for i, row := range rows {
		rec, err := birdstrikeRecord(i, row, codes)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrBadData, i+2, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// rankCodes numbers a column's distinct values in sorted order, from 1.
func rankCodes(rows [][]string, col int) map[string]int32 {
	var names []string
	for _, row := range rows {
		names = append(names, row[col])
	}
	slices.Sort(names)
	names = slices.Compact(names)
	codes := make(map[string]int32, len(names))
	for i, n := range names {
		codes[n] = int32(i + 1)
	}
	return codes
}

func birdstrikeRecord(i int, row []string, codes map[int]map[string]int32) (Record, error) {
	day, v, err := birdstrikeFields(row)
	if err != nil {
		return Record{}, err
	}
	v["substantial_damage"] = row[2] == SubstantialDamage
	for _, c := range birdstrikeCodes {
		code, ok := codes[c.col][row[c.col]]
		if !ok {
			return Record{}, fmt.Errorf("%s %q has no code", birdstrikeHeader[c.col], row[c.col])
		}
		v[c.field] = code
	}
	return Record{Key: strconv.Itoa(i + 1), Time: day, Value: v}, nil
}

// birdstrikeFields are the fields of a strike both record shapes hold, as
// the report gives them, and its flight date.
func birdstrikeFields(row []string) (time.Time, map[string]any, error) {
	day, err := time.Parse(time.DateOnly, row[3])
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("flight date: %w", err)
	}
	var speed any // null when the report gives none
	if row[13] != "" {
		knots, err := strconv.Atoi(row[13])
		if err != nil || knots < 0 {
			return time.Time{}, nil, fmt.Errorf("speed %q is not a number of knots", row[13])
		}
		speed = map[string]any{"int": int32(knots)}
	}
	return day, map[string]any{
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
	}, nil
}
