package match

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"wirewatch/news"
)

// benchVocab is news-like English with a few accented and CJK words, so the
// slow normalisation path is exercised too.
var benchVocab = strings.Fields(`the a of to in and for on with said government minister police
report officials president election court rights human security military talks trade prices
market economy China Xinjiang Uyghur Uyghurs Beijing Tibet Hong Kong Taiwan Russia Ukraine Kyiv
Moscow Türkiye Erdoğan Ankara Gaza Israel Iran sanctions protest protesters camps detention
cotton exports forced labour UN Bachelet crimes against humanity investigation journalists
press freedom climate floods wildfire drought energy oil gas inflation bank rates strike workers
union vote parliament law bill reform health hospital vaccine outbreak São Paulo Brazil Lula
维吾尔 新疆 人权`)

// benchText writes about the given number of bytes: mostly filler words
// (so topics match at a realistic rate), some news vocabulary, sentence
// breaks, and the em dashes and curly apostrophes of real English copy.
func benchText(rng *rand.Rand, bytes int) string {
	syllables := []string{"ka", "lo", "ri", "men", "tas", "ve", "dor", "pi", "sun", "gal", "tre", "no"}
	var b strings.Builder
	for b.Len() < bytes {
		if b.Len() > 0 {
			switch rng.IntN(20) {
			case 0:
				b.WriteString(". ")
			case 1:
				b.WriteString(" — ")
			default:
				b.WriteByte(' ')
			}
		}
		if rng.IntN(6) == 0 {
			b.WriteString(benchVocab[rng.IntN(len(benchVocab))])
		} else {
			for range 2 + rng.IntN(2) {
				b.WriteString(syllables[rng.IntN(len(syllables))])
			}
		}
		if rng.IntN(30) == 0 {
			b.WriteString("’s")
		}
	}
	return b.String()
}

func benchTopics(rng *rand.Rand, n int) []news.Topic {
	word := func() string {
		for {
			w := benchVocab[rng.IntN(len(benchVocab))]
			if len(w) > 3 {
				return w
			}
		}
	}
	templates := []func() string{
		func() string { return word() },
		func() string {
			return fmt.Sprintf("(%s OR %s*) AND %q", word(), string([]rune(word())[:2]), word()+" "+word())
		},
		func() string { return fmt.Sprintf("%s %s NOT %s", word(), word(), word()) },
		func() string { return fmt.Sprintf("title:(%s OR %s) OR summary:%q", word(), word(), word()+" "+word()) },
		func() string { return issueQuery },
	}
	topics := make([]news.Topic, n)
	for i := range topics {
		topics[i] = news.Topic{ID: fmt.Sprint("topic-", i), Query: templates[i%len(templates)]()}
	}
	return topics
}

// BenchmarkMatch matches realistic ~2 KB items against 100 topics; MB/s is
// item text (title+summary+content) per second.
func BenchmarkMatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	ix, err := Compile(benchTopics(rng, 100))
	if err != nil {
		b.Fatal(err)
	}
	items := make([]news.Item, 16)
	size := 0
	for i := range items {
		items[i] = news.Item{
			ID:       fmt.Sprint("item-", i),
			SourceID: "src",
			Title:    benchText(rng, 70),
			Summary:  benchText(rng, 300),
			Content:  benchText(rng, 1700),
			Link:     "https://example.com/news/" + fmt.Sprint(i),
		}
		size += len(items[i].Title) + len(items[i].Summary) + len(items[i].Content)
	}
	b.SetBytes(int64(size / len(items)))
	b.ReportAllocs()
	matches := 0
	i := 0
	for b.Loop() {
		matches += len(ix.Match(items[i%len(items)], now))
		i++
	}
	b.ReportMetric(float64(matches)/float64(i), "matches/item")
}
