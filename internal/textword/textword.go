// Package textword holds the two rules by which a text model splits a
// text into words, shared by the trainer's tokenizer (internal/train),
// which fits and exports the model, and by drift monitoring
// (internal/drift), which counts the words of live texts outside the
// model's vocabulary: the two must agree on what a word is.
package textword

import "unicode"

// IsWordRune reports whether r can be part of a word: a letter, a number
// or the underscore, in Go's Unicode tables, which is what \w matches in
// Python's re, and so in scikit-learn's default token pattern
// (?u)\b\w\w+\b. Everything else separates words.
func IsWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_'
}

// LowerASCII lowercases A to Z only, leaving every other code point as it
// is.
func LowerASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}
