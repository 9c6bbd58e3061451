package match

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"wirewatch/news"
)

// TestPrefixLengths checks the prefix dictionary against the reference
// model on prefixes of every length it handles apart: two bytes (short2),
// three to seventeen (looked up by length, packed up to eight bytes and
// hashed beyond), and longer ones (the trie), with words sharing their
// first bytes, upper case in items, and two-byte letters that a length can
// cut in half.
func TestPrefixLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	letters := []string{"a", "b", "p", "o", "l", "é", "ü", "1"}
	word := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(letters[rng.IntN(len(letters))])
		}
		return b.String()
	}
	stems := []string{"po", "pol", "pola", "polé"} // shared first bytes
	var words []string
	for range 200 {
		w := stems[rng.IntN(len(stems))] + word(rng.IntN(30))
		if rng.IntN(3) == 0 {
			w = word(2 + rng.IntN(28))
		}
		words = append(words, w)
	}
	model := newRefModel(nil)
	checked, matched := 0, 0
	for round := range 20 {
		var topics []news.Topic
		for i := range 60 {
			w := words[rng.IntN(len(words))]
			// Cut at a byte count, then back to a whole character.
			n := min(len(w), 2+rng.IntN(24))
			for n < len(w) && w[n]&0xC0 == 0x80 {
				n--
			}
			topics = append(topics, news.Topic{ID: fmt.Sprint(round, "-", i), Query: w[:n] + "*"})
		}
		ix := compileValid(t, topics)
		for range 20 {
			var parts []string
			for range 1 + rng.IntN(12) {
				w := words[rng.IntN(len(words))]
				if rng.IntN(4) == 0 {
					w = strings.ToUpper(w)
				}
				parts = append(parts, w)
			}
			item := news.Item{ID: "i", Title: strings.Join(parts, " ")}
			c, m := holdsAsModel(t, ix, model, item)
			checked, matched = checked+c, matched+m
		}
	}
	if matched < checked/50 {
		t.Errorf("only %d of %d checks matched: the test no longer exercises prefixes", matched, checked)
	}
}
