package alert

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"wirewatch/news"
)

func sp(start, end int) news.Span { return news.Span{Start: start, End: end} }

// marked lists the text each of an event's marks covers, failing the test
// if any mark does not fit the snippet.
func marked(t *testing.T, e Event) []string {
	t.Helper()
	var out []string
	prev := 0
	for _, m := range e.Marks {
		if m[0] < prev || m[0] >= m[1] || m[1] > len(e.Snippet) ||
			!utf8.RuneStart(e.Snippet[m[0]]) || (m[1] < len(e.Snippet) && !utf8.RuneStart(e.Snippet[m[1]])) {
			t.Fatalf("mark %v does not fit snippet %q (marks %v)", m, e.Snippet, e.Marks)
		}
		out = append(out, e.Snippet[m[0]:m[1]])
		prev = m[1]
	}
	return out
}

func TestEventMarks(t *testing.T) {
	const s = "Uyghurs in Ürümqi: “camps” & more"
	u := spanOf(s, "Ürümqi")
	for _, tc := range []struct {
		name    string
		snippet string
		marks   []news.Span
		want    []string
	}{
		{"none", s, nil, nil},
		{"two", s, []news.Span{sp(0, 7), u}, []string{"Uyghurs", "Ürümqi"}},
		// The event keeps the marks news.ValidSpans keeps (see its tests).
		{"invalid", s, []news.Span{u, sp(0, 7), sp(u.Start+1, u.End+3), sp(len(s)-4, len(s)+9), sp(len(s), len(s)-2)},
			[]string{"Ürümqi", "more"}},
		{"adjacent merged", s, []news.Span{sp(0, 3), sp(3, 7)}, []string{"Uyghurs"}},
		// Invalid UTF-8 is replaced, which moves the bytes after it:
		// the marks move with them.
		{"after invalid bytes", "\xff\xfeUyghurs \xc3", []news.Span{sp(2, 9)}, []string{"Uyghurs"}},
		{"over invalid bytes", "a\xffb c", []news.Span{sp(0, 3)}, []string{"a\uFFFDb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := goldenAlert()
			a.Entry.Match.Snippet, a.Entry.Match.Marks = tc.snippet, tc.marks
			e := NewEvent(a)
			if got := marked(t, e); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("marked %q, want %q (snippet %q, marks %v)", got, tc.want, e.Snippet, e.Marks)
			}
			if e.Snippet != truncate(clean(tc.snippet), maxEventSnippet) {
				t.Errorf("snippet %q changed by its marks", e.Snippet)
			}
		})
	}
}

func TestEventExplanationJSON(t *testing.T) {
	body, _, err := Render("json", goldenAlert())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Snippet string            `json:"snippet"`
		Marks   [][2]int          `json:"marks"`
		Matched []news.TermFields `json:"matched"`
		Terms   []string          `json:"matched_terms"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range got.Marks {
		texts = append(texts, got.Snippet[m[0]:m[1]])
	}
	if !reflect.DeepEqual(texts, []string{"human rights", "Uyghurs"}) {
		t.Errorf("marks %v cover %q", got.Marks, texts)
	}
	want := []news.TermFields{
		{Term: "Xinjiang", Fields: []string{"title"}},
		{Term: "Uyghur*", Fields: []string{"summary"}},
		{Term: "human rights", Fields: []string{"summary"}},
	}
	if !reflect.DeepEqual(got.Matched, want) || len(got.Terms) != 3 {
		t.Errorf("matched = %+v, terms %q", got.Matched, got.Terms)
	}

	// Without marks or terms the keys are still there, as empty lists.
	a := goldenAlert()
	a.Entry.Match.Marks, a.Entry.Match.Terms, a.Entry.Match.Hits = nil, nil, nil
	body, _, _ = Render("json", a)
	for _, want := range []string{`"marks":[]`, `"matched":[]`, `"matched_terms":[]`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %s: %s", want, body)
		}
	}
}

// TestExplain checks what alert adds to news.Match.Explained: terms and
// fields are made valid UTF-8 (replaced, not dropped, unlike in feeds).
func TestExplain(t *testing.T) {
	m := news.Match{
		Terms: []string{"Uyg\xffhur*"},
		Hits:  []news.Hit{{Term: "Uyg\xfehur*", Field: "sum\xffmary"}, {Term: "Uyg\uFFFDhur*", Field: "title"}},
	}
	want := []news.TermFields{{Term: "Uyg\uFFFDhur*", Fields: []string{"sum\uFFFDmary", "title"}}}
	if got := explain(m); !reflect.DeepEqual(got, want) {
		t.Errorf("explain = %#v, want %#v", got, want)
	}
}

// slackSnippet is the quoted snippet of a Slack message for a snippet and
// its marks.
func slackSnippet(t *testing.T, snippet string, marks ...news.Span) string {
	t.Helper()
	a := goldenAlert()
	a.Entry.Match.Snippet, a.Entry.Match.Marks = snippet, marks
	p := slackBody(t, a)
	for _, b := range p.Blocks {
		if b.Type == "section" && b.Text != nil && strings.HasPrefix(b.Text.Text, "> ") {
			return strings.TrimPrefix(b.Text.Text, "> ")
		}
	}
	t.Fatalf("no snippet section in %+v", p.Blocks)
	return ""
}

func discordSnippet(t *testing.T, snippet string, marks ...news.Span) string {
	t.Helper()
	a := goldenAlert()
	a.Entry.Match.Snippet, a.Entry.Match.Marks = snippet, marks
	return discordBody(t, a).Embeds[0].Description
}

func TestChatBold(t *testing.T) {
	for _, tc := range []struct {
		name           string
		snippet        string
		marks          []string // substrings to mark, in order
		slack, discord string
	}{
		{"plain words", "the UN human rights office says Uyghurs", []string{"human rights", "Uyghurs"},
			"the UN *human rights* office says *Uyghurs*", "the UN **human rights** office says **Uyghurs**"},
		{"escaped inside bold", "a <Uyghurs & co> b", []string{"<Uyghurs & co>"},
			"a *&lt;Uyghurs &amp; co&gt;* b", `a **\<Uyghurs & co\>** b`},
		{"star inside", "rated 5*star camps", []string{"5*star"},
			"rated 5*star camps", `rated **5\*star** camps`},
		{"edge whitespace", "says Uyghurs held", []string{" Uyghurs"},
			"says Uyghurs held", "says Uyghurs held"},
		{"trailing newline", "says Uyghurs\n held", []string{"Uyghurs\n"},
			"says Uyghurs held", "says Uyghurs held"},
		{"inside a word", "the Uyghurs", []string{"Uyghur"},
			"the Uyghurs", "the **Uyghur**s"},
		{"next to a star", "*Uyghurs* said", []string{"Uyghurs"},
			"*Uyghurs* said", `\***Uyghurs**\* said`},
		{"whitespace collapsed inside", "human \n\t rights", []string{"human \n\t rights"},
			"*human rights*", "**human rights**"},
		{"whole snippet", "Uyghurs", []string{"Uyghurs"}, "*Uyghurs*", "**Uyghurs**"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var marks []news.Span
			at := 0
			for _, m := range tc.marks {
				s := spanOf(tc.snippet[at:], m)
				marks = append(marks, sp(at+s.Start, at+s.End))
				at += s.End
			}
			if got := slackSnippet(t, tc.snippet, marks...); got != tc.slack {
				t.Errorf("slack   = %q, want %q", got, tc.slack)
			}
			if got := discordSnippet(t, tc.snippet, marks...); got != tc.discord {
				t.Errorf("discord = %q, want %q", got, tc.discord)
			}
		})
	}
}

// checkMarkers asserts that bold markers in a chat text pair up around
// non-blank text. The inputs used hold no "*" of their own, so every "*"
// (Slack) or unescaped "**" (Discord) is ours.
func checkMarkers(t *testing.T, what, s, marker string) {
	t.Helper()
	parts := strings.Split(s, marker)
	if len(parts)%2 == 0 {
		t.Errorf("%s: unbalanced %q in %q", what, marker, s)
		return
	}
	for i := 1; i < len(parts); i += 2 {
		b := parts[i]
		if b == "" || strings.TrimSpace(b) != b {
			t.Errorf("%s: bold text %q is empty or has edge spaces in %q", what, b, s)
		}
	}
}

// TestTruncationKeepsMarkersPaired cuts a highlighted snippet at every
// length and checks that no marker dangles, the limit holds, and the event
// marks stay inside the (cut) snippet.
func TestTruncationKeepsMarkersPaired(t *testing.T) {
	const s = "Uyghurs and Kazakhs in Ürümqi camps, 🌏 human  rights & <abuses> — Uyghurs again"
	ps := news.MergeRuns(news.SplitSpans(s, []news.Span{
		spanOf(s, "Uyghurs"), spanOf(s, "Ürümqi camps"), spanOf(s, "🌏 human  rights"),
		spanOf(s, "<abuses>"), sp(len(s)-len("Uyghurs again"), len(s)),
	}))
	for limit := 0; limit <= width(s)+40; limit++ {
		for name, m := range map[string]markup{"slack": slackMarkup(), "discord": discordMarkup(), "event": {}} {
			pieces := ps
			if m.bold != nil {
				pieces = applyBold(oneLinePieces(ps), m)
			}
			out, spans := render(pieces, limit, m)
			if width(out) > limit || !utf8.ValidString(out) {
				t.Fatalf("%s limit %d: %q is %d units or invalid", name, limit, out, width(out))
			}
			if m.open != "" {
				checkMarkers(t, name, strings.TrimSuffix(strings.ReplaceAll(out, `\*`, ""), ellipsis), m.open)
			}
			for _, sp := range spans {
				if sp[0] < 0 || sp[0] >= sp[1] || sp[1] > len(out) {
					t.Fatalf("%s limit %d: span %v outside %q", name, limit, sp, out)
				}
				if text := out[sp[0]:sp[1]]; strings.Contains(text, ellipsis) || (m.open != "" && strings.Contains(text, m.open)) {
					t.Errorf("%s limit %d: span covers %q", name, limit, text)
				}
			}
			if full, _ := render(pieces, 1<<20, m); limit >= width(full) && out != full {
				t.Errorf("%s limit %d: %q, want all of %q", name, limit, out, full)
			}
		}
	}
	// A cut inside a highlight closes it right before the ellipsis.
	out, spans := render(ps, 6, slackMarkup())
	if out != "*Uyg*…" || !reflect.DeepEqual(spans, [][2]int{{1, 4}}) {
		t.Errorf("cut in a mark = %q %v, want %q [[1 4]]", out, spans, "*Uyg*…")
	}
	// "Uyghurs and": a cut after the space drops it, not the mark.
	if out, _ := render(ps, len("*Uyghurs* a")+1, slackMarkup()); out != "*Uyghurs* a…" {
		t.Errorf("cut after a mark = %q", out)
	}
	if out, _ := render(ps, len("*Uyghurs* ")+1, slackMarkup()); out != "*Uyghurs*…" {
		t.Errorf("cut after a mark = %q", out)
	}
	if out, _ := render(ps, 3, slackMarkup()); out != "…" {
		t.Errorf("no room for a marked rune = %q, want just the ellipsis", out)
	}
}

// A mark straddling the event's snippet cap ends where the cut text does.
func TestEventSnippetCapCutsMark(t *testing.T) {
	a := goldenAlert()
	snippet := strings.Repeat("x ", maxEventSnippet/2-3) + "Uyghurs are held in camps" + strings.Repeat(" y", 50)
	a.Entry.Match.Snippet = snippet
	a.Entry.Match.Marks = []news.Span{spanOf(snippet, "Uyghurs are held in camps")}
	e := NewEvent(a)
	if width(e.Snippet) > maxEventSnippet || !strings.HasSuffix(e.Snippet, ellipsis) {
		t.Fatalf("snippet is %d units: %q", width(e.Snippet), e.Snippet)
	}
	got := marked(t, e)
	if len(got) != 1 || !strings.HasPrefix("Uyghurs are held in camps", got[0]) || got[0] == "" {
		t.Errorf("marked %q, want a prefix of the cut mark", got)
	}
	if e.Marks[0][1] != len(e.Snippet)-len(ellipsis) {
		t.Errorf("mark %v does not end at the cut (snippet %d bytes)", e.Marks[0], len(e.Snippet))
	}
}

// markedHuge marks every "Ünïcödé", "@everyone" and "*_[x](y)_*" of a
// huge() text, so highlights sit at and across every truncation point.
func markedHuge(s string) []news.Span {
	var out []news.Span
	for i := 0; i < len(s); {
		best, bestLen := -1, 0
		for _, w := range []string{"Ünïcödé", "@everyone", "*_[x](y)_*"} {
			if j := strings.Index(s[i:], w); j >= 0 && (best < 0 || j < best) {
				best, bestLen = j, len(w)
			}
		}
		if best < 0 {
			break
		}
		out = append(out, sp(i+best, i+best+bestLen))
		i += best + bestLen
	}
	return out
}

func TestLimitsWithMarks(t *testing.T) {
	a := hugeAlert()
	a.Entry.Match.Marks = markedHuge(a.Entry.Match.Snippet)
	for i, term := range a.Entry.Match.Terms {
		a.Entry.Match.Hits = append(a.Entry.Match.Hits, news.Hit{Term: term, Field: "summary"}, news.Hit{Term: term, Field: huge(2)})
		if i > 20 {
			break
		}
	}
	e := NewEvent(a)
	if n := len(marked(t, e)); n < 50 {
		t.Errorf("only %d marks survived in the event", n)
	}

	p := slackBody(t, a)
	for _, b := range p.Blocks {
		for _, txt := range append(slackTexts(slackPayload{Blocks: []slackBlock{b}}), b.Fields...) {
			if txt.Type == "mrkdwn" {
				limit := slackSectionMax
				if len(b.Fields) > 0 {
					limit = slackFieldMax
				}
				checkText(t, b.Type, txt.Text, limit)
			}
		}
	}
	snip := ""
	for _, b := range p.Blocks {
		if b.Text != nil && strings.HasPrefix(b.Text.Text, "> ") {
			snip = b.Text.Text
		}
	}
	if !strings.Contains(snip, "*Ünïcödé*") || !strings.Contains(snip, "*@everyone*") || strings.Contains(snip, "**_") {
		t.Errorf("slack snippet lacks bold highlights: %.200q", snip)
	}
	// "*_[x](y)_*" holds stars: never bolded. Remove it (and a cut end
	// of it) to count ours.
	const stars = "*_[x](y)_*"
	rest := strings.TrimSuffix(strings.ReplaceAll(snip, stars, ""), ellipsis)
	for k := len(stars) - 1; k > 0; k-- {
		if strings.HasSuffix(rest, stars[:k]) {
			rest = rest[:len(rest)-k]
			break
		}
	}
	checkMarkers(t, "slack snippet", rest, "*")

	d := discordBody(t, a)
	em := d.Embeds[0]
	total := width(em.Title) + width(em.Description) + width(em.Footer.Text)
	for _, f := range em.Fields {
		checkText(t, "field "+f.Name, f.Value, discordFieldValueMax)
		total += width(f.Name) + width(f.Value)
	}
	checkText(t, "description", em.Description, discordDescriptionMax)
	checkText(t, "title", em.Title, discordTitleMax)
	if total > discordEmbedTotalMax {
		t.Errorf("embed total %d > %d", total, discordEmbedTotalMax)
	}
	if !strings.Contains(em.Description, `**Ünïcödé**`) || !strings.Contains(em.Description, `**\*\_\[x\]\(y\)\_\***`) {
		t.Errorf("discord description lacks highlights: %.300q", em.Description)
	}
	checkMarkers(t, "discord description", strings.TrimSuffix(strings.ReplaceAll(em.Description, `\*`, ""), ellipsis), "**")
	var matched, score bool
	for _, f := range em.Fields {
		matched = matched || (f.Name == "Matched" && strings.Contains(f.Value, "(summary"))
		score = score || f.Name == "Score"
	}
	if !matched || !score {
		t.Errorf("discord fields %+v lack Matched with fields or Score", em.Fields)
	}
}

// FuzzMarks renders every format for arbitrary snippets and marks: nothing
// panics, every body is JSON, and the event's marks fit its snippet.
func FuzzMarks(f *testing.F) {
	f.Add(goldenSnippet, 10, 22, 35, 42)
	f.Add("a\xffb *c* \n d", -1, 4, 3, 9)
	f.Add("🌏🌏 x", 1, 4, 4, 9)
	f.Fuzz(func(t *testing.T, s string, a, b, c, d int) {
		al := goldenAlert()
		al.Entry.Match.Snippet = s
		al.Entry.Match.Marks = []news.Span{sp(a, b), sp(c, d)}
		for _, format := range Formats() {
			body, _, err := RenderFor(formatHook(format), al)
			if err != nil || !json.Valid(body) {
				t.Fatalf("%s: %v %s", format, err, body)
			}
		}
		marked(t, NewEvent(al))
		if !strings.ContainsRune(s, '*') {
			p := slackBody(t, al)
			for _, b := range p.Blocks {
				if b.Text != nil && strings.HasPrefix(b.Text.Text, "> ") {
					checkMarkers(t, "slack", strings.TrimSuffix(b.Text.Text, ellipsis), "*")
				}
			}
		}
	})
}
