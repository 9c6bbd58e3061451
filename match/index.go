package match

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"wirewatch/news"
)

// Scores of a match: per distinct term, 2.0 if it was found in the title
// plus 1.0 if it was found in any other field. A title mention is the
// strongest signal that an item is about the topic; repeating a term in
// both summary and content (which often duplicate each other) adds nothing.
const (
	scoreTitle = 2.0
	scoreOther = 1.0
)

// snippetRunes caps a snippet's length in characters, ellipses included.
const snippetRunes = 240

// Index is a compiled set of topics. It is immutable after Compile and safe
// for concurrent use.
type Index struct {
	topics  []news.Topic
	queries []*Query
	byID    map[string]int
	// matchers holds each distinct term once across all topics; term.id
	// indexes it.
	matchers []*matcher
}

// Compile parses every topic's query. Errors name the topic,
// `topic "x": query: line 1, column 5: ...`, wrap the *SyntaxError, and are
// joined so a config with several bad topics is fixed in one pass. Topic ids
// must be non-empty and unique: Explain looks topics up by id.
func Compile(topics []news.Topic) (*Index, error) {
	ix := &Index{
		topics:  make([]news.Topic, len(topics)),
		queries: make([]*Query, len(topics)),
		byID:    make(map[string]int, len(topics)),
	}
	keys := map[string]int{}
	var errs []error
	for i, t := range topics {
		t.Sources = slices.Clone(t.Sources) // the index must not change under the caller's edits
		ix.topics[i] = t
		switch _, dup := ix.byID[t.ID]; {
		case t.ID == "":
			errs = append(errs, fmt.Errorf("topic #%d: empty topic id", i+1))
		case dup:
			errs = append(errs, fmt.Errorf("topic %q: duplicate topic id", t.ID))
		default:
			ix.byID[t.ID] = i
		}
		q, err := Parse(t.Query)
		if err != nil {
			errs = append(errs, fmt.Errorf("topic %q: %w", t.ID, err))
			continue
		}
		q.walkTerms(func(tm *term) {
			k := tm.key()
			id, ok := keys[k]
			if !ok {
				id = len(ix.matchers)
				keys[k] = id
				ix.matchers = append(ix.matchers, newMatcher(tm))
			}
			tm.id = id
		})
		ix.queries[i] = q
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ix, nil
}

// Topics returns the compiled topics, in order.
func (ix *Index) Topics() []news.Topic {
	out := make([]news.Topic, len(ix.topics))
	for i, t := range ix.topics {
		t.Sources = slices.Clone(t.Sources)
		out[i] = t
	}
	return out
}

// Match returns one news.Match per topic the item satisfies, in topic order,
// skipping topics that do not watch the item's source. Each item field is
// tokenised at most once per call, however many topics look at it.
//
// Terms and Hits list only terms whose presence made the query true (a term
// of a failed OR branch, or one under NOT, is not reported). Score is the
// sum, per distinct term, of 2.0 for a title hit plus 1.0 for a hit in any
// other field. The Snippet is plain text of at most 240 characters around
// the earliest hit in the summary, else in the content, else the title.
func (ix *Index) Match(item news.Item, now time.Time) []news.Match {
	var d *doc
	var out []news.Match
	for i, t := range ix.topics {
		if !t.AppliesTo(item.SourceID) {
			continue
		}
		if d == nil {
			d = newDoc(ix, &item)
		}
		q := ix.queries[i]
		if !d.eval(q.root) {
			continue
		}
		m := d.report(q)
		m.TopicID = t.ID
		m.ItemID = item.ID
		m.MatchedAt = now
		out = append(out, m)
	}
	return out
}

// report builds the Terms, Hits, Score and Snippet of a matching query.
func (d *doc) report(q *Query) news.Match {
	var m news.Match
	seenTerm := map[string]bool{}
	seenHit := map[string]bool{}
	inTitle := map[string]bool{}
	inOther := map[string]bool{}
	var first [numFields]span // earliest hit per field, for the snippet
	d.contributing(q.root, true, func(t *term, r *termResult) {
		if !seenTerm[t.text] {
			seenTerm[t.text] = true
			m.Terms = append(m.Terms, t.text)
		}
		for f := fieldTitle; f < numFields; f++ {
			s := r.fields[f]
			if !s.found {
				continue
			}
			if f == fieldTitle {
				inTitle[t.text] = true
			} else {
				inOther[t.text] = true
			}
			if !first[f].found || s.start < first[f].start {
				first[f] = s
			}
			k := t.text + "\x00" + f.String()
			if seenHit[k] {
				continue
			}
			seenHit[k] = true
			m.Hits = append(m.Hits, news.Hit{Term: t.text, Field: f.String(), Text: d.spanText(f, s)})
		}
	})
	m.Score = scoreTitle*float64(len(inTitle)) + scoreOther*float64(len(inOther))
	switch it := d.item; {
	case first[fieldSummary].found:
		m.Snippet = d.snippet(fieldSummary, first[fieldSummary])
	case first[fieldContent].found:
		m.Snippet = d.snippet(fieldContent, first[fieldContent])
	case strings.TrimSpace(it.Title) != "":
		m.Snippet = d.snippet(fieldTitle, span{})
	case strings.TrimSpace(it.Summary) != "":
		m.Snippet = d.snippet(fieldSummary, span{})
	default:
		m.Snippet = d.snippet(fieldContent, span{})
	}
	return m
}

// snippet returns the snippet of field f around s, computed once per item:
// topics on the same story tend to share their first hit.
func (d *doc) snippet(f field, s span) string {
	k := snippetKey{f, s.start, s.end}
	if v, ok := d.snippets[k]; ok {
		return v
	}
	v := snippet(d.field(f).orig, s.start, s.end)
	if d.snippets == nil {
		d.snippets = map[snippetKey]string{}
	}
	d.snippets[k] = v
	return v
}

type snippetKey struct {
	f          field
	start, end int
}

// spanText is the matched text as it appears in the item.
func (d *doc) spanText(f field, s span) string {
	if f == fieldSource {
		return d.item.SourceID
	}
	return d.field(f).orig[s.start:s.end]
}

// Explain evaluates one topic on one item and says why it did or did not
// match: which terms were found where, and which required parts failed.
// matched is what Match would report, so a topic that does not watch the
// item's source is not matched, whatever its query says.
func (ix *Index) Explain(topicID string, item news.Item) (matched bool, explanation string, err error) {
	i, ok := ix.byID[topicID]
	if !ok {
		return false, "", fmt.Errorf("match: explain topic %q: %w", topicID, news.ErrNotFound)
	}
	t, q := ix.topics[i], ix.queries[i]
	d := newDoc(ix, &item)
	queryTrue := d.eval(q.root)
	applies := t.AppliesTo(item.SourceID)
	matched = queryTrue && applies

	var b strings.Builder
	switch {
	case !applies:
		fmt.Fprintf(&b, "topic %q did not match: it does not watch source %q (its sources: %s)",
			t.ID, item.SourceID, strings.Join(t.Sources, ", "))
		if queryTrue {
			b.WriteString("; its query alone would match\n")
		} else {
			b.WriteString("; its query alone would not match either\n")
		}
	case matched:
		m := d.report(q)
		fmt.Fprintf(&b, "topic %q matched: score %g, terms: %s\n", t.ID, m.Score, strings.Join(m.Terms, ", "))
	default:
		var failed []string
		if q.root.op == opAnd {
			for _, k := range q.root.kids {
				if !d.eval(k) {
					failed = append(failed, nodeString(k))
				}
			}
		} else {
			failed = append(failed, nodeString(q.root))
		}
		fmt.Fprintf(&b, "topic %q did not match: failed: %s\n", t.ID, strings.Join(failed, "; "))
	}
	fmt.Fprintf(&b, "query: %s\n", q)
	d.explainNode(&b, q.root, 0)
	return matched, b.String(), nil
}

func nodeString(n *node) string {
	var b strings.Builder
	writeNode(&b, n)
	return b.String()
}

// explainNode writes one line per node, indented by depth, marked ✓ when
// the node holds and ✗ when it does not.
func (d *doc) explainNode(b *strings.Builder, n *node, depth int) {
	v := d.eval(n)
	mark := "✗"
	if v {
		mark = "✓"
	}
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteString(mark)
	b.WriteByte(' ')
	switch n.op {
	case opTerm:
		r := d.result(n.term)
		b.WriteString(n.term.String())
		if !v {
			fmt.Fprintf(b, ": not found in %s\n", maskNames(n.term.field.mask()))
			return
		}
		b.WriteString(": found in ")
		sep := ""
		for f := fieldTitle; f < numFields; f++ {
			if r.fields[f].found {
				fmt.Fprintf(b, "%s%s %q", sep, f, d.spanText(f, r.fields[f]))
				sep = ", "
			}
		}
		b.WriteByte('\n')
		return
	case opNot:
		if v {
			b.WriteString("NOT: excluded part is absent\n")
		} else {
			b.WriteString("NOT: excluded part is present\n")
		}
	case opAnd:
		failed := 0
		for _, k := range n.kids {
			if !d.eval(k) {
				failed++
			}
		}
		if v {
			fmt.Fprintf(b, "AND: all %d parts hold\n", len(n.kids))
		} else {
			fmt.Fprintf(b, "AND: %d of %d required parts failed\n", failed, len(n.kids))
		}
	case opOr:
		held := 0
		for _, k := range n.kids {
			if d.eval(k) {
				held++
			}
		}
		if v {
			fmt.Fprintf(b, "OR: %d of %d alternatives hold\n", held, len(n.kids))
		} else {
			fmt.Fprintf(b, "OR: none of %d alternatives holds\n", len(n.kids))
		}
	}
	for _, k := range n.kids {
		d.explainNode(b, k, depth+1)
	}
}

func maskNames(m fieldMask) string {
	var names []string
	for f := fieldTitle; f < numFields; f++ {
		if m&(1<<f) != 0 {
			names = append(names, f.String())
		}
	}
	return strings.Join(names, ", ")
}

// snippet returns plain text of at most snippetRunes characters from text
// around the byte span [hs, he): starting a little before the hit, cut at
// word boundaries where the text has them (CJK does not), with "…" where
// text was cut and runs of whitespace collapsed.
func snippet(text string, hs, he int) string {
	const lead = 60 // characters of context before the hit
	budget := snippetRunes - 2
	start := backRunes(text, hs, lead)
	end := fwdRunes(text, start, budget)
	if end == len(text) {
		start = backRunes(text, len(text), budget)
	}
	if start == 0 && end == len(text) {
		return collapseSpace(text) // short enough to show whole
	}
	if start > 0 {
		// Begin at the start of a word: skip the partial word we landed in.
		if r, _ := utf8.DecodeLastRuneInString(text[:start]); !unicode.IsSpace(r) {
			if i := strings.IndexFunc(text[start:hs], unicode.IsSpace); i >= 0 {
				start += i
			}
		}
	}
	if end < len(text) {
		// End after a whole word, but never before the hit's end.
		if r, _ := utf8.DecodeRuneInString(text[end:]); !unicode.IsSpace(r) {
			from := max(he, start)
			if from < end {
				if i := strings.LastIndexFunc(text[from:end], unicode.IsSpace); i >= 0 {
					end = from + i
				}
			}
		}
	}
	s := collapseSpace(text[start:end])
	if start > 0 {
		s = "…" + s
	}
	if end < len(text) {
		s += "…"
	}
	return s
}

// collapseSpace trims s and replaces each run of whitespace with one space.
// Items arrive as valid UTF-8 from sources; invalid bytes are replaced all
// the same, since a snippet ends up in JSON payloads and feeds.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r) // an invalid byte decodes to, and is written as, U+FFFD
	}
	return b.String()
}

// backRunes moves from byte offset i back by up to n runes.
func backRunes(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, w := utf8.DecodeLastRuneInString(s[:i])
		i -= w
	}
	return i
}

// fwdRunes moves from byte offset i forward by up to n runes.
func fwdRunes(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return i
}
