package match

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"wirewatch/news"
)

// This file checks the index against a reference model of the language:
// the same tokens, but every term searched by brute force over every
// token of every field, NEAR over every pair of occurrences, and every
// topic evaluated on every item. The index's dictionary, prefix trie,
// anchors, KMP, trigger sets and flat programs must agree with it.

type refTok struct {
	text       string
	pos        int
	start, end int // bytes, in the value
}

type refItem struct {
	item news.Item
	toks [numFields][]refTok
}

func newRefItem(item news.Item) *refItem {
	r := &refItem{item: item}
	tk := newTokenizer()
	for f := fieldTitle; f < fieldSource; f++ {
		values := fieldValues(&item, f)
		pos := 0
		for i, v := range values {
			if i > 0 {
				pos += valueGap
			}
			for _, tok := range tk.tokens(v) {
				r.toks[f] = append(r.toks[f], refTok{tok.text, pos, tok.start, tok.end})
				pos++
			}
		}
	}
	return r
}

// refPattern is one pattern of a term: its own, or a synonym variant's.
type refPattern struct {
	toks   []string
	prefix bool
}

type refSpan struct{ p0, p1 int }

// occurrences finds p in field f by trying every start token.
func (r *refItem) occurrences(p refPattern, f field) []refSpan {
	toks := r.toks[f]
	var out []refSpan
	for i := range toks {
		if i+len(p.toks) > len(toks) {
			break
		}
		ok := true
		for k, want := range p.toks {
			got := toks[i+k]
			last := k == len(p.toks)-1
			if got.pos != toks[i].pos+k || !(got.text == want || last && p.prefix && strings.HasPrefix(got.text, want)) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, refSpan{toks[i].pos, toks[i+len(p.toks)-1].pos})
		}
	}
	return out
}

type refModel struct {
	groups map[string][]refPattern // normalised group name → variant patterns
}

func newRefModel(synonyms map[string][]string) *refModel {
	m := &refModel{groups: map[string][]refPattern{}}
	for name, variants := range synonyms {
		nt, err := parseEntry(name, false)
		if err != nil {
			panic(err)
		}
		for _, v := range variants {
			vt, err := parseEntry(v, false)
			if err != nil {
				panic(err)
			}
			k := strings.Join(nt.toks, "\x00")
			m.groups[k] = append(m.groups[k], refPattern{vt.toks, vt.prefix})
		}
	}
	return m
}

func (m *refModel) patterns(t *term) []refPattern {
	ps := []refPattern{{t.toks, t.prefix}}
	if !t.phrase && !t.prefix {
		ps = append(ps, m.groups[strings.Join(t.toks, "\x00")]...)
	}
	return ps
}

// fields returns where term t occurs, and its occurrences per field.
func (m *refModel) fields(r *refItem, t *term) fieldMask {
	if t.field == fieldSource {
		id, raw := strings.ToLower(r.item.SourceID), strings.ToLower(t.raw)
		if id == raw || t.prefix && strings.HasPrefix(id, raw) {
			return 1 << fieldSource
		}
		return 0
	}
	var out fieldMask
	for f := fieldTitle; f < fieldSource; f++ {
		if t.field.mask()&(1<<f) == 0 {
			continue
		}
		for _, p := range m.patterns(t) {
			if len(r.occurrences(p, f)) > 0 {
				out |= 1 << f
			}
		}
	}
	return out
}

func (m *refModel) nearFields(r *refItem, n *node) fieldMask {
	spans := func(k *node, f field) []refSpan {
		var out []refSpan
		for _, t := range operandTerms(k) {
			if t.field.mask()&(1<<f) == 0 {
				continue
			}
			for _, p := range m.patterns(t) {
				out = append(out, r.occurrences(p, f)...)
			}
		}
		return out
	}
	var out fieldMask
	for f := fieldTitle; f < fieldSource; f++ {
		for _, a := range spans(n.kids[0], f) {
			for _, b := range spans(n.kids[1], f) {
				if b.p0 > a.p1 && b.p0-a.p1 <= n.dist || a.p0 > b.p1 && a.p0-b.p1 <= n.dist {
					out |= 1 << f
				}
			}
		}
	}
	return out
}

func (m *refModel) eval(r *refItem, n *node) bool {
	switch n.op {
	case opTerm:
		return m.fields(r, n.term) != 0
	case opNot:
		return !m.eval(r, n.kids[0])
	case opNear:
		return m.nearFields(r, n) != 0
	case opAnd:
		for _, k := range n.kids {
			if !m.eval(r, k) {
				return false
			}
		}
		return true
	default:
		for _, k := range n.kids {
			if m.eval(r, k) {
				return true
			}
		}
		return false
	}
}

// contributing is the definition of a match's reasons (see doc.contributing).
func (m *refModel) contributing(r *refItem, n *node, want bool, fn func(*term, fieldMask)) {
	switch n.op {
	case opTerm:
		if want {
			fn(n.term, m.fields(r, n.term))
		}
	case opNot:
		m.contributing(r, n.kids[0], !want, fn)
	case opNear:
		if want {
			nf := m.nearFields(r, n)
			for _, k := range n.kids {
				for _, t := range operandTerms(k) {
					if f := m.fields(r, t) & nf; f != 0 {
						fn(t, f)
					}
				}
			}
		}
	default:
		all := (n.op == opAnd) == want
		for _, k := range n.kids {
			if all || m.eval(r, k) == want {
				m.contributing(r, k, want, fn)
			}
		}
	}
}

// verdict is the reference outcome of topic ct: whether the condition
// holds, the matched terms, the score, and whether the topic matches.
func (m *refModel) verdict(r *refItem, ct *ctopic) (holds bool, terms []string, score float64, matched bool) {
	cond := ct.condition()
	holds = m.eval(r, cond)
	if !holds {
		return false, nil, 0, false
	}
	weight := map[string]float64{}
	title := map[string]bool{}
	m.contributing(r, cond, true, func(t *term, f fieldMask) {
		if !slices.Contains(terms, t.text) {
			terms = append(terms, t.text)
		}
		weight[t.text] = max(weight[t.text], t.weight)
		title[t.text] = title[t.text] || f&(1<<fieldTitle) != 0
	})
	for _, s := range terms {
		if title[s] {
			score += 2 * weight[s]
		} else {
			score += weight[s]
		}
	}
	excluded := false
	for _, t := range ct.exclude {
		excluded = excluded || m.fields(r, t) != 0
	}
	return true, terms, score, !excluded && score >= ct.minScore && ct.topic.AppliesTo(r.item.SourceID)
}

// Random topics and items over a small vocabulary, so that they match.

var (
	propWords    = []string{"a", "b", "ab", "abc", "abd", "xy", "Xinjiang", "Uyghur", "Uighurs", "Uigur", "camps", "维吾尔", "人权", "Türkiye", "turkiye", "human", "rights"}
	propPrefixes = []string{"ab*", "Uig*", "hu*", "Xin*", "tü*"}
	propPhrases  = []string{`"a b"`, `"human rights"`, `"a b a"`, `"b ab"`, "维吾尔人权", `"xy camps"`}
	propSynonyms = map[string][]string{"Uyghur": {"Uighur*", "Uigur", "维吾尔", "human rights"}, "xy": {`"a b"`}}
)

func propTerm(rng *rand.Rand) string {
	switch rng.IntN(6) {
	case 0:
		return propPrefixes[rng.IntN(len(propPrefixes))]
	case 1:
		return propPhrases[rng.IntN(len(propPhrases))]
	default:
		return propWords[rng.IntN(len(propWords))]
	}
}

func propFielded(rng *rand.Rand, s string) string {
	switch rng.IntN(10) {
	case 0:
		return "title:" + s
	case 1:
		return "summary:" + s
	case 2:
		return "category:" + s
	}
	return s
}

func propExpr(rng *rand.Rand, depth int) string {
	if depth == 0 {
		return propFielded(rng, propTerm(rng))
	}
	switch rng.IntN(6) {
	case 0:
		return fmt.Sprintf("(%s AND %s)", propExpr(rng, depth-1), propExpr(rng, depth-1))
	case 1:
		return fmt.Sprintf("(%s OR %s)", propExpr(rng, depth-1), propExpr(rng, depth-1))
	case 2:
		return fmt.Sprintf("(%s NOT %s)", propExpr(rng, depth-1), propExpr(rng, depth-1))
	case 3:
		left := propTerm(rng)
		if rng.IntN(3) == 0 {
			left = "(" + left + " OR " + propTerm(rng) + ")"
		}
		return propFielded(rng, fmt.Sprintf("(%s NEAR/%d %s)", left, 1+rng.IntN(4), propTerm(rng)))
	case 4:
		return "source:" + []string{"bbc", "reu*"}[rng.IntN(2)] + " " + propExpr(rng, depth-1)
	default:
		return propExpr(rng, depth-1)
	}
}

func propTopic(rng *rand.Rand, i int) news.Topic {
	t := news.Topic{ID: fmt.Sprint(i), Synonyms: propSynonyms}
	if rng.IntN(2) == 0 {
		t.Query = propExpr(rng, 1+rng.IntN(3))
	} else {
		for range rng.IntN(3) {
			t.Must = append(t.Must, propExpr(rng, rng.IntN(3)))
		}
		for range rng.IntN(3) {
			t.Should = append(t.Should, propExpr(rng, rng.IntN(3)))
		}
		if len(t.Must)+len(t.Should) == 0 {
			t.Should = []string{propExpr(rng, 1)}
		}
		for range rng.IntN(2) {
			t.Not = append(t.Not, propExpr(rng, rng.IntN(2)))
		}
	}
	if rng.IntN(4) == 0 {
		t.Exclude = []string{strings.Trim(propTerm(rng), `"`)}
	}
	if rng.IntN(4) == 0 {
		t.MinScore = float64(rng.IntN(4))
	}
	if rng.IntN(5) == 0 {
		t.Sources = []string{"bbc"}
	}
	return t
}

func propText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString([]string{" ", " ", " ", "-", ", ", "  \n", "’"}[rng.IntN(7)])
		}
		b.WriteString(propWords[rng.IntN(len(propWords))])
	}
	return b.String()
}

func propItem(rng *rand.Rand) news.Item {
	it := news.Item{
		ID:       "i",
		SourceID: []string{"bbc", "reuters", "ap"}[rng.IntN(3)],
		Title:    propText(rng, rng.IntN(5)),
		Summary:  propText(rng, rng.IntN(8)),
		Content:  propText(rng, rng.IntN(25)),
	}
	for range rng.IntN(3) {
		it.Categories = append(it.Categories, propText(rng, 1+rng.IntN(2)))
	}
	return it
}

// validTopic compiles t alone, reporting whether its random expressions
// are valid queries (some are not: `NOT a`, or NEAR across fields).
func validTopic(t news.Topic) bool {
	_, err := Compile([]news.Topic{t})
	return err == nil
}

func TestIndexAgreesWithReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	model := newRefModel(propSynonyms)
	rounds, checked, matched := 30, 0, 0
	if testing.Short() {
		rounds = 5
	}
	for range rounds {
		var topics []news.Topic
		for len(topics) < 25 {
			tp := propTopic(rng, len(topics))
			if validTopic(tp) {
				topics = append(topics, tp)
			}
		}
		for i := range topics {
			if rng.IntN(3) == 0 { // a weight on one of the topic's terms
				q, _ := Parse(topics[i].Query + strings.Join(topics[i].Must, " ") + " " + strings.Join(topics[i].Should, " "))
				if q != nil && len(q.Terms()) > 0 {
					topics[i].Weights = map[string]float64{q.Terms()[0]: []float64{0.5, 2, 3}[rng.IntN(3)]}
					if !validTopic(topics[i]) {
						topics[i].Weights = nil
					}
				}
			}
		}
		ix, err := Compile(topics)
		if err != nil {
			t.Fatal(err)
		}
		for range 40 {
			item := propItem(rng)
			ref := newRefItem(item)
			got := map[string]news.Match{}
			for _, m := range ix.Match(item, now) {
				got[m.TopicID] = m
			}
			d := ix.scan(&item)
			for i, ct := range ix.topics {
				full, err := ix.tree(ct)
				if err != nil {
					t.Fatal(err)
				}
				holds, terms, score, want := model.verdict(ref, full)
				if d.holds(ct) != holds {
					t.Fatalf("topic %+v on %+v: holds = %v, reference %v", topics[i], item, !holds, holds)
				}
				v, _ := ix.Evaluate(ct.topic.ID, item)
				m, inMatch := got[ct.topic.ID]
				explained, ex, _ := ix.Explain(ct.topic.ID, item)
				if v.Matched != want || inMatch != want || explained != want {
					t.Fatalf("topic %+v on %+v: Evaluate %v, Match %v, Explain %v, reference %v\n%+v\n%s",
						topics[i], item, v.Matched, inMatch, explained, want, v, ex)
				}
				if holds && (!reflect.DeepEqual(v.Terms, terms) || v.Score != score) {
					t.Fatalf("topic %+v on %+v: terms %q score %v, reference %q %v", topics[i], item, v.Terms, v.Score, terms, score)
				}
				if !want {
					if v.Reason == "" {
						t.Fatalf("no reason for %+v", v)
					}
					continue
				}
				matched++
				if !reflect.DeepEqual(m.Terms, v.Terms) || !reflect.DeepEqual(m.Hits, v.Hits) || m.Score != v.Score ||
					m.Snippet != v.Snippet || !reflect.DeepEqual(m.Marks, v.Marks) {
					t.Fatalf("Match %+v and Evaluate %+v disagree", m, v)
				}
				checkMarks(t, ix, model, m, full)
				for _, h := range m.Hits {
					if !slices.Contains(m.Terms, h.Term) || h.Text == "" {
						t.Fatalf("hit %+v not among terms %q", h, m.Terms)
					}
				}
			}
			ix.release(d)
			checked++
		}
	}
	t.Logf("%d items against 25 topics each; %d matches", checked, matched)
	if matched < 100 {
		t.Errorf("only %d matches: the generator no longer exercises matching", matched)
	}
}

// checkMarks checks that every mark slices exactly an occurrence of one of
// the match's terms: the marked text, as a field of its own, holds one of
// the term's patterns from its first byte to its last. (Bytes, not tokens:
// ½ is the two tokens 1 and 2, and a mark of 1 is the whole character.)
func checkMarks(t *testing.T, ix *Index, model *refModel, m news.Match, ct *ctopic) {
	t.Helper()
	var terms []*term
	ct.walk(func(tm *term, _ bool) {
		if slices.Contains(m.Terms, tm.text) && tm.field != fieldSource {
			terms = append(terms, tm)
		}
	})
	for _, text := range markTexts(t, m.Snippet, m.Marks) {
		r := newRefItem(news.Item{Title: text})
		toks := r.toks[fieldTitle]
		ok := false
		for _, tm := range terms {
			for _, p := range model.patterns(tm) {
				for _, s := range r.occurrences(p, fieldTitle) {
					ok = ok || toks[s.p0].start == 0 && toks[s.p1].end == len(text)
				}
			}
		}
		if !ok {
			t.Fatalf("mark %q of %q is not an occurrence of any of %q", text, m.Snippet, m.Terms)
		}
	}
}
