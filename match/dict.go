package match

import "strings"

// dict is the word dictionary: every normalised token some pattern needs,
// mapped to its entry. Every token of every item is looked up in it, so it
// is built for that: an open-addressing table in which a word of up to 8
// bytes (most words) is its own key, packed into a uint64, and is compared
// in one instruction; the fast path packs an ASCII word while scanning it,
// lowercasing it on the way, so it is never copied, converted or hashed
// separately. Longer words are hashed and compared as strings.
type dict struct {
	// filter has bit h>>filterShift set for the hash h of every word: 32
	// KiB that stay in cache and turn away most words of a text that are in
	// no topic before the table (megabytes with many topics) is touched.
	filter []uint64
	// lead is filter for the words that start some pattern (an entry whose
	// kind is not 0). Away from any phrase start, only those can matter
	// (see doc.record): common words that are only ever later words of
	// phrases pass filter but not lead, so most of a text's words are
	// turned away without touching the table.
	lead []uint64
	// pairs has a bit (see pairBit) for every two words that follow each
	// other in some pattern. Near a phrase start, a word that only ever
	// follows another one in a phrase can matter only right after that
	// one: the common words inside phrases ("against" in "crimes against
	// humanity") are turned away everywhere else without touching the
	// table (see doc.ascii).
	pairs []uint64
	slots []slot
	mask  uint32
	// keys holds each entry's word (by entry id; "" for prefix entries).
	keys strTable
	n    int
}

// slot is a table slot: empty when entry is 0.
type slot struct {
	packed uint64 // the word packed (see pack), or 0 for a long word
	hash   uint32
	// entry is the entry+1, with its kind (see Index.einfo) in the top
	// bits: recording an occurrence needs it, and it is at hand here.
	entry uint32
}

// kindShift places an entry's kind in slot.entry and pslot.entry.
const (
	kindShift = 30
	entryMask = 1<<kindShift - 1
)

// maxPacked is the longest word that is its own key.
const maxPacked = 8

// filterBits is the size of dict.filter; a hash's top bits index it.
const (
	filterBits  = 1 << 18
	filterShift = 64 - 18
)

// pack packs a word of at most 8 bytes into a uint64, byte i at bits 8i.
// Words never contain a zero byte, so with the length implied by the
// position of the highest non-zero byte the packing is exact. With fold,
// each byte is ORed with 0x20: on ASCII letters and digits (the only bytes
// of a fast-path word) that is lowercasing, and it changes no byte of a
// normalised ASCII word, so a word packs the same as written in an item and
// as stored. Non-ASCII words only come normalised from the slow path, and
// are packed as they are.
func pack[T string | []byte](s T, fold bool) uint64 {
	var fm byte
	if fold {
		fm = 0x20
	}
	var p uint64
	for i := 0; i < len(s); i++ {
		p |= uint64(s[i]|fm) << (8 * i)
	}
	return p
}

// mix hashes a packed word: the low 32 bits place it in the table, the top
// bits in the filter.
func mix(p uint64) uint64 {
	p ^= p >> 33
	p *= 0xFF51AFD7ED558CCD
	p ^= p >> 33
	p *= 0xC4CEB9FE1A85EC53
	p ^= p >> 33
	return p
}

// mayHave reports whether a word with hash h may be in the dictionary;
// with lead, whether it may start some pattern.
func (d *dict) mayHave(h uint64, lead bool) bool {
	f := d.filter
	if lead {
		f = d.lead
	}
	k := h >> filterShift
	return f[k/64]&(1<<(k%64)) != 0
}

// wordHash is the hash of a normalised word, as the tokenizer's sink
// works it out (mix of the packed word, or hashLong).
func wordHash(w string) uint64 {
	if len(w) <= maxPacked {
		return mix(pack(w, false))
	}
	return hashLong(w, false)
}

// pairBit returns the bit of dict.pairs for word hash h following word
// hash prev.
func pairBit(prev, h uint64) uint64 {
	return (prev*0x9E3779B97F4A7C15 + h) >> filterShift
}

// mayFollow reports whether the word with hash h may follow the word with
// hash prev in some pattern.
func (d *dict) mayFollow(prev, h uint64) bool {
	k := pairBit(prev, h)
	return d.pairs[k/64]&(1<<(k%64)) != 0
}

// addPair records that word b follows word a in some pattern.
func (d *dict) addPair(a, b string) {
	k := pairBit(wordHash(a), wordHash(b))
	d.pairs[k/64] |= 1 << (k % 64)
}

// hashLong hashes a word longer than maxPacked bytes, eight bytes at a
// time, folding as pack does.
func hashLong[T string | []byte](s T, fold bool) uint64 {
	var fm uint64
	if fold {
		fm = 0x2020202020202020
	}
	h := uint64(len(s)) * 0x9E3779B97F4A7C15
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		h = (h ^ (w | fm)) * 0xBF58476D1CE4E5B9
		h ^= h >> 31
	}
	if i < len(s) {
		h = (h ^ pack(s[i:], fold)) * 0xBF58476D1CE4E5B9
	}
	return mix(h)
}

// lookupPacked returns the entry of the word packed as p (a word of 1 to
// 8 bytes), with its kind in the top bits (see slot). With lead, it may
// report false for a word that starts no pattern.
func (d *dict) lookupPacked(p uint64, lead bool) (uint32, bool) {
	if d.n == 0 {
		return 0, false
	}
	h := mix(p)
	if !d.mayHave(h, lead) {
		return 0, false
	}
	return d.probePacked(p, h)
}

// probePacked looks up the word packed as p, whose hash is h, in the
// table.
func (d *dict) probePacked(p, h uint64) (uint32, bool) {
	for i := uint32(h) & d.mask; ; i = (i + 1) & d.mask {
		s := &d.slots[i]
		if s.entry == 0 {
			return 0, false
		}
		if s.packed == p {
			return s.entry - 1, true
		}
	}
}

// lookup returns the entry of word s, with its kind in the top bits (see
// slot). With fold, s is a fast-path ASCII word (letters and digits only)
// as written, compared case-insensitively. With lead, it may report false
// for a word that starts no pattern.
func lookup[T string | []byte](d *dict, s T, fold, lead bool) (uint32, bool) {
	if len(s) <= maxPacked {
		return d.lookupPacked(pack(s, fold), lead)
	}
	if d.n == 0 {
		return 0, false
	}
	h := hashLong(s, fold)
	if !d.mayHave(h, lead) {
		return 0, false
	}
	return probeLong(d, s, fold, h)
}

// probeLong looks up word s, longer than maxPacked bytes and with hash h,
// in the table (fold as in lookup).
func probeLong[T string | []byte](d *dict, s T, fold bool, h uint64) (uint32, bool) {
	for i := uint32(h) & d.mask; ; i = (i + 1) & d.mask {
		sl := &d.slots[i]
		if sl.entry == 0 {
			return 0, false
		}
		if sl.packed == 0 && sl.hash == uint32(h) && equalFold(s, d.keys.get(int((sl.entry-1)&entryMask)), fold) {
			return sl.entry - 1, true
		}
	}
}

// equalFold reports whether s is key; with fold, s is ORed with 0x20 byte
// by byte first (see pack).
func equalFold[T string | []byte](s T, key string, fold bool) bool {
	if len(s) != len(key) {
		return false
	}
	if !fold {
		return string(s) == key
	}
	for i := 0; i < len(s); i++ {
		if s[i]|0x20 != key[i] {
			return false
		}
	}
	return true
}

// build fills the table from words (normalised token → entry); keys must
// already hold every entry's word, and kind every entry's kind.
func (d *dict) build(words map[string]int32, kind []uint8) {
	size := uint32(16)
	for int(size) < 2*len(words) {
		size *= 2
	}
	d.slots = make([]slot, size)
	d.mask = size - 1
	d.n = len(words)
	d.filter = make([]uint64, filterBits/64)
	d.lead = make([]uint64, filterBits/64)
	d.pairs = make([]uint64, filterBits/64)
	for w, e := range words {
		s := slot{entry: uint32(e+1) | uint32(kind[e])<<kindShift}
		var h uint64
		if len(w) <= maxPacked {
			s.packed = pack(w, false)
			h = mix(s.packed)
		} else {
			h = hashLong(w, false)
		}
		s.hash = uint32(h)
		k := h >> filterShift
		d.filter[k/64] |= 1 << (k % 64)
		if kind[e] != 0 {
			d.lead[k/64] |= 1 << (k % 64)
		}
		i := s.hash & d.mask
		for d.slots[i].entry != 0 {
			i = (i + 1) & d.mask
		}
		d.slots[i] = s
	}
}

// strTable is a list of strings kept in one string: to the garbage
// collector one object without pointers, where a []string of the words of
// thousands of topics is thousands of objects to visit on every cycle.
type strTable struct {
	blob string
	off  []int32 // string i is blob[off[i]:off[i+1]]
}

// newStrTable returns a table of the given strings, in order.
func newStrTable(strs []string) strTable {
	var b strings.Builder
	t := strTable{off: make([]int32, len(strs)+1)}
	for i, s := range strs {
		b.WriteString(s)
		t.off[i+1] = int32(b.Len())
	}
	t.blob = b.String()
	return t
}

func (t *strTable) get(i int) string { return t.blob[t.off[i]:t.off[i+1]] }
