package match

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

// The benchmark corpus is generated: English news copy built from word
// lists written for this file (no third-party text), with named entities
// (people, places, organisations) drawn from a large synthetic pool with a
// Zipf distribution, as in real news where a few names dominate the day.
// Topics are about entities (drawn uniformly from the pool: a newsroom
// follows many different stories), qualified by topical words, with
// phrases, prefixes, NOT and fields: about ten terms each.

// commonWords are frequent English words: most of any news text.
var commonWords = strings.Fields(`the the the the of of of to to to and and and a a in in in that is
was for on it with as he she they his her at by from be have has had not are were been this which
but or an will would their its who said says more after also new one two first last year years
than other about over into up out could when there what some all there when can them just people
time week day month since while during before most many some only such like where those being
may these back them officials told according because government state city country world part
including however against under both between three four five later earlier still well around
another through without even much long high made make says told added public local national
former senior spokesman statement report reports reported thursday monday tuesday wednesday
friday saturday sunday morning night early late today yesterday percent million billion
political social economic military security police court law rights group groups members
leader leaders president minister ministry party parties election vote votes campaign support
opposition plan plans deal talks meeting agreement decision policy issue issues question
questions people women men children families workers students residents community area region
capital border north south east west central northern southern eastern western international
foreign domestic official officials agency service health hospital school university company
companies market markets prices price trade business industry bank banks money tax costs
energy oil gas power water food climate weather storm flooding fire fires attack attacks
killed injured dead death deaths arrested charged trial judge case cases investigation
evidence protest protests protesters crowd street streets building buildings home homes house`)

// topicalWords are the words desks qualify their topics with.
var topicalWords = strings.Fields(`sanctions detention camps surveillance genocide asylum refugees
migrants deportation censorship journalists journalist press freedom corruption bribery fraud
embezzlement laundering smuggling trafficking ceasefire offensive airstrike airstrikes shelling
drone drones missile missiles troops soldiers militants insurgents rebels coup junta referendum
ballot fraud recount inauguration impeachment resignation scandal lawsuit verdict sentence
acquittal appeal extradition espionage hacking cyberattack ransomware leak whistleblower
pipeline refinery mine mining lithium cobalt copper wheat grain harvest drought famine
earthquake tsunami wildfire hurricane cyclone landslide outbreak cholera measles vaccine
vaccination pandemic quarantine strike walkout union unions wages pension pensions inflation
recession default bailout tariff tariffs embargo exports imports subsidy subsidies merger
acquisition bankruptcy layoffs shareholders regulator regulators antitrust privacy emissions
pollution deforestation biodiversity dam dams reservoir irrigation nuclear uranium reactor`)

// syllables build the synthetic names of the entity pool.
var syllables = strings.Fields(`val dor ia ken marsh tal ori sen bar ka lu mir ost ren vik zan
pol an tre mon gal is ar eth und bel ro sta nov ich ber lin gar hel mun dra kos ta vel ne`)

// entitySuffixes give some entities a second word, as organisations and
// places often have ("Kenmarsh Institute", "Port Talori").
var entitySuffixes = strings.Fields(`Institute University Group Bank Party Council Province
Valley Bay Ministry Alliance Front Corporation Holdings Foundation Region Airport`)

type corpus struct {
	rng      *rand.Rand
	entities []string
	zipf     *rand.Zipf
}

func newCorpus(seed uint64) *corpus {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	common := map[string]bool{}
	for _, w := range append(append([]string{}, commonWords...), topicalWords...) {
		common[w] = true
	}
	seen := map[string]bool{}
	var entities []string
	for len(entities) < 20000 {
		var b strings.Builder
		for range 2 + rng.IntN(2) {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		word := b.String()
		if len(word) < 5 || common[word] {
			continue
		}
		name := strings.ToUpper(word[:1]) + word[1:]
		if rng.IntN(5) == 0 {
			name += " " + entitySuffixes[rng.IntN(len(entitySuffixes))]
		}
		if !seen[name] {
			seen[name] = true
			entities = append(entities, name)
		}
	}
	// Popularity: the most named entity is the lead story of about one
	// item in ten; most entities appear rarely.
	return &corpus{rng: rng, entities: entities, zipf: rand.NewZipf(rng, 1.05, 8, uint64(len(entities)-1))}
}

// story is what one item is about: a few entities and a few topical words,
// mentioned throughout, as a news item keeps naming its subjects.
type story struct {
	entities, topical []string
}

func (c *corpus) story() story {
	var s story
	for range 1 + c.rng.IntN(3) {
		s.entities = append(s.entities, c.entities[c.zipf.Uint64()])
	}
	for range 1 + c.rng.IntN(3) {
		s.topical = append(s.topical, topicalWords[c.rng.IntN(len(topicalWords))])
	}
	return s
}

func (c *corpus) word(s story) string {
	switch r := c.rng.IntN(100); {
	case r < 3:
		e := s.entities[c.rng.IntN(len(s.entities))]
		if c.rng.IntN(6) == 0 && !strings.Contains(e, " ") {
			e += []string{"s", "ian", "’s"}[c.rng.IntN(3)] // Valdorian, Valdoria’s
		}
		return e
	case r < 4:
		return c.entities[c.rng.IntN(len(c.entities))] // named in passing
	case r < 6:
		return s.topical[c.rng.IntN(len(s.topical))]
	case r < 7:
		return topicalWords[c.rng.IntN(len(topicalWords))]
	default:
		return commonWords[c.rng.IntN(len(commonWords))]
	}
}

// sentence writes one sentence: capitalised, commas, the curly quotes,
// apostrophes and em dashes of real English copy.
func (c *corpus) sentence(b *strings.Builder, s story) {
	n := 10 + c.rng.IntN(16)
	quoted := c.rng.IntN(8) == 0
	if quoted {
		b.WriteString("“")
	}
	for i := range n {
		w := c.word(s)
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		b.WriteString(w)
		switch r := c.rng.IntN(40); {
		case i == n-1:
		case r == 0:
			b.WriteString("’s ")
		case r < 3:
			b.WriteString(", ")
		case r == 3:
			b.WriteString(" — ")
		default:
			b.WriteByte(' ')
		}
	}
	b.WriteByte('.')
	if quoted {
		b.WriteString("”")
	}
}

func (c *corpus) text(s story, minBytes int) string {
	var b strings.Builder
	for b.Len() < minBytes {
		if b.Len() > 0 {
			if c.rng.IntN(4) == 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte(' ')
			}
		}
		c.sentence(&b, s)
	}
	return b.String()
}

func (c *corpus) item(i int) news.Item {
	s := c.story()
	title := s.entities[0] + " " + strings.TrimSuffix(c.text(s, 40), ".")
	return news.Item{
		ID:       fmt.Sprint("item-", i),
		SourceID: []string{"wire", "daily", "bbc-world"}[i%3],
		Title:    title,
		Summary:  c.text(s, 200),
		Content:  c.text(s, 2000+c.rng.IntN(3000)),
		Link:     fmt.Sprintf("https://news.example/%d/story", i),
	}
}

// topic writes a topic of about ten terms about a few entities: names,
// name prefixes (Valdor* for Valdoria, Valdorian), topical words and
// phrases, NOT, and fields.
func (c *corpus) topic(i int) news.Topic {
	pick := func() string {
		// Desks follow what is in the news more than what is not.
		if c.rng.IntN(4) == 0 {
			return c.entities[c.zipf.Uint64()]
		}
		return c.entities[c.rng.IntN(len(c.entities))]
	}
	e := func() string {
		name := pick()
		if strings.Contains(name, " ") {
			return `"` + name + `"`
		}
		return name
	}
	prefix := func() string {
		name, _, _ := strings.Cut(pick(), " ")
		return name[:len(name)-1] + "*"
	}
	tw := func() string { return topicalWords[c.rng.IntN(len(topicalWords))] }
	cw := func() string { return commonWords[c.rng.IntN(len(commonWords))] }
	phrase := func() string { return fmt.Sprintf("%q", tw()+" "+cw()) }
	var q string
	switch i % 5 {
	case 0:
		q = fmt.Sprintf("(%s OR %s OR %s) AND (%s OR %s OR %s OR %s) NOT %s",
			e(), e(), prefix(), tw(), tw(), phrase(), tw(), tw())
	case 1:
		q = fmt.Sprintf("title:(%s OR %s) OR ((%s OR %s) AND (%s OR %s OR %s OR %s))",
			e(), e(), e(), prefix(), tw(), tw(), phrase(), tw())
	case 2:
		q = fmt.Sprintf("%s AND (%s OR %s OR %s) AND (%s OR %s) NOT (%s OR %s)",
			e(), e(), e(), prefix(), tw(), phrase(), tw(), tw())
	case 3:
		q = fmt.Sprintf("(%s OR %s OR %s OR %s) AND summary:(%s OR %s OR %s) AND NOT %s",
			e(), e(), e(), prefix(), tw(), tw(), tw(), tw())
	default:
		q = fmt.Sprintf("(%s OR %s) AND (%s OR %s OR %s OR %s OR %s) NOT title:%s",
			e(), prefix(), tw(), phrase(), tw(), tw(), tw(), tw())
	}
	return news.Topic{ID: fmt.Sprint("topic-", i), Query: q}
}

// naiveTopic is the baseline: one regexp per topic, an alternation of all
// its terms, run over each field; Go code then evaluates AND/OR/NOT on which
// terms matched where. It is the approach the index replaces.
type naiveTopic struct {
	re    *regexp.Regexp
	root  *node
	terms map[*term]int // capture group of each term
}

func newNaive(t news.Topic) (*naiveTopic, error) {
	q, err := Parse(t.Query)
	if err != nil {
		return nil, err
	}
	nt := &naiveTopic{root: q.root, terms: map[*term]int{}}
	var alts []string
	walkPolarity(q.root, true, func(tm *term, _ bool) {
		words := strings.FieldsFunc(tm.text, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '*')
		})
		for i, w := range words {
			words[i] = regexp.QuoteMeta(strings.TrimSuffix(w, "*"))
		}
		pat := strings.Join(words, `\W+`)
		if tm.prefix {
			pat += `\w*`
		}
		nt.terms[tm] = len(alts) + 1
		alts = append(alts, `(`+pat+`)`)
	})
	nt.re, err = regexp.Compile(`(?i)\b(?:` + strings.Join(alts, "|") + `)\b`)
	return nt, err
}

func (nt *naiveTopic) match(item *news.Item) bool {
	var found [numFields]map[int]bool
	for f, text := range map[field]string{fieldTitle: item.Title, fieldSummary: item.Summary, fieldContent: item.Content} {
		found[f] = map[int]bool{}
		for _, m := range nt.re.FindAllStringSubmatchIndex(text, -1) {
			for g := 1; 2*g < len(m); g++ {
				if m[2*g] >= 0 {
					found[f][g] = true
				}
			}
		}
	}
	var eval func(n *node) bool
	eval = func(n *node) bool {
		switch n.op {
		case opTerm:
			g := nt.terms[n.term]
			for f := fieldTitle; f <= fieldContent; f++ {
				if n.term.field.mask()&(1<<f) != 0 && found[f][g] {
					return true
				}
			}
			return false
		case opAnd:
			for _, k := range n.kids {
				if !eval(k) {
					return false
				}
			}
			return true
		case opOr:
			for _, k := range n.kids {
				if eval(k) {
					return true
				}
			}
			return false
		case opNot:
			return !eval(n.kids[0])
		}
		return false
	}
	return eval(nt.root)
}

// benchItems returns items of about 2-5 KB and their mean size.
func benchItems(c *corpus, n int) ([]news.Item, int) {
	items := make([]news.Item, n)
	size := 0
	for i := range items {
		items[i] = c.item(i)
		size += len(items[i].Title) + len(items[i].Summary) + len(items[i].Content)
	}
	return items, size / n
}

// reportRates reports items/s (wall clock), and the CPU time per item and
// CPU-time throughput (cpu-MB/s: MB of item text per second of one core),
// which hold still when other work shares the machine.
func reportRates(b *testing.B, items, size int, cpu time.Duration) {
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(items), "cpu-ns/item")
		b.ReportMetric(float64(size)*float64(items)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
}

// BenchmarkMatch compares the index with the naive baseline at 10, 1,000
// and 10,000 topics. MB/s is item text (title+summary+content) per second
// on one goroutine; matches/item shows the work is real and comparable.
//
//	go test -run '^$' -bench Match -cpu 1 -count 5 ./match/
func BenchmarkMatch(b *testing.B) {
	c := newCorpus(42)
	items, size := benchItems(c, 64)
	for _, n := range []int{10, 1000, 10000} {
		topics := make([]news.Topic, n)
		for i := range topics {
			topics[i] = c.topic(i)
		}
		b.Run(fmt.Sprint("index/", n), func(b *testing.B) {
			ix, err := Compile(topics)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			matches, i := 0, 0
			cpu := cputime()
			for b.Loop() {
				matches += len(ix.Match(items[i%len(items)], now))
				i++
			}
			reportRates(b, i, size, cputime()-cpu)
			b.ReportMetric(float64(matches)/float64(i), "matches/item")
		})
		b.Run(fmt.Sprint("naive/", n), func(b *testing.B) {
			naive := make([]*naiveTopic, n)
			for i, t := range topics {
				var err error
				if naive[i], err = newNaive(t); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(size))
			matches, i := 0, 0
			cpu := cputime()
			for b.Loop() {
				it := &items[i%len(items)]
				for _, nt := range naive {
					if nt.match(it) {
						matches++
					}
				}
				i++
			}
			reportRates(b, i, size, cputime()-cpu)
			b.ReportMetric(float64(matches)/float64(i), "matches/item")
		})
	}
}

// TestNaiveBaselineAgrees checks that the benchmark compares like with
// like: on the benchmark's corpus the naive regexps and the index find the
// same matches, but for the rare cases where a regexp alternation reports
// one of two overlapping terms only.
func TestNaiveBaselineAgrees(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("slow: runs hundreds of regexps over each item (minutes under -race); it checks results, not races")
	}
	c := newCorpus(42)
	items, _ := benchItems(c, 40)
	topics := make([]news.Topic, 400)
	for i := range topics {
		topics[i] = c.topic(i)
	}
	ix, err := Compile(topics)
	if err != nil {
		t.Fatal(err)
	}
	naive := make([]*naiveTopic, len(topics))
	for i, tp := range topics {
		if naive[i], err = newNaive(tp); err != nil {
			t.Fatal(err)
		}
	}
	pairs, agree, matches := 0, 0, 0
	for _, it := range items {
		got := map[string]bool{}
		for _, m := range ix.Match(it, now) {
			got[m.TopicID] = true
		}
		matches += len(got)
		for i, tp := range topics {
			pairs++
			if naive[i].match(&it) == got[tp.ID] {
				agree++
			}
		}
	}
	t.Logf("%d of %d (item, topic) pairs agree; %d matches", agree, pairs, matches)
	if matches == 0 || pairs-agree > pairs/1000 {
		t.Errorf("%d of %d pairs disagree (%d matches)", pairs-agree, pairs, matches)
	}
}

// BenchmarkDecide is the index without the reporting: scan the item and
// decide which topics match (conditions, exclude terms; no hits, scores or
// snippets). Set beside BenchmarkMatch/index it shows how much of the cost
// at many topics is producing the matches themselves.
//
//	go test -run '^$' -bench Decide -cpu 1 -count 5 ./match/
func BenchmarkDecide(b *testing.B) {
	c := newCorpus(42)
	items, size := benchItems(c, 64)
	for _, n := range []int{10, 1000, 10000} {
		topics := make([]news.Topic, n)
		for i := range topics {
			topics[i] = c.topic(i)
		}
		ix, err := Compile(topics)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprint("index/", n), func(b *testing.B) {
			b.SetBytes(int64(size))
			decided, i := 0, 0
			cpu := cputime()
			for b.Loop() {
				it := &items[i%len(items)]
				d := ix.scan(it)
				for _, t := range d.cands {
					ct := ix.topics[t]
					if ct.topic.AppliesTo(it.SourceID) && d.holds(ct) && len(d.excluded(ct)) == 0 {
						decided++
					}
				}
				ix.release(d)
				i++
			}
			reportRates(b, i, size, cputime()-cpu)
			b.ReportMetric(float64(decided)/float64(i), "holds/item")
		})
	}
}
