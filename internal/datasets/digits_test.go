package datasets

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoadDigits(t *testing.T) {
	recs, err := LoadDigits("testdata/sklearn")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for i, want := range []int32{0, 1, 2} {
		r := recs[i]
		if r.Value["digit"] != want || !r.Time.Equal(DigitsEpoch.Add(time.Duration(i)*time.Second)) {
			t.Errorf("digit %d: %v at %v", i, r.Value["digit"], r.Time)
		}
		if len(r.Value) != DigitPixels+2 {
			t.Errorf("digit %d has %d fields", i, len(r.Value))
		}
	}
	if recs[0].Value["p02"] != int32(5) || recs[0].Value["p63"] != int32(0) {
		t.Errorf("first digit's pixels %v %v", recs[0].Value["p02"], recs[0].Value["p63"])
	}
}

func TestParseDigitsRefuses(t *testing.T) {
	line := func(last string) string { return strings.Repeat("0,", DigitPixels) + last + "\n" }
	for _, tc := range []struct{ name, data string }{
		{"columns", "1,2,3\n"},
		{"digit", line("10")},
		{"fraction", line("1.5")},
		{"pixel", strings.Repeat("17,", DigitPixels) + "1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseDigits(strings.NewReader(tc.data)); !errors.Is(err, ErrBadData) {
				t.Fatalf("error %v, want ErrBadData", err)
			}
		})
	}
	if recs, err := ParseDigits(strings.NewReader(line("9"))); err != nil || recs[0].Value["digit"] != int32(9) {
		t.Fatalf("a valid line: %v, %v", recs, err)
	}
}
