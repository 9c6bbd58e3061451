package match

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// token is one searchable unit of a text: a whole word, or a single CJK
// character (CJK is matched as substrings, so every character is its own
// token and a multi-character query becomes a phrase of single characters).
type token struct {
	// text is the normalised form that queries compare against.
	text string
	// start and end delimit the token in the original, un-normalised text,
	// so hits and snippets can quote the item as it was published.
	start, end int
	// pos is the token's ordinal; values of a multi-valued field (authors,
	// categories) are separated by a gap so a phrase never spans two values.
	pos int
}

// normalizer turns text into tokens: Unicode NFKC, full case folding,
// diacritics removed, split on letter/number boundaries. Query terms and item
// fields go through the same code, which is what makes them comparable.
//
// A normalizer holds scratch buffers and a stateful cases.Caser, so it is not
// safe for concurrent use: each Match call or Parse owns its own.
type normalizer struct {
	fold cases.Caser
	// scratch buffers reused across segments to keep tokenising allocation-free
	// apart from the token texts themselves.
	folded, decomposed, stripped, composed []byte
	tk                                     tokenizer
}

func newNormalizer() *normalizer {
	return &normalizer{fold: cases.Fold()}
}

// tokens tokenises the given values as one field. Offsets refer to the values
// joined by a single separator byte, which is how fieldText stores them.
func (n *normalizer) tokens(values ...string) []token {
	size := 0
	for _, v := range values {
		size += len(v)
	}
	n.tk.reset(size)
	base := 0
	for i, v := range values {
		if i > 0 {
			n.tk.gap()
			base++ // the separator byte between joined values
		}
		n.feed(v, base)
		base += len(v)
	}
	return n.tk.finish()
}

// termTokens tokenises a query term and returns only the token texts.
func (n *normalizer) termTokens(s string) []string {
	toks := n.tokens(s)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.text
	}
	return out
}

// feed normalises text and hands every resulting rune, with the span of
// original bytes it came from, to the tokenizer.
//
// ASCII needs no NFKC or diacritic work, only lowercasing, so runs of it
// take a fast path; that is most of English-language news even when an em
// dash or a curly quote elsewhere makes the field non-ASCII. An ASCII byte
// followed by a non-ASCII one goes to the slow path with it, since a
// combining mark modifies the letter before it.
func (n *normalizer) feed(text string, base int) {
	asciiAt := func(i int) bool {
		return text[i] < utf8.RuneSelf && (i+1 == len(text) || text[i+1] < utf8.RuneSelf)
	}
	for i := 0; i < len(text); {
		if asciiAt(i) {
			n.tk.add(rune(lowerASCII(text[i])), base+i, base+i+1)
			i++
			continue
		}
		j := i + 1
		for j < len(text) && !asciiAt(j) {
			j++
		}
		n.feedUnicode(text[i:j], base+i)
		i = j
	}
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// feedUnicode is feed's slow path: NFKC segment by segment (each segment
// maps to a span of the original), then case folding and diacritic removal.
func (n *normalizer) feedUnicode(text string, base int) {
	var it norm.Iter
	it.InitString(norm.NFKC, text)
	stripBase := false // whether marks after the last base rune are diacritics to drop
	for !it.Done() {
		start := it.Pos()
		seg := it.Next()
		end := it.Pos()
		if end <= start {
			// A compatibility decomposition spanning several segments
			// (a ligature, a fraction) reports its pieces before advancing;
			// attribute each piece to the source rune it came from.
			_, w := utf8.DecodeRuneInString(text[start:])
			end = start + w
		}
		if len(seg) == 1 && seg[0] < utf8.RuneSelf {
			stripBase = true // ASCII letters are Latin
			n.tk.add(rune(lowerASCII(seg[0])), base+start, base+end)
			continue
		}
		if r, _ := utf8.DecodeRune(seg); len(seg) == utf8.RuneLen(r) && isCJK(r) {
			// Caseless and without diacritics to strip: skip the slow path
			// for the common case of CJK text.
			stripBase = false
			n.tk.add(r, base+start, base+end)
			continue
		}
		n.folded = transformAppend(n.fold, n.folded[:0], seg)
		n.decomposed = norm.NFD.Append(n.decomposed[:0], n.folded...)
		n.stripped = n.stripped[:0]
		for i := 0; i < len(n.decomposed); {
			r, w := utf8.DecodeRune(n.decomposed[i:])
			i += w
			switch {
			case unicode.Is(unicode.Mn, r):
				if stripBase {
					continue
				}
			case r == 0x0640: // Arabic tatweel: typographic stretching, not a letter
				continue
			default:
				stripBase = stripsDiacritics(r)
			}
			n.stripped = utf8.AppendRune(n.stripped, r)
		}
		n.composed = norm.NFC.Append(n.composed[:0], n.stripped...)
		for i := 0; i < len(n.composed); {
			r, w := utf8.DecodeRune(n.composed[i:])
			i += w
			n.tk.add(r, base+start, base+end)
		}
	}
}

// stripsDiacritics reports whether combining marks after r are diacritics to
// remove ("Türkiye" == "turkiye", Arabic harakat, Hebrew niqqud). Other
// scripts keep their marks: in Indic scripts and kana they change the letter,
// and in Cyrillic й is not и.
func stripsDiacritics(r rune) bool {
	if r < utf8.RuneSelf {
		return true
	}
	return unicode.In(r, unicode.Latin, unicode.Greek, unicode.Arabic, unicode.Hebrew)
}

// isCJK reports whether r belongs to a script written without spaces
// between words, which is therefore matched by substring, not whole word.
func isCJK(r rune) bool {
	if r < 0x1100 {
		return false
	}
	switch r {
	case 0x3005, 0x3006, 0x3007, 0x30FC: // 々 〆 〇 ー: Common-script marks used inside CJK words
		return true
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// transformAppend appends t's transformation of src to dst, growing dst as
// needed, without the per-call allocation of transform.Bytes.
func transformAppend(t transform.Transformer, dst, src []byte) []byte {
	t.Reset()
	need := 2*len(src) + utf8.UTFMax
	for {
		if cap(dst)-len(dst) < need {
			grown := make([]byte, len(dst), len(dst)+need)
			copy(grown, dst)
			dst = grown
		}
		nDst, nSrc, err := t.Transform(dst[len(dst):cap(dst)], src, true)
		dst = dst[:len(dst)+nDst]
		src = src[nSrc:]
		if err != transform.ErrShortDst {
			// nil, or an error a caser never returns with atEOF set; either
			// way what was transformed is kept and the rest dropped.
			return dst
		}
		// Folding can expand text more than twice (ΐ is three runes
		// folded); ask for more room each round, so this always ends.
		need = 2*need + 2*len(src)
	}
}

// tokenizer groups normalised runes into tokens. Words are maximal runs of
// letters, numbers and combining marks; everything else (spaces, punctuation,
// apostrophes, symbols) separates words and is not searchable. CJK characters
// are one token each.
type tokenizer struct {
	buf  []byte
	toks []token
	// spans of token texts in buf; converted to strings in finish.
	bufStart, bufEnd []int
	open             bool // a token is being built (the last in toks)
	openCJK          bool // ... and it is a CJK character
	pos              int
}

// reset prepares for a text of about size bytes.
func (t *tokenizer) reset(size int) {
	t.buf = t.buf[:0]
	t.toks = make([]token, 0, size/6+1) // English averages about six bytes a word
	t.bufStart = t.bufStart[:0]
	t.bufEnd = t.bufEnd[:0]
	t.open, t.openCJK = false, false
	t.pos = 0
}

// gap separates two values of one field so phrases cannot span them.
func (t *tokenizer) gap() {
	t.open = false
	t.pos++
}

func (t *tokenizer) add(r rune, start, end int) {
	switch {
	case r < utf8.RuneSelf:
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			t.extend(r, start, end, false)
		} else {
			t.open = false
		}
	case isCJK(r):
		t.open = false
		t.extend(r, start, end, true)
	case unicode.IsMark(r):
		// A mark belongs to the letter before it; one with nothing to
		// attach to is ignored rather than starting a word.
		if t.open {
			t.appendRune(r, end)
		}
	case unicode.IsLetter(r) || unicode.IsNumber(r):
		t.extend(r, start, end, false)
	default:
		t.open = false
	}
}

// extend adds r to the open token, or starts a new one when none is open or
// the open one cannot take it (CJK characters never join a neighbour).
func (t *tokenizer) extend(r rune, start, end int, cjk bool) {
	if t.open && !t.openCJK && !cjk {
		t.appendRune(r, end)
		return
	}
	t.toks = append(t.toks, token{start: start, end: end, pos: t.pos})
	t.bufStart = append(t.bufStart, len(t.buf))
	t.bufEnd = append(t.bufEnd, len(t.buf))
	t.pos++
	t.open, t.openCJK = true, cjk
	t.appendRune(r, end)
}

func (t *tokenizer) appendRune(r rune, end int) {
	last := len(t.toks) - 1
	t.buf = utf8.AppendRune(t.buf, r)
	t.bufEnd[last] = len(t.buf)
	if end > t.toks[last].end {
		t.toks[last].end = end
	}
}

// finish returns the tokens with their texts set, sharing one string.
func (t *tokenizer) finish() []token {
	t.open = false
	s := string(t.buf)
	for i := range t.toks {
		t.toks[i].text = s[t.bufStart[i]:t.bufEnd[i]]
	}
	toks := t.toks
	t.toks = nil
	return toks
}
