package match

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"wirewatch/news"
)

// markTexts returns the text of every mark, checking the marks are sorted,
// not overlapping, inside the snippet and on character boundaries.
func markTexts(t *testing.T, snippet string, marks []news.Span) []string {
	t.Helper()
	var out []string
	prev := 0
	for _, m := range marks {
		if m.Start < prev || m.End <= m.Start || m.End > len(snippet) {
			t.Fatalf("bad mark %+v (after %d) in %q: %+v", m, prev, snippet, marks)
		}
		if !utf8.RuneStart(snippet[m.Start]) || m.End < len(snippet) && !utf8.RuneStart(snippet[m.End]) {
			t.Fatalf("mark %+v cuts a character in %q", m, snippet)
		}
		out = append(out, snippet[m.Start:m.End])
		prev = m.End
	}
	return out
}

func TestSnippetCentring(t *testing.T) {
	filler := strings.Repeat("lorem ipsum dolor sit amet ", 40)
	content := filler + "the Bachelet visit " + filler
	m, ok := matchOne(t, "Bachelet", news.Item{Title: "t", Content: content})
	if !ok {
		t.Fatal("no match")
	}
	s := strings.Trim(m.Snippet, "…")
	i := strings.Index(s, "Bachelet")
	before := utf8.RuneCountInString(s[:i])
	after := utf8.RuneCountInString(s[i+len("Bachelet"):])
	if d := before - after; d < -12 || d > 12 {
		t.Errorf("hit not centred: %d characters before, %d after: %q", before, after, m.Snippet)
	}
	if n := utf8.RuneCountInString(m.Snippet); n > snippetRunes || n < snippetRunes-15 {
		t.Errorf("snippet has %d characters", n)
	}
	if got := markTexts(t, m.Snippet, m.Marks); !reflect.DeepEqual(got, []string{"Bachelet"}) {
		t.Errorf("marks %q", got)
	}
	// The hit near the start: the snippet starts at the text's start.
	m, _ = matchOne(t, "Bachelet", news.Item{Content: "Bachelet " + filler})
	if !strings.HasPrefix(m.Snippet, "Bachelet lorem") || m.Marks[0] != (news.Span{Start: 0, End: 8}) {
		t.Errorf("snippet %q marks %+v", m.Snippet, m.Marks)
	}
}

func TestSnippetStrongestHit(t *testing.T) {
	filler := strings.Repeat("lorem ipsum dolor sit amet ", 40)
	item := news.Item{
		Title:   "Xinjiang and Bachelet",
		Summary: "A summary that names Bachelet.",
		Content: filler + "it may amount to crimes against humanity " + filler,
	}
	// Equal weights: the summary's hit, with every matched term marked.
	m, _ := matchOne(t, issueQuery, item)
	if m.Snippet != item.Summary {
		t.Errorf("snippet %q, want the summary", m.Snippet)
	}
	if got := markTexts(t, m.Snippet, m.Marks); !reflect.DeepEqual(got, []string{"Bachelet"}) {
		t.Errorf("marks %q", got)
	}
	// A heavier term wins, wherever it is in the body.
	ix := compileTopic(t, news.Topic{Query: issueQuery, Weights: map[string]float64{"crimes against humanity": 2}})
	ms := ix.Match(item, now)
	if len(ms) != 1 || !strings.Contains(ms[0].Snippet, "may amount to crimes against humanity lorem") {
		t.Fatalf("snippet %+v", ms)
	}
	if got := markTexts(t, ms[0].Snippet, ms[0].Marks); !reflect.DeepEqual(got, []string{"crimes against humanity"}) {
		t.Errorf("marks %q", got)
	}
	// Only title hits: the title, marked.
	ix = compileTopic(t, news.Topic{Query: "Xinjiang OR title:Bachelet"})
	ms = ix.Match(news.Item{Title: "Xinjiang  and\nBachelet", Content: "Bachelet elsewhere"}, now)
	if len(ms) != 1 || ms[0].Snippet != "Xinjiang and Bachelet" {
		t.Fatalf("title snippet %+v", ms)
	}
	if got := markTexts(t, ms[0].Snippet, ms[0].Marks); !reflect.DeepEqual(got, []string{"Xinjiang", "Bachelet"}) {
		t.Errorf("marks %q", got)
	}
	// A title-restricted term is not marked in the body.
	ms = ix.Match(news.Item{Title: "Bachelet", Content: "Xinjiang and Bachelet"}, now)
	if got := markTexts(t, ms[0].Snippet, ms[0].Marks); ms[0].Snippet != "Xinjiang and Bachelet" || !reflect.DeepEqual(got, []string{"Xinjiang"}) {
		t.Errorf("snippet %q marks %q", ms[0].Snippet, got)
	}
}

func TestSnippetMarks(t *testing.T) {
	tests := []struct {
		name, query, content string
		marks                []string
	}{
		{"repeated", "Bachelet Xinjiang", "Bachelet met Bachelet in Xinjiang.", []string{"Bachelet", "Bachelet", "Xinjiang"}},
		{"case and diacritics", "turkiye", "TÜRKİYE and Türkiye", []string{"TÜRKİYE", "Türkiye"}},
		{"prefix", "Uyghur*", "Uyghurs and an Uyghur", []string{"Uyghurs", "Uyghur"}},
		{"phrase across punctuation", `"human rights"`, "human-rights and human, rights", []string{"human-rights", "human, rights"}},
		{"collapsed whitespace", `"human rights"`, "human \n\n  rights", []string{"human rights"}},
		{"nested terms", `"human rights" OR rights`, "human rights and rights", []string{"human rights", "rights"}},
		{"overlapping phrases", `"a b" OR "b c"`, "a b c", []string{"a b"}},
		{"only contributing terms", "Xinjiang OR (cotton AND prices)", "Xinjiang cotton", []string{"Xinjiang"}},
		{"cjk", "维吾尔", "新疆维吾尔自治区", []string{"维吾尔"}},
		{"fullwidth", "UN", "ＵＮ report", []string{"ＵＮ"}},
		{"near", "a NEAR/2 b", "a x b", []string{"a", "b"}},
		{"invalid utf-8", "Bachelet", "\xff Bachelet \xfe", []string{"Bachelet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := matchOne(t, tt.query, news.Item{Content: tt.content})
			if !ok {
				t.Fatal("no match")
			}
			if !utf8.ValidString(m.Snippet) {
				t.Errorf("snippet %q is not valid UTF-8", m.Snippet)
			}
			if got := markTexts(t, m.Snippet, m.Marks); !reflect.DeepEqual(got, tt.marks) {
				t.Errorf("snippet %q: marks %q, want %q", m.Snippet, got, tt.marks)
			}
		})
	}
	// After a leading ellipsis, offsets count its three bytes.
	filler := strings.Repeat("lorem ipsum ", 60)
	m, _ := matchOne(t, "Bachelet", news.Item{Content: filler + "Bachelet " + filler})
	if !strings.HasPrefix(m.Snippet, "…") || markTexts(t, m.Snippet, m.Marks)[0] != "Bachelet" {
		t.Errorf("snippet %q marks %+v", m.Snippet, m.Marks)
	}
	// A hit longer than the snippet: cut, no mark.
	long := strings.Repeat("a ", 300)
	m, _ = matchOne(t, `"`+long+`"`, news.Item{Content: "x " + long + " y"})
	if n := utf8.RuneCountInString(m.Snippet); n > snippetRunes || len(m.Marks) != 0 {
		t.Errorf("snippet of %d characters, marks %+v", n, m.Marks)
	}
}
