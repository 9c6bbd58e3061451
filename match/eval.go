package match

import (
	"sort"
	"strings"

	"wirewatch/news"
)

// matcher is a compiled term, shared by every topic that uses the same term
// on the same fields, so each is looked up once per item however many topics
// use it. A later multi-pattern index replaces the per-term lookups.
type matcher struct {
	mask   fieldMask
	toks   []string
	prefix bool
	raw    string // source: only
	// fail is the KMP failure function over toks, used when a phrase's
	// first word is too frequent for candidate checking to stay linear.
	fail []int
}

func newMatcher(t *term) *matcher {
	m := &matcher{mask: t.field.mask(), toks: t.toks, prefix: t.prefix, raw: strings.ToLower(t.raw)}
	if len(m.toks) > 1 {
		m.fail = kmpFailure(m.toks)
	}
	return m
}

// key identifies matchers that behave identically.
func (t *term) key() string {
	var b strings.Builder
	b.WriteByte(byte(t.field))
	if t.prefix {
		b.WriteByte('*')
	} else {
		b.WriteByte('=')
	}
	if t.field == fieldSource {
		b.WriteString(strings.ToLower(t.raw))
		return b.String()
	}
	for _, s := range t.toks {
		b.WriteString(s)
		b.WriteByte(0)
	}
	return b.String()
}

// span is where a term was first found in one field, as byte offsets into
// the field's original text.
type span struct {
	found      bool
	start, end int
}

// termResult is a matcher's outcome on one item, per field.
type termResult struct {
	any    bool
	fields [numFields]span
}

// fieldText is one item field, tokenised once per Match call.
type fieldText struct {
	// orig is the field's text as published; multi-valued fields are joined
	// with "\n" (token offsets refer to the joined string).
	orig string
	toks []token
	// index maps a token text to its positions in toks, ascending.
	index map[string][]int
	// sorted holds the distinct token texts, for prefix lookups.
	sorted []string
}

// doc is an item prepared for matching: fields are tokenised lazily, term
// results are computed lazily and cached, so topics that never look at a
// field or a term cost nothing for it.
type doc struct {
	item   *news.Item
	ix     *Index
	norm   *normalizer
	fields [numFields]*fieldText
	res    []termResult
	done   []bool
	// snippets caches snippets by field and hit span.
	snippets map[snippetKey]string
}

func newDoc(ix *Index, item *news.Item) *doc {
	return &doc{
		item: item,
		ix:   ix,
		norm: newNormalizer(),
		res:  make([]termResult, len(ix.matchers)),
		done: make([]bool, len(ix.matchers)),
	}
}

func (d *doc) field(f field) *fieldText {
	if ft := d.fields[f]; ft != nil {
		return ft
	}
	var values []string
	switch f {
	case fieldTitle:
		values = []string{d.item.Title}
	case fieldSummary:
		values = []string{d.item.Summary}
	case fieldContent:
		values = []string{d.item.Content}
	case fieldAuthor:
		values = d.item.Authors
	case fieldCategory:
		values = d.item.Categories
	case fieldLink:
		values = []string{d.item.Link}
	}
	ft := &fieldText{orig: strings.Join(values, "\n"), toks: d.norm.tokens(values...)}
	d.fields[f] = ft
	return ft
}

// result returns term t's outcome on the item, computing it on first use.
func (d *doc) result(t *term) *termResult {
	if d.done[t.id] {
		return &d.res[t.id]
	}
	m := d.ix.matchers[t.id]
	r := &d.res[t.id]
	for f := fieldTitle; f < numFields; f++ {
		if m.mask&(1<<f) == 0 {
			continue
		}
		var s span
		if f == fieldSource {
			s = matchSource(m, d.item.SourceID)
		} else {
			s = d.field(f).find(m)
		}
		r.fields[f] = s
		r.any = r.any || s.found
	}
	d.done[t.id] = true
	return r
}

// matchSource compares a source: term with the item's source id, exactly
// (or by prefix) and case-insensitively.
func matchSource(m *matcher, id string) span {
	var ok bool
	if m.prefix {
		ok = strings.HasPrefix(strings.ToLower(id), m.raw)
	} else {
		ok = strings.EqualFold(id, m.raw)
	}
	return span{found: ok, start: 0, end: len(id)}
}

func (ft *fieldText) buildIndex() {
	if ft.index != nil {
		return
	}
	ft.index = make(map[string][]int, len(ft.toks))
	for i, t := range ft.toks {
		ft.index[t.text] = append(ft.index[t.text], i)
	}
}

func (ft *fieldText) buildSorted() {
	if ft.sorted != nil {
		return
	}
	ft.buildIndex()
	ft.sorted = make([]string, 0, len(ft.index))
	for s := range ft.index {
		ft.sorted = append(ft.sorted, s)
	}
	sort.Strings(ft.sorted)
}

// find returns the first occurrence of m's tokens in the field. Every path
// is linear in the field's token count (plus the term's length): no
// backtracking, whatever the text or query.
func (ft *fieldText) find(m *matcher) span {
	n := len(m.toks)
	if n == 0 || len(ft.toks) < n {
		return span{}
	}
	if n == 1 {
		first := -1
		if m.prefix {
			ft.buildSorted()
			p := m.toks[0]
			for i := sort.SearchStrings(ft.sorted, p); i < len(ft.sorted) && strings.HasPrefix(ft.sorted[i], p); i++ {
				if at := ft.index[ft.sorted[i]][0]; first < 0 || at < first {
					first = at
				}
			}
		} else {
			ft.buildIndex()
			if at := ft.index[m.toks[0]]; len(at) > 0 {
				first = at[0]
			}
		}
		if first < 0 {
			return span{}
		}
		return span{found: true, start: ft.toks[first].start, end: ft.toks[first].end}
	}
	// A phrase: check each occurrence of its first word, unless that word is
	// so frequent that checking them all could go quadratic; then scan once
	// with KMP.
	ft.buildIndex()
	cands := ft.index[m.toks[0]]
	var at int
	if len(cands)*n <= 4*len(ft.toks) {
		at = -1
		for _, i := range cands {
			if ft.phraseAt(m, i) {
				at = i
				break
			}
		}
	} else {
		at = ft.kmp(m)
	}
	if at < 0 {
		return span{}
	}
	return span{found: true, start: ft.toks[at].start, end: ft.toks[at+n-1].end}
}

// tokenMatches compares the phrase's k-th token with a text token.
func (m *matcher) tokenMatches(k int, s string) bool {
	if m.prefix && k == len(m.toks)-1 {
		return strings.HasPrefix(s, m.toks[k])
	}
	return s == m.toks[k]
}

func (ft *fieldText) phraseAt(m *matcher, i int) bool {
	n := len(m.toks)
	if i+n > len(ft.toks) {
		return false
	}
	for k := 1; k < n; k++ {
		t := ft.toks[i+k]
		if t.pos != ft.toks[i].pos+k || !m.tokenMatches(k, t.text) {
			return false
		}
	}
	return true
}

// kmp finds the first index where m's tokens occur at consecutive
// positions, in one pass. Only the last token may be a prefix; as the search
// stops at the first full match, the failure function (computed on exact
// tokens) never shifts a prefix token into the middle of the pattern.
func (ft *fieldText) kmp(m *matcher) int {
	n := len(m.toks)
	j := 0
	for i, t := range ft.toks {
		if j > 0 && t.pos != ft.toks[i-1].pos+1 {
			j = 0 // a gap between field values breaks any partial match
		}
		for j > 0 && !m.tokenMatches(j, t.text) {
			j = m.fail[j-1]
		}
		if m.tokenMatches(j, t.text) {
			j++
		}
		if j == n {
			return i - n + 1
		}
	}
	return -1
}

// kmpFailure returns, for each k, the length of the longest proper prefix of
// toks[:k+1] that is also its suffix.
func kmpFailure(toks []string) []int {
	fail := make([]int, len(toks))
	j := 0
	for i := 1; i < len(toks); i++ {
		for j > 0 && toks[i] != toks[j] {
			j = fail[j-1]
		}
		if toks[i] == toks[j] {
			j++
		}
		fail[i] = j
	}
	return fail
}

// eval reports whether n is true of the item. AND and OR short-circuit, so
// terms that cannot change the outcome are never looked up.
func (d *doc) eval(n *node) bool {
	switch n.op {
	case opTerm:
		return d.result(n.term).any
	case opAnd:
		for _, k := range n.kids {
			if !d.eval(k) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if d.eval(k) {
				return true
			}
		}
		return false
	case opNot:
		return !d.eval(n.kids[0])
	}
	return false
}

// contributing calls fn, in query order, for every present term whose
// presence makes n evaluate as it does (want is that outcome). A term under
// NOT contributes nothing when absent; under NOT NOT it counts again.
//
// For a true AND every child is a reason; for a true OR only the true
// children; for a false AND only the false children, for a false OR all.
func (d *doc) contributing(n *node, want bool, fn func(*term, *termResult)) {
	switch n.op {
	case opTerm:
		if want {
			fn(n.term, d.result(n.term))
		}
	case opNot:
		d.contributing(n.kids[0], !want, fn)
	case opAnd, opOr:
		all := (n.op == opAnd) == want
		for _, k := range n.kids {
			if all || d.eval(k) == want {
				d.contributing(k, want, fn)
			}
		}
	}
}
