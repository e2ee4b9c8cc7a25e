package datasets

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoadWords(t *testing.T) {
	recs, err := LoadWords("testdata/cmudict")
	if err != nil {
		t.Fatal(err)
	}
	// A(1), A'S, D_C and }RIGHT-BRACE are left out.
	want := []struct {
		word                       string
		letters, groups, syllables int32
	}{
		{"A", 1, 1, 1},
		{"CREATE", 6, 2, 2},
		{"POETRY", 6, 2, 3},
		{"QUEUE", 5, 1, 1},
		{"ZYWICKI", 7, 3, 3},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		if r.Key != w.word || r.Value["word"] != w.word || !r.Time.Equal(WordsEpoch.Add(time.Duration(i)*time.Second)) {
			t.Errorf("record %d: %q at %v, want %q at +%ds", i, r.Key, r.Time, w.word, i)
		}
		if r.Value["letters"] != w.letters || r.Value["vowel_groups"] != w.groups || r.Value["syllables"] != w.syllables {
			t.Errorf("%s: letters %v, vowel groups %v, syllables %v; want %d, %d, %d", w.word,
				r.Value["letters"], r.Value["vowel_groups"], r.Value["syllables"], w.letters, w.groups, w.syllables)
		}
	}
	if got := recs[2].Value["pronunciation"]; got != "P OW1 AH0 T R IY0" {
		t.Errorf("POETRY's pronunciation %q", got)
	}
}

func TestParseWordsRefuses(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"one space", "A AH0\n"},
		{"no phones", "A  \n"},
		{"no vowel", "HMM  HH M\n"},
		{"stress", "A  AH3\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseWords(strings.NewReader(tc.data)); !errors.Is(err, ErrBadData) {
				t.Fatalf("error %v, want ErrBadData", err)
			}
		})
	}
}

func TestVowelGroups(t *testing.T) {
	for word, want := range map[string]int{"": 0, "A": 1, "STRENGTHS": 1, "QUEUE": 1, "SYZYGY": 3, "AREA": 2, "RHYTHM": 1} {
		if got := VowelGroups(word); got != want {
			t.Errorf("VowelGroups(%q) = %d, want %d", word, got, want)
		}
	}
}
