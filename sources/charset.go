package sources

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
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
//  4. UTF-8.
//
// Two corrections cover the common misconfigurations: a body declared in a
// legacy single-byte or CJK encoding that is nevertheless valid, non-ASCII
// UTF-8 is taken as UTF-8 (legacy text is almost never accidentally valid
// UTF-8, and converting it would produce mojibake); and a body declared
// UTF-8 by HTTP that is not valid UTF-8 falls back to the XML declaration's
// encoding when it names another one. Whatever is left invalid is repaired
// with U+FFFD.
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
	}
	if !chosenUTF8 && utf8.Valid(body) && hasNonASCII(body) {
		chosenUTF8 = true
	}
	if !chosenUTF8 {
		body = decodeWith(chosen, body)
	}
	return finishUTF8(body)
}

// finishUTF8 rewrites the XML declaration to say utf-8 and repairs any
// invalid UTF-8 left in body.
func finishUTF8(body []byte) []byte {
	body = rewriteDeclEncoding(body)
	if !utf8.Valid(body) {
		body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	return body
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
