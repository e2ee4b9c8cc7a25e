package datasets

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// DigitsFile is the digits file, relative to scikit-learn's datasets
// directory (Debian's python3-sklearn:
// /usr/lib/python3/dist-packages/sklearn/datasets).
const DigitsFile = "data/digits.csv.gz"

// DigitPixels is the number of pixels of a digit: an 8 x 8 image, each
// pixel the count (0 to 16) of set pixels in a 4 x 4 block of the 32 x 32
// bitmap.
const DigitPixels = 64

// DigitsEpoch is the event time given to the first digit. The data set has
// no time: its order is the file's, and digit i (from 0) is stamped
// DigitsEpoch + i seconds so that time order is file order.
var DigitsEpoch = time.Date(1998, time.July, 1, 0, 0, 0, 0, time.UTC)

// DigitField is the name of pixel i's field, row by row: p00 to p63.
func DigitField(i int) string { return fmt.Sprintf("p%02d", i) }

// LoadDigits reads the digits data set from scikit-learn's datasets
// directory dir.
func LoadDigits(dir string) ([]Record, error) {
	return loadFile(dir, DigitsFile, "digits", func(r io.Reader) ([]Record, error) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		return ParseDigits(zr)
	})
}

// ParseDigits reads digits.csv: no header, one digit a line, 64 pixel
// counts and then the digit.
func ParseDigits(r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	var out []Record
	for line := 1; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), ",")
		if len(cols) != DigitPixels+1 {
			return nil, fmt.Errorf("%w: line %d: %d columns, want %d", ErrBadData, line, len(cols), DigitPixels+1)
		}
		v := make(map[string]any, DigitPixels+2)
		for i, c := range cols {
			n, err := strconv.ParseFloat(c, 64)
			if err != nil || n != float64(int(n)) || n < 0 || n > 16 || (i == DigitPixels && n > 9) {
				return nil, fmt.Errorf("%w: line %d column %d: %q is not a count", ErrBadData, line, i+1, c)
			}
			if i == DigitPixels {
				v["digit"] = int32(n)
			} else {
				v[DigitField(i)] = int32(n)
			}
		}
		ts := DigitsEpoch.Add(time.Duration(len(out)) * time.Second)
		v["ts"] = ts
		out = append(out, Record{Key: strconv.Itoa(len(out)), Time: ts, Value: v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadData, err)
	}
	return out, nil
}
