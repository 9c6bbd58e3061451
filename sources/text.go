package sources

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding/charmap"
)

// VisibleText reduces an HTML fragment (or plain text) to the text a reader
// would see: tags are removed, the contents of script, style and other
// non-rendered elements are dropped, character references (including HTML
// named entities such as &eacute;) are decoded, control characters are
// removed (C1 ones that stand for Windows-1252 punctuation become it) and
// runs of whitespace collapse to one space. Block-level tags
// become word breaks so "<p>a</p><p>b</p>" reads "a b", not "ab".
//
// Every text field of a news.Item goes through it, so matching and rendering
// never see third-party markup. Invalid UTF-8 is repaired, never passed on.
func VisibleText(s string) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) { // the fast check first: repairing copies
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !strings.ContainsAny(s, "<&") {
		return collapseSpace(s)
	}
	if !strings.Contains(s, "<") {
		// Entities but no markup ("AT&amp;T", "&eacute;"): what the
		// tokenizer would return, without its per-call buffer.
		return collapseSpace(html.UnescapeString(s))
	}
	z := html.NewTokenizer(strings.NewReader(s))
	// The text goes straight into one collapsing buffer instead of being
	// gathered and then collapsed: every item's title, summary and content
	// passes through here, and a second pass over a copy was a tenth of a
	// cold poll's CPU.
	c := spaceCollapser{buf: make([]byte, 0, len(s))}
	// dropText is set after an element whose raw-text content is not
	// rendered (script, style, ...). The tokenizer hands that content back as
	// a single text token, which is skipped.
	dropText := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			// io.EOF, or the tokenizer gave up on malformed input: either way
			// what was read so far is the visible text.
			return c.String()
		case html.TextToken:
			if !dropText {
				c.Write(z.Text())
			}
			dropText = false
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			dropText = isHiddenRaw(string(name))
			if !isInline(string(name)) {
				c.Break()
			}
		case html.EndTagToken:
			dropText = false
			name, _ := z.TagName()
			if !isInline(string(name)) {
				c.Break()
			}
		default: // comments, doctypes
			dropText = false
		}
	}
}

// isHiddenRaw reports whether the HTML tokenizer reads the element's content
// as raw text that is never rendered as text.
func isHiddenRaw(name string) bool {
	switch name {
	case "script", "style", "noscript", "iframe", "noembed", "noframes":
		return true
	}
	return false
}

// isInline reports whether a tag leaves words joined: "<b>Hel</b>lo" is
// "Hello". Every other tag (block elements and anything unknown) is a word
// break, which errs towards an extra space rather than words glued together.
func isInline(name string) bool {
	switch name {
	case "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del",
		"dfn", "em", "font", "i", "ins", "kbd", "mark", "nobr", "q", "rp", "rt",
		"ruby", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
		"time", "tt", "u", "var", "wbr":
		return true
	}
	return false
}

// collapseSpace turns control characters into spaces, collapses whitespace
// runs (Unicode spaces, including no-break space) to one ASCII space and
// trims the ends. C1 control characters that stand for Windows-1252
// punctuation (U+0092 for a right quote: a cp1252 document decoded as
// Latin-1) become that punctuation, as HTML does for &#146;.
func collapseSpace(s string) string {
	if isCollapsed(s) {
		return s // the usual title or label: nothing to do, nothing to copy
	}
	c := spaceCollapser{buf: make([]byte, 0, len(s))}
	c.Write([]byte(s))
	return c.String()
}

// isCollapsed reports whether collapseSpace would return s unchanged: plain
// ASCII text without control characters, without space at either end and
// without two spaces in a row.
func isCollapsed(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	prevSpace := false
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= utf8.RuneSelf || b < ' ' || b == 0x7f {
			return false
		}
		if b == ' ' && prevSpace {
			return false
		}
		prevSpace = b == ' '
	}
	return true
}

// spaceCollapser builds the text collapseSpace describes from pieces
// written one after the other (text runs of an HTML document), in one
// buffer. A run of whitespace, control characters or Break calls becomes one
// space, and none at either end.
type spaceCollapser struct {
	buf          []byte
	pendingSpace bool
}

// Break marks a word break (a block-level tag).
func (c *spaceCollapser) Break() { c.pendingSpace = len(c.buf) > 0 }

// Write adds p, which must be valid UTF-8 (VisibleText repairs its input
// first; the HTML tokenizer keeps it valid).
func (c *spaceCollapser) Write(p []byte) {
	for i := 0; i < len(p); {
		b := p[i]
		if b > ' ' && b < 0x7f {
			// A run of printable ASCII, most of any text, is copied whole.
			j := i + 1
			for j < len(p) && p[j] > ' ' && p[j] < 0x7f {
				j++
			}
			c.flushSpace()
			c.buf = append(c.buf, p[i:j]...)
			i = j
			continue
		}
		if b < utf8.RuneSelf {
			i++
			if b <= ' ' || b == 0x7f { // what unicode.IsSpace or IsControl accept in ASCII
				c.Break()
				continue
			}
			c.flushSpace()
			c.buf = append(c.buf, b)
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		i += size
		if r >= 0x80 && r <= 0x9f {
			if m := charmap.Windows1252.DecodeByte(byte(r)); m != utf8.RuneError {
				r = m
			}
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			c.Break()
			continue
		}
		c.flushSpace()
		c.buf = utf8.AppendRune(c.buf, r)
	}
}

func (c *spaceCollapser) flushSpace() {
	if c.pendingSpace {
		c.buf = append(c.buf, ' ')
		c.pendingSpace = false
	}
}

// String returns the text built so far.
func (c *spaceCollapser) String() string { return string(c.buf) }

// cleanLabel is for short plain-text fields that are not HTML (author names,
// categories, keys): it repairs UTF-8 and collapses whitespace but leaves
// angle brackets alone, so "Jane <jane@example.org>" survives.
func cleanLabel(s string) string {
	return collapseSpace(strings.ToValidUTF8(s, "\uFFFD"))
}

// truncateWords shortens s to about max runes, cutting at the last word
// boundary when there is one, and marks the cut with an ellipsis.
func truncateWords(s string, max int) string {
	n, cut := 0, len(s)
	for i := range s {
		if n == max {
			cut = i
			break
		}
		n++
	}
	if cut == len(s) {
		return s
	}
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > cut/2 {
		cut = sp
	}
	return strings.TrimRight(s[:cut], " ,;:.-") + "…"
}
