package match

import (
	"math"
	mbits "math/bits"
	"strings"

	"wirewatch/news"
)

// valueGap separates the values of a multi-valued field (authors,
// categories) in token positions, so neither a phrase nor a NEAR ever spans
// two values.
const valueGap = maxNear + 1

// maxFieldBytes caps the text scanned per field (and its token positions),
// so offsets and positions fit in 32 bits. Anything past 1 GiB in one
// field is not searched.
const maxFieldBytes = 1 << 30

// occ is one occurrence of a dictionary entry in an item: a token that is
// a word some pattern needs, or that starts with a prefix some pattern
// needs. Occurrences are recorded field by field in token order, so those of
// one field are contiguous and sorted by position.
type occ struct {
	pos        int32 // token position within the field
	entry      int32
	start, end int32 // byte span of the token in the field's text
	next       int32 // index+1 of the entry's next occurrence; 0 at the end
	field      field
}

// ospan is one occurrence of a pattern: token positions p0..p1 (inclusive)
// and the byte span [start, end) in the field's text.
type ospan struct {
	p0, p1     int32
	start, end int32
}

// doc is an item being matched, with the scratch space of one Match call.
// Per-entry, per-matcher and per-topic arrays are sized by the index and
// recycled through Index.docs; only the entries, matchers and topics an
// item touches are reset, so a call costs in proportion to the item.
type doc struct {
	ix   *Index
	item *news.Item
	tk   *tokenizer

	// texts holds each field's text (multi-valued fields joined by "\n").
	texts [numFields]string
	// occs of field f are occs[lo[f]:hi[f]].
	occs   []occ
	lo, hi [numFields]int32
	cur    field
	pos    int32
	// lastAnchor is the position of the field's last token that starts a
	// multi-token pattern.
	lastAnchor int32

	// Per entry: the fields it occurred in, its first and last occurrence
	// (index+1), and its number of occurrences. seen lists the entries that
	// occurred, in order of first occurrence.
	entryFields       []fieldMask
	head, tail, count []int32
	seen              []int32

	// found is, per matcher, the fields it occurs in; touched lists the
	// matchers with found != 0.
	found   []fieldMask
	touched []int32

	// candidate has a bit set for each topic whose trigger set occurred
	// (see compiler.trigger); cands lists them in topic order.
	candidate []uint64
	candLo    int // the lowest word of candidate with a bit set
	candHi    int // ... and one past the highest
	cands     []int32

	// Lazily computed, for the few topics that are reported or use NEAR;
	// the maps are kept (cleared) across items, and spans and offset maps
	// are cut from arenas, so reporting allocates little.
	spans      map[spanKey][]ospan
	near       map[*node]fieldMask
	rendered   map[snippetKey]rendered
	spanArena  []ospan
	offArena   []int32
	scratch    []ospan
	contribBuf []contribution
	partBuf    []scorePart
	termBuf    []string
	hitBuf     []news.Hit
	markBuf    []news.Span
	ordBuf     []int32
	hitFields  []fieldMask
	snipBuf    []byte
	held       []int32
}

type spanKey struct {
	m int32
	f field
}

func (ix *Index) newDoc() *doc {
	return &doc{
		ix:          ix,
		tk:          newTokenizer(),
		entryFields: make([]fieldMask, ix.nEntries),
		head:        make([]int32, ix.nEntries),
		tail:        make([]int32, ix.nEntries),
		count:       make([]int32, ix.nEntries),
		found:       make([]fieldMask, len(ix.matchers)),
		candidate:   make([]uint64, (len(ix.topics)+63)/64),
		candLo:      math.MaxInt,
	}
}

// scan prepares item for matching: every searched field is tokenised once,
// every token looked up once in the dictionary, and then every pattern
// anchored at an entry that occurred is checked.
func (ix *Index) scan(item *news.Item) *doc {
	d := ix.docs.Get().(*doc)
	d.item = item
	for f := fieldTitle; f < fieldSource; f++ {
		values := fieldValues(item, f)
		if len(values) == 1 {
			d.texts[f] = values[0]
		} else if ix.fields&(1<<f) != 0 {
			d.texts[f] = strings.Join(values, "\n")
		}
		d.lo[f] = int32(len(d.occs))
		if ix.fields&(1<<f) != 0 {
			d.cur, d.pos, d.lastAnchor = f, 0, -1<<20 // no anchor: further back than any pattern reaches
			base := 0
			for i, v := range values {
				if base >= maxFieldBytes || d.pos >= maxFieldBytes {
					break // positions and offsets stay far from overflowing int32
				}
				if i > 0 {
					d.pos += valueGap
					base++ // the "\n" between joined values
				}
				if base+len(v) > maxFieldBytes {
					v = v[:max(0, maxFieldBytes-base)]
				}
				d.tk.scan(v, base, d)
				base += len(v)
			}
		}
		d.hi[f] = int32(len(d.occs))
	}
	d.texts[fieldSource] = item.SourceID
	d.resolve()
	return d
}

// release returns d's scratch space to the index, reset.
func (ix *Index) release(d *doc) {
	for _, e := range d.seen {
		d.entryFields[e], d.head[e], d.tail[e], d.count[e] = 0, 0, 0, 0
	}
	for _, m := range d.touched {
		d.found[m] = 0
	}
	if d.candLo < d.candHi {
		clear(d.candidate[d.candLo:d.candHi])
	}
	d.candLo, d.candHi = math.MaxInt, 0
	d.seen, d.touched, d.cands = d.seen[:0], d.touched[:0], d.cands[:0]
	d.item = nil
	d.texts = [numFields]string{}
	clear(d.spans)
	clear(d.near)
	clear(d.rendered)
	d.spanArena, d.offArena, d.scratch = d.spanArena[:0], d.offArena[:0], d.scratch[:0]
	clear(d.hitBuf[:cap(d.hitBuf)]) // hits point into the item's text: do not pin it
	if cap(d.occs) > 1<<16 || cap(d.spanArena) > 1<<16 || cap(d.offArena) > 1<<16 || cap(d.scratch) > 1<<16 {
		// Do not keep a huge item's occurrences alive in the pool.
		d.occs, d.spanArena, d.offArena, d.scratch = nil, nil, nil, nil
	}
	d.occs = d.occs[:0]
	ix.docs.Put(d)
}

// ascii and token are the tokenizer's sink: each token is looked up in
// the dictionary, as a word and as every prefix it starts with.
func (d *doc) ascii(text string, packed uint64, start, end int) {
	pos := d.pos
	d.pos++
	var e int32
	var ok bool
	lead := pos-d.lastAnchor >= d.ix.maxPat // only a pattern's first word can matter here
	if packed != 0 {
		e, ok = d.ix.dict.lookupPacked(packed, lead)
	} else {
		e, ok = lookup(&d.ix.dict, text, true, lead)
	}
	if ok {
		d.record(e, pos, start, end)
	}
	prefixesOf(d, text, pos, start, end)
}

func (d *doc) token(text []byte, start, end int) {
	pos := d.pos
	d.pos++
	if e, ok := lookup(&d.ix.dict, text, false, pos-d.lastAnchor >= d.ix.maxPat); ok {
		d.record(e, pos, start, end)
	}
	prefixesOf(d, text, pos, start, end)
}

// prefixesOf records every prefix entry the token at pos starts with. The
// text may be a fast-path word as written: only ASCII letters are folded,
// as the trie holds normalised prefixes.
func prefixesOf[T string | []byte](d *doc, text T, pos int32, start, end int) {
	t := &d.ix.prefixes
	if len(text) < 2 {
		return
	}
	var b2 byte
	if len(text) > 2 {
		b2 = lowerASCII(text[2])
	}
	if t.mayPrefix(lowerASCII(text[0]), lowerASCII(text[1]), b2, len(text) > 2) {
		walkPrefixes(d, text, pos, start, end)
	}
}

// walkPrefixes is prefixesOf for a token that passed the first filter.
func walkPrefixes[T string | []byte](d *doc, text T, pos int32, start, end int) {
	t := &d.ix.prefixes
	if !mayPrefixMore(t, text) {
		return
	}
	n := t.root[lowerASCII(text[0])]
	for k := 1; n != 0; k++ {
		nd := &t.nodes[n-1]
		if nd.entry >= 0 {
			d.record(nd.entry, pos, start, end)
		}
		if k == len(text) {
			return
		}
		n = t.child(nd, lowerASCII(text[k]))
	}
}

// record adds an occurrence of entry e, unless e is only ever a later
// token of a phrase and no phrase started close enough before it to reach
// it. Such an occurrence can be part of no pattern occurrence, so leaving
// it out changes no result, KMP's included: every position of a real
// occurrence is recorded, and an unrecorded position matches nothing.
func (d *doc) record(e, pos int32, start, end int) {
	switch k := d.ix.kind[e]; {
	case k&kindAnchor != 0:
		d.lastAnchor = pos
	case k == 0 && pos-d.lastAnchor >= d.ix.maxPat:
		return
	}
	d.add(e, pos, start, end)
}

func (d *doc) add(e, pos int32, start, end int) {
	idx := int32(len(d.occs)) + 1
	d.occs = append(d.occs, occ{pos: pos, entry: e, start: int32(start), end: int32(end), field: d.cur})
	if d.tail[e] == 0 {
		d.head[e] = idx
		d.seen = append(d.seen, e)
	} else {
		d.occs[d.tail[e]-1].next = idx
	}
	d.tail[e] = idx
	d.count[e]++
	d.entryFields[e] |= 1 << d.cur
}

// resolve works out which patterns occur, in which fields, starting from
// the entries that occurred, and which topics are therefore candidates.
func (d *doc) resolve() {
	ix := d.ix
	if id := d.item.SourceID; len(ix.sourceExact) > 0 || len(ix.sourcePrefix) > 0 {
		lower := strings.ToLower(id)
		for _, m := range ix.sourceExact[lower] {
			d.setFound(m, 1<<fieldSource)
		}
		for _, m := range ix.sourcePrefix {
			if strings.HasPrefix(lower, ix.srcRaw[m]) {
				d.setFound(m, 1<<fieldSource)
			}
		}
	}
	for _, e := range d.seen {
		for _, a := range ix.anchors[ix.anchorAt[e]:ix.anchorAt[e+1]] {
			mask := d.entryFields[e]
			if a.second >= 0 {
				if mask &= d.entryFields[a.second]; mask == 0 {
					continue
				}
				for _, p := range ix.pats[a.off+2 : a.off+int32(a.n)] {
					mask &= d.entryFields[p]
				}
				// A two-word pattern is its anchor and second word, both at
				// hand: do not load it.
				two := [2]int32{e, a.second}
				pat := two[:]
				if a.n > 2 {
					pat = ix.pats[a.off : a.off+int32(a.n)]
				}
				for f := fieldTitle; f < fieldSource; f++ {
					var one [1]ospan
					if mask&(1<<f) != 0 && len(d.findPat(a.m, pat, f, true, one[:0])) == 0 {
						mask &^= 1 << f
					}
				}
			}
			if mask != 0 {
				d.setFound(a.m, mask)
			}
		}
	}
	for w := d.candLo; w < d.candHi; w++ {
		for bits := d.candidate[w]; bits != 0; bits &= bits - 1 {
			d.cands = append(d.cands, int32(w*64+mbits.TrailingZeros64(bits)))
		}
	}
}

func (d *doc) setFound(m int32, mask fieldMask) {
	d.found[m] = mask
	d.touched = append(d.touched, m)
	for _, t := range d.ix.topicsOf[d.ix.topicsAt[m]:d.ix.topicsAt[m+1]] {
		w := int(t / 64)
		d.candidate[w] |= 1 << (t % 64)
		d.candLo, d.candHi = min(d.candLo, w), max(d.candHi, w+1)
	}
}

// spansOf returns every occurrence of matcher m in field f, in order,
// computed once per item.
func (d *doc) spansOf(m int32, f field) []ospan {
	if d.found[m]&(1<<f) == 0 {
		return nil
	}
	k := spanKey{m, f}
	if s, ok := d.spans[k]; ok {
		return s
	}
	var s []ospan
	if d.ix.matchers[m].source {
		s = []ospan{{start: 0, end: int32(len(d.item.SourceID))}}
	} else {
		// Cut from the arena: a later append may move the arena, but
		// slices already cut keep their backing array.
		n := len(d.spanArena)
		d.spanArena = d.find(m, f, false, d.spanArena)
		s = d.spanArena[n:len(d.spanArena):len(d.spanArena)]
	}
	if d.spans == nil {
		d.spans = map[spanKey][]ospan{}
	}
	d.spans[k] = s
	return s
}

// find appends to out the occurrences of mt in field f (only the first
// when first is set). Every path is linear in the field's occurrences plus
// the pattern's length: no backtracking, whatever the text or query.
func (d *doc) find(m int32, f field, first bool, out []ospan) []ospan {
	return d.findPat(m, d.ix.pat(m), f, first, out)
}

// findPat is find for a caller that has the pattern pat of m at hand, as
// resolve does from its anchor: loading the matcher would be a cache miss.
func (d *doc) findPat(m int32, pat []int32, f field, first bool, out []ospan) []ospan {
	anchor := pat[0]
	if len(pat) == 1 {
		for i := d.head[anchor]; i != 0; i = d.occs[i-1].next {
			o := &d.occs[i-1]
			if o.field == f {
				out = append(out, ospan{o.pos, o.pos, o.start, o.end})
				if first {
					break
				}
			}
		}
		return out
	}
	lo, hi := d.lo[f], d.hi[f]
	if int64(d.count[anchor])*int64(len(pat)) > 4*int64(hi-lo)+64 {
		// The first word is so frequent that checking each occurrence
		// could go quadratic: scan once with KMP instead.
		return d.kmp(m, f, first, out)
	}
	for i := d.head[anchor]; i != 0; i = d.occs[i-1].next {
		if d.occs[i-1].field != f {
			continue
		}
		if last, ok := d.verify(pat, i-1, hi); ok {
			s, e := d.occs[i-1], d.occs[last]
			out = append(out, ospan{s.pos, e.pos, s.start, e.end})
			if first {
				break
			}
		}
	}
	return out
}

// verify checks that pat occurs at the position of occurrence i (which
// has entry pat[0]): each following token at the next position. It returns
// the index of the last token's occurrence.
func (d *doc) verify(pat []int32, i, hi int32) (int32, bool) {
	p := d.occs[i].pos
	j, last := i+1, i
	for k := 1; k < len(pat); k++ {
		want := p + int32(k)
		for j < hi && d.occs[j].pos < want {
			j++
		}
		found := false
		for q := j; q < hi && d.occs[q].pos == want; q++ {
			if d.occs[q].entry == pat[k] {
				found, last = true, q
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	return last, true
}

// group returns the end of the run of occurrences at the same position as
// occs[q] (all of one token).
func (d *doc) group(q, hi int32) int32 {
	r := q + 1
	for r < hi && d.occs[r].pos == d.occs[q].pos {
		r++
	}
	return r
}

func (d *doc) groupHas(q, r, entry int32) bool {
	for ; q < r; q++ {
		if d.occs[q].entry == entry {
			return true
		}
	}
	return false
}

// kmp finds the occurrences of mt in field f in one pass over the field's
// occurrences. Positions without an occurrence hold tokens no pattern
// needs, which break any partial match. KMP runs over the exact words of
// the pattern; a final prefix is then checked at the next position, so the
// failure function only ever compares exact words.
func (d *doc) kmp(m int32, f field, first bool, out []ospan) []ospan {
	pat, prefixLast, fail := d.ix.pat(m), d.ix.matchers[m].prefixLast, d.ix.fails[m]
	exact := pat
	if prefixLast {
		exact = exact[:len(exact)-1]
	}
	ne := int32(len(exact))
	var small [16]int32
	ring := small[:] // occurrence index of the token at each of the last ne positions
	if ne > int32(len(small)) {
		ring = make([]int32, ne)
	}
	lo, hi := d.lo[f], d.hi[f]
	var j int32
	prev := int32(math.MinInt32)
	for q := lo; q < hi; {
		r := d.group(q, hi)
		p := d.occs[q].pos
		if p != prev+1 {
			j = 0
		}
		prev = p
		ring[p%ne] = q
		for j > 0 && !d.groupHas(q, r, exact[j]) {
			j = fail[j-1]
		}
		if d.groupHas(q, r, exact[j]) {
			j++
		}
		if j == ne {
			startPos, endIdx, ok := p-ne+1, q, true
			if prefixLast {
				ok = r < hi && d.occs[r].pos == p+1 && d.groupHas(r, d.group(r, hi), pat[ne])
				endIdx = r
			}
			if ok {
				s, e := d.occs[ring[startPos%ne]], d.occs[endIdx]
				out = append(out, ospan{s.pos, e.pos, s.start, e.end})
				if first {
					return out
				}
			}
			j = fail[j-1]
		}
		q = r
	}
	return out
}

// fieldValues returns the text values of one scanned field of an item
// (source: is matched on the id, not scanned).
func fieldValues(item *news.Item, f field) []string {
	switch f {
	case fieldTitle:
		return []string{item.Title}
	case fieldSummary:
		return []string{item.Summary}
	case fieldContent:
		return []string{item.Content}
	case fieldAuthor:
		return item.Authors
	case fieldCategory:
		return item.Categories
	case fieldLink:
		return []string{item.Link}
	}
	return nil
}
