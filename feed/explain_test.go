package feed

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"wirewatch/news"
)

func sp(start, end int) news.Span { return news.Span{Start: start, End: end} }

func TestHighlight(t *testing.T) {
	const s = "Uyghurs in Ürümqi: “camps” & more"
	u := spanOf(s, "Ürümqi")
	for _, tc := range []struct {
		name  string
		in    string
		marks []news.Span
		want  []news.Run
	}{
		{"no marks", s, nil, []news.Run{{Text: s}}},
		{"one mark", s, []news.Span{u}, []news.Run{{Text: "Uyghurs in "}, {Text: "Ürümqi", Mark: true}, {Text: ": “camps” & more"}}},
		{"at both ends", s, []news.Span{sp(0, 7), spanOf(s, "more")},
			[]news.Run{{Text: "Uyghurs", Mark: true}, {Text: " in Ürümqi: “camps” & "}, {Text: "more", Mark: true}}},
		// news.ValidSpans decides which marks count (its tests pin how);
		// here only that highlight goes by it.
		{"invalid marks", s, []news.Span{sp(-10, 7), sp(5, 12), sp(u.Start+1, u.End), sp(len(s), len(s)-4)},
			[]news.Run{{Text: "Uyghurs", Mark: true}, {Text: " in Ürümqi: “camps” & more"}}},
		{"adjacent marks merge", s, []news.Span{sp(0, 3), sp(3, 7)}, []news.Run{{Text: "Uyghurs", Mark: true}, {Text: s[7:]}}},
		{"whitespace trimmed across segments", "  \n ab  ", []news.Span{sp(0, 2), sp(3, 6)}, []news.Run{{Text: "ab", Mark: true}}},
		{"blank", " \t ", []news.Span{sp(0, 3)}, nil},
		// Cleaning drops bytes after the split, so marks stay on their text.
		{"dirty text", "a\x00b\xffc mark", []news.Span{sp(0, 5), sp(6, 10)}, []news.Run{{Text: "abc", Mark: true}, {Text: " "}, {Text: "mark", Mark: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := highlight(tc.in, tc.marks)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("highlight(%q, %v) =\n %#v\nwant\n %#v", tc.in, tc.marks, got, tc.want)
			}
		})
	}
}

func TestSegmentsRendering(t *testing.T) {
	segs := []news.Run{{Text: "<b>"}, {Text: `Uy"gh&urs`, Mark: true}, {Text: " rest"}}
	if got, want := segmentsHTML(segs), `&lt;b&gt;<mark>Uy&#34;gh&amp;urs</mark> rest`; got != want {
		t.Errorf("segmentsHTML = %q, want %q", got, want)
	}
	if got, want := segmentsText(segs), `<b>Uy"gh&urs rest`; got != want {
		t.Errorf("segmentsText = %q, want %q", got, want)
	}
	text, marks := segmentsMarks(segs)
	if len(marks) != 1 || text[marks[0][0]:marks[0][1]] != `Uy"gh&urs` {
		t.Errorf("segmentsMarks = %q %v", text, marks)
	}
	if _, marks := segmentsMarks(nil); marks == nil || len(marks) != 0 {
		t.Errorf("segmentsMarks(nil) marks = %#v, want empty", marks)
	}
}

// TestExplain checks what feed adds to news.Match.Explained: its own
// cleaning (invalid UTF-8 and non-XML characters dropped) decides which
// terms are the same, and the HTML form escapes everything.
func TestExplain(t *testing.T) {
	m := news.Match{
		Terms: []string{"Uyg\x00hur*", "Uyghur*\xff", "\x01"},
		Hits:  []news.Hit{{Term: "Uyghur*", Field: "ti\x0btle"}, {Term: "\x01", Field: "summary"}},
	}
	want := []news.TermFields{{Term: "Uyghur*", Fields: []string{"title"}}}
	if got := explain(m); !reflect.DeepEqual(got, want) {
		t.Fatalf("explain = %#v, want %#v", got, want)
	}
	hostile := []news.TermFields{{Term: "<b>x</b>", Fields: []string{"<i>"}}, {Term: "y", Fields: []string{}}}
	if s, want := explainHTML(hostile), "<strong>&lt;b&gt;x&lt;/b&gt;</strong> (&lt;i&gt;), <strong>y</strong>"; s != want {
		t.Errorf("explainHTML = %q, want %q", s, want)
	}
}

func TestScoreText(t *testing.T) {
	for in, want := range map[float64]string{
		5: "5", 2.5: "2.5", 0.8731: "0.87", 0: "0", -0.001: "0", 10: "10", 1.005e9: "1005000000",
	} {
		if got := scoreText(in); got != want {
			t.Errorf("scoreText(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestMarksInFeeds checks where highlighting goes: <mark> in the HTML
// content of every format, never in the plain-text fields, and the JSON
// extension's snippet and marks agree with each other.
func TestMarksInFeeds(t *testing.T) {
	entries := testEntries()
	const want = "…the detention of <mark>Uyghurs</mark>…"
	const why = "Matched: <strong>human rights</strong> (summary), <strong>uyghur*</strong> (title, summary) · score 2.5"
	noMark := func(t *testing.T, where, s string) {
		t.Helper()
		if strings.Contains(s, "mark>") || strings.Contains(s, "mark&gt;") {
			t.Errorf("%s carries a mark: %q", where, s)
		}
	}
	for _, format := range formats {
		b := render(t, format, testTopic(), entries, testOptions())
		var content, plain []string
		switch format {
		case FormatRSS:
			for _, it := range parseRSS(t, b).Items {
				content, plain = append(content, it.Content), append(plain, it.Description)
			}
		case FormatAtom:
			for _, e := range parseAtom(t, b).Entries {
				content, plain = append(content, e.Content), append(plain, e.Summary)
			}
		case FormatJSON:
			var d struct {
				Items []struct {
					ContentHTML string `json:"content_html"`
					Summary     string `json:"summary"`
					Ext         struct {
						Snippet string            `json:"snippet"`
						Marks   [][2]int          `json:"marks"`
						Matched []news.TermFields `json:"matched"`
					} `json:"_wirewatch"`
				} `json:"items"`
			}
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatal(err)
			}
			for i, it := range d.Items {
				content, plain = append(content, it.ContentHTML), append(plain, it.Summary)
				for _, m := range it.Ext.Marks {
					if m[0] < 0 || m[0] >= m[1] || m[1] > len(it.Ext.Snippet) ||
						!utf8.ValidString(it.Ext.Snippet[m[0]:m[1]]) {
						t.Errorf("item %d mark %v does not fit snippet %q", i, m, it.Ext.Snippet)
					}
				}
			}
			first := d.Items[0].Ext
			if len(first.Marks) != 1 || first.Snippet[first.Marks[0][0]:first.Marks[0][1]] != "Uyghurs" {
				t.Errorf("item 0 extension snippet/marks = %q %v", first.Snippet, first.Marks)
			}
			if !reflect.DeepEqual(first.Matched, explain(entries[0].Match)) {
				t.Errorf("item 0 extension matched = %+v", first.Matched)
			}
			hostile := d.Items[1].Ext
			var marked []string
			for _, m := range hostile.Marks {
				marked = append(marked, hostile.Snippet[m[0]:m[1]])
			}
			if !reflect.DeepEqual(marked, []string{"<script>", "snippet"}) {
				t.Errorf("item 1 marked %q, want the valid marks only", marked)
			}
			if d.Items[2].Ext.Marks != nil {
				t.Errorf("item 2 has marks %v, want none", d.Items[2].Ext.Marks)
			}
		}
		if len(content) != len(entries) {
			t.Fatalf("%s: %d items", format, len(content))
		}
		if !strings.Contains(content[0], want) || !strings.Contains(content[0], why) {
			t.Errorf("%s content lacks %q or %q:\n%s", format, want, why, content[0])
		}
		if !strings.Contains(content[1], "<mark>&lt;script&gt;</mark>") || !strings.Contains(content[1], "<mark>snippet</mark>") {
			t.Errorf("%s hostile content marks wrong:\n%s", format, content[1])
		}
		if n := strings.Count(content[1], "<mark>"); n != 2 {
			t.Errorf("%s hostile content has %d marks, want 2 (invalid ones skipped)", format, n)
		}
		for i := range content {
			noMark(t, format+" plain text", plain[i])
		}
	}
}

// FuzzHighlight feeds arbitrary snippets and marks through highlighting:
// nothing panics, the text is the cleaned snippet whatever the marks say,
// and the HTML has exactly the marks it claims.
func FuzzHighlight(f *testing.F) {
	f.Add("…the detention of Uyghurs…", 20, 27, 5, 9)
	f.Add("a\x00b\xffc ü", -1, 3, 6, 8)
	f.Add("  ", 0, 1, 1, 2)
	f.Fuzz(func(t *testing.T, s string, a, b, c, d int) {
		segs := highlight(s, []news.Span{sp(a, b), sp(c, d)})
		if got, want := segmentsText(segs), strings.TrimSpace(clean(s)); got != want {
			t.Fatalf("text %q, want %q", got, want)
		}
		marks := 0
		for i, sg := range segs {
			if sg.Text == "" || (i > 0 && segs[i-1].Mark == sg.Mark) {
				t.Fatalf("segments not normalised: %#v", segs)
			}
			if sg.Mark {
				marks++
			}
		}
		h := segmentsHTML(segs)
		if strings.Count(h, "<mark>") != marks || strings.Count(h, "<") != 2*marks {
			t.Fatalf("html %q for %d marks", h, marks)
		}
	})
}
