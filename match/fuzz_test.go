package match

import (
	"errors"
	"reflect"
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
	"a NEAR/3 b",
	`"human rights" NEAR Xinjiang`,
	"(Uyghur OR camps) NEAR/2 detention*",
	"title:(a NEAR/1 b) OR c",
	"a NEAR/0 b",
	"a NEAR b NEAR c",
	"Uyghur AND NOT cotton",
	"维吾尔 NEAR/2 人权",
}

var fuzzTexts = []string{
	"UN rights chief Bachelet visits Xinjiang",
	"Uyghurs say human-rights abuses amount to crimes against humanity.",
	"新疆维吾尔自治区的人权状况",
	"TÜRKİYE: STRASSE ﬁnal ½ ① e\u0301",
	"a a a a a a b",
	"Uigur detention camps — cotton’s price",
	"",
	"\xff\x00\u0301",
}

// fuzzSynonyms gives the fuzzed topics a synonym group to expand.
var fuzzSynonyms = map[string][]string{"Uyghur": {"Uighur*", "Uigur", "维吾尔", "human rights"}}

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
			// Compile reports the same error, as a TopicError, in every
			// place an expression can be.
			for _, tp := range []news.Topic{{ID: "x", Query: query}, {ID: "x", Must: []string{"ok", query}}} {
				_, cerr := Compile([]news.Topic{tp})
				var te *TopicError
				var cse *SyntaxError
				if query != "" && (!errors.As(cerr, &te) || !errors.As(cerr, &cse) || *cse != *se) {
					t.Fatalf("Compile(%+v) = %v, want a TopicError wrapping %v", tp, cerr, se)
				}
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
		// As an entry of a list, or a synonym variant, the query is one
		// term or an error, never a panic.
		_, _ = parseEntry(query, true)
		_, _ = Compile([]news.Topic{{ID: "x", Query: "a", Synonyms: map[string][]string{query: {query}}}})
	})
}

func FuzzMatch(f *testing.F) {
	for _, q := range fuzzQueries {
		for _, s := range fuzzTexts {
			f.Add(q, s)
		}
	}
	models := map[bool]*refModel{false: newRefModel(nil), true: newRefModel(fuzzSynonyms)}
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

		// The fast path tokenises exactly as the Unicode path.
		if got, want := newTokenizer().tokens(text), slowTokens(text); !sameTokens(got, want) {
			t.Fatalf("tokens of %q: fast %+v, Unicode path %+v", text, got, want)
		}

		// Every text matches a phrase of itself in its own field: query and
		// item are normalised the same way.
		if !strings.ContainsAny(text, `"“”„*`) {
			if _, err := Parse(`title:"` + text + `"`); err == nil {
				if _, ok := matchOne(t, `title:"`+text+`"`, item); !ok {
					t.Fatalf("text %q does not match a phrase of itself", text)
				}
			}
		}

		if _, err := Parse(query); err != nil {
			return
		}
		topics := []news.Topic{
			{ID: "query", Query: query},
			{ID: "groups", Must: []string{query}, Not: []string{"zzz"}, Exclude: []string{"qqq"}, Synonyms: fuzzSynonyms},
			{ID: "should", Should: []string{query, "Uyghur"}, Synonyms: fuzzSynonyms, MinScore: 2},
			{ID: "synonyms", Query: query, Synonyms: fuzzSynonyms},
		}
		ix, err := Compile(topics)
		if err != nil {
			t.Fatalf("Parse accepted %q but Compile failed: %v", query, err)
		}
		matched := map[string]news.Match{}
		for _, m := range ix.Match(item, now) {
			matched[m.TopicID] = m
		}
		ref := newRefItem(item)
		for i, ct := range ix.topics {
			id := topics[i].ID
			model := models[topics[i].Synonyms != nil]
			v, err := ix.Evaluate(id, item)
			explained, ex, err2 := ix.Explain(id, item)
			m, ok := matched[id]
			if err != nil || err2 != nil || v.Matched != ok || explained != ok {
				t.Fatalf("topic %s: Evaluate %v (%v), Explain %v (%v), Match %v\n%s", id, v.Matched, err, explained, err2, ok, ex)
			}
			// The reference is brute force (NEAR compares every pair of
			// occurrences): it checks texts of ordinary length.
			if len(text) <= 1000 {
				full, err := ix.tree(ct)
				if err != nil {
					t.Fatal(err)
				}
				if _, terms, score, want := model.verdict(ref, full); want != ok || ok && (!reflect.DeepEqual(terms, m.Terms) || score != m.Score) {
					t.Fatalf("topic %s: matched %v terms %q score %v; reference %v %q %v", id, ok, m.Terms, m.Score, want, terms, score)
				}
			}
			if !ok {
				continue
			}
			if !reflect.DeepEqual(m.Hits, v.Hits) || m.Snippet != v.Snippet || !reflect.DeepEqual(m.Marks, v.Marks) {
				t.Fatalf("topic %s: Match %+v, Evaluate %+v", id, m, v)
			}
			if len(m.Terms) == 0 || len(m.Hits) == 0 {
				t.Fatalf("match without reasons: %+v", m)
			}
			for _, h := range m.Hits {
				if !slices.Contains(m.Terms, h.Term) {
					t.Fatalf("hit term %q not among the terms %q", h.Term, m.Terms)
				}
				if !slices.ContainsFunc(fields, func(s string) bool { return strings.Contains(s, h.Text) }) {
					t.Fatalf("hit text %q is not in the item", h.Text)
				}
			}
			if n := utf8.RuneCountInString(m.Snippet); n > snippetRunes || !utf8.ValidString(m.Snippet) {
				t.Fatalf("bad snippet (%d runes): %q", n, m.Snippet)
			}
			full, err := ix.tree(ct)
			if err != nil {
				t.Fatal(err)
			}
			checkMarks(t, ix, model, m, full)
		}
	})
}
