package datasets

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

// TestRecordsFitSchemas encodes every fixture record with its topic's
// schema and decodes it again.
func TestRecordsFitSchemas(t *testing.T) {
	sensors, err := LoadSensors("testdata/sensor-network")
	if err != nil {
		t.Fatal(err)
	}
	mails, err := LoadMails("testdata/spam-assassin")
	if err != nil {
		t.Fatal(err)
	}
	strikes, err := LoadBirdstrikes("testdata/vega-datasets")
	if err != nil {
		t.Fatal(err)
	}
	reports, err := LoadBirdstrikeReports("testdata/vega-datasets")
	if err != nil {
		t.Fatal(err)
	}
	weather, err := LoadWeather("testdata/vega-datasets")
	if err != nil {
		t.Fatal(err)
	}
	digits, err := LoadDigits("testdata/sklearn")
	if err != nil {
		t.Fatal(err)
	}
	words, err := LoadWords("testdata/cmudict")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		schema string
		recs   []Record
	}{
		{"sensor_network.avsc", sensors},
		{"mail.avsc", mails},
		{"birdstrike.avsc", strikes},
		{"birdstrike_report.avsc", reports},
		{"weather_day.avsc", weather},
		{"digit.avsc", digits},
		{"word.avsc", words},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join("..", "..", "schemas", tc.schema))
			if err != nil {
				t.Fatal(err)
			}
			codec, err := goavro.NewCodec(string(text))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.recs {
				bin, err := codec.BinaryFromNative(nil, r.Value)
				if err != nil {
					t.Fatalf("%s: %v", r.Key, err)
				}
				native, rest, err := codec.NativeFromBinary(bin)
				if err != nil || len(rest) != 0 {
					t.Fatalf("%s: decode: %v, %d bytes left", r.Key, err, len(rest))
				}
				got := native.(map[string]any)
				if len(got) != len(r.Value) {
					t.Errorf("%s: %d fields decoded, %d in the record", r.Key, len(got), len(r.Value))
				}
				for k, v := range r.Value {
					if ts, ok := v.(time.Time); ok {
						if !got[k].(time.Time).Equal(ts) {
							t.Errorf("%s: %s %v, want %v", r.Key, k, got[k], ts)
						}
					} else if !equalValue(got[k], v) {
						t.Errorf("%s: %s %v, want %v", r.Key, k, got[k], v)
					}
				}
			}
		})
	}
}
