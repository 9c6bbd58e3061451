package alert

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"wirewatch/news"
)

// This file renders a match's explanation: the snippet with its matched
// parts highlighted (byte ranges in the JSON event, *bold* in Slack,
// **bold** in Discord) and the matched terms with their fields. Marks come
// from storage and, before that, from a matcher run over third-party text,
// so they are checked like any other input: news.SplitSpans keeps only the
// valid ones and cuts the snippet at them into pieces (news.Run).

// oneLinePieces is oneLine over pieces: whitespace runs become one space
// and the ends are trimmed. A run that crosses from a mark into plain text
// (or back) leaves its space in the plain piece, so marks do not gain edge
// whitespace they did not have.
func oneLinePieces(ps []news.Run) []news.Run {
	out := make([]news.Run, len(ps))
	bs := make([]strings.Builder, len(ps))
	pending := -1 // piece where the current whitespace run began, or -1
	started := false
	for i, p := range ps {
		out[i].Mark = p.Mark
		for _, r := range p.Text {
			if unicode.IsSpace(r) {
				if pending < 0 {
					pending = i
				}
				continue
			}
			if pending >= 0 && started {
				// The space goes to the first plain piece the run
				// touched, else to the piece that ends it.
				at := i
				for j := pending; j <= i; j++ {
					if !ps[j].Mark {
						at = j
						break
					}
				}
				bs[at].WriteByte(' ')
			}
			pending = -1
			started = true
			bs[i].WriteRune(r)
		}
	}
	for i := range out {
		out[i].Text = bs[i].String()
	}
	return news.MergeRuns(out)
}

// markup is how a chat format writes text: esc escapes one rune, and a
// highlighted piece is wrapped in open and close.
type markup struct {
	esc         func(rune) string
	open, close string
	// bold reports whether a piece can be highlighted given the runes
	// around it (utf8.RuneError at either end of the text); a piece that
	// cannot is written as plain text.
	bold func(text string, before, after rune) bool
}

// slackBold: Slack's *bold* has no escape for "*", needs non-space text
// right inside the markers, and only renders at word boundaries.
func slackBold(text string, before, after rune) bool {
	return boldable(text) && !strings.ContainsRune(text, '*') &&
		!wordRune(before) && !wordRune(after) && before != '*' && after != '*'
}

// discordBold: Discord escapes "*" inside the text, so only the edges
// matter.
func discordBold(text string, _, _ rune) bool { return boldable(text) }

// boldable is text that starts and ends with something visible.
func boldable(text string) bool {
	first, _ := utf8.DecodeRuneInString(text)
	last, _ := utf8.DecodeLastRuneInString(text)
	return text != "" && !unicode.IsSpace(first) && !unicode.IsSpace(last)
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// applyBold unmarks the pieces m cannot highlight.
func applyBold(ps []news.Run, m markup) []news.Run {
	if m.bold == nil {
		return ps
	}
	out := append([]news.Run(nil), ps...)
	for i, p := range out {
		if !p.Mark {
			continue
		}
		before, after := utf8.RuneError, utf8.RuneError
		if i > 0 {
			before, _ = utf8.DecodeLastRuneInString(ps[i-1].Text)
		}
		if i+1 < len(ps) {
			after, _ = utf8.DecodeRuneInString(ps[i+1].Text)
		}
		out[i].Mark = m.bold(p.Text, before, after)
	}
	return news.MergeRuns(out)
}

// render writes pieces within limit units (see width): escaped rune by rune,
// highlighted pieces wrapped in the markers, and "…" at the end when
// anything was cut. A cut inside a highlighted piece closes it before the
// ellipsis (or drops it, if nothing of it is left), so a marker never dangles.
// It also returns the byte ranges of the highlighted text (without the
// markers) in the result.
func render(ps []news.Run, limit int, m markup) (string, [][2]int) {
	spans := [][2]int{}
	if limit <= 0 {
		return "", spans
	}
	ow, cw := width(m.open), width(m.close)
	var b strings.Builder
	n := 0
	// fit is how much of b, closed and followed by the ellipsis, still fits;
	// fitOpen is where the marker of the piece fit lies in starts (-1: in
	// no piece); fitSpans counts the spans complete at fit.
	fit, fitOpen, fitSpans := 0, -1, 0
	for _, p := range ps {
		open, closeW := -1, 0
		if p.Mark {
			if n+ow+cw > limit {
				return cut(b.String(), fit, fitOpen, spans[:fitSpans], m)
			}
			open, closeW = b.Len(), cw
			b.WriteString(m.open)
			n += ow
		}
		for _, r := range p.Text {
			s := string(r)
			if m.esc != nil {
				s = m.esc(r)
			}
			w := width(s)
			if n+w+closeW > limit {
				return cut(b.String(), fit, fitOpen, spans[:fitSpans], m)
			}
			b.WriteString(s)
			n += w
			if n+closeW+1 <= limit {
				fit, fitOpen, fitSpans = b.Len(), open, len(spans)
			}
		}
		if p.Mark {
			spans = append(spans, [2]int{open + len(m.open), b.Len()})
			b.WriteString(m.close)
			n += cw
			if n+1 <= limit {
				fit, fitOpen, fitSpans = b.Len(), -1, len(spans)
			}
		}
	}
	return b.String(), spans
}

// cut ends out at fit with an ellipsis, closing the highlight fit lies in.
func cut(out string, fit, open int, spans [][2]int, m markup) (string, [][2]int) {
	out = out[:fit]
	if open >= 0 {
		start := open + len(m.open)
		text := strings.TrimRight(out[start:], " ")
		if text == "" {
			out = strings.TrimRight(out[:open], " ")
		} else {
			out = out[:start] + text
			spans = append(spans, [2]int{start, len(out)})
			out += m.close
		}
	} else {
		out = strings.TrimRight(out, " ")
	}
	// Trimming may have shortened a span's text (only where there are no
	// markers to stop it): clip, and drop what is left empty.
	kept := spans[:0]
	for _, s := range spans {
		s[1] = min(s[1], len(out))
		if s[0] < s[1] {
			kept = append(kept, s)
		}
	}
	return out + ellipsis, kept
}

// explain pairs each matched term with the fields it was found in
// (news.Match.Explained), terms and fields made valid UTF-8 as all event
// text is.
func explain(m news.Match) []news.TermFields { return m.Explained(clean) }
