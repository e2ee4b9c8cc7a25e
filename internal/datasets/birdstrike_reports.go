package datasets

import (
	"fmt"
	"io"
	"slices"
	"strconv"
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
	day, v, err := birdstrikeFields(row)
	if err != nil {
		return Record{}, err
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
	v["damaged"] = row[2] != NoDamage
	v["night"] = row[9] == "Night"
	return Record{Key: strconv.Itoa(n), Time: day, Value: v}, nil
}
