package drift

import (
	"fmt"
	"testing"

	"github.com/streamscore/streamscore/internal/train"
)

// TestVocabularyCountsWordsAsTheTrainerSplitsThem: on texts that split
// differently under each rule (case mappings that change a letter's
// length, combining marks, scripts without spaces, digits, underscores,
// emoji, a word of one letter), a vocabulary counts exactly the words
// internal/train's tokenizer finds, in both lowercase modes and for
// several word lengths, and exactly those outside it.
func TestVocabularyCountsWordsAsTheTrainerSplitsThem(t *testing.T) {
	texts := []string{
		"",
		"Free MONEY!!! Click here: http://example.com/win?x=1",
		"İstanbul ÜBER Straße ΣΑΣ Ⱥ ǅemal",
		"cafe\u0301 naïve e\u0301clair",
		"नमस्ते दुनिया 你好世界 東京タワー",
		"snake_case_word 42 3.14 x² ①②",
		"emoji 🎉party🎉 a b cd \t\n\r end",
	}
	for _, mode := range []train.Lowercase{train.LowercaseUnicode, train.LowercaseASCII} {
		for _, minChars := range []int{1, 2, 3} {
			for i, text := range texts {
				t.Run(fmt.Sprintf("%v/min%d/text%d", mode, minChars, i), func(t *testing.T) {
					words, err := train.TextWords(text, mode, minChars)
					if err != nil {
						t.Fatal(err)
					}
					// Every other word is in the vocabulary.
					var kept []string
					in := map[string]bool{}
					for j, w := range words {
						if j%2 == 0 {
							kept = append(kept, w)
							in[w] = true
						}
					}
					wantOutside := 0
					for _, w := range words {
						if !in[w] {
							wantOutside++
						}
					}
					v := newVocabulary(TextVocabulary{Words: append(kept, "filler"), ASCII: mode == train.LowercaseASCII, MinChars: minChars})
					decoded, err := decodeVocabulary(v.encode())
					if err != nil {
						t.Fatal(err)
					}
					for name, voc := range map[string]*vocabulary{"built": v, "decoded": decoded} {
						n, outside := voc.count(text)
						if n != int64(len(words)) || outside != int64(wantOutside) {
							t.Errorf("%s: %d words, %d outside; the trainer splits %q into %q, %d outside", name, n, outside, text, words, wantOutside)
						}
					}
				})
			}
		}
	}
}

// TestVocabularyBounds: a filter takes at most MaxVocabularyBits, a larger
// vocabulary is not kept, and a decoded encoding is held to the bounds.
func TestVocabularyBounds(t *testing.T) {
	words := make([]string, MaxVocabularyWords+1)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	if v := newVocabulary(TextVocabulary{Words: words[:MaxVocabularyWords], MinChars: 1}); v == nil || len(v.bits)*64 != MaxVocabularyBits {
		t.Fatalf("a vocabulary of %d words: %v", MaxVocabularyWords, v)
	}
	if v := newVocabulary(TextVocabulary{Words: words, MinChars: 1}); v != nil {
		t.Fatalf("a vocabulary over %d words was kept", MaxVocabularyWords)
	}
	for _, bad := range []string{"", "v2:unicode:2:3:AAAA", "v1:latin:2:3:", "v1:unicode:0:3:", "v1:unicode:2:9:", "v1:unicode:2:3:AAAA", "v1:unicode:2:3:!!"} {
		if _, err := decodeVocabulary(bad); err == nil {
			t.Errorf("decoded %q", bad)
		}
	}
}
