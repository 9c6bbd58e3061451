package match

import (
	"math"
	mbits "math/bits"
	"slices"
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
	// multi-token pattern; prev is the hash of the token before (see
	// ascii).
	lastAnchor int32
	prev       uint64

	// est is per entry what the item holds of it (see entryState); seen
	// lists the entries that occurred, in order of first occurrence.
	est  []entryState
	seen []int32
	// seenBits has the bit of each entry in seen set.
	seenBits []uint64

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
	spans map[spanKey][]ospan
	near  map[*node]fieldMask
	// wins are the snippet windows rendered, and hitWins the window
	// chosen for each hit, with maps beside them for items with many.
	wins     []rendered
	hitWins  []hitWin
	winIndex map[snippetKey]int32
	hitIndex map[hitKey]int32
	// fits has the bit of each field short enough to be its own snippet,
	// whatever the hit (see fitsWhole), among the fields in sized.
	fits, sized fieldMask
	spanArena   []ospan
	pieceArena  []piece
	scratch     []ospan
	// mslot is, per matcher, the index+1 in firsts of its first
	// occurrences (see firstSpan); slotted lists the matchers that have one.
	mslot      []int32
	firsts     []firstSpans
	slotted    []int32
	contribBuf []contribution
	partBuf    []scorePart
	termBuf    []string
	hitBuf     []news.Hit
	markBuf    []news.Span
	ordBuf     []int32
	hitFields  []fieldMask
	snipBuf    []byte
	// snipArena holds the item's rendered snippets, and mres the matches
	// being reported (see matches).
	snipArena []byte
	// chunks are what results are cut from (see resultChunks).
	chunks resultChunks
	mres   []matchRes
	held   []int32
	open   []int32 // candidates that pass their gate (see decide)
	follow []int32 // scratch for resolve
	sink   int32   // see prefetch
}

// entryState is what an item holds of one entry: its first and last
// occurrence (index+1 in occs), its number of occurrences and the fields
// it occurred in, together so that recording an occurrence touches one
// cache line.
type entryState struct {
	head, tail, count int32
	fields            fieldMask
}

type spanKey struct {
	m int32
	f field
}

func (ix *Index) newDoc() *doc {
	return &doc{
		ix:        ix,
		tk:        newTokenizer(),
		est:       make([]entryState, ix.nEntries),
		seenBits:  make([]uint64, (ix.nEntries+63)/64),
		found:     make([]fieldMask, len(ix.matchers)),
		mslot:     make([]int32, len(ix.matchers)),
		candidate: make([]uint64, (len(ix.topics)+63)/64),
		candLo:    math.MaxInt,
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
		d.est[e] = entryState{}
		d.seenBits[e/64] = 0
	}
	for _, m := range d.touched {
		d.found[m] = 0
	}
	for _, m := range d.slotted {
		d.mslot[m] = 0
	}
	d.slotted, d.firsts = d.slotted[:0], d.firsts[:0]
	if d.candLo < d.candHi {
		clear(d.candidate[d.candLo:d.candHi])
	}
	d.candLo, d.candHi = math.MaxInt, 0
	d.seen, d.touched, d.cands = d.seen[:0], d.touched[:0], d.cands[:0]
	d.item = nil
	d.texts = [numFields]string{}
	clear(d.spans)
	clear(d.near)
	clear(d.wins) // a window holds its field's text: do not pin it
	d.wins, d.hitWins, d.winIndex, d.hitIndex = d.wins[:0], d.hitWins[:0], nil, nil
	d.fits, d.sized = 0, 0
	d.spanArena, d.pieceArena, d.scratch = d.spanArena[:0], d.pieceArena[:0], d.scratch[:0]
	clear(d.hitBuf[:cap(d.hitBuf)]) // hits point into the item's text: do not pin it
	d.termBuf, d.hitBuf, d.markBuf, d.snipArena, d.mres = d.termBuf[:0], d.hitBuf[:0], d.markBuf[:0], d.snipArena[:0], d.mres[:0]
	if cap(d.occs) > 1<<16 || cap(d.spanArena) > 1<<16 || cap(d.pieceArena) > 1<<16 || cap(d.scratch) > 1<<16 {
		// Do not keep a huge item's occurrences alive in the pool.
		d.occs, d.spanArena, d.pieceArena, d.scratch = nil, nil, nil, nil
	}
	d.occs = d.occs[:0]
	ix.docs.Put(d)
}

// ascii and token are the tokenizer's sink: each token is looked up in
// the dictionary, as a word and as every prefix it starts with.
//
// Away from any phrase start only the words that start a pattern can
// matter (the lead filter); within reach of one, a word that only ever
// follows another in a phrase is looked up only right after a word it
// follows somewhere (dict.pairs). Both filters only turn away words that
// record would drop or that no pattern occurrence can contain, so every
// position of a real occurrence is still recorded.
func (d *doc) ascii(text string, packed uint64, start, end int) {
	pos := d.pos
	d.pos++
	dc := &d.ix.dict
	var h uint64
	if packed != 0 {
		h = mix(packed)
	} else {
		h = hashLong(text, true)
	}
	prev := d.prev
	d.prev = h
	if dc.n != 0 && (dc.mayHave(h, true) || pos-d.lastAnchor < d.ix.maxPat && dc.mayFollow(prev, h)) {
		var ek uint32
		var ok bool
		if packed != 0 {
			ek, ok = dc.probePacked(packed, h)
		} else {
			ek, ok = probeLong(dc, text, true, h)
		}
		if ok {
			d.record(ek, pos, start, end)
		}
	}
	prefixesOf(d, text, true, packed, pos, start, end)
}

func (d *doc) token(text []byte, start, end int) {
	pos := d.pos
	d.pos++
	dc := &d.ix.dict
	var h, packed uint64
	if len(text) <= maxPacked {
		packed = pack(text, false)
		h = mix(packed)
	} else {
		h = hashLong(text, false)
	}
	prev := d.prev
	d.prev = h
	if dc.n != 0 && (dc.mayHave(h, true) || pos-d.lastAnchor < d.ix.maxPat && dc.mayFollow(prev, h)) {
		var ek uint32
		var ok bool
		if packed != 0 {
			ek, ok = dc.probePacked(packed, h)
		} else {
			ek, ok = probeLong(dc, text, false, h)
		}
		if ok {
			d.record(ek, pos, start, end)
		}
	}
	prefixesOf(d, text, false, 0, pos, start, end)
}

// record adds an occurrence of the entry ek names (an entry with its kind
// in the top bits, see slot), unless it is only ever a later token of a
// phrase and no phrase started close enough before it to reach it. Such
// an occurrence can be part of no pattern occurrence, so leaving it out
// changes no result, KMP's included: every position of a real occurrence
// is recorded, and an unrecorded position matches nothing.
func (d *doc) record(ek uint32, pos int32, start, end int) {
	switch k := ek >> kindShift; {
	case k&kindAnchor != 0:
		d.lastAnchor = pos
	case k == 0 && pos-d.lastAnchor >= d.ix.maxPat:
		return
	}
	d.add(int32(ek&entryMask), pos, start, end)
}

func (d *doc) add(e, pos int32, start, end int) {
	idx := int32(len(d.occs)) + 1
	d.occs = append(d.occs, occ{pos: pos, entry: e, start: int32(start), end: int32(end), field: d.cur})
	es := &d.est[e]
	if d.seenBits[e/64]&(1<<(e%64)) == 0 {
		// The first occurrence: est[e] is written without being read, so
		// that its cache miss does not hold up the scan.
		*es = entryState{head: idx, tail: idx, count: 1, fields: 1 << d.cur}
		d.seen = append(d.seen, e)
		d.seenBits[e/64] |= 1 << (e % 64)
		return
	}
	d.occs[es.tail-1].next = idx
	es.tail = idx
	es.count++
	es.fields |= 1 << d.cur
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
	// Load what the loop below reads of each entry, and then the topics of
	// its pattern, in loops whose loads do not wait for each other (see
	// prefetch).
	var sink int32
	for _, e := range d.seen {
		sink += ix.einfo[e].tlo
	}
	for _, e := range d.seen {
		if ei := &ix.einfo[e]; ei.tlo < ei.thi {
			sink += ix.topicsOf[ei.tlo]
		}
	}
	d.sink += sink
	for _, e := range d.seen {
		ei := &ix.einfo[e]
		if ei.m1 >= 0 {
			d.setFoundIn(ei.m1, d.est[e].fields, ix.topicsOf[ei.tlo:ei.thi])
		}
		if n := ei.hi - ei.lo; n <= 2*d.est[e].count+4 {
			for k := ei.lo; k < ei.hi; k++ {
				// Most are phrases whose second word the item lacks: rule
				// them out on the compact seconds and the bitset of
				// entries seen, before reading the anchor.
				if s := ix.seconds[k]; d.seenBits[s/64]&(1<<(s%64)) != 0 {
					d.anchored(e, k)
				}
			}
			continue
		}
		// A word starting many more phrases than it occurs (most of them
		// with common words the item has too, somewhere): check only the
		// phrases whose second word follows one of its occurrences, each
		// once.
		next := d.follow[:0]
		for i := d.est[e].head; i != 0; i = d.occs[i-1].next {
			o := &d.occs[i-1]
			for j := i; j < int32(len(d.occs)) && d.occs[j].field == o.field && d.occs[j].pos <= o.pos+1; j++ {
				if d.occs[j].pos == o.pos+1 {
					next = append(next, d.occs[j].entry)
				}
			}
		}
		slices.Sort(next)
		d.follow = slices.Compact(next)
		seconds := ix.seconds[ei.lo:ei.hi]
		for _, e2 := range d.follow {
			k, _ := slices.BinarySearch(seconds, e2)
			for ; k < len(seconds) && seconds[k] == e2; k++ {
				d.anchored(e, ei.lo+int32(k))
			}
		}
	}
	for w := d.candLo; w < d.candHi; w++ {
		for bits := d.candidate[w]; bits != 0; bits &= bits - 1 {
			d.cands = append(d.cands, int32(w*64+mbits.TrailingZeros64(bits)))
		}
	}
}

// anchored checks the multi-token pattern of anchor k, whose first token
// is entry e, and sets it found in the fields where it occurs.
func (d *doc) anchored(e, k int32) {
	ix := d.ix
	a := &ix.anchors[k]
	mask := d.est[e].fields & d.est[a.second].fields
	if mask == 0 {
		return
	}
	for _, p := range ix.pats[a.off+2 : a.off+int32(a.n)] {
		mask &= d.est[p].fields
	}
	// A two-word pattern is its anchor and second word, both at hand: do
	// not load it.
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
	if mask != 0 {
		d.setFoundIn(a.m, mask, ix.topicsOf[a.tlo:a.thi])
	}
}

func (d *doc) setFound(m int32, mask fieldMask) {
	d.setFoundIn(m, mask, d.ix.topicsOf[d.ix.topicsAt[m]:d.ix.topicsAt[m+1]])
}

// setFoundIn is setFound for a caller that has m's topics at hand.
func (d *doc) setFoundIn(m int32, mask fieldMask, topics []int32) {
	d.found[m] = mask
	d.touched = append(d.touched, m)
	for _, t := range topics {
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
		for i := d.est[anchor].head; i != 0; i = d.occs[i-1].next {
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
	if int64(d.est[anchor].count)*int64(len(pat)) > 4*int64(hi-lo)+64 {
		// The first word is so frequent that checking each occurrence
		// could go quadratic: scan once with KMP instead.
		return d.kmp(m, f, first, out)
	}
	for i := d.est[anchor].head; i != 0; i = d.occs[i-1].next {
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
	pat, prefixLast, fail := d.ix.pat(m), d.ix.matchers[m].prefixLast, d.ix.fails[d.ix.failAt[m]:d.ix.failAt[m+1]]
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
