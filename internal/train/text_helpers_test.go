package train

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
)

// Word pools of the synthetic corpus. Both classes draw from the shared
// pool, so single words are weak evidence and bigrams matter; the pools mix
// scripts, accents and digits so that the vocabulary does too.
var (
	textHamWords = []string{
		"meeting", "thursday", "build", "green", "lunch", "noon", "notes", "review",
		"pull", "request", "invoice", "paid", "late", "birthday", "sensor", "hall",
		"ship", "monday", "fix", "standup", "Besprechung", "Rechnung", "réunion",
		"équipe", "会议", "встреча", "deploy", "rollback", "agenda", "draft",
	}
	textSpamWords = []string{
		"won", "free", "prize", "claim", "reward", "cheap", "meds", "offer",
		"suspended", "verify", "password", "earn", "unsubscribe", "winner",
		"mortgage", "guaranteed", "singles", "urgent", "wire", "transfer",
		"Gewinn", "gratuit", "félicitations", "免费", "бесплатно", "bitcoin",
		"casino", "bonus", "$5000", "100%",
	}
	textSharedWords = []string{
		"the", "a", "your", "now", "today", "account", "money", "please", "click",
		"here", "team", "week", "new", "I", "you", "we", "can", "will", "at",
		"and", "to", "of", "for", "on",
	}
	textPunctuation = []string{" ", " ", " ", " ", ", ", ". ", "! ", "? ", " - ", "... ", "\n", " 💰 ", "!!!"}
)

// syntheticTexts returns n deterministic texts and their labels (1 for
// spam, about a third of them), with about 3% of the labels flipped so that
// no model is perfect.
func syntheticTexts(n int, seed uint64) ([]string, []float64) {
	rng := rand.New(rand.NewPCG(seed, 0x7e47))
	texts := make([]string, n)
	labels := make([]float64, n)
	for i := range texts {
		spam := rng.Float64() < 0.35
		own, other := textHamWords, textSpamWords
		if spam {
			own, other = textSpamWords, textHamWords
			labels[i] = 1
		}
		if rng.Float64() < 0.03 {
			labels[i] = 1 - labels[i]
		}
		var b strings.Builder
		words := 2 + rng.IntN(20)
		for w := range words {
			var word string
			switch p := rng.Float64(); {
			case p < 0.45:
				word = own[rng.IntN(len(own))]
			case p < 0.55:
				word = other[rng.IntN(len(other))]
			default:
				word = textSharedWords[rng.IntN(len(textSharedWords))]
			}
			if rng.Float64() < 0.1 {
				word = strings.ToUpper(word)
			}
			b.WriteString(word)
			if w < words-1 {
				b.WriteString(textPunctuation[rng.IntN(len(textPunctuation))])
			}
		}
		texts[i] = b.String()
	}
	return texts, labels
}

// variedTexts returns a few hundred texts that stress tokenization and
// vectorization: empty and separator-only texts, texts without any known
// word, punctuation runs, mixed scripts and case, combining marks, emoji,
// repeated words, very long texts, and fresh synthetic ones.
func variedTexts() []string {
	texts := []string{
		"",
		" ",
		"\t\n\r",
		"#",
		"...!!!???",
		"💰💰💰",
		"zzzz qqqq xxxx", // no vocabulary word
		"a I x y z",      // only words shorter than MinTokenChars
		"FREE PRIZE", "free prize", "Free Prize!", "free,prize", "free-prize", "free\u00a0prize",
		"free free free free free free free free free free",
		"claim your reward now. click here to unsubscribe",
		"can we move the meeting to thursday",
		"Gewinn! FÉLICITATIONS, gratuit. 免费 бесплатно",
		"réunion de l'équipe; 会议 встреча",
		"re\u0301union",   // decomposed é
		"ΣΊΣΥΦΟΣ σίσυφος", // final sigma
		"İstanbul ıi Iİ",  // dotted and dotless i
		"ǅemal ǈubljana",  // title-case digraphs
		"earn $5000 a week from home — 100% free",
		"the the the the",
		"you you you you you you you you you you you you you you you you you you you you you you",
		"\u200bfree\u200bprize\u200b", // zero-width spaces
		"free\u2028prize\u2029now",    // line and paragraph separators
		"meeting#thursday",            // the padding string between words
		"ＦＲＥＥ ｐｒｉｚｅ",                  // full-width letters
		// For character n-grams: white space runs, Python's other white
		// space, the Tokenizer's marks, one-letter and multi-byte words.
		"free  prize\t\tnow\n\nclaim   your\r\nreward",
		"  free prize  ",
		"a b c é 会 x",
		"\x02free\x03 prize\x02\x03now",
		"free\x1cprize\x1dnow\x1eclaim\x1freward\vwin\fbig",
		"free\u3000prize\u00a0now\u2009claim\u0085reward",
		"félicitations gratuit 免费免费 бесплатно",
	}
	long := strings.Repeat("free prize meeting thursday ", 2500)
	texts = append(texts, long, strings.Repeat("spam ", 10_000), strings.Repeat("x", 50_000))
	generated, _ := syntheticTexts(270, 99)
	return append(texts, generated...)
}

func fitTextForTest(t testing.TB, cfg TextConfig, texts []string, labels []float64) *TextModel {
	t.Helper()
	m, err := FitText(context.Background(), cfg, texts, labels)
	if err != nil {
		t.Fatalf("FitText: %v", err)
	}
	return m
}
