package match

import (
	"fmt"
	mbits "math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"wirewatch/news"
)

// Scoring: every distinct term that is a reason for the match (see
// contributing) adds its weight (1 unless the topic's weights say
// otherwise), doubled when the term was found in the title. A title mention
// is the strongest signal that an item is about the topic; repeating a term
// in the body (summary and content often duplicate each other) adds
// nothing.
const titleFactor = 2.0

// snippetRunes caps a snippet's length in characters, ellipses included.
const snippetRunes = 240

// Verdict is a topic's full outcome on one item: whether it matched, and
// why or why not, in a form a CLI can print as one JSON line.
type Verdict struct {
	Matched bool
	// Score is the item's score when the topic's boolean condition holds
	// (0 otherwise); MinScore is the topic's threshold.
	Score, MinScore float64
	// Terms and Hits are the terms that are reasons for the condition to
	// hold (empty when it does not), as in news.Match.
	Terms []string
	Hits  []news.Hit
	// Missing lists the required parts that were not found, when the
	// condition does not hold: query parts, or `must[1]: …` for groups.
	Missing []string
	// Excluded lists the exclude terms present in the item.
	Excluded []string
	// Reason says in one line why the item matched or did not:
	// `score 1 below min_score 2`, `NOT term "cotton" present`, …
	Reason string
	// Snippet and Marks are as in news.Match, whenever there are Hits.
	Snippet string
	Marks   []news.Span
}

// Match returns one news.Match per topic the item satisfies, in topic order,
// skipping topics that do not watch the item's source. The item is scanned
// once, however many topics there are, and only topics some un-negated term
// of which occurs are evaluated.
//
// A topic matches when its query (or its must/should/not groups) holds, no
// exclude term is present, and the score reaches its min_score. Terms and
// Hits list only terms whose presence made the condition true (a term of a
// failed OR branch, or one under NOT, is not reported). Score is the sum,
// over those distinct terms, of weight × 2 when found in the title, else
// weight × 1. The Snippet is plain text of at most 240 characters centred
// on the strongest hit (the highest-weighted term found in the summary or
// content; the title when no term was found there), and Marks are the
// matched term occurrences inside it.
func (ix *Index) Match(item news.Item, now time.Time) []news.Match {
	if len(ix.topics) == 0 {
		return nil
	}
	d := ix.scan(&item)
	defer ix.release(d)
	// Decide every candidate first, reading only the packed topic meta
	// and the flat program, then report the few that hold: the matches
	// and their terms, hits and marks are then carved from a handful of
	// allocations rather than a few per match.
	return d.matches(d.decide(), now)
}

// matches reports the held topics that reach their min_score. Every
// match's reasons are worked out first, into the doc's scratch space; then
// the results are copied out into one allocation each for the matches,
// terms, hits and marks, and one string holding every snippet.
func (d *doc) matches(held []int32, now time.Time) []news.Match {
	if len(held) == 0 {
		return nil
	}
	ix := d.ix
	d.prefetchReports(held)
	res := d.mres[:0]
	for _, ti := range held {
		nt, nh, nm := len(d.termBuf), len(d.hitBuf), len(d.markBuf)
		r := d.report(ix.meta[ti].prog)
		if r.score < ix.rmeta[ti].minScore {
			d.termBuf, d.hitBuf = d.termBuf[:nt], d.hitBuf[:nh]
			continue
		}
		rd := d.snippet(r.contribs)
		res = append(res, matchRes{
			topic: ti, score: r.score, snipOff: rd.off, snipLen: rd.n,
			terms: [2]int32{int32(nt), int32(len(d.termBuf))},
			hits:  [2]int32{int32(nh), int32(len(d.hitBuf))},
			marks: [2]int32{int32(nm), int32(len(d.markBuf))},
		})
	}
	d.mres = res
	if len(res) == 0 {
		return nil
	}
	// Small items' results are cut from chunks kept across calls (see
	// resultChunks); a big item's get their own arrays.
	ch := &d.chunks
	if len(d.texts[fieldTitle])+len(d.texts[fieldSummary])+len(d.texts[fieldContent]) > chunkItemBytes {
		ch = &resultChunks{}
	}
	out := carve(&ch.matches, len(res), chunkMatches)
	terms := carve(&ch.terms, len(d.termBuf), chunkTerms)
	copy(terms, d.termBuf)
	hits := carve(&ch.hits, len(d.hitBuf), chunkHits)
	copy(hits, d.hitBuf)
	var marks []news.Span
	if len(d.markBuf) > 0 {
		marks = carve(&ch.marks, len(d.markBuf), chunkMarks)
		copy(marks, d.markBuf)
	}
	snippets := string(d.snipArena)
	for i, r := range res {
		m := &out[i]
		m.TopicID, m.ItemID, m.Score, m.MatchedAt = ix.rmeta[r.topic].id, d.item.ID, r.score, now
		m.Snippet = snippets[r.snipOff : r.snipOff+r.snipLen]
		m.Terms = terms[r.terms[0]:r.terms[1]:r.terms[1]]
		m.Hits = hits[r.hits[0]:r.hits[1]:r.hits[1]]
		if r.marks[0] < r.marks[1] {
			m.Marks = marks[r.marks[0]:r.marks[1]:r.marks[1]]
		}
	}
	return out
}

// resultChunks are the arrays the results of Match calls on one pooled
// doc are cut from: each call's matches, terms, hits and marks are a
// stretch of these, never handed out twice, capped so that appending to
// one allocates rather than overwrite the next. Each is about 16 KiB and
// serves many calls: an allocation of an array with pointers is costly
// (zeroing, a fresh span every few arrays of a few KiB), and a call with
// 10,000 topics makes four.
//
// A chunk lives as long as any result cut from it, and the doc holds the
// one being cut, so results keep a few dozen earlier items' results (and
// the texts their hits and ids point into) alive: only items of at most
// chunkItemBytes of text use the chunks, which bounds that.
type resultChunks struct {
	matches []news.Match
	terms   []string
	hits    []news.Hit
	marks   []news.Span
}

// Chunk lengths (about 16 KiB each), and the largest item whose results
// are cut from chunks.
const (
	chunkMatches   = 80
	chunkTerms     = 1024
	chunkHits      = 340
	chunkMarks     = 1024
	chunkItemBytes = 16 << 10
)

// carve returns n zero elements cut from chunk, with capacity n; a chunk
// without room is replaced by a fresh one of size elements. More than a
// quarter of that, or none (an empty slice, not nil, as before), get an
// array of their own.
func carve[T any](chunk *[]T, n, size int) []T {
	if n == 0 || 4*n > size {
		return make([]T, n)
	}
	c := *chunk
	if cap(c)-len(c) < n {
		c = make([]T, 0, size)
	}
	s := c[len(c) : len(c)+n : len(c)+n]
	*chunk = c[:len(c)+n]
	return s
}

// matchRes is a match worked out by matches: its terms, hits and marks
// are ranges of the doc's termBuf, hitBuf and markBuf, its snippet one of
// snipArena.
type matchRes struct {
	topic              int32
	score              float64
	snipOff, snipLen   int32
	terms, hits, marks [2]int32
}

// prefetchReports loads what reporting the held topics reads first (their
// report meta and first term), in a loop whose loads do not depend on
// each other: see prefetch.
func (d *doc) prefetchReports(held []int32) {
	ix := d.ix
	var sink int32
	for _, ti := range held {
		sink += ix.tinfo[ix.rmeta[ti].tinfo].ord
	}
	d.sink += sink
}

// decide returns the candidates that hold and watch the item's source, in
// topic order, before min_score: the topics to report.
func (d *doc) decide() []int32 {
	ix := d.ix
	var sink int32
	for _, ti := range d.cands {
		sink += ix.meta[ti].prog // load every meta at once: see prefetch
	}
	d.sink += sink
	open := d.open[:0]
	for _, ti := range d.cands {
		if d.passes(ti) {
			open = append(open, ti)
		}
	}
	d.open = open
	d.prefetch(open)
	held := d.held[:0]
	for _, ti := range open {
		m := &ix.meta[ti]
		if m.sources && !ix.topics[ti].topic.AppliesTo(d.item.SourceID) || !d.run(m.prog) ||
			m.exclude && d.anyExcluded(ix.topics[ti]) {
			continue
		}
		held = append(held, ti)
	}
	d.held = held
	return held
}

// prefetch loads the first instruction of every topic given, in a
// loop whose loads do not depend on each other, so that the processor
// overlaps their cache misses; deciding them one by one would wait for each
// in turn.
func (d *doc) prefetch(topics []int32) {
	ix := d.ix
	var sink int32
	for _, ti := range topics {
		sink += ix.prog[ix.meta[ti].prog].x
	}
	d.sink = sink
}

// passes reports whether topic ti may hold: some pattern of its gate (see
// topicMeta) occurs, or it has none.
func (d *doc) passes(ti int32) bool {
	m := &d.ix.meta[ti]
	for _, g := range m.gate[:m.ngate] {
		if d.found[g] != 0 {
			return true
		}
	}
	return m.ngate == 0
}

// Evaluate evaluates one topic on one item, whatever the outcome, with the
// reasons. Matched, Terms, Hits, Score, Snippet and Marks agree with what
// Match reports for the topic.
func (ix *Index) Evaluate(topicID string, item news.Item) (Verdict, error) {
	i, ok := ix.byID[topicID]
	if !ok {
		return Verdict{}, fmt.Errorf("match: evaluate topic %q: %w", topicID, news.ErrNotFound)
	}
	ct, err := ix.tree(ix.topics[i])
	if err != nil {
		return Verdict{}, err
	}
	d := ix.scan(&item)
	defer ix.release(d)
	v, _ := d.verdict(ct)
	return v, nil
}

// verdict evaluates ct (with its tree: see Index.tree) on the doc; it
// also returns the report (nil when the condition does not hold) for
// Explain.
func (d *doc) verdict(ct *ctopic) (Verdict, *report) {
	v := Verdict{MinScore: ct.minScore}
	for _, t := range d.excluded(ct) {
		v.Excluded = append(v.Excluded, t.String())
	}
	applies := ct.topic.AppliesTo(d.item.SourceID)
	var r *report
	if d.holds(ct) {
		rep := d.report(ct.prog)
		r = &rep
		// r's slices and the marks are the doc's scratch: copy them out.
		v.Score = r.score
		v.Terms, v.Hits = slices.Clone(r.terms), slices.Clone(r.hits)
		if v.Terms == nil {
			v.Terms, v.Hits = []string{}, []news.Hit{} // never nil: a match has terms
		}
		nm := len(d.markBuf)
		rd := d.snippet(r.contribs)
		v.Snippet = string(d.snipArena[rd.off : rd.off+rd.n])
		if len(d.markBuf) > nm {
			v.Marks = slices.Clone(d.markBuf[nm:])
		}
	} else {
		var notPresent []string
		v.Missing, notPresent = d.failures(ct)
		var why []string
		if len(v.Missing) > 0 {
			why = append(why, "missing "+strings.Join(v.Missing, "; "))
		}
		why = append(why, notPresent...)
		v.Reason = strings.Join(why, "; ")
	}
	switch {
	case !applies:
		v.Reason = fmt.Sprintf("the topic does not watch source %q", d.item.SourceID)
	case r == nil:
	case len(v.Excluded) > 0:
		v.Reason = fmt.Sprintf("excluded term %s present", strings.Join(v.Excluded, ", "))
	case v.Score < ct.minScore:
		v.Reason = fmt.Sprintf("score %s below min_score %s", num(v.Score), num(ct.minScore))
	default:
		v.Matched = true
		v.Reason = fmt.Sprintf("matched %s, score %s", strings.Join(v.Terms, ", "), num(v.Score))
		if ct.minScore > 0 {
			v.Reason += fmt.Sprintf(" (min_score %s)", num(ct.minScore))
		}
	}
	return v, r
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// failures lists, for a topic whose condition does not hold, the required
// parts that are missing and the negated parts that are present.
func (d *doc) failures(ct *ctopic) (missing, notPresent []string) {
	negated := func(prefix string, n *node) string {
		if n.op == opTerm {
			return fmt.Sprintf("%s term %q present", prefix, n.term.text)
		}
		return fmt.Sprintf("%s %s present", prefix, nodeString(n))
	}
	if ct.query != nil {
		parts := []*node{ct.query}
		if ct.query.op == opAnd {
			parts = ct.query.kids
		}
		for _, k := range parts {
			switch {
			case d.eval(k):
			case k.op == opNot:
				notPresent = append(notPresent, negated("NOT", k.kids[0]))
			default:
				missing = append(missing, nodeString(k))
			}
		}
		return missing, notPresent
	}
	for i, n := range ct.must {
		if !d.eval(n) {
			missing = append(missing, fmt.Sprintf("must[%d]: %s", i, nodeString(n)))
		}
	}
	if len(ct.should) > 0 && !d.anyShould(ct) {
		var alts []string
		for _, n := range ct.should {
			alts = append(alts, nodeString(n))
		}
		missing = append(missing, "should: any of "+strings.Join(alts, " | "))
	}
	for i, n := range ct.not {
		if d.eval(n) {
			notPresent = append(notPresent, negated(fmt.Sprintf("not[%d]", i), n))
		}
	}
	return missing, notPresent
}

func (d *doc) anyShould(ct *ctopic) bool {
	for _, n := range ct.should {
		if d.eval(n) {
			return true
		}
	}
	return false
}

// report is why a topic's condition holds: its reasons, score and snippet.
type report struct {
	terms []string
	hits  []news.Hit
	score float64
	parts []scorePart // per term, in order, for Explain
	// contribs are the reasons, for the snippet (see doc.snippet).
	contribs []contribution
}

type scorePart struct {
	term   string
	weight float64
	title  bool
}

type contribution struct {
	ti     int32 // the term's index in Index.tinfo
	ref    mref
	fields fieldMask
}

// report works out why the topic whose program starts at pc holds. Its
// contribs and parts live in the doc's scratch space, valid until the
// next call; its terms and hits are appended to the doc's termBuf and
// hitBuf.
func (d *doc) report(pc int32) report {
	d.contribBuf = d.contributing(pc, true, d.contribBuf[:0])
	r := report{contribs: d.contribBuf, parts: d.partBuf[:0]}
	nt, nh := len(d.termBuf), len(d.hitBuf)
	r.terms, r.hits = d.termBuf, d.hitBuf
	// ords and hitFields run beside terms: each term's ord, and the
	// fields it has a hit in already.
	ords, hitFields := d.ordBuf[:0], d.hitFields[:0]
	for _, c := range r.contribs {
		t := &d.ix.tinfo[c.ti]
		text := d.ix.texts.get(int(t.text))
		i := slices.Index(ords, t.ord)
		if i < 0 {
			i = len(r.parts)
			r.terms = append(r.terms, text)
			r.parts = append(r.parts, scorePart{term: text, weight: t.weight})
			ords, hitFields = append(ords, t.ord), append(hitFields, 0)
		}
		r.parts[i].weight = max(r.parts[i].weight, t.weight)
		r.parts[i].title = r.parts[i].title || c.fields&(1<<fieldTitle) != 0
		for fm := c.fields &^ hitFields[i]; fm != 0; fm &= fm - 1 {
			f := field(mbits.TrailingZeros8(uint8(fm)))
			hitFields[i] |= 1 << f
			s := d.firstOf(c.ref, f)
			r.hits = append(r.hits, news.Hit{Term: text, Field: f.String(), Text: d.texts[f][s.start:s.end]})
		}
	}
	d.ordBuf, d.hitFields = ords, hitFields
	for _, p := range r.parts {
		if p.title {
			r.score += p.weight * titleFactor
		} else {
			r.score += p.weight
		}
	}
	d.partBuf, d.termBuf, d.hitBuf = r.parts, r.terms, r.hits // keep the grown scratch
	r.terms, r.hits = r.terms[nt:], r.hits[nh:]
	return r
}

// firstHit returns the earliest occurrence of t in field f over its
// patterns, and the synonym variant that matched there ("" for the term
// itself).
func (d *doc) firstHit(t *term, f field) (ospan, string) {
	var best ospan
	variant, found := "", false
	for _, a := range t.alts {
		if s, ok := d.firstSpan(a.m, f); ok && (!found || s.start < best.start) {
			best, variant, found = s, a.variant, true
		}
	}
	return best, variant
}

// firstOf is firstHit for reports, which need no variant: the earliest
// occurrence in field f of the matchers ref names.
func (d *doc) firstOf(ref mref, f field) ospan {
	if !ref.alts {
		s, _ := d.firstSpan(ref.a, f)
		return s
	}
	var best ospan
	found := false
	var one [1]int32
	for _, m := range d.ix.refMatchers(ref, &one) {
		if s, ok := d.firstSpan(m, f); ok && (!found || s.start < best.start) {
			best, found = s, true
		}
	}
	return best
}

// firstSpan returns the first occurrence of matcher m in field f,
// computed once per item: topics on the same story share their terms.
func (d *doc) firstSpan(m int32, f field) (ospan, bool) {
	if d.found[m]&(1<<f) == 0 {
		return ospan{}, false
	}
	k := d.mslot[m]
	if k == 0 {
		d.firsts = append(d.firsts, firstSpans{})
		k = int32(len(d.firsts))
		d.mslot[m] = k
		d.slotted = append(d.slotted, m)
	}
	fs := &d.firsts[k-1]
	if fs.done&(1<<f) == 0 {
		fs.done |= 1 << f
		switch s, ok := d.spans[spanKey{m, f}]; {
		case ok && len(s) > 0:
			fs.s[f] = s[0]
		case d.ix.matchers[m].source:
			fs.s[f] = ospan{start: 0, end: int32(len(d.item.SourceID))}
		default:
			var buf [1]ospan
			if s := d.find(m, f, true, buf[:0]); len(s) > 0 {
				fs.s[f] = s[0]
			} else {
				fs.none |= 1 << f
			}
		}
	}
	return fs.s[f], fs.none&(1<<f) == 0
}

// firstSpans caches a matcher's first occurrence per field (see
// doc.firstSpan): done says which are known, none which do not exist.
type firstSpans struct {
	done, none fieldMask
	s          [numFields]ospan
}

// snippet picks the strongest hit among the contributions (highest weight,
// in the summary before the content, earliest first; the title only when
// neither has one) and returns the text around it with the marks of every
// contributing occurrence inside, appended to the doc's markBuf.
func (d *doc) snippet(contribs []contribution) rendered {
	var best ospan
	bestField, bestWeight := field(0), -1.0
	for _, c := range contribs {
		for _, f := range []field{fieldSummary, fieldContent} {
			if c.fields&(1<<f) == 0 {
				continue
			}
			w := d.ix.tinfo[c.ti].weight
			s := d.firstOf(c.ref, f)
			better := w > bestWeight ||
				w == bestWeight && (f < bestField || f == bestField && s.start < best.start)
			if better {
				best, bestField, bestWeight = s, f, w
			}
		}
	}
	if bestWeight < 0 {
		for _, c := range contribs {
			if c.fields&(1<<fieldTitle) == 0 {
				continue
			}
			s := d.firstOf(c.ref, fieldTitle)
			if bestWeight < 0 || s.start < best.start {
				best, bestField, bestWeight = s, fieldTitle, 0
			}
		}
	}
	if bestWeight < 0 {
		// Only author, category, link or source hits: the start of the
		// first non-empty text field.
		best, bestField = ospan{}, fieldTitle
		if strings.TrimSpace(d.texts[fieldTitle]) == "" {
			bestField = fieldSummary
			if strings.TrimSpace(d.texts[fieldSummary]) == "" {
				bestField = fieldContent
			}
		}
	}
	f := bestField
	rd := d.render(f, int(best.start), int(best.end))
	occs := d.scratch[:0]
	var one [1]int32
	for _, c := range contribs {
		if c.fields&(1<<f) == 0 {
			continue
		}
		for _, m := range d.ix.refMatchers(c.ref, &one) {
			occs = d.spansIn(m, f, rd.lo, rd.hi, occs)
		}
	}
	d.scratch = occs
	nm := len(d.markBuf)
	d.markBuf = append(d.markBuf[:nm], rd.marks(occs, d.markBuf[nm:])...)
	return rd
}

// spansIn appends the occurrences of matcher m in field f that lie within
// bytes [lo, hi) of its text. For a word or prefix it walks the entry's
// occurrences, which are in text order, only as far as the window.
func (d *doc) spansIn(m int32, f field, lo, hi int, out []ospan) []ospan {
	if d.found[m]&(1<<f) == 0 || d.ix.matchers[m].source {
		return out
	}
	pat := d.ix.pat(m)
	if len(pat) > 1 {
		for _, s := range d.spansOf(m, f) {
			if int(s.start) >= lo && int(s.end) <= hi {
				out = append(out, s)
			}
		}
		return out
	}
	for i := d.est[pat[0]].head; i != 0; i = d.occs[i-1].next {
		o := &d.occs[i-1]
		switch {
		case o.field != f || int(o.start) < lo:
		case int(o.start) >= hi:
			return out
		case int(o.end) <= hi:
			out = append(out, ospan{o.pos, o.pos, o.start, o.end})
		}
	}
	return out
}

// render returns the snippet of field f around the hit [hs, he). Each
// window is rendered once per item, and each hit's window chosen once:
// topics on the same story tend to share their best hit, and a short
// summary is the whole window whatever the hit.
func (d *doc) render(f field, hs, he int) rendered {
	hk := hitKey{f, int32(hs), int32(he)}
	if i, ok := d.findHit(hk); ok {
		return d.wins[i]
	}
	text := d.texts[f]
	// Whether the field is short enough to be its own snippet, whatever
	// the hit, is worked out once.
	if d.sized&(1<<f) == 0 {
		d.sized |= 1 << f
		if fitsWhole(text) {
			d.fits |= 1 << f
		}
	}
	lo, hi := 0, len(text)
	if d.fits&(1<<f) == 0 {
		lo, hi = snippetWindow(text, hs, he)
	}
	i, ok := d.findWin(snippetKey{f, lo, hi})
	if !ok {
		var r rendered
		r, d.pieceArena, d.snipBuf = renderWindow(text, lo, hi, d.pieceArena, d.snipBuf)
		r.f, r.off, r.n = f, int32(len(d.snipArena)), int32(len(d.snipBuf))
		d.snipArena = append(d.snipArena, d.snipBuf...)
		i = int32(len(d.wins))
		d.wins = append(d.wins, r)
		if d.winIndex != nil {
			d.winIndex[snippetKey{f, lo, hi}] = i
		}
	}
	d.hitWins = append(d.hitWins, hitWin{hk, i})
	if d.hitIndex != nil {
		d.hitIndex[hk] = i
	}
	return d.wins[i]
}

// hitWin is a hit whose window has been chosen: d.wins[win].
type hitWin struct {
	hit hitKey
	win int32
}

// shortList is how many windows or hits are looked up in a list rather
// than a map: an item has a handful, which a map would hash for nothing,
// but one with thousands of matches may have thousands.
const shortList = 32

// findHit returns the index in d.wins of the window chosen for hit k.
func (d *doc) findHit(k hitKey) (int32, bool) {
	if d.hitIndex != nil {
		i, ok := d.hitIndex[k]
		return i, ok
	}
	for _, h := range d.hitWins {
		if h.hit == k {
			return h.win, true
		}
	}
	if len(d.hitWins) >= shortList {
		d.hitIndex = make(map[hitKey]int32, 2*len(d.hitWins))
		for _, h := range d.hitWins {
			d.hitIndex[h.hit] = h.win
		}
	}
	return 0, false
}

// findWin returns the index in d.wins of window k.
func (d *doc) findWin(k snippetKey) (int32, bool) {
	if d.winIndex != nil {
		i, ok := d.winIndex[k]
		return i, ok
	}
	for i := range d.wins {
		if w := &d.wins[i]; w.f == k.f && w.lo == k.lo && w.hi == k.hi {
			return int32(i), true
		}
	}
	if len(d.wins) >= shortList {
		d.winIndex = make(map[snippetKey]int32, 2*len(d.wins))
		for i, w := range d.wins {
			d.winIndex[snippetKey{w.f, w.lo, w.hi}] = int32(i)
		}
	}
	return 0, false
}

// fitsWhole reports whether text is short enough to be shown whole in a
// snippet: at most snippetRunes-2 characters (room for two ellipses).
func fitsWhole(text string) bool {
	budget := snippetRunes - 2
	return len(text) <= budget*utf8.UTFMax && fwdRunes(text, 0, budget) == len(text)
}

// snippetKey is a snippet's window: bytes [lo, hi) of field f.
type snippetKey struct {
	f      field
	lo, hi int
}

// hitKey is a snippet's hit: bytes [hs, he) of field f.
type hitKey struct {
	f      field
	hs, he int32
}

// snippetWindow chooses the part of text to show around the hit [hs, he):
// at most snippetRunes-2 characters (room for two ellipses), the hit
// centred, cut at word boundaries where the text has them (CJK does not).
//
// A text that fits whole (see fitsWhole) is its own window; the caller
// checks that first, once per field.
func snippetWindow(text string, hs, he int) (lo, hi int) {
	budget := snippetRunes - 2
	hitRunes := utf8.RuneCountInString(text[hs:he])
	lo = backRunes(text, hs, max(0, (budget-hitRunes)/2))
	hi = fwdRunes(text, lo, budget)
	if hi == len(text) {
		lo = backRunes(text, len(text), budget)
	}
	if lo > 0 {
		// Begin at the start of a word: skip the partial word we landed in.
		if r, _ := utf8.DecodeLastRuneInString(text[:lo]); !unicode.IsSpace(r) && lo < hs {
			if i := strings.IndexFunc(text[lo:hs], unicode.IsSpace); i >= 0 {
				lo += i
			}
		}
	}
	if hi < len(text) {
		// End after a whole word, but never before the hit's end.
		if r, _ := utf8.DecodeRuneInString(text[hi:]); !unicode.IsSpace(r) {
			from := max(he, lo)
			if from < hi {
				if i := strings.LastIndexFunc(text[from:hi], unicode.IsSpace); i >= 0 {
					hi = from + i
				}
			}
		}
	}
	return lo, hi
}

// rendered is a snippet: text[lo:hi] with whitespace runs collapsed to one
// space, trimmed, with "…" where the text was cut (the bytes
// doc.snipArena[off:off+n]), and the mapping from offsets in the field's
// text to offsets in the snippet (see startOf and endOf).
type rendered struct {
	f      field
	off, n int32
	lo, hi int
	text   string // the field's text
	// pieces cover [lo, hi) in order; endHi is endOf(hi). The mapping is
	// kept by piece rather than by byte: most of a window is a few long
	// stretches copied as they are, where it is a sum, and writing two
	// offsets for every byte of every window cost more than the copy.
	pieces []piece
	endHi  int32
}

// piece is a part of a rendered window starting at byte src of the text:
// a plain stretch (see stretchEnd), written whole from dst on, or one
// character, written at dst (-1 when it is whitespace, not written) and
// ending at e1. e0 is where the snippet ends before the piece.
type piece struct {
	src, dst, e0, e1 int32
	plain            bool
}

// at returns the piece holding byte i of the text, lo ≤ i < hi.
func (r *rendered) at(i int) *piece {
	ps := r.pieces
	k, n := 0, len(ps)
	for n > 1 {
		half := n / 2
		if int(ps[k+half].src) <= i {
			k += half
			n -= half
		} else {
			n = half
		}
	}
	return &ps[k]
}

// startOf returns where the character at byte i of the text (lo ≤ i < hi)
// is written in the snippet, or -1 if i starts no written character.
func (r *rendered) startOf(i int) int32 {
	p := r.at(i)
	if p.plain {
		if r.text[i] == ' ' {
			return -1
		}
		return p.dst + int32(i) - p.src
	}
	if i == int(p.src) {
		return p.dst
	}
	return -1 // inside a character: never a token edge
}

// endOf returns the snippet's length before the character at byte i of
// the text, for lo ≤ i ≤ hi: where an occurrence ending at i ends.
func (r *rendered) endOf(i int) int32 {
	if i == r.hi {
		return r.endHi
	}
	p := r.at(i)
	switch {
	case i == int(p.src):
		return p.e0
	case !p.plain:
		return p.e1
	case r.text[i-1] == ' ':
		// A space is pending until the next character is written, so that
		// character ends where the space is.
		return p.dst + int32(i) - p.src - 1
	}
	return p.dst + int32(i) - p.src
}

// renderWindow renders text[lo:hi] into buf[:0], appending the pieces of
// its offset mapping to pieces; it returns the snippet's bytes, in buf
// grown, and pieces grown (the rendered's pieces are those appended).
//
// Most of any text is runs of ASCII other than whitespace separated by
// single spaces, which are written as they are: such a stretch is copied
// and mapped whole, and the loop finding its end rarely branches the
// other way. Whitespace runs, other whitespace and non-ASCII characters go
// one character at a time.
func renderWindow(text string, lo, hi int, pieces []piece, buf []byte) (rendered, []piece, []byte) {
	r := rendered{lo: lo, hi: hi, text: text}
	n0 := len(pieces)
	b := buf[:0]
	if lo > 0 {
		b = append(b, "…"...)
	}
	base := len(b)
	space := false
	for i := lo; i < hi; {
		c := text[i]
		if renderClass[c] == rcPlain {
			j := stretchEnd(text, i+1, hi)
			e0 := int32(len(b))
			if space {
				b = append(b, ' ')
				space = false
			}
			pieces = append(pieces, piece{src: int32(i), dst: int32(len(b)), e0: e0, plain: true})
			b = append(b, text[i:j]...)
			i = j
			continue
		}
		p := piece{src: int32(i), dst: -1, e0: int32(len(b))}
		if c < utf8.RuneSelf { // ASCII whitespace
			space = len(b) > base
			p.e1 = p.e0
			pieces = append(pieces, p)
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(text[i:hi])
		if unicode.IsSpace(r) {
			space = len(b) > base
		} else {
			if space {
				b = append(b, ' ')
				space = false
			}
			p.dst = int32(len(b))
			// An invalid byte decodes to, and is written as, U+FFFD: a
			// snippet ends up in JSON payloads and feeds.
			b = utf8.AppendRune(b, r)
		}
		p.e1 = int32(len(b))
		pieces = append(pieces, p)
		i += w
	}
	r.endHi = int32(len(b))
	if hi < len(text) {
		b = append(b, "…"...)
	}
	r.pieces = pieces[n0:len(pieces):len(pieces)]
	return r, pieces, b
}

// stretchEnd returns the end of the stretch that continues at j, within
// text[:hi]: plain bytes (see renderClass) and single spaces between them.
// Spaces come every few bytes, so it looks at eight bytes at a time, where
// a loop over bytes would mispredict a branch at every word.
func stretchEnd(text string, j, hi int) int {
	const (
		low7 = 0x7F7F7F7F7F7F7F7F
		high = 0x8080808080808080
	)
	for ; j+8 <= hi; j += 8 {
		w := uint64(text[j]) | uint64(text[j+1])<<8 | uint64(text[j+2])<<16 | uint64(text[j+3])<<24 |
			uint64(text[j+4])<<32 | uint64(text[j+5])<<40 | uint64(text[j+6])<<48 | uint64(text[j+7])<<56
		// The high bit of each byte of special is set for a byte below 0x21
		// (whitespace, and control bytes, which then end a stretch early:
		// the caller starts the next one there) or above 0x7F; of space for
		// the bytes that are exactly ' '. No sum carries across bytes.
		special := (^((w & low7) + 0x5F5F5F5F5F5F5F5F) | w) & high
		x := w ^ 0x2020202020202020
		space := ^(((x & low7) + low7) | x) & high
		var next uint64 = 0x80 // the byte after the eight, as special; the end is
		if j+8 < hi {
			if c := text[j+8]; c > ' ' && c < utf8.RuneSelf {
				next = 0
			}
		}
		brk := special&^space | space&(special>>8|next<<56)
		if brk != 0 {
			return j + mbits.TrailingZeros64(brk)>>3
		}
	}
	for ; j < hi; j++ {
		if k := renderClass[text[j]]; k != rcPlain && (k != rcSpace || j+1 == hi || renderClass[text[j+1]] != rcPlain) {
			break
		}
	}
	return j
}

// Byte classes for renderWindow: ASCII other than whitespace, the space,
// other ASCII whitespace (unicode.IsSpace below U+0080), and the bytes of
// non-ASCII characters.
const (
	rcPlain = iota
	rcSpace
	rcWhite
	rcHigh
)

// renderClass classifies bytes for renderWindow. It is a read-only table.
var renderClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = rcHigh
		case c == ' ':
			t[c] = rcSpace
		case c == '\t', c == '\n', c == '\v', c == '\f', c == '\r':
			t[c] = rcWhite
		}
	}
	return t
}()

// marks maps occurrences (inside the window) to snippet spans: sorted, not
// overlapping. Where occurrences overlap ("human rights" and "rights"), the
// one starting first is kept, the longer one at equal starts, so every mark
// is exactly one matched occurrence. They are appended to out.
func (r *rendered) marks(occs []ospan, out []news.Span) []news.Span {
	if len(occs) == 0 {
		return out
	}
	for _, s := range occs {
		start, end := r.startOf(int(s.start)), r.endOf(int(s.end))
		if start < 0 || end <= start {
			continue
		}
		out = append(out, news.Span{Start: int(start), End: int(end)})
	}
	sortSpans(out)
	kept := out[:0]
	for _, s := range out {
		if len(kept) > 0 && s.Start < kept[len(kept)-1].End {
			continue
		}
		kept = append(kept, s)
	}
	return kept
}

// sortSpans orders spans by start, the longest first at equal starts.
func sortSpans(s []news.Span) {
	slices.SortFunc(s, func(a, b news.Span) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
}

// backRunes moves from byte offset i back by up to n runes.
func backRunes(s string, i, n int) int {
	for n > 0 && i > 0 {
		switch {
		case n >= 8 && i >= 8 && ascii8(s[i-8:i]):
			i, n = i-8, n-8 // eight ASCII characters at a time: most of news copy
			continue
		case s[i-1] < utf8.RuneSelf:
			i--
		default:
			_, w := utf8.DecodeLastRuneInString(s[:i])
			i -= w
		}
		n--
	}
	return i
}

// fwdRunes moves from byte offset i forward by up to n runes.
func fwdRunes(s string, i, n int) int {
	for n > 0 && i < len(s) {
		switch {
		case n >= 8 && i+8 <= len(s) && ascii8(s[i:i+8]):
			i, n = i+8, n-8
			continue
		case s[i] < utf8.RuneSelf:
			i++
		default:
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
		}
		n--
	}
	return i
}

// ascii8 reports whether the 8 bytes of s are all ASCII.
func ascii8(s string) bool {
	w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	return w&0x8080808080808080 == 0
}

// Explain evaluates one topic on one item and says why it did or did not
// match, one line per part: each term found (where, and through which
// synonym variant) or not, each group, NEAR, the exclude terms, the score
// against min_score, and the verdict. matched is what Match would report.
func (ix *Index) Explain(topicID string, item news.Item) (matched bool, explanation string, err error) {
	i, ok := ix.byID[topicID]
	if !ok {
		return false, "", fmt.Errorf("match: explain topic %q: %w", topicID, news.ErrNotFound)
	}
	ct, err := ix.tree(ix.topics[i])
	if err != nil {
		return false, "", err
	}
	d := ix.scan(&item)
	defer ix.release(d)
	v, r := d.verdict(ct)

	var b strings.Builder
	if v.Matched {
		fmt.Fprintf(&b, "topic %q matched: score %s, terms: %s\n", ct.topic.ID, num(v.Score), strings.Join(v.Terms, ", "))
	} else {
		fmt.Fprintf(&b, "topic %q did not match: %s\n", ct.topic.ID, v.Reason)
	}
	if !ct.topic.AppliesTo(item.SourceID) {
		fmt.Fprintf(&b, "sources: %s; this item is from %q\n", strings.Join(ct.topic.Sources, ", "), item.SourceID)
	}
	if ct.query != nil {
		fmt.Fprintf(&b, "query: %s\n", nodeString(ct.query))
		d.explainNode(&b, ct.query, 0)
	} else {
		d.explainGroup(&b, "must", ct.must, "all must hold")
		d.explainGroup(&b, "should", ct.should, "at least one must hold")
		d.explainGroup(&b, "not", ct.not, "none may hold")
	}
	if len(ct.exclude) > 0 {
		var names []string
		for _, t := range ct.exclude {
			names = append(names, t.String())
		}
		if len(v.Excluded) == 0 {
			fmt.Fprintf(&b, "exclude: none present (%s)\n", strings.Join(names, ", "))
		} else {
			b.WriteString("exclude: present, vetoing the match:\n")
			for _, t := range ct.exclude {
				if d.termFields(t) != 0 {
					d.explainTerm(&b, t, 1)
				}
			}
		}
	}
	if r != nil {
		var parts []string
		for _, p := range r.parts {
			s := fmt.Sprintf("%s %s", p.term, num(p.weight))
			if p.title {
				s += fmt.Sprintf("×%s (title)", num(titleFactor))
			}
			parts = append(parts, s)
		}
		fmt.Fprintf(&b, "score: %s = %s", num(r.score), strings.Join(parts, " + "))
		if ct.minScore > 0 {
			verdict := "reached"
			if r.score < ct.minScore {
				verdict = "not reached"
			}
			fmt.Fprintf(&b, "; min_score %s %s", num(ct.minScore), verdict)
		}
		b.WriteByte('\n')
	}
	if v.Matched {
		b.WriteString("verdict: matched\n")
	} else {
		fmt.Fprintf(&b, "verdict: not matched: %s\n", v.Reason)
	}
	return v.Matched, b.String(), nil
}

func (d *doc) explainGroup(b *strings.Builder, name string, nodes []*node, rule string) {
	if len(nodes) == 0 {
		return
	}
	held := 0
	for _, n := range nodes {
		if d.eval(n) {
			held++
		}
	}
	fmt.Fprintf(b, "%s: %d of %d hold (%s)\n", name, held, len(nodes), rule)
	for i, n := range nodes {
		fmt.Fprintf(b, "  %s[%d]: %s\n", name, i, nodeString(n))
		d.explainNode(b, n, 2)
	}
}

// explainNode writes one line per node, indented by depth, marked ✓ when
// the node holds and ✗ when it does not.
func (d *doc) explainNode(b *strings.Builder, n *node, depth int) {
	if n.op == opTerm {
		d.explainTerm(b, n.term, depth)
		return
	}
	v := d.eval(n)
	indent(b, depth, v)
	switch n.op {
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
	case opNear:
		nf := d.nearFields(n)
		if v {
			fmt.Fprintf(b, "NEAR/%d: within %d words in %s\n", n.dist, n.dist, maskNames(nf))
		} else {
			fmt.Fprintf(b, "NEAR/%d: not within %d words of each other\n", n.dist, n.dist)
		}
		for _, k := range n.kids {
			for _, t := range operandTerms(k) {
				d.explainTerm(b, t, depth+1)
			}
		}
		return
	}
	for _, k := range n.kids {
		d.explainNode(b, k, depth+1)
	}
}

func indent(b *strings.Builder, depth int, ok bool) {
	b.WriteString(strings.Repeat("  ", depth))
	if ok {
		b.WriteString("✓ ")
	} else {
		b.WriteString("✗ ")
	}
}

// explainTerm writes a term's line: where it was found, as what text and
// through which synonym variant, or where it was looked for.
func (d *doc) explainTerm(b *strings.Builder, t *term, depth int) {
	fields := d.termFields(t)
	indent(b, depth, fields != 0)
	b.WriteString(t.String())
	if fields == 0 {
		fmt.Fprintf(b, ": not found in %s", maskNames(t.field.mask()))
		if len(t.alts) > 1 {
			var vs []string
			for _, a := range t.alts[1:] {
				vs = append(vs, a.variant)
			}
			fmt.Fprintf(b, " (nor its variants %s)", strings.Join(vs, ", "))
		}
		b.WriteByte('\n')
		return
	}
	b.WriteString(": found in ")
	sep := ""
	for f := fieldTitle; f < numFields; f++ {
		if fields&(1<<f) == 0 {
			continue
		}
		s, variant := d.firstHit(t, f)
		fmt.Fprintf(b, "%s%s %q", sep, f, d.texts[f][s.start:s.end])
		if variant != "" {
			fmt.Fprintf(b, " (variant %s)", variant)
		}
		sep = ", "
	}
	b.WriteByte('\n')
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
