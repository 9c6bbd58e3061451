package feed

import (
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"wirewatch/news"
)

// This file turns a match's explanation (snippet, marks, hits, score) into
// the pieces every rendering shares: the feeds' HTML and plain text, and the
// HTML pages. Marks come from storage and, before that, from a matcher run
// over third-party text; they are treated as untrusted like everything else.

// segment is a run of snippet text, highlighted (Mark) or not.
type segment struct {
	Text string
	Mark bool
}

// validMarks returns the marks of s that can be used as they are: clamped
// to s, non-empty, on rune boundaries, in order and not overlapping. Any
// other mark is skipped rather than repaired: a mark that starts inside a
// rune or overlaps its predecessor says the snippet and the marks disagree,
// and guessing would highlight the wrong text.
func validMarks(s string, marks []news.Span) []news.Span {
	var out []news.Span
	prevEnd := 0
	for _, m := range marks {
		start, end := max(m.Start, 0), min(m.End, len(s))
		if start >= end || start < prevEnd {
			continue
		}
		if !utf8.RuneStart(s[start]) || (end < len(s) && !utf8.RuneStart(s[end])) {
			continue
		}
		out = append(out, news.Span{Start: start, End: end})
		prevEnd = end
	}
	return out
}

// highlight splits a snippet at its valid marks into segments of clean
// text, without leading or trailing whitespace, dropping empty segments and
// merging neighbours of the same kind. Splitting happens before cleaning,
// since cleaning drops bytes and would shift the offsets.
func highlight(snippet string, marks []news.Span) []segment {
	var raw []segment
	at := 0
	for _, m := range validMarks(snippet, marks) {
		raw = append(raw, segment{Text: snippet[at:m.Start]}, segment{Text: snippet[m.Start:m.End], Mark: true})
		at = m.End
	}
	raw = append(raw, segment{Text: snippet[at:]})
	for i := range raw {
		raw[i].Text = clean(raw[i].Text)
	}
	// Trim across segments: leading whitespace may span several of them.
	for len(raw) > 0 {
		raw[0].Text = strings.TrimLeftFunc(raw[0].Text, unicode.IsSpace)
		if raw[0].Text != "" {
			break
		}
		raw = raw[1:]
	}
	for len(raw) > 0 {
		last := &raw[len(raw)-1]
		last.Text = strings.TrimRightFunc(last.Text, unicode.IsSpace)
		if last.Text != "" {
			break
		}
		raw = raw[:len(raw)-1]
	}
	var out []segment
	for _, s := range raw {
		switch {
		case s.Text == "":
		case len(out) > 0 && out[len(out)-1].Mark == s.Mark:
			out[len(out)-1].Text += s.Text
		default:
			out = append(out, s)
		}
	}
	return out
}

// segmentsText is the segments' plain text.
func segmentsText(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.Text)
	}
	return b.String()
}

// segmentsHTML is the segments as escaped HTML, marked ones in <mark>.
func segmentsHTML(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.Mark {
			b.WriteString("<mark>" + html.EscapeString(s.Text) + "</mark>")
		} else {
			b.WriteString(html.EscapeString(s.Text))
		}
	}
	return b.String()
}

// segmentsMarks is the segments' text with the byte ranges of its marked
// parts, for machine readers (JSON Feed's extension).
func segmentsMarks(segs []segment) (string, [][2]int) {
	var b strings.Builder
	marks := [][2]int{}
	for _, s := range segs {
		if s.Mark {
			marks = append(marks, [2]int{b.Len(), b.Len() + len(s.Text)})
		}
		b.WriteString(s.Text)
	}
	return b.String(), marks
}

// matchedTerm is a matched query term and the item fields it was found in.
type matchedTerm struct {
	Term   string   `json:"term"`
	Fields []string `json:"fields"`
}

// explain pairs each matched term with the fields its hits were in, in the
// order of Terms (then any term only the hits name), fields in the order
// the hits give them. Blank terms and fields are dropped.
func explain(m news.Match) []matchedTerm {
	out := []matchedTerm{}
	index := map[string]int{}
	add := func(term string) int {
		term = strings.TrimSpace(clean(term))
		if term == "" {
			return -1
		}
		if i, ok := index[term]; ok {
			return i
		}
		index[term] = len(out)
		out = append(out, matchedTerm{Term: term, Fields: []string{}})
		return len(out) - 1
	}
	for _, t := range m.Terms {
		add(t)
	}
	for _, h := range m.Hits {
		i := add(h.Term)
		f := strings.TrimSpace(clean(h.Field))
		if i < 0 || f == "" || contains(out[i].Fields, f) {
			continue
		}
		out[i].Fields = append(out[i].Fields, f)
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// explainText is the explanation as one plain line:
// "Uyghur* (title, summary), crimes against humanity (summary)".
func explainText(ts []matchedTerm) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.Term
		if len(t.Fields) > 0 {
			parts[i] += " (" + strings.Join(t.Fields, ", ") + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// explainHTML is explainText as escaped HTML with the terms in <strong>.
func explainHTML(ts []matchedTerm) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = "<strong>" + html.EscapeString(t.Term) + "</strong>"
		if len(t.Fields) > 0 {
			parts[i] += " (" + html.EscapeString(strings.Join(t.Fields, ", ")) + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// scoreText formats a score for people: at most two decimals, no trailing
// zeros ("5", "2.5", "0.87").
func scoreText(f float64) string {
	s := strconv.FormatFloat(finite(f), 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		s = "0"
	}
	return s
}
