package sample

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Texts generates short messages, spam or ham, from phrase pools that
// overlap a little (both talk about money and meetings), so a classifier has
// something to learn but cannot be perfect.
type Texts struct {
	rng      *rand.Rand
	spamRate float64
	start    time.Time
	n        int64
}

// NewTexts returns a generator in which spamRate of the messages are spam.
func NewTexts(seed uint64, spamRate float64) *Texts {
	return &Texts{
		rng:      rand.New(rand.NewPCG(seed, seed^0x7e47)),
		spamRate: spamRate,
		start:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

var (
	hamPhrases = []string{
		"can we move the meeting to thursday", "the build is green again",
		"lunch at noon?", "attached are the notes from today",
		"please review my pull request", "the invoice for march is paid",
		"running ten minutes late", "happy birthday, have a great day",
		"the sensor in hall b reads high again", "let's ship it on monday",
		"thanks for the quick fix", "see you at the standup",
	}
	spamPhrases = []string{
		"you have won a free prize", "claim your reward now",
		"cheap meds without prescription", "act now, limited offer",
		"your account is suspended, verify your password", "earn $5000 a week from home",
		"click here to unsubscribe", "100% free, no credit card",
		"congratulations winner", "lowest mortgage rates guaranteed",
		"meet singles in your area", "urgent: wire transfer needed",
	}
	languages = []string{"en", "en", "en", "de", "fr"}
)

// Next returns the next message as goavro's native form of
// io.streamscore.text.TextMessage, and whether it is spam.
func (t *Texts) Next() (map[string]any, bool) {
	r := t.rng
	t.n++
	spam := r.Float64() < t.spamRate
	pool, other := hamPhrases, spamPhrases
	if spam {
		pool, other = spamPhrases, hamPhrases
	}
	parts := make([]string, 0, 4)
	for i := 0; i < 1+r.IntN(3); i++ {
		parts = append(parts, pool[r.IntN(len(pool))])
	}
	if r.Float64() < 0.15 { // a phrase from the other side, as real mail has
		parts = append(parts, other[r.IntN(len(other))])
	}
	rec := map[string]any{
		"id":       fmt.Sprintf("msg-%08d", t.n),
		"ts":       t.start.Add(time.Duration(t.n) * time.Second),
		"text":     strings.Join(parts, ". "),
		"language": nil,
	}
	if r.Float64() < 0.7 {
		rec["language"] = map[string]any{"string": languages[r.IntN(len(languages))]}
	}
	return rec, spam
}
