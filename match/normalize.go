package match

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// sink receives the tokens of a text, in order, with their byte span in
// the original text (so hits and snippets quote the item as published).
type sink interface {
	// ascii receives a token of ASCII letters and digits as it appears in
	// the text: its normal form is the text lowercased. packed is that
	// normal form packed (see pack) when it has at most maxPacked bytes,
	// else 0.
	ascii(text string, packed uint64, start, end int)
	// token receives a token from the Unicode path in normal form. text
	// lives in the tokenizer's scratch buffer: it is only valid during the
	// call.
	token(text []byte, start, end int)
}

// tokenizer turns text into tokens: Unicode NFKC, full case folding,
// diacritics removed, split on letter/number boundaries. Query terms and item
// fields go through this same code, which is what makes them comparable.
//
// Words are maximal runs of letters, numbers and combining marks; everything
// else (spaces, punctuation, apostrophes, symbols) separates words and is not
// searchable. CJK characters are one token each, because those scripts do
// not put spaces between words and are matched as substrings.
//
// A tokenizer holds scratch buffers and a stateful cases.Caser, so it is not
// safe for concurrent use: each Match call or Parse owns its own.
type tokenizer struct {
	fold cases.Caser
	// scratch buffers reused across segments of the slow path.
	folded, decomposed, stripped, composed []byte
	// buf holds the normalised text of the token being built.
	buf []byte
	// slow-path state: whether a token is open (and a CJK character), and
	// the original span it covers so far.
	open, openCJK    bool
	tokStart, tokEnd int
	out              sink
}

func newTokenizer() *tokenizer {
	return &tokenizer{fold: cases.Fold()}
}

// Byte classes of the ASCII fast path: bit 0 marks a word byte, bit 1 an
// uppercase letter.
const (
	clSep   = 0 // ASCII that separates words
	clLower = 1 // a-z, 0-9: part of a word as it is
	clUpper = 3 // A-Z: part of a word, lowercased
	clHigh  = 4 // a byte of a multi-byte rune (or an invalid byte)
)

// asciiClass classifies bytes for the fast path. It is a read-only table.
var asciiClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = clHigh
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			t[c] = clLower
		case 'A' <= c && c <= 'Z':
			t[c] = clUpper
		}
	}
	return t
}()

// isFastSep reports whether r, outside ASCII, always separates words: after
// NFKC and folding it is punctuation or space whatever surrounds it, so the
// slow path would do nothing with it but end the current word. These are
// the non-ASCII characters of ordinary English copy (curly quotes, dashes,
// ellipses, no-break spaces), which keeps it on the fast path.
// TestFastSeparators checks every one against the slow path.
func isFastSep(r rune) bool {
	switch {
	case r >= 0x2000 && r <= 0x206F: // General Punctuation
		return true
	case r == 0x00A0, r == 0x00AB, r == 0x00BB, r == 0x3000:
		return true
	}
	return false
}

// fastSepAt reports whether text[i:] starts with a fast separator.
func fastSepAt(text string, i int) bool {
	r, _ := utf8.DecodeRuneInString(text[i:])
	return isFastSep(r)
}

// scan tokenises text, handing every token to out. Offsets are text's plus
// base (multi-valued fields are joined and scanned value by value).
//
// ASCII words need no NFKC or diacritic work, only lowercasing, so they take
// a fast path that neither copies nor converts them: that is most of
// English-language news. A run of text that contains anything else (up to
// the next ASCII separator or fast separator) goes through the full Unicode
// path as a whole, since a combining mark modifies the letter before it and
// NFKC may join characters.
func (t *tokenizer) scan(text string, base int, out sink) {
	t.out = out
	i := 0
	for i < len(text) {
		c := asciiClass[text[i]]
		if c == clSep {
			i++
			continue
		}
		if c&1 != 0 {
			// Pack the word's first bytes, lowercased, as the dictionary's
			// key while finding its end (see pack).
			var packed uint64
			j, shift := i, 0
			for j < len(text) && shift < 8*maxPacked {
				b := text[j]
				if asciiClass[b]&1 == 0 {
					break
				}
				packed |= uint64(b|0x20) << shift
				j, shift = j+1, shift+8
			}
			for j < len(text) && asciiClass[text[j]]&1 != 0 {
				j, packed = j+1, 0 // too long to be packed
			}
			if j == len(text) || text[j] < utf8.RuneSelf || fastSepAt(text, j) {
				out.ascii(text[i:j], packed, base+i, base+j)
				i = j
				continue
			}
			// A non-ASCII character follows: the whole run takes the slow path.
		} else if r, w := utf8.DecodeRuneInString(text[i:]); isFastSep(r) {
			i += w
			continue
		}
		j := i
		for j < len(text) {
			c := text[j]
			if c < utf8.RuneSelf {
				if asciiClass[c] == clSep {
					break
				}
				j++
				continue
			}
			r, w := utf8.DecodeRuneInString(text[j:])
			if isFastSep(r) {
				break
			}
			j += w
		}
		t.feedUnicode(text[i:j], base+i)
		t.close()
		i = j
	}
	t.out = nil
}

// feedUnicode is scan's slow path: NFKC segment by segment (each segment
// maps to a span of the original), then case folding and diacritic removal.
func (t *tokenizer) feedUnicode(text string, base int) {
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
			t.add(rune(lowerASCII(seg[0])), base+start, base+end)
			continue
		}
		if r, _ := utf8.DecodeRune(seg); len(seg) == utf8.RuneLen(r) && isCJK(r) {
			// Caseless and without diacritics to strip: skip the slow path
			// for the common case of CJK text.
			stripBase = false
			t.add(r, base+start, base+end)
			continue
		}
		t.folded = transformAppend(t.fold, t.folded[:0], seg)
		t.decomposed = norm.NFD.Append(t.decomposed[:0], t.folded...)
		t.stripped = t.stripped[:0]
		for i := 0; i < len(t.decomposed); {
			r, w := utf8.DecodeRune(t.decomposed[i:])
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
			t.stripped = utf8.AppendRune(t.stripped, r)
		}
		t.composed = norm.NFC.Append(t.composed[:0], t.stripped...)
		for i := 0; i < len(t.composed); {
			r, w := utf8.DecodeRune(t.composed[i:])
			i += w
			t.add(r, base+start, base+end)
		}
	}
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
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

// add feeds one normalised rune, with the original span it came from, to
// the slow path's word builder.
func (t *tokenizer) add(r rune, start, end int) {
	switch {
	case r < utf8.RuneSelf:
		if asciiClass[r] == clLower { // folding has lowercased A-Z already
			t.extend(r, start, end, false)
		} else {
			t.close()
		}
	case isCJK(r):
		t.close()
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
		t.close()
	}
}

// extend adds r to the open token, or starts a new one when none is open or
// the open one cannot take it (CJK characters never join a neighbour).
func (t *tokenizer) extend(r rune, start, end int, cjk bool) {
	if t.open && !t.openCJK && !cjk {
		t.appendRune(r, end)
		return
	}
	t.close()
	t.buf = t.buf[:0]
	t.open, t.openCJK = true, cjk
	t.tokStart, t.tokEnd = start, end
	t.appendRune(r, end)
}

func (t *tokenizer) appendRune(r rune, end int) {
	t.buf = utf8.AppendRune(t.buf, r)
	if end > t.tokEnd {
		t.tokEnd = end
	}
}

// close hands the open token, if any, to the sink.
func (t *tokenizer) close() {
	if t.open {
		t.open = false
		t.out.token(t.buf, t.tokStart, t.tokEnd)
	}
}

// token is one token of a query term or test text, kept.
type token struct {
	text       string
	start, end int
}

// collector is a sink that keeps every token.
type collector struct{ toks []token }

func (c *collector) token(text []byte, start, end int) {
	c.toks = append(c.toks, token{string(text), start, end})
}

func (c *collector) ascii(text string, _ uint64, start, end int) {
	c.toks = append(c.toks, token{strings.ToLower(text), start, end})
}

// tokens tokenises s and returns its tokens.
func (t *tokenizer) tokens(s string) []token {
	var c collector
	t.scan(s, 0, &c)
	return c.toks
}

// termTokens tokenises a query term and returns only the token texts.
func (t *tokenizer) termTokens(s string) []string {
	toks := t.tokens(s)
	out := make([]string, len(toks))
	for i, tk := range toks {
		out[i] = tk.text
	}
	return out
}
