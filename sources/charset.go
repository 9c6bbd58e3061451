package sources

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// xmlDecl matches an XML declaration at the start of a document, and
// xmlDeclEncoding its encoding pseudo-attribute. They are compiled once and
// never modified.
var (
	xmlDecl         = regexp.MustCompile(`^<\?xml\s[^>]*?\?>`)
	xmlDeclEncoding = regexp.MustCompile(`(encoding\s*=\s*)(?:"[^"]*"|'[^']*')`)
)

// toUTF8 returns body as UTF-8 without a byte-order mark, with any XML
// declaration's encoding rewritten to utf-8, so that gofeed (which honours
// only the XML declaration) neither misses the HTTP charset nor decodes a
// second time.
//
// The encoding is decided in this order:
//  1. a byte-order mark, or the UTF-16/32 shape of "<?" (XML 1.0 appendix F);
//  2. the charset parameter of the HTTP Content-Type (RFC 7303: it overrides
//     the document's own declaration);
//  3. the XML declaration's encoding;
//  4. UTF-8, or windows-1252 for bytes that are not UTF-8 (below).
//
// Three corrections cover the common misconfigurations: a body declared in a
// legacy single-byte or CJK encoding that is nevertheless valid, non-ASCII
// UTF-8 is taken as UTF-8 (legacy text is almost never accidentally valid
// UTF-8, and converting it would produce mojibake); and a body declared
// UTF-8 by HTTP that is not valid UTF-8 falls back to the XML declaration's
// encoding when it names another one; and a body that declares nothing
// anywhere and is not valid UTF-8 is read as windows-1252 where it is not
// UTF-8 (see latin1Fallback): undeclared legacy feeds are almost always
// Latin-1 or windows-1252, and a stray byte there should read as "é", not
// as U+FFFD. Whatever is left invalid in a declared body is repaired with
// U+FFFD. Characters XML forbids are removed last (stripIllegalXML).
func toUTF8(body []byte, contentType string) []byte {
	if enc, rest, ok := sniffUnicode(body); ok {
		if enc != nil {
			rest = decodeWith(enc, rest)
		}
		return finishUTF8(rest)
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); bytes.HasPrefix(trimmed, []byte("<?xml")) {
		body = trimmed
	}

	httpEnc, httpIsUTF8 := lookupCharset(charsetParam(contentType))
	declEnc, declIsUTF8 := lookupCharset(declaredEncoding(body))

	var chosen encoding.Encoding
	chosenUTF8 := true
	switch {
	case httpEnc != nil:
		chosen, chosenUTF8 = httpEnc, httpIsUTF8
		if chosenUTF8 && declEnc != nil && !declIsUTF8 && !utf8.Valid(body) {
			chosen, chosenUTF8 = declEnc, false
		}
	case declEnc != nil:
		chosen, chosenUTF8 = declEnc, declIsUTF8
	default:
		if !utf8.Valid(body) {
			body = latin1Fallback(body)
		}
	}
	if !chosenUTF8 && utf8.Valid(body) && hasNonASCII(body) {
		chosenUTF8 = true
	}
	if !chosenUTF8 {
		body = decodeWith(chosen, body)
	}
	return finishUTF8(body)
}

// finishUTF8 rewrites the XML declaration to say utf-8, repairs any
// invalid UTF-8 left in body and drops the characters XML forbids.
func finishUTF8(body []byte) []byte {
	body = rewriteDeclEncoding(body)
	if !utf8.Valid(body) {
		body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	return stripIllegalXML(body)
}

// latin1Fallback decodes a body that declares no encoding and is not valid
// UTF-8: every byte sequence that is valid UTF-8 is kept, every other byte
// is read as windows-1252 (the WHATWG reading of "ISO-8859-1"). Decoding
// byte by byte rather than the whole body keeps a UTF-8 feed with a few
// pasted windows-1252 quotes readable too; a Latin-1 body is almost never
// accidentally valid UTF-8, so its letters all take the windows-1252 path.
func latin1Fallback(body []byte) []byte {
	out := make([]byte, 0, len(body)+len(body)/8)
	for len(body) > 0 {
		r, size := utf8.DecodeRune(body)
		if r == utf8.RuneError && size <= 1 {
			r = charmap.Windows1252.DecodeByte(body[0])
			size = 1
		}
		out = utf8.AppendRune(out, r)
		body = body[size:]
	}
	return out
}

// stripIllegalXML removes the characters XML 1.0 forbids anywhere in a
// document (C0 controls other than tab, newline and carriage return, and
// U+FFFE/U+FFFF), and character references to them ("&#26;", "&#x1A;"),
// which real feeds carry from pasted text and which make an XML decoder
// give up on the whole document. body must be valid UTF-8. JSON bodies
// lose nothing of value: raw control characters are not legal in JSON
// strings either.
func stripIllegalXML(body []byte) []byte {
	if !hasIllegalXML(body) && !bytes.Contains(body, []byte("&#")) {
		return body
	}
	out := make([]byte, 0, len(body))
	for len(body) > 0 {
		if n, r, ok := charRef(body); ok {
			if isXMLChar(r) {
				out = append(out, body[:n]...)
			}
			body = body[n:]
			continue
		}
		r, size := utf8.DecodeRune(body)
		if isXMLChar(r) {
			out = append(out, body[:size]...)
		}
		body = body[size:]
	}
	return out
}

// charRef reads a numeric character reference ("&#26;", "&#x1a;") at the
// start of b: its length and the code point it names. ok is false when b
// does not start with a complete one.
func charRef(b []byte) (n int, r rune, ok bool) {
	if len(b) < 4 || b[0] != '&' || b[1] != '#' {
		return 0, 0, false
	}
	i, base := 2, int64(10)
	if b[2] == 'x' || b[2] == 'X' {
		i, base = 3, 16
	}
	start := i
	var v int64
	for ; i < len(b); i++ {
		c := b[i]
		if c == ';' && i > start {
			if v > utf8.MaxRune {
				return i + 1, -1, true // beyond Unicode: not a character
			}
			return i + 1, rune(v), true
		}
		if i-start >= 9 { // no character needs more digits
			return 0, 0, false
		}
		var d int64
		switch {
		case c >= '0' && c <= '9':
			d = int64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = int64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = int64(c-'A') + 10
		default:
			return 0, 0, false
		}
		v = v*base + d
	}
	return 0, 0, false
}

// hasIllegalXML is the fast check for stripIllegalXML: a C0 control byte,
// or the UTF-8 encoding of U+FFFE or U+FFFF (EF BF BE, EF BF BF).
func hasIllegalXML(b []byte) bool {
	for i, c := range b {
		switch {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			return true
		case c == 0xEF && i+2 < len(b) && b[i+1] == 0xBF && b[i+2] >= 0xBE:
			return true
		}
	}
	return false
}

// isXMLChar reports whether r may appear in an XML 1.0 document (the Char
// production). U+FFFD is allowed, so repaired text survives.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// sniffUnicode recognises a byte-order mark, or a BOM-less UTF-16/32 XML
// document by the encoded shape of "<?" / "<". When ok, the encoding is
// decided: enc is the one to decode rest with, nil for UTF-8, and rest is the
// body without its BOM.
// UTF-16/32 labels in HTTP or in the XML declaration are deliberately not
// trusted on their own: a body that does not look like UTF-16/32 is not.
func sniffUnicode(b []byte) (enc encoding.Encoding, rest []byte, ok bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return nil, b[3:], true
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), b[4:], true
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), b[4:], true
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), b[2:], true
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), b[2:], true
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0x00, '<'}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), b, true
	case bytes.HasPrefix(b, []byte{'<', 0x00, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), b, true
	case bytes.HasPrefix(b, []byte{0x00, '<', 0x00, '?'}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), b, true
	case bytes.HasPrefix(b, []byte{'<', 0x00, '?', 0x00}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), b, true
	}
	return nil, b, false
}

// lookupCharset resolves a charset label (WHATWG names and aliases, so
// "iso-8859-1" and "us-ascii" both mean windows-1252). It returns nil for
// an empty or unknown label, and for UTF-16/32, which only sniffUnicode may
// choose. isUTF8 reports a UTF-8 label.
func lookupCharset(label string) (enc encoding.Encoding, isUTF8 bool) {
	label = strings.TrimSpace(label)
	if label == "" {
		return nil, false
	}
	e, name := charset.Lookup(label)
	if e == nil {
		return nil, false
	}
	switch {
	case name == "utf-8":
		return e, true
	case strings.HasPrefix(name, "utf-16"), strings.HasPrefix(name, "utf-32"), name == "replacement":
		return nil, false
	}
	return e, false
}

// charsetParam extracts the charset parameter from a Content-Type value.
// It is deliberately more lenient than mime.ParseMediaType: real servers
// send "text/xml;charset = us-ascii", quoted values and stray parameters.
func charsetParam(contentType string) string {
	parts := strings.Split(contentType, ";")
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "charset") {
			continue
		}
		return strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return ""
}

// declaredEncoding returns the encoding named by the XML declaration at
// the start of body, or "".
func declaredEncoding(body []byte) string {
	decl := xmlDecl.Find(body)
	if decl == nil {
		return ""
	}
	m := xmlDeclEncoding.FindSubmatch(decl)
	if m == nil {
		return ""
	}
	v := m[0][len(m[1]):]
	return string(v[1 : len(v)-1])
}

// rewriteDeclEncoding makes the XML declaration (if any) declare utf-8, so
// the XML decoder treats the already-converted body as what it now is.
// Leading whitespace before the declaration, which XML forbids but servers
// emit, is dropped so the declaration is recognised.
func rewriteDeclEncoding(body []byte) []byte {
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); bytes.HasPrefix(trimmed, []byte("<?xml")) {
		body = trimmed
	}
	loc := xmlDecl.FindIndex(body)
	if loc == nil {
		return body
	}
	decl := body[:loc[1]]
	m := xmlDeclEncoding.FindSubmatchIndex(decl)
	if m == nil {
		return body
	}
	val := decl[m[3]:m[1]] // the quoted value
	if strings.EqualFold(string(val[1:len(val)-1]), "utf-8") {
		return body
	}
	out := make([]byte, 0, len(body))
	out = append(out, decl[:m[3]]...)
	out = append(out, `"utf-8"`...)
	out = append(out, body[m[1]:]...)
	return out
}

// decodeWith converts b from enc to UTF-8. Decoders in x/text substitute
// U+FFFD for bytes they cannot map instead of failing; should one fail
// anyway, the bytes are passed on unconverted and repaired later.
func decodeWith(enc encoding.Encoding, b []byte) []byte {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return b
	}
	return out
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// DecodePage converts a web page or text document to UTF-8, honouring a
// byte-order mark, the HTTP charset and an HTML <meta charset> (in the
// order browsers use), with invalid bytes repaired.
func DecodePage(body []byte, contentType string) []byte {
	if enc, rest, ok := sniffUnicode(body); ok {
		if enc != nil {
			rest = decodeWith(enc, rest)
		}
		return bytes.ToValidUTF8(rest, []byte("\uFFFD"))
	}
	enc, name, _ := charset.DetermineEncoding(body, contentType)
	if name != "utf-8" && enc != nil {
		body = decodeWith(enc, body)
	}
	return bytes.ToValidUTF8(body, []byte("\uFFFD"))
}
