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
		ix := compileValid(t, topics)
		for range 30 {
			text := func(n int) string {
				var ws []string
				for range n {
					ws = append(ws, vocab[rng.IntN(len(vocab))])
				}
				return strings.Join(ws, " ")
			}
			item := news.Item{ID: "i", Title: text(rng.IntN(6)), Summary: text(rng.IntN(30)), Content: text(rng.IntN(60))}
			c, m := holdsAsModel(t, ix, model, item)
			checked, matched = checked+c, matched+m
		}
	}
	if matched < checked/20 || matched > checked*9/10 {
		t.Errorf("%d of %d checks matched: the test no longer tells matching from not", matched, checked)
	}
}

// TestPhraseInnerWords checks phrase matching against the reference model
// where the later words of phrases are words no pattern starts with, which
// are looked up only right after a word they follow in some phrase (see
// dict.pairs): the same inner words after other words, within reach of a
// phrase start; words longer than eight bytes; and words of the Unicode
// path (CJK characters, ß).
func TestPhraseInnerWords(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	firsts := []string{"crimes", "accountability", "维", "straße", "rights"}
	inner := []string{"against", "humanity", "of", "the", "humanitarian", "吾", "尔", "für", "groups"}
	vocab := append(append([]string{"x", "y"}, firsts...), inner...)
	model := newRefModel(nil)
	checked, matched := 0, 0
	for round := range 6 {
		var topics []news.Topic
		for i := range 60 {
			words := []string{firsts[rng.IntN(len(firsts))]}
			for range 1 + rng.IntN(3) {
				words = append(words, inner[rng.IntN(len(inner))])
			}
			q := `"` + strings.Join(words, " ") + `"`
			if rng.IntN(4) == 0 {
				q += " OR " + firsts[rng.IntN(len(firsts))] + "-" + []string{"ag", "hu", "gr"}[rng.IntN(3)] + "*"
			}
			topics = append(topics, news.Topic{ID: fmt.Sprint(round, "-", i), Query: q})
		}
		ix := compileValid(t, topics)
		for range 40 {
			text := func(n int) string {
				var ws []string
				for range n {
					ws = append(ws, vocab[rng.IntN(len(vocab))])
				}
				return strings.Join(ws, " ")
			}
			item := news.Item{ID: "i", Title: text(rng.IntN(8)), Summary: text(rng.IntN(30)), Content: text(rng.IntN(80))}
			c, m := holdsAsModel(t, ix, model, item)
			checked, matched = checked+c, matched+m
		}
	}
	if matched < checked/20 || matched > checked*9/10 {
		t.Errorf("%d of %d checks matched: the test no longer tells matching from not", matched, checked)
	}
}

// compileValid compiles the topics the query language accepts (random
// generators make some it refuses).
func compileValid(t *testing.T, topics []news.Topic) *Index {
	t.Helper()
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
	return ix
}

// holdsAsModel scans item once and checks every topic's verdict against the
// reference model; it returns how many verdicts it checked and how many
// were matches.
func holdsAsModel(t *testing.T, ix *Index, model *refModel, item news.Item) (checked, matched int) {
	t.Helper()
	ref := newRefItem(item)
	d := ix.scan(&item)
	defer ix.release(d)
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
	return checked, matched
}
