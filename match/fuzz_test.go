package match

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"wirewatch/news"
)

var fuzzQueries = []string{
	issueQuery,
	"a b OR c",
	"NOT NOT a",
	"a AND NOT (b OR c)",
	`title:(a OR "b c") summary:d*`,
	"link:https://example.com/x?y=1",
	"source:bbc* OR author:\"Jane Doe\" category:asia",
	"维吾尔 OR ウイグル OR 위구르",
	"Türkiye Straße ﬁsh",
	"(((a)))",
	"a OR\n  (b AND c",
	`"unterminated`,
	"title:(summary:x)",
	"foo*bar",
	"warning: 10:30",
	"China's human-rights",
	"\xff\xfe",
	"",
}

var fuzzTexts = []string{
	"UN rights chief Bachelet visits Xinjiang",
	"Uyghurs say human-rights abuses amount to crimes against humanity.",
	"新疆维吾尔自治区的人权状况",
	"TÜRKİYE: STRASSE ﬁnal ½ ① e\u0301",
	"a a a a a a b",
	"",
	"\xff\x00\u0301",
}

func FuzzParse(f *testing.F) {
	for _, q := range fuzzQueries {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := Parse(query)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *SyntaxError", err, err)
			}
			if se.Offset < 0 || se.Offset > len(query) || se.Msg == "" {
				t.Fatalf("bad error position/message: %+v for %q", se, query)
			}
			want := syntaxErr(query, se.Offset, "")
			if se.Line != want.Line || se.Column != want.Column {
				t.Fatalf("line/column %d:%d do not match offset %d (%d:%d)", se.Line, se.Column, se.Offset, want.Line, want.Column)
			}
			return
		}
		if len(q.Terms()) == 0 {
			t.Fatalf("query %q has no positive terms", query)
		}
		s := q.String()
		q2, err := Parse(s)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", s, query, err)
		}
		if s2 := q2.String(); s2 != s {
			t.Fatalf("canonical form not stable: %q -> %q -> %q", query, s, s2)
		}
		if !slices.Equal(q.Terms(), q2.Terms()) {
			t.Fatalf("terms changed through canonical form: %q vs %q", q.Terms(), q2.Terms())
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, q := range fuzzQueries {
		for _, s := range fuzzTexts {
			f.Add(q, s)
		}
	}
	f.Fuzz(func(t *testing.T, query, text string) {
		item := news.Item{
			ID:         "i",
			SourceID:   text,
			Title:      text,
			Summary:    text[len(text)/2:],
			Content:    strings.Repeat(text+" ", 3),
			Authors:    []string{text, "Jane Doe"},
			Categories: strings.Fields(text),
			Link:       text,
		}
		fields := []string{item.Title, item.Summary, item.Content, item.Link, item.SourceID, "Jane Doe"}
		fields = append(fields, item.Categories...)

		// Every text matches a phrase of itself in its own field: query and
		// item are normalised the same way.
		if !strings.ContainsAny(text, `"*`) {
			if _, err := Parse(`title:"` + text + `"`); err == nil {
				if _, ok := matchOne(t, `title:"`+text+`"`, item); !ok {
					t.Fatalf("text %q does not match a phrase of itself", text)
				}
			}
		}

		q, err := Parse(query)
		if err != nil {
			return
		}
		ix, err := Compile([]news.Topic{{ID: "t", Query: query}})
		if err != nil {
			t.Fatalf("Parse accepted %q but Compile failed: %v", query, err)
		}
		ms := ix.Match(item, now)
		explained, _, err := ix.Explain("t", item)
		if err != nil || explained != (len(ms) == 1) {
			t.Fatalf("Explain = %v (%v), Match found %d", explained, err, len(ms))
		}
		if len(ms) == 0 {
			return
		}
		m := ms[0]
		if len(m.Terms) == 0 || len(m.Hits) == 0 || m.Score <= 0 {
			t.Fatalf("match without reasons: %+v", m)
		}
		terms := q.Terms()
		for _, h := range m.Hits {
			if !slices.Contains(terms, h.Term) {
				t.Fatalf("hit term %q not among the positive terms %q", h.Term, terms)
			}
			found := false
			for _, s := range fields {
				found = found || strings.Contains(s, h.Text)
			}
			if !found {
				t.Fatalf("hit text %q is not in the item", h.Text)
			}
		}
		if n := utf8.RuneCountInString(m.Snippet); n > snippetRunes || !utf8.ValidString(m.Snippet) {
			t.Fatalf("bad snippet (%d runes): %q", n, m.Snippet)
		}
	})
}
