package match

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"wirewatch/news"
)

// TestManyPhrasesOneWord checks phrase matching against the reference
// model where a word starts more phrases than it has occurrences, so that
// doc.resolve looks phrases up from the words after each occurrence
// instead of trying each: two- and three-word phrases, prefixes as last
// words, repeated words, and phrases that occur only in another field.
func TestManyPhrasesOneWord(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	vocab := []string{"the", "of", "sanctions", "camps", "a", "b", "c", "d", "e", "f", "g", "h", "sanction", "the-of"}
	model := newRefModel(nil)
	checked, matched := 0, 0
	for round := range 10 {
		var topics []news.Topic
		for i := range 80 {
			first := []string{"sanctions", "the", "a"}[rng.IntN(3)]
			words := []string{first, vocab[rng.IntN(len(vocab))]}
			if rng.IntN(3) == 0 {
				words = append(words, vocab[rng.IntN(len(vocab))])
			}
			q := `"` + strings.Join(words, " ") + `"`
			switch rng.IntN(4) {
			case 0:
				q = strings.ReplaceAll(strings.Trim(q, `"`), " ", "-") + "*" // a phrase ending in a prefix
			case 1:
				q = "title:" + q
			}
			topics = append(topics, news.Topic{ID: fmt.Sprint(round, "-", i), Query: q})
		}
		var valid []news.Topic
		for _, tp := range topics {
			if validTopic(tp) {
				valid = append(valid, tp)
			}
		}
		ix, err := Compile(valid)
		if err != nil {
			t.Fatal(err)
		}
		for range 30 {
			text := func(n int) string {
				var ws []string
				for range n {
					ws = append(ws, vocab[rng.IntN(len(vocab))])
				}
				return strings.Join(ws, " ")
			}
			item := news.Item{ID: "i", Title: text(rng.IntN(6)), Summary: text(rng.IntN(30)), Content: text(rng.IntN(60))}
			ref := newRefItem(item)
			d := ix.scan(&item)
			for _, ct := range ix.topics {
				full, err := ix.tree(ct)
				if err != nil {
					t.Fatal(err)
				}
				want := model.eval(ref, full.condition())
				if got := d.holds(ct); got != want {
					t.Fatalf("query %q on %+v: holds = %v, reference %v", ct.topic.Query, item, got, want)
				}
				checked++
				if want {
					matched++
				}
			}
			ix.release(d)
		}
	}
	if matched < checked/20 || matched > checked*9/10 {
		t.Errorf("%d of %d checks matched: the test no longer tells matching from not", matched, checked)
	}
}
