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
	// CREATE's final E is spelt as a silent one but heard in EA's hiatus,
	// so its vowel runs count right; POETRY's OE is one run, two syllables.
	for i, w := range []struct {
		silentE, miscounted bool
	}{{false, false}, {true, false}, {false, true}, {false, false}, {false, false}} {
		if r := recs[i]; r.Value["silent_e"] != w.silentE || r.Value["miscounted"] != w.miscounted {
			t.Errorf("%s: silent_e %v, miscounted %v; want %v, %v", r.Key, r.Value["silent_e"], r.Value["miscounted"], w.silentE, w.miscounted)
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

func TestSilentE(t *testing.T) {
	for word, want := range map[string]bool{
		"": false, "E": false, "THE": false, "ME": false, "MAKE": true, "CREATE": true, "CHANGE": true,
		"TABLE": false, "FREE": false, "TOE": false, "ACRE": true, "STRENGTHS": false, "RHYTHME": true,
	} {
		if got := SilentE(word); got != want {
			t.Errorf("SilentE(%q) = %v, want %v", word, got, want)
		}
	}
}

func TestVowelGroups(t *testing.T) {
	for word, want := range map[string]int{"": 0, "A": 1, "STRENGTHS": 1, "QUEUE": 1, "SYZYGY": 3, "AREA": 2, "RHYTHM": 1} {
		if got := VowelGroups(word); got != want {
			t.Errorf("VowelGroups(%q) = %d, want %d", word, got, want)
		}
	}
}
