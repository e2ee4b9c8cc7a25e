package datasets

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// WeatherFile is the daily weather file, relative to the unpacked
// vega-datasets package.
const WeatherFile = "data/weather.csv"

// weatherHeader is weather.csv's header, which datapackage.json documents.
var weatherHeader = []string{"location", "date", "precipitation", "temp_max", "temp_min", "wind", "weather"}

// LoadWeather reads the daily weather data set unpacked in dir.
func LoadWeather(dir string) ([]Record, error) {
	return loadFile(dir, WeatherFile, "weather", ParseWeather)
}

// ParseWeather reads weather.csv: one record per city and day, in file
// order (Seattle's days, then New York's). The event time is the day at
// midnight UTC; a producer that orders by it keeps the file order within a
// day, so Seattle comes before New York.
func ParseWeather(r io.Reader) ([]Record, error) {
	return parseCSV(r, weatherHeader, weatherRecord)
}

func weatherRecord(row []string) (Record, error) {
	day, err := time.Parse(time.DateOnly, row[1])
	if err != nil {
		return Record{}, fmt.Errorf("date: %w", err)
	}
	var values [4]float64
	for i, col := range []int{2, 3, 4, 5} { // precipitation, temp_max, temp_min, wind
		if values[i], err = strconv.ParseFloat(row[col], 64); err != nil {
			return Record{}, fmt.Errorf("%s: %w", weatherHeader[col], err)
		}
		if math.IsNaN(values[i]) || math.IsInf(values[i], 0) {
			return Record{}, fmt.Errorf("%s: %v is not a measurement", weatherHeader[col], values[i])
		}
	}
	return Record{
		Key:  row[0],
		Time: day,
		Value: map[string]any{
			"location":      row[0],
			"date":          day,
			"seattle":       row[0] == "Seattle",
			"day_of_year":   int32(day.YearDay()),
			"precipitation": values[0],
			"temp_max":      values[1],
			"temp_min":      values[2],
			"wind":          values[3],
			"weather":       row[6],
		},
	}, nil
}
