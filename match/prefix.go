package match

import (
	"maps"
	mbits "math/bits"
	"slices"
)

// prefixDict is the prefix dictionary: every normalised prefix some
// pattern needs (Uyghur* → "uyghur"), mapped to its entry. Every token of
// every item is checked against it, and with thousands of topics a few
// thousand prefixes share their first bytes with ordinary words (pol:
// police, polanmor*), so it is built to touch little memory per token:
//
//   - short2 has the bit b0<<8|b1 set for every two-byte prefix b0 b1;
//   - lens has, per hash of three first bytes, bit L-3 set for every prefix
//     of L bytes (3 ≤ L < 3+longLen) starting with them, and bit longLen
//     for a longer one: 32 KiB that rule out most tokens, and tell the rest
//     which of their own prefixes to look up;
//   - those are looked up in slots, an open-addressing table like dict's:
//     one probe per length, where walking a trie would be a cache miss per
//     byte. Names made of common syllables share their first bytes with
//     many words, so most lengths lens suggests are not prefixes of the
//     token: filter, with a bit per prefix's hash like dict.filter, turns
//     them away before the table is touched.
//
// A token whose three first bytes start a prefix of longLen+3 bytes or
// more walks trie instead, which holds every prefix: a probe per length
// up to the longest prefix could cost as much as the walk is bounded by.
type prefixDict struct {
	short2 [1 << 16 / 64]uint64
	lens   [1 << lensBits]uint16
	filter [filterBits / 64]uint64
	slots  []pslot
	mask   uint32
	// long holds the prefix of each slot whose prefix is longer than
	// maxPacked bytes (its key is then its hash), to compare.
	long strTable
	trie trie
}

// lensBits sizes prefixDict.lens; longLen is the bit of lens that sends a
// token to the trie.
const (
	lensBits = 14
	longLen  = 15
)

// pslot is a slot of prefixDict.slots: empty when n is 0.
type pslot struct {
	key   uint64 // the prefix packed (see pack), or its hash if it is long
	entry uint32 // the entry, with its kind in the top bits (see slot)
	n     uint8  // the prefix's length in bytes
}

// lensAt returns the index in prefixDict.lens of the three first bytes.
func lensAt(b0, b1, b2 byte) uint32 {
	return (uint32(b0)<<16 | uint32(b1)<<8 | uint32(b2)) * 0x9E3779B1 >> (32 - lensBits)
}

// prefixesOf records every prefix entry the token at pos starts with, in
// order of length. The text may be a fast-path word as written (fold):
// only ASCII letters and digits are folded, and such a word has no other
// bytes; the dictionary holds normalised prefixes. packed is the token
// packed (see pack) if the caller has it, else 0.
func prefixesOf[T string | []byte](d *doc, text T, fold bool, packed uint64, pos int32, start, end int) {
	if len(text) < 2 {
		return
	}
	if packed == 0 {
		packed = pack(text[:min(len(text), maxPacked)], fold)
	}
	// The first bytes, lowercased, are those of packed.
	p := &d.ix.prefixes
	k := uint(byte(packed))<<8 | uint(byte(packed>>8))
	short := p.short2[k/64]&(1<<(k%64)) != 0
	var lens uint16
	if len(text) > 2 {
		lens = p.lens[lensAt(byte(packed), byte(packed>>8), byte(packed>>16))]
	}
	if lens != 0 || short {
		lookupPrefixes(d, text, fold, packed, short, lens, pos, start, end)
	}
}

// lookupPrefixes is prefixesOf for a token that may start with a prefix:
// of two bytes when short is set, and of the lengths lens says; p8 is its
// first eight bytes packed.
func lookupPrefixes[T string | []byte](d *doc, text T, fold bool, p8 uint64, short bool, lens uint16, pos int32, start, end int) {
	p := &d.ix.prefixes
	if lens&(1<<longLen) != 0 {
		walkPrefixes(d, text, pos, start, end)
		return
	}
	// p8 is the first eight bytes packed: a shorter prefix's key is their
	// low bytes.
	if short {
		if e, ok := p.lookupPacked(p8 & 0xFFFF); ok {
			d.record(e, pos, start, end)
		}
	}
	if n := len(text) - 2; n < longLen {
		lens &= 1<<n - 1 // the lengths up to the token's own
	}
	for ; lens != 0; lens &= lens - 1 {
		l := 3 + mbits.TrailingZeros16(lens)
		var e uint32
		var ok bool
		if l < maxPacked {
			e, ok = p.lookupPacked(p8 & (1<<(8*l) - 1))
		} else if l == maxPacked {
			e, ok = p.lookupPacked(p8)
		} else {
			e, ok = lookupLongPrefix(p, text[:l], fold)
		}
		if ok {
			d.record(e, pos, start, end)
		}
	}
}

// lookupPacked returns the entry of the prefix of at most maxPacked bytes
// packed as key, with its kind in the top bits (see slot).
func (p *prefixDict) lookupPacked(key uint64) (uint32, bool) {
	h := mix(key)
	if k := h >> filterShift; p.filter[k/64]&(1<<(k%64)) == 0 {
		return 0, false
	}
	for i := uint32(h) & p.mask; ; i = (i + 1) & p.mask {
		sl := &p.slots[i]
		if sl.n == 0 {
			return 0, false
		}
		if sl.key == key && sl.n <= maxPacked {
			return sl.entry, true
		}
	}
}

// lookupLongPrefix returns the entry of prefix s, longer than maxPacked
// bytes (folded as in prefixesOf), with its kind in the top bits.
func lookupLongPrefix[T string | []byte](p *prefixDict, s T, fold bool) (uint32, bool) {
	h := hashLong(s, fold)
	if k := h >> filterShift; p.filter[k/64]&(1<<(k%64)) == 0 {
		return 0, false
	}
	for i := uint32(h) & p.mask; ; i = (i + 1) & p.mask {
		sl := &p.slots[i]
		if sl.n == 0 {
			return 0, false
		}
		if sl.key == h && int(sl.n) == len(s) && equalFold(s, p.long.get(int(i)), fold) {
			return sl.entry, true
		}
	}
}

// walkPrefixes records, walking the trie, every prefix the token starts
// with (see prefixDict).
func walkPrefixes[T string | []byte](d *doc, text T, pos int32, start, end int) {
	t := &d.ix.prefixes.trie
	n := t.root[lowerASCII(text[0])]
	for k := 1; n != 0; k++ {
		nd := &t.nodes[n-1]
		if nd.entry >= 0 {
			d.record(uint32(nd.entry)|uint32(d.ix.einfo[nd.entry].kind)<<kindShift, pos, start, end)
		}
		if k == len(text) {
			return
		}
		n = t.child(nd, lowerASCII(text[k]))
	}
}

// trie is every prefix as a byte trie whose nodes record the prefix entry
// ending there: walking a token down it finds every prefix the token
// starts with in one pass over the token's bytes, however many prefixes
// there are.
type trie struct {
	// root maps a first byte to its node (index+1; 0 = none).
	root [256]int32
	// nodes[i] has children edges[lo:hi] (sorted by byte), and entry is the
	// prefix ending at it, or -1. An edge holds its byte and its node
	// together: a walk is a cache miss per level, not two.
	nodes []trieNode
	edges []trieEdge
}

// trieEdge leads to node next (index+1) on byte b.
type trieEdge struct {
	next int32
	b    byte
}

type trieNode struct {
	lo, hi int32
	entry  int32
}

func (t *trie) child(nd *trieNode, b byte) int32 {
	lo, hi := nd.lo, nd.hi
	if hi-lo <= 8 {
		for _, e := range t.edges[lo:hi] {
			if e.b == b {
				return e.next
			}
		}
		return 0
	}
	for lo < hi {
		mid := int32(uint32(lo+hi) >> 1)
		if t.edges[mid].b < b {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < nd.hi && t.edges[lo].b == b {
		return t.edges[lo].next
	}
	return 0
}

// trieBuilder builds a trie with map children, then freezes it with the
// rest of the prefix dictionary.
type trieBuilder struct {
	nodes    []builderNode
	root     map[byte]int32
	prefixes []string
}

type builderNode struct {
	kids  map[byte]int32
	entry int32
}

// insert returns the entry of prefix s, creating it with newEntry.
func (b *trieBuilder) insert(s string, newEntry func() int32) int32 {
	if b.root == nil {
		b.root = map[byte]int32{}
	}
	kids := b.root
	var n int32 = -1
	for i := 0; i < len(s); i++ {
		next, ok := kids[s[i]]
		if !ok {
			next = int32(len(b.nodes))
			b.nodes = append(b.nodes, builderNode{kids: map[byte]int32{}, entry: -1})
			kids[s[i]] = next
		}
		n = next
		kids = b.nodes[n].kids
	}
	if b.nodes[n].entry < 0 {
		b.nodes[n].entry = newEntry()
		b.prefixes = append(b.prefixes, s)
	}
	return b.nodes[n].entry
}

func (b *trieBuilder) freeze(kind []uint8) prefixDict {
	var p prefixDict
	t := &p.trie
	t.nodes = make([]trieNode, len(b.nodes))
	for c, n := range b.root {
		t.root[c] = n + 1
	}
	for i, n := range b.nodes {
		keys := slices.Sorted(maps.Keys(n.kids))
		t.nodes[i] = trieNode{lo: int32(len(t.edges)), entry: n.entry}
		for _, k := range keys {
			t.edges = append(t.edges, trieEdge{next: n.kids[k] + 1, b: k})
		}
		t.nodes[i].hi = int32(len(t.edges))
	}
	size := uint32(16)
	for int(size) < 2*len(b.prefixes) {
		size *= 2
	}
	p.slots, p.mask = make([]pslot, size), size-1
	long := make([]string, size)
	for _, s := range b.prefixes { // len(s) ≥ 2: a prefix has two characters
		switch l := len(s); {
		case l == 2:
			k := uint(s[0])<<8 | uint(s[1])
			p.short2[k/64] |= 1 << (k % 64)
		case l-3 < longLen:
			p.lens[lensAt(s[0], s[1], s[2])] |= 1 << (l - 3)
		default:
			p.lens[lensAt(s[0], s[1], s[2])] |= 1 << longLen
			continue // found by walking the trie only
		}
		e, _ := t.find(s)
		sl := pslot{n: uint8(len(s)), entry: uint32(e) | uint32(kind[e])<<kindShift}
		var h uint64
		if len(s) <= maxPacked {
			sl.key = pack(s, false)
			h = mix(sl.key)
		} else {
			h = hashLong(s, false)
			sl.key = h
		}
		k := h >> filterShift
		p.filter[k/64] |= 1 << (k % 64)
		i := uint32(h) & p.mask
		for p.slots[i].n != 0 {
			i = (i + 1) & p.mask
		}
		p.slots[i] = sl
		if len(s) > maxPacked {
			long[i] = s
		}
	}
	p.long = newStrTable(long)
	return p
}

// find returns the entry of prefix s, if the trie holds it.
func (t *trie) find(s string) (int32, bool) {
	if s == "" {
		return 0, false
	}
	n := t.root[s[0]]
	for k := 1; k < len(s) && n != 0; k++ {
		n = t.child(&t.nodes[n-1], s[k])
	}
	if n == 0 || t.nodes[n-1].entry < 0 {
		return 0, false
	}
	return t.nodes[n-1].entry, true
}
