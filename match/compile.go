package match

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"wirewatch/news"
)

// Index is a compiled set of topics: one dictionary of every token any
// topic needs, so each item is scanned once whatever the number of topics,
// and only topics whose terms occurred are evaluated. It is immutable after
// Compile and safe for concurrent use.
type Index struct {
	topics []*ctopic
	byID   map[string]int

	// dict maps a normalised token to its entry; prefixes maps a
	// normalised prefix to its entry (see prefixDict). An entry is one
	// thing a token of an item can be: a word or (for each prefix it
	// starts with) a prefix.
	dict     dict
	prefixes prefixDict
	nEntries int

	// matchers holds each distinct pattern (a word, a prefix, a phrase, a
	// source id) once across all topics, fields and synonym variants; pats
	// their entries. fails[failAt[m]:failAt[m+1]] holds the KMP failure
	// function over the exact part of each multi-token pattern, for when
	// its first token is too frequent in an item for checking each
	// occurrence to stay linear.
	// srcRaw holds the lowercased id of each source: pattern.
	matchers []matcher
	pats     []int32
	fails    []int32
	failAt   []int32
	srcRaw   []string
	// anchors[einfo[e].lo:einfo[e].hi] are the multi-token matchers whose
	// first token is entry e, with their second token, which rules most
	// phrases out before their pattern is read. An entry's anchors are
	// sorted by second token, and seconds holds the second tokens again,
	// beside each other: a common word anchors many phrases, and most are
	// ruled out on these alone (see doc.resolve).
	anchors []anchor
	seconds []int32
	// prog holds every topic's condition compiled flat (see instr); altIDs
	// the matchers of terms with synonyms; nears the NEAR nodes; tinfo the
	// text, weight and ord of each term, by term.id.
	prog []instr
	// meta holds, per topic, what deciding a candidate reads first, packed
	// so that the ~100 candidates of an item cost no pointer chase into
	// their ctopic (a cache miss each with thousands of topics) unless
	// they have sources or exclude terms; rmeta what reporting a match
	// reads.
	meta   []topicMeta
	rmeta  []topicReport
	altIDs []int32
	nears  []*node
	tinfo  []termInfo
	// texts holds the distinct texts of the terms (see termInfo.text).
	texts strTable
	// einfo holds per entry what resolving an item's entries reads (see
	// entryInfo), and its kind: whether it is the first token of some
	// pattern (kindFirst) and of some multi-token pattern (kindAnchor). An
	// entry that is neither is only ever a later token of a phrase: its
	// occurrences matter only within maxPat positions after an anchor, and
	// are recorded only there (see doc.record). Phrases tend to have common
	// words inside ("crimes against humanity"), so this keeps the
	// occurrence list short. The dictionaries keep each entry's kind in
	// its slot too, where recording an occurrence finds it.
	einfo  []entryInfo
	maxPat int32
	// topicsOf[topicsAt[m]:topicsAt[m+1]] lists, per matcher m, the
	// topics whose trigger set holds it (see compiler.trigger): the topics
	// its occurrence makes worth evaluating. One contiguous array, so
	// finding a matcher's list is one load, not a slice header's.
	topicsAt []int32
	topicsOf []int32
	// sourceExact and sourcePrefix hold the source: matchers, which compare
	// the item's source id rather than its text.
	sourceExact  map[string][]int32
	sourcePrefix []int32
	// fields is every field some term searches: the fields worth tokenising.
	fields fieldMask

	// docs recycles per-item scratch space (sized by the number of entries,
	// matchers and topics), so matching allocates in proportion to the
	// item, not to the index.
	docs sync.Pool
}

// entryInfo is an entry's Index.einfo.
type entryInfo struct {
	// m1 is the one-token pattern of the entry alone (-1 if none), and
	// topicsOf[tlo:thi] its topics: most entries are only that, and then
	// resolving them reads nothing else of the index.
	m1, tlo, thi int32
	lo, hi       int32 // its multi-token patterns: Index.anchors[lo:hi]
	kind         uint8
}

// Entry kinds (entryInfo.kind).
const (
	kindFirst  = 1 << iota // the first token of some pattern
	kindAnchor             // the first token of some multi-token pattern
)

// matcher is a compiled pattern, kept to 8 bytes so that the matchers an
// item touches share cache lines: with thousands of topics, loading them
// is the cost of matching.
type matcher struct {
	// off and n locate the pattern's entries, Index.pats[off:off+n], one
	// per token, to be found at consecutive positions; with prefixLast the
	// last one is a prefix entry.
	off        int32
	n          uint16
	prefixLast bool
	// source: patterns compare Index.srcRaw[m] with the item's source id.
	source bool
}

// pat returns the entries of matcher m.
func (ix *Index) pat(m int32) []int32 {
	mt := ix.matchers[m]
	return ix.pats[mt.off : mt.off+int32(mt.n)]
}

// ctopic is a compiled topic: a query, or must/should/not groups; exclude
// terms; and the minimum score. The query and groups are only set while
// compiling and in the copies tree returns: matching runs the topic's
// flat program.
type ctopic struct {
	topic             news.Topic
	query             *node
	must, should, not []*node
	exclude           []*term
	minScore          float64
	// prog is where the topic's condition starts in Index.prog; index is
	// the topic's position in the index.
	prog, index int32
	// full is the topic with its tree, built on first use (see tree).
	fullOnce sync.Once
	full     *ctopic
	fullErr  error
}

// topicMeta is a topic's entry in Index.meta: what deciding a candidate
// reads, without its ctopic. It is 32 bytes, so the metas of 10,000
// topics stay in a core's cache where their programs do not.
type topicMeta struct {
	prog int32 // where its condition starts in Index.prog
	// sources: the topic watches only some sources; exclude: it has
	// exclude terms.
	sources, exclude bool
	// gate[:ngate] are the patterns of the topic's second trigger set (see
	// compiler.gate), or ngate is 0: when none of them occurs, the topic
	// cannot hold, and its program is not even loaded.
	ngate uint8
	gate  [maxGate]int32
}

// maxGate is the largest second trigger set kept (see topicMeta).
const maxGate = 6

// topicReport is a topic's entry in Index.rmeta: what reporting a match
// reads, without its ctopic.
type topicReport struct {
	minScore float64
	id       string
	tinfo    int32 // the index of its first term in Index.tinfo
}

// anchor is a matcher anchored at an entry (see Index.anchors), with
// where its pattern is, so most can be ruled out without loading it.
type anchor struct {
	m, second, off int32
	// topicsOf[tlo:thi] are m's topics (see Index.topicsOf), at hand.
	tlo, thi int32
	n        uint16
}

// TopicError is a problem with one part of one topic, so a config loader
// can point at the offending YAML node. Err is a *SyntaxError (position
// relative to that entry) when the entry does not parse.
type TopicError struct {
	TopicID string
	// Field is the topic field at fault: "query", "must", "should", "not",
	// "exclude", "synonyms", "weights" or "min_score".
	Field string
	// Index is the entry's index within a list field (must, should, not,
	// exclude, a synonym group's variants), or -1.
	Index int
	// Key is the synonym group name or the weight key concerned, if any.
	Key string
	Err error
}

func (e *TopicError) Error() string {
	loc := e.Field
	if e.Key != "" {
		loc += fmt.Sprintf(" %q", e.Key)
	}
	if e.Index >= 0 {
		loc += fmt.Sprintf("[%d]", e.Index)
	}
	if se, ok := e.Err.(*SyntaxError); ok {
		return fmt.Sprintf("topic %q: %s: line %d, column %d: %s", e.TopicID, loc, se.Line, se.Column, se.Msg)
	}
	return fmt.Sprintf("topic %q: %s: %v", e.TopicID, loc, e.Err)
}

func (e *TopicError) Unwrap() error { return e.Err }

// Compile validates and compiles topics into one index. Each problem is a
// *TopicError naming the topic and the field and entry at fault
// (`topic "x": must[1]: line 1, column 4: ...`), wrapping a *SyntaxError
// where an entry does not parse; problems are joined so a config with
// several is fixed in one pass. Topic ids must be non-empty and unique.
//
// Compile([]news.Topic{t}) is how to validate a single topic.
func Compile(topics []news.Topic) (*Index, error) {
	c := &compiler{
		ix: &Index{
			byID:        make(map[string]int, len(topics)),
			sourceExact: map[string][]int32{},
		},
		words: map[string]int32{},
		keys:  map[string]int32{},
	}
	var errs []error
	for i, t := range topics {
		switch _, dup := c.ix.byID[t.ID]; {
		case t.ID == "":
			errs = append(errs, fmt.Errorf("topic #%d: empty topic id", i+1))
		case dup:
			errs = append(errs, fmt.Errorf("topic %q: duplicate topic id", t.ID))
		default:
			c.ix.byID[t.ID] = i
		}
		ct, terrs := c.topic(t)
		errs = append(errs, terrs...)
		c.ix.topics = append(c.ix.topics, ct)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.usage = make([]int, len(c.ix.matchers))
	for _, ct := range c.ix.topics {
		seen := map[int32]bool{}
		ct.walk(func(tm *term, positive bool) {
			for _, a := range tm.alts {
				if positive && !seen[a.m] {
					seen[a.m] = true
					c.usage[a.m]++
				}
			}
		})
	}
	for i, ct := range c.ix.topics {
		ct.index = int32(i)
		c.index(i, ct)
		t0 := int32(len(c.ix.tinfo))
		ct.prog = c.emit(ct.condition())
		meta := topicMeta{prog: ct.prog, sources: len(ct.topic.Sources) > 0, exclude: len(ct.exclude) > 0}
		if g := c.gate(ct.condition()); len(g) > 0 {
			meta.ngate = uint8(copy(meta.gate[:], g))
		}
		c.ix.meta = append(c.ix.meta, meta)
		c.ix.rmeta = append(c.ix.rmeta, topicReport{minScore: ct.minScore, id: ct.topic.ID, tinfo: t0})
	}
	if c.ix.nEntries > entryMask {
		return nil, fmt.Errorf("match: %d distinct words and prefixes: at most %d fit an index", c.ix.nEntries, entryMask)
	}
	c.finish()
	// The trees are dropped: matching runs the flat programs, and the
	// trees of 10,000 topics are half a million small objects the garbage
	// collector would walk on every cycle. Evaluate and Explain rebuild
	// the ones they need (see tree).
	for _, ct := range c.ix.topics {
		ct.query, ct.must, ct.should, ct.not = nil, nil, nil, nil
	}
	return c.ix, nil
}

// tree returns a copy of ct with its condition as a tree, as Compile
// built it before dropping it: parsed again, its terms resolved to the
// index's patterns, which Compile created and this only looks up. It is
// built once per topic, for the topics Evaluate and Explain are asked
// about, and kept.
func (ix *Index) tree(ct *ctopic) (*ctopic, error) {
	ct.fullOnce.Do(func() { ct.full, ct.fullErr = ix.buildTree(ct) })
	return ct.full, ct.fullErr
}

func (ix *Index) buildTree(ct *ctopic) (*ctopic, error) {
	c := &compiler{ix: ix, lookupOnly: true}
	full, errs := c.topic(ct.topic)
	if len(errs) > 0 || c.missing {
		errs = append(errs, errors.New("a pattern is missing from the index"))
		return nil, fmt.Errorf("match: rebuild topic %q: %w", ct.topic.ID, errors.Join(errs...))
	}
	full.prog, full.index = ct.prog, ct.index
	numberTerms(full)
	return full, nil
}

// findMatcher returns the matcher of tm's pattern, or -1 when the index
// has none.
func (ix *Index) findMatcher(tm *term) int32 {
	if tm.field == fieldSource {
		raw := strings.ToLower(tm.raw)
		if !tm.prefix {
			if l := ix.sourceExact[raw]; len(l) > 0 {
				return l[0]
			}
			return -1
		}
		for _, m := range ix.sourcePrefix {
			if ix.srcRaw[m] == raw {
				return m
			}
		}
		return -1
	}
	ents := make([]int32, len(tm.toks))
	for i, s := range tm.toks {
		var ok bool
		if tm.prefix && i == len(tm.toks)-1 {
			ents[i], ok = ix.prefixes.trie.find(s)
		} else {
			var ek uint32
			ek, ok = lookup(&ix.dict, s, false, false)
			ents[i] = int32(ek & entryMask)
		}
		if !ok {
			return -1
		}
	}
	ei := &ix.einfo[ents[0]]
	if len(ents) == 1 {
		return ei.m1
	}
	for _, a := range ix.anchors[ei.lo:ei.hi] {
		if slices.Equal(ix.pats[a.off:a.off+int32(a.n)], ents) {
			return a.m
		}
	}
	return -1
}

type compiler struct {
	ix *Index
	// lookupOnly: the index is built, and matcher looks patterns up
	// instead of adding them (see tree); missing is set if one is not
	// there.
	lookupOnly, missing bool
	keys                map[string]int32 // pattern key → matcher id
	words               map[string]int32 // normalised word → entry
	trie                trieBuilder
	// topicsOf is Index.topicsOf while topics are added, per matcher.
	topicsOf [][]int32
	// usage counts, per matcher, the topics using it un-negated: the
	// compiler's estimate of how common a pattern is (see trigger).
	usage []int
	// texts are the distinct texts of terms, for Index.texts; textID
	// numbers them.
	texts  []string
	textID map[string]int32
}

// group is a synonym group of one topic.
type group struct {
	name     string
	variants []*term
}

// topic parses and checks one topic. It returns nil and the problems when
// the topic is invalid.
func (c *compiler) topic(t news.Topic) (*ctopic, []error) {
	// The index must not change under the caller's edits.
	ct := &ctopic{topic: cloneTopic(t), minScore: t.MinScore}

	var errs []error
	fail := func(field string, index int, key string, err error) {
		errs = append(errs, &TopicError{TopicID: t.ID, Field: field, Index: index, Key: key, Err: err})
	}

	groups := c.synonyms(t, fail)

	switch nGroups := len(t.Must) + len(t.Should) + len(t.Not); {
	case t.Query != "" && nGroups > 0:
		fail("query", -1, "", errors.New("write either query or must/should/not groups, not both"))
	case t.Query != "":
		q, err := Parse(t.Query)
		if err != nil {
			fail("query", -1, "", err)
		} else {
			ct.query = q.root
		}
	case len(t.Must)+len(t.Should) == 0:
		fail("query", -1, "", errors.New("no query: write a query, or must/should groups"))
	default:
		parseList := func(field string, list []string) []*node {
			var out []*node
			for i, s := range list {
				q, err := Parse(s)
				if err != nil {
					fail(field, i, "", err)
					continue
				}
				out = append(out, q.root)
			}
			return out
		}
		ct.must = parseList("must", t.Must)
		ct.should = parseList("should", t.Should)
		ct.not = parseList("not", t.Not)
	}
	for i, s := range t.Exclude {
		tm, err := parseEntry(s, true)
		if err != nil {
			fail("exclude", i, "", err)
			continue
		}
		ct.exclude = append(ct.exclude, tm)
	}
	if math.IsNaN(t.MinScore) || math.IsInf(t.MinScore, 0) || t.MinScore < 0 {
		fail("min_score", -1, "", fmt.Errorf("%v is not a score: write a number ≥ 0", t.MinScore))
	}
	if len(errs) > 0 {
		return nil, errs
	}

	// Resolve every term to its patterns, synonyms included.
	ct.walk(func(tm *term, positive bool) { c.resolve(tm, groups) })
	for _, tm := range ct.exclude {
		c.resolve(tm, groups)
	}
	c.weights(ct, fail)
	if len(errs) > 0 {
		return nil, errs
	}
	return ct, nil
}

// walk calls fn for every term of the topic's expressions (not exclude), in
// order, with whether it occurs un-negated.
func (ct *ctopic) walk(fn func(t *term, positive bool)) {
	if ct.query != nil {
		walkPolarity(ct.query, true, fn)
	}
	for _, n := range ct.must {
		walkPolarity(n, true, fn)
	}
	for _, n := range ct.should {
		walkPolarity(n, true, fn)
	}
	for _, n := range ct.not {
		walkPolarity(n, false, fn)
	}
}

// synonyms validates a topic's synonym groups and returns them keyed by the
// normalised group name, the form a bare term is compared in.
func (c *compiler) synonyms(t news.Topic, fail func(string, int, string, error)) map[string]*group {
	groups := map[string]*group{}
	for _, name := range slices.Sorted(maps.Keys(t.Synonyms)) {
		nt, err := parseEntry(name, false)
		if err != nil {
			if se, ok := err.(*SyntaxError); ok {
				named := *se
				named.Msg = "group name: " + se.Msg
				err = &named
			}
			fail("synonyms", -1, name, err)
			continue
		}
		if nt.phrase || nt.prefix {
			fail("synonyms", -1, name, errors.New("a group name must be a single word (no spaces, quotes or *): it stands for the group in queries"))
			continue
		}
		key := tokKey(nt.toks)
		if other, dup := groups[key]; dup {
			fail("synonyms", -1, name, fmt.Errorf("group name is the same word as group %q", other.name))
			continue
		}
		variants := t.Synonyms[name]
		if len(variants) == 0 {
			fail("synonyms", -1, name, errors.New("the group has no variants"))
			continue
		}
		g := &group{name: name}
		for i, v := range variants {
			vt, err := parseEntry(v, false)
			if err != nil {
				fail("synonyms", i, name, err)
				continue
			}
			g.variants = append(g.variants, vt)
		}
		groups[key] = g
	}
	return groups
}

func tokKey(toks []string) string { return strings.Join(toks, "\x00") }

// resolve sets a term's patterns: its own, plus its synonym group's
// variants when the term is a bare word naming a group. Variants search the
// term's field.
func (c *compiler) resolve(tm *term, groups map[string]*group) {
	tm.weight = 1
	tm.alts = []alt{{m: c.matcher(tm)}}
	if tm.phrase || tm.prefix || tm.field == fieldSource {
		return
	}
	g := groups[tokKey(tm.toks)]
	if g == nil {
		return
	}
	for _, v := range g.variants {
		m := c.matcher(v)
		if !slices.ContainsFunc(tm.alts, func(a alt) bool { return a.m == m }) {
			tm.alts = append(tm.alts, alt{m: m, variant: v.String()})
		}
	}
}

// matcher returns the id of the pattern of tm, creating it (and its
// dictionary entries) on first use. Patterns do not depend on the field:
// the field is checked per term.
func (c *compiler) matcher(tm *term) int32 {
	if c.lookupOnly {
		m := c.ix.findMatcher(tm)
		if m < 0 {
			c.missing, m = true, 0
		}
		return m
	}
	var b strings.Builder
	if tm.field == fieldSource {
		b.WriteString("\x01")
	}
	if tm.prefix {
		b.WriteString("*")
	} else {
		b.WriteString("=")
	}
	if tm.field == fieldSource {
		b.WriteString(strings.ToLower(tm.raw))
	} else {
		b.WriteString(tokKey(tm.toks))
	}
	k := b.String()
	if id, ok := c.keys[k]; ok {
		return id
	}
	id := int32(len(c.ix.matchers))
	c.keys[k] = id
	m := matcher{prefixLast: tm.prefix, off: int32(len(c.ix.pats))}
	var fail []int32
	raw := ""
	if tm.field == fieldSource {
		m = matcher{source: true}
		raw = strings.ToLower(tm.raw)
		if tm.prefix {
			c.ix.sourcePrefix = append(c.ix.sourcePrefix, id)
		} else {
			c.ix.sourceExact[raw] = append(c.ix.sourceExact[raw], id)
		}
	} else {
		for i, s := range tm.toks {
			if tm.prefix && i == len(tm.toks)-1 {
				c.ix.pats = append(c.ix.pats, c.prefixEntry(s))
			} else {
				c.ix.pats = append(c.ix.pats, c.wordEntry(s))
			}
		}
		m.n = uint16(len(tm.toks)) // ≤ maxQueryBytes/2 tokens
		exact := c.ix.pats[m.off:]
		if m.prefixLast {
			exact = exact[:len(exact)-1]
		}
		if len(tm.toks) > 1 {
			fail = kmpFailure(exact)
		}
	}
	c.ix.failAt = append(c.ix.failAt, int32(len(c.ix.fails)))
	c.ix.fails = append(c.ix.fails, fail...)
	c.ix.srcRaw = append(c.ix.srcRaw, raw)
	c.ix.matchers = append(c.ix.matchers, m)
	c.topicsOf = append(c.topicsOf, nil)
	return id
}

func (c *compiler) wordEntry(s string) int32 {
	if e, ok := c.words[s]; ok {
		return e
	}
	e := c.newEntry()
	c.words[s] = e
	return e
}

func (c *compiler) prefixEntry(s string) int32 {
	return c.trie.insert(s, c.newEntry)
}

func (c *compiler) newEntry() int32 {
	e := int32(c.ix.nEntries)
	c.ix.nEntries++
	return e
}

// weights applies the topic's weights to its terms. A key must name a term
// that can score: one that occurs un-negated in the query or groups,
// written as in the query (its case may differ; quotes are optional).
func (c *compiler) weights(ct *ctopic, fail func(string, int, string, error)) {
	for _, key := range slices.Sorted(maps.Keys(ct.topic.Weights)) {
		w := ct.topic.Weights[key]
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			fail("weights", -1, key, fmt.Errorf("%v is not a weight: write a number ≥ 0", w))
			continue
		}
		want := strings.TrimSpace(key)
		if r := []rune(want); len(r) >= 2 && isQuote(r[0]) && isQuote(r[len(r)-1]) {
			want = string(r[1 : len(r)-1])
		}
		var positive, negated, terms []string
		found := false
		ct.walk(func(tm *term, pos bool) {
			if !pos {
				negated = append(negated, tm.text)
			} else if !slices.Contains(terms, tm.text) {
				terms = append(terms, tm.text)
			}
			if !strings.EqualFold(tm.text, want) {
				return
			}
			if pos {
				tm.weight = w
				found = true
				positive = append(positive, tm.text)
			}
		})
		switch {
		case found:
		case slices.ContainsFunc(negated, func(s string) bool { return strings.EqualFold(s, want) }):
			fail("weights", -1, key, errors.New("the term only occurs negated, so it never adds to the score"))
		default:
			fail("weights", -1, key, fmt.Errorf("not a term of the topic (its terms: %s)", strings.Join(terms, ", ")))
		}
	}
}

// numberTerms sets the ord of the topic's terms: the distinct texts in
// order of first appearance.
func numberTerms(ct *ctopic) {
	ords := map[string]int32{}
	ct.walk(func(tm *term, _ bool) {
		o, ok := ords[tm.text]
		if !ok {
			o = int32(len(ords))
			ords[tm.text] = o
		}
		tm.ord = o
	})
}

// index records which matchers make topic i a candidate (its trigger
// set), and which fields it searches.
func (c *compiler) index(i int, ct *ctopic) {
	ti := int32(i)
	var positive []int32
	numberTerms(ct)
	ct.walk(func(tm *term, pos bool) {
		c.ix.fields |= tm.field.mask()
		if pos {
			for _, a := range tm.alts {
				positive = append(positive, a.m)
			}
		}
	})
	for _, tm := range ct.exclude {
		c.ix.fields |= tm.field.mask()
	}
	set, _, ok := c.trigger(ct.condition())
	if !ok {
		// Sound whatever the query: it cannot hold with no un-negated term
		// present (see evalEmpty).
		set = positive
	}
	for _, m := range set {
		if l := c.topicsOf[m]; len(l) == 0 || l[len(l)-1] != ti {
			c.topicsOf[m] = append(l, ti)
		}
	}
}

// trigger returns a set of patterns at least one of which is present
// whenever n holds, and its estimated cost: how often it would make the
// topic a candidate for nothing. ok is false when there is no such set
// (NOT x holds with nothing present).
//
// A topic is evaluated only when a pattern of its trigger set occurs. For
// `(Xinjiang OR Uyghur*) AND (camps OR sanctions)` the set is {Xinjiang,
// Uyghur*}: the AND cannot hold without one of them, and common qualifier
// words then cost nothing until the rare part occurs. Which child of an AND
// is rarer is estimated from the topics themselves: a pattern many topics
// use is a common word; a name used by one topic is rare. Phrases are
// rarer than words, prefixes commoner, short words commoner still, and a
// source: term is present in every item of its source.
func (c *compiler) trigger(n *node) (set []int32, cost float64, ok bool) {
	switch n.op {
	case opTerm:
		for _, a := range n.term.alts {
			set = append(set, a.m)
			cost += c.cost(n.term, a.m)
		}
		return set, cost, true
	case opNot:
		if k := n.kids[0]; k.op == opNot {
			return c.trigger(k.kids[0])
		}
		return nil, 0, false
	case opOr:
		for _, k := range n.kids {
			s, kc, kok := c.trigger(k)
			if !kok {
				return nil, 0, false
			}
			set, cost = append(set, s...), cost+kc
		}
		return set, cost, true
	default: // AND, NEAR: any one child's set will do; take the cheapest
		for _, k := range n.kids {
			if s, kc, kok := c.trigger(k); kok && (!ok || kc < cost) {
				set, cost, ok = s, kc, true
			}
		}
		return set, cost, ok
	}
}

// gate returns a second trigger set for condition n: when n is an AND,
// the trigger set of the cheapest of its parts other than the one trigger
// chose, if it has at most maxGate patterns; else nil. Like the trigger
// set, one of its patterns is present whenever n holds, and a candidate
// (its trigger occurred) whose gate did not is skipped unread. Most
// candidates are ruled out so: a topic's rarest part (a name) occurs, but
// not its qualifier.
func (c *compiler) gate(n *node) []int32 {
	if n.op != opAnd {
		return nil
	}
	type part struct {
		set  []int32
		cost float64
	}
	var parts []part
	chosen := -1 // the part trigger chose: the first of least cost
	for _, k := range n.kids {
		if s, kc, ok := c.trigger(k); ok {
			parts = append(parts, part{s, kc})
			if chosen < 0 || kc < parts[chosen].cost {
				chosen = len(parts) - 1
			}
		}
	}
	var gate []int32
	var cost float64
	for i, p := range parts {
		set := slices.Compact(slices.Sorted(slices.Values(p.set)))
		if i != chosen && len(set) <= maxGate && (gate == nil || p.cost < cost) {
			gate, cost = set, p.cost
		}
	}
	return gate
}

func (c *compiler) cost(t *term, m int32) float64 {
	cost := float64(c.usage[m])
	mt := &c.ix.matchers[m]
	switch {
	case mt.source:
		return cost * 1e6
	case mt.n > 1:
		cost *= 0.5
	case mt.prefixLast:
		cost *= 2
	case len(t.toks) == 1 && len(t.toks[0]) <= 3:
		cost *= 4
	}
	return cost
}

// finish freezes the dictionary and links each entry to the matchers it
// anchors.
func (c *compiler) finish() {
	ix := c.ix
	keys := make([]string, ix.nEntries)
	for w, e := range c.words {
		keys[e] = w
	}
	ix.dict.keys = newStrTable(keys)
	ix.texts = newStrTable(c.texts)
	ix.failAt = append(ix.failAt, int32(len(ix.fails)))
	ix.topicsAt = make([]int32, len(c.topicsOf)+1)
	for m, l := range c.topicsOf {
		ix.topicsOf = append(ix.topicsOf, l...)
		ix.topicsAt[m+1] = int32(len(ix.topicsOf))
	}
	// Per entry: its one-token matcher, if any, and its topics in einfo;
	// its multi-token matchers in anchors, grouped by entry.
	ix.einfo = make([]entryInfo, ix.nEntries)
	for e := range ix.einfo {
		ix.einfo[e].m1 = -1
	}
	anchorAt := make([]int32, ix.nEntries+1)
	for id, m := range ix.matchers {
		if !m.source && m.n > 1 {
			anchorAt[ix.pat(int32(id))[0]+1]++
		}
	}
	for e := 1; e <= ix.nEntries; e++ {
		anchorAt[e] += anchorAt[e-1]
	}
	for e := range ix.einfo {
		ix.einfo[e].lo, ix.einfo[e].hi = anchorAt[e], anchorAt[e+1]
	}
	ix.anchors = make([]anchor, anchorAt[ix.nEntries])
	fill := anchorAt[:ix.nEntries]
	kind := make([]uint8, ix.nEntries)
	for id, m := range ix.matchers {
		if m.source {
			continue
		}
		pat := ix.pat(int32(id))
		tlo, thi := ix.topicsAt[id], ix.topicsAt[id+1]
		kind[pat[0]] |= kindFirst
		ix.maxPat = max(ix.maxPat, int32(len(pat)))
		if len(pat) == 1 {
			ei := &ix.einfo[pat[0]]
			ei.m1, ei.tlo, ei.thi = int32(id), tlo, thi
			continue
		}
		kind[pat[0]] |= kindAnchor
		ix.anchors[fill[pat[0]]] = anchor{m: int32(id), second: pat[1], off: m.off, n: m.n, tlo: tlo, thi: thi}
		fill[pat[0]]++
	}
	for e, k := range kind {
		ix.einfo[e].kind = k
	}
	for _, ei := range ix.einfo {
		slices.SortFunc(ix.anchors[ei.lo:ei.hi], func(a, b anchor) int {
			return cmp.Or(cmp.Compare(a.second, b.second), cmp.Compare(a.m, b.m))
		})
	}
	ix.seconds = make([]int32, len(ix.anchors))
	for i, a := range ix.anchors {
		ix.seconds[i] = a.second
	}
	ix.dict.build(c.words, kind)
	for id, m := range ix.matchers {
		if m.source || m.n < 2 {
			continue
		}
		pat := ix.pat(int32(id))
		if m.prefixLast {
			pat = pat[:len(pat)-1] // a final prefix is looked up apart: see prefixesOf
		}
		for k := 1; k < len(pat); k++ {
			ix.dict.addPair(ix.dict.keys.get(int(pat[k-1])), ix.dict.keys.get(int(pat[k])))
		}
	}
	ix.prefixes = c.trie.freeze(kind)
	ix.fields &^= 1 << fieldSource // compared, not tokenised
	ix.docs.New = func() any { return ix.newDoc() }
}

// kmpFailure returns, for each k, the length of the longest proper prefix of
// pat[:k+1] that is also its suffix.
func kmpFailure(pat []int32) []int32 {
	fail := make([]int32, len(pat))
	var j int32
	for i := 1; i < len(pat); i++ {
		for j > 0 && pat[i] != pat[j] {
			j = fail[j-1]
		}
		if pat[i] == pat[j] {
			j++
		}
		fail[i] = j
	}
	return fail
}

// Topics returns the compiled topics, in order.
func (ix *Index) Topics() []news.Topic {
	out := make([]news.Topic, len(ix.topics))
	for i, ct := range ix.topics {
		out[i] = cloneTopic(ct.topic)
	}
	return out
}

// cloneTopic copies t deeply: no slice or map is shared with the original.
func cloneTopic(t news.Topic) news.Topic {
	t.Sources = slices.Clone(t.Sources)
	t.Must, t.Should, t.Not = slices.Clone(t.Must), slices.Clone(t.Should), slices.Clone(t.Not)
	t.Exclude = slices.Clone(t.Exclude)
	t.Synonyms = maps.Clone(t.Synonyms)
	for k, v := range t.Synonyms {
		t.Synonyms[k] = slices.Clone(v)
	}
	t.Weights = maps.Clone(t.Weights)
	return t
}
