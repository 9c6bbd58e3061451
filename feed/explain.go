package feed

import (
	"html"
	"strconv"
	"strings"
	"unicode"

	"wirewatch/news"
)

// This file turns a match's explanation (snippet, marks, hits, score) into
// the pieces every rendering shares: the feeds' HTML and plain text, and the
// HTML pages. Marks come from storage and, before that, from a matcher run
// over third-party text; they are treated as untrusted like everything else.

// highlight splits a snippet at its valid marks (news.SplitSpans) into
// runs of clean text, without leading or trailing whitespace, dropping
// empty runs and merging neighbours of the same kind. Splitting happens
// before cleaning, since cleaning drops bytes and would shift the offsets.
func highlight(snippet string, marks []news.Span) []news.Run {
	raw := news.SplitSpans(snippet, marks)
	for i := range raw {
		raw[i].Text = clean(raw[i].Text)
	}
	// Trim across runs: leading whitespace may span several of them.
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
	return news.MergeRuns(raw)
}

// segmentsText is the segments' plain text.
func segmentsText(segs []news.Run) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.Text)
	}
	return b.String()
}

// segmentsHTML is the segments as escaped HTML, marked ones in <mark>.
func segmentsHTML(segs []news.Run) string {
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
func segmentsMarks(segs []news.Run) (string, [][2]int) {
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

// explain pairs each matched term with the fields it was found in
// (news.Match.Explained), terms and fields cleaned as all feed text is.
func explain(m news.Match) []news.TermFields { return m.Explained(clean) }

// explainHTML is news.TermFieldsText as escaped HTML with the terms in
// <strong>.
func explainHTML(ts []news.TermFields) string {
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
