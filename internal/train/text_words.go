package train

import "strings"

// TextWords splits text into words as a text model's word tokenizer does
// (see textTokenizer): lowercased as lowercase says, words of fewer than
// minChars code points dropped. Drift monitoring holds its own allocation
// free reading of live texts to it.
func TextWords(text string, lowercase Lowercase, minChars int) ([]string, error) {
	return textTokenizer{lowercase: lowercase, minChars: minChars}.words(text)
}

// WordVocabulary is how the model splits texts into words and the words
// its word n-grams are made of, each once, in vocabulary order; ok is
// false for a model without word n-grams (AnalyzerChar). Drift monitoring
// counts the words of live texts outside it.
func (m *TextModel) WordVocabulary() (words []string, lowercase Lowercase, minChars int, ok bool) {
	for _, v := range m.blocks {
		if v.chars {
			continue
		}
		seen := map[string]bool{}
		for _, key := range v.vocab {
			for _, w := range strings.Split(key, ngramSeparator) {
				if !seen[w] {
					seen[w] = true
					words = append(words, w)
				}
			}
		}
		return words, v.tokenizer.lowercase, v.tokenizer.minChars, true
	}
	return nil, 0, 0, false
}
