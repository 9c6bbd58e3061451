package store

import (
	"strings"
	"unicode/utf8"

	"wirewatch/news"
)

// Text from feeds and receivers is untrusted bytes. PostgreSQL refuses a
// TEXT value that is not valid UTF-8 or holds a NUL, and one such byte in
// one item would fail its whole poll, every time. So every engine stores
// text the same way: each byte that is not part of valid UTF-8, and each
// NUL, becomes U+FFFD. Valid text, which is all sources produce, is stored
// as it is.

// cleanText returns s as it is stored.
func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// cleanSnippet cleans a snippet as cleanText does and moves its marks (byte
// ranges) with the text, so that they still cover the same characters.
// Marks outside the snippet are left as they are.
func cleanSnippet(s string, marks []news.Span) (string, []news.Span) {
	clean := cleanText(s)
	if len(clean) == len(s) || len(marks) == 0 {
		return clean, marks
	}
	// at[i] is where byte offset i of s is in clean.
	at := make([]int, len(s)+1)
	j := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			at[i] = j
			j += utf8.RuneLen(utf8.RuneError)
		} else {
			for k := range size {
				at[i+k] = j + k
			}
			j += size
		}
		i += size
	}
	at[len(s)] = j
	out := make([]news.Span, len(marks))
	for k, m := range marks {
		if m.Start < 0 || m.Start > m.End || m.End > len(s) {
			out[k] = m
			continue
		}
		out[k] = news.Span{Start: at[m.Start], End: at[m.End]}
	}
	return clean, out
}

// cleanItem cleans the text fields of an item that are stored as text (the
// lists are JSON, which is valid UTF-8 whatever it encodes).
func cleanItem(it news.Item) news.Item {
	for _, f := range []*string{&it.Key, &it.Title, &it.Link, &it.Summary, &it.Content} {
		*f = cleanText(*f)
	}
	return it
}
