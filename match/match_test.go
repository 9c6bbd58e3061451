package match

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"wirewatch/news"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// matchOne compiles query as a single topic and matches item against it.
func matchOne(t *testing.T, query string, item news.Item) (news.Match, bool) {
	t.Helper()
	ix, err := Compile([]news.Topic{{ID: "t", Query: query}})
	if err != nil {
		t.Fatalf("Compile(%q): %v", query, err)
	}
	ms := ix.Match(item, now)
	if len(ms) > 1 {
		t.Fatalf("Match returned %d matches for one topic", len(ms))
	}
	if len(ms) == 0 {
		return news.Match{}, false
	}
	return ms[0], true
}

func TestMatchSemantics(t *testing.T) {
	title := func(s string) news.Item { return news.Item{ID: "i", SourceID: "src", Title: s} }
	tests := []struct {
		name  string
		query string
		item  news.Item
		want  bool
	}{
		{"whole word", "ball", title("The ball is round"), true},
		{"not a substring", "ball", title("Football results"), false},
		{"not a substring 2", "foot", title("Football results"), false},
		{"case", "XINJIANG", title("xinjiang"), true},
		{"case 2", "xinjiang", title("XINJIANG"), true},
		{"prefix", "Uyghur*", title("Uyghurs detained"), true},
		{"prefix exact", "Uyghur*", title("an Uyghur activist"), true},
		{"prefix other spelling", "Uyghur*", title("Uighur activists"), false},
		{"prefix not infix", "ghur*", title("Uyghurs"), false},
		{"phrase", `"human rights"`, title("Human rights watchdog"), true},
		{"phrase across hyphen", `"human rights"`, title("A human-rights group"), true},
		{"phrase across punctuation", `"human rights"`, title("He was human. Rights came later"), true},
		{"phrase order", `"human rights"`, title("rights of humans"), false},
		{"phrase not adjacent", `"human rights"`, title("human and rights"), false},
		{"hyphenated term is a phrase", "human-rights", title("human rights"), true},
		{"phrase whole words", `"man right"`, title("human rights"), false},
		{"diacritics in query", "Türkiye", title("turkiye elects"), true},
		{"diacritics in item", "turkiye", title("TÜRKİYE elects"), true},
		{"diacritics São", "sao paulo", title("São Paulo floods"), true},
		{"sharp s", "Straße", title("STRASSE closed"), true},
		{"greek final sigma", "οδος", title("ΟΔΟΣ"), true},
		{"full width", "UN", title("ＵＮ report"), true},
		{"cyrillic й is not и", "мои", title("мой"), false},
		{"apostrophe possessive", "China", title("China's economy"), true},
		{"apostrophe curly", "China's", title("China’s economy"), true},
		{"number", "COVID-19", title("covid 19 cases"), true},
		{"cjk substring", "维吾尔", title("新疆维吾尔自治区的人权状况"), true},
		{"cjk absent", "维吾尔族", title("新疆维吾尔自治区"), false},
		{"cjk order", "吾维", title("维吾尔"), false},
		{"japanese", "ウイグル", title("新疆ウイグル自治区"), true},
		{"japanese half width", "ｳｲｸﾞﾙ", title("ウイグル族"), true},
		{"japanese dakuten kept", "ウイクル", title("ウイグル"), false},
		{"korean", "위구르", title("신장위구르자치구 인권"), true},
		{"cjk with latin", "维吾尔", title("Uyghur (维吾尔) region"), true},
		{"and implicit", "Xinjiang cotton", title("Xinjiang cotton prices"), true},
		{"and implicit fails", "Xinjiang cotton", title("Xinjiang prices"), false},
		{"not excludes", "Xinjiang NOT cotton", title("Xinjiang cotton prices"), false},
		{"not allows", "Xinjiang NOT cotton", title("Xinjiang camps"), true},
		{"lowercase not is a word", "Xinjiang not", title("Xinjiang camps"), false},
		{"lowercase not is a word 2", "Xinjiang not", title("not in Xinjiang"), true},
		{"precedence AND over OR (c)", "a b OR c", title("c"), true},
		{"precedence AND over OR (a)", "a b OR c", title("a"), false},
		{"precedence AND over OR (b c)", "a OR b c", title("b"), false},
		{"precedence AND over OR (a only)", "a OR b c", title("a"), true},
		{"precedence NOT over AND", "NOT a b", title("b"), true},
		{"precedence NOT over AND 2", "NOT a b", title("a b"), false},
		{"parens", "(a OR b) c", title("b c"), true},
		{"parens 2", "(a OR b) c", title("a b"), false},
		{"double not", "NOT NOT a", title("a"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := matchOne(t, tt.query, tt.item); got != tt.want {
				t.Errorf("%q on %q: matched = %v, want %v", tt.query, tt.item.Title, got, tt.want)
			}
		})
	}
}

func TestMatchFields(t *testing.T) {
	item := news.Item{
		ID:         "i",
		SourceID:   "BBC-World",
		Title:      "UN rights chief visits region",
		Summary:    "Bachelet met officials.",
		Content:    "The visit was criticised by Uyghur groups.",
		Authors:    []string{"Jane Doe", "John Roe"},
		Categories: []string{"Asia Pacific", "Human Rights"},
		Link:       "https://www.bbc.co.uk/news/world-asia-china-61547108",
	}
	tests := []struct {
		query string
		want  bool
	}{
		{"title:rights", true},
		{"title:Bachelet", false},
		{"summary:Bachelet", true},
		{"content:Bachelet", false},
		{"content:Uyghur", true},
		{"Bachelet", true},          // unrestricted: title, summary, content
		{"Doe", false},              // ... but not authors
		{"Asia", false},             // ... nor categories
		{`author:"Jane Doe"`, true}, // phrase within one author
		{`author:"Doe John"`, false},
		{"author:roe", true},
		{"category:asia", true},
		{`category:"pacific human"`, false}, // phrases never span two values
		{`category:"human rights"`, true},
		{"link:bbc.co.uk", true},
		{"link:china", true},
		{"link:world-asia", true},
		{"link:asia-world", false},
		{"link:https://www.bbc.co.uk/news", true},
		{"source:bbc-world", true},
		{"source:BBC", false},
		{"source:bbc*", true},
		{`source:"bbc-world"`, true},
		{"title:(chief OR Bachelet)", true},
		{"title:(Bachelet OR Uyghur)", false},
		{`title:"rights chief" summary:officials`, true},
		{"Bachelet NOT source:bbc-world", false},
		{"Bachelet NOT source:reuters", true},
	}
	for _, tt := range tests {
		if _, got := matchOne(t, tt.query, item); got != tt.want {
			t.Errorf("%q: matched = %v, want %v", tt.query, got, tt.want)
		}
	}
}

const issueQuery = `(Xinjiang OR Uyghur* OR Uighur*) AND ("human rights" OR "crimes against humanity" OR Bachelet)`

func TestIssueQuery(t *testing.T) {
	tests := []struct {
		name  string
		item  news.Item
		want  bool
		terms []string
	}{
		{
			name:  "title",
			item:  news.Item{Title: "UN rights chief Bachelet visits Xinjiang"},
			want:  true,
			terms: []string{"Xinjiang", "Bachelet"},
		},
		{
			name: "prefix and phrase in content",
			item: news.Item{
				Title:   "UN report published",
				Content: "The report says the treatment of Uyghurs may amount to crimes against humanity.",
			},
			want:  true,
			terms: []string{"Uyghur*", "crimes against humanity"},
		},
		{
			name:  "hyphenated phrase, other spelling",
			item:  news.Item{Summary: "Uighur activists lead human-rights protest"},
			want:  true,
			terms: []string{"Uighur*", "human rights"},
		},
		{name: "cotton prices", item: news.Item{Title: "Xinjiang cotton prices rise"}, want: false},
		{name: "rights elsewhere", item: news.Item{Title: "Human rights in Tibet"}, want: false},
		{name: "substring is not a word", item: news.Item{Title: "Xinjianger Bachelette"}, want: false},
		{name: "empty item", item: news.Item{}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, got := matchOne(t, issueQuery, tt.item)
			if got != tt.want {
				t.Fatalf("matched = %v, want %v", got, tt.want)
			}
			if got && !reflect.DeepEqual(m.Terms, tt.terms) {
				t.Errorf("Terms = %q, want %q", m.Terms, tt.terms)
			}
		})
	}
}

func TestMatchReport(t *testing.T) {
	item := news.Item{
		ID:       "item-1",
		SourceID: "src",
		Title:    "Bachelet visits Xinjiang",
		Summary:  "The UN human rights chief met Uyghur representatives; Uyghurs said little.",
		Content:  "Full text about XINJIANG and human-rights.",
	}
	m, ok := matchOne(t, issueQuery, item)
	if !ok {
		t.Fatal("no match")
	}
	if m.TopicID != "t" || m.ItemID != "item-1" || !m.MatchedAt.Equal(now) || m.Baseline {
		t.Errorf("identity fields = %q %q %v %v", m.TopicID, m.ItemID, m.MatchedAt, m.Baseline)
	}
	// Query order, distinct, only terms that contributed.
	wantTerms := []string{"Xinjiang", "Uyghur*", "human rights", "Bachelet"}
	if !reflect.DeepEqual(m.Terms, wantTerms) {
		t.Errorf("Terms = %q, want %q", m.Terms, wantTerms)
	}
	wantHits := []news.Hit{
		{Term: "Xinjiang", Field: "title", Text: "Xinjiang"},
		{Term: "Xinjiang", Field: "content", Text: "XINJIANG"},
		{Term: "Uyghur*", Field: "summary", Text: "Uyghur"},
		{Term: "human rights", Field: "summary", Text: "human rights"},
		{Term: "human rights", Field: "content", Text: "human-rights"},
		{Term: "Bachelet", Field: "title", Text: "Bachelet"},
	}
	if !reflect.DeepEqual(m.Hits, wantHits) {
		t.Errorf("Hits =\n%+v\nwant\n%+v", m.Hits, wantHits)
	}
	// Xinjiang: 2 (found in the title; the content hit adds nothing);
	// Uyghur*: 1; human rights: 1 (two body fields count once); Bachelet: 2.
	if m.Score != 6 {
		t.Errorf("Score = %v, want 6", m.Score)
	}
	if m.Snippet != item.Summary {
		t.Errorf("Snippet = %q, want the (short) summary", m.Snippet)
	}
}

func TestMatchReportsOnlyContributingTerms(t *testing.T) {
	tests := []struct {
		query string
		title string
		terms []string
	}{
		// cotton is present but its AND branch failed: it is no reason.
		{"Xinjiang OR (cotton AND prices)", "Xinjiang cotton", []string{"Xinjiang"}},
		{"(cotton AND prices) OR Xinjiang", "Xinjiang cotton", []string{"Xinjiang"}},
		// Absent negated term is not "matched".
		{"Xinjiang AND NOT cotton", "Xinjiang camps", []string{"Xinjiang"}},
		// Every true OR branch counts.
		{"a OR b OR c", "c a", []string{"a", "c"}},
		{"NOT NOT a AND b", "a b", []string{"a", "b"}},
		{"a AND NOT (b AND NOT c)", "a b c", []string{"a", "c"}},
	}
	for _, tt := range tests {
		m, ok := matchOne(t, tt.query, news.Item{Title: tt.title})
		if !ok {
			t.Errorf("%q on %q: no match", tt.query, tt.title)
			continue
		}
		if !reflect.DeepEqual(m.Terms, tt.terms) {
			t.Errorf("%q on %q: Terms = %q, want %q", tt.query, tt.title, m.Terms, tt.terms)
		}
		if len(m.Hits) != len(tt.terms) {
			t.Errorf("%q on %q: Hits = %+v, want one per term", tt.query, tt.title, m.Hits)
		}
	}
}

func TestMatchTopicOrderAndSources(t *testing.T) {
	ix, err := Compile([]news.Topic{
		{ID: "first", Query: "Xinjiang"},
		{ID: "other-source", Query: "Xinjiang", Sources: []string{"reuters"}},
		{ID: "no-match", Query: "Tibet"},
		{ID: "this-source", Query: "Xinjiang OR Tibet", Sources: []string{"reuters", "bbc"}},
		{ID: "last", Query: "title:xinjiang"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ms := ix.Match(news.Item{ID: "i", SourceID: "bbc", Title: "Xinjiang"}, now)
	var got []string
	for _, m := range ms {
		got = append(got, m.TopicID)
	}
	want := []string{"first", "this-source", "last"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("matched topics = %q, want %q", got, want)
	}
	if ms := ix.Match(news.Item{Title: "nothing here"}, now); ms != nil {
		t.Errorf("Match on unrelated item = %+v, want nil", ms)
	}
}

func TestCompileErrors(t *testing.T) {
	_, err := Compile([]news.Topic{
		{ID: "ok", Query: "Xinjiang"},
		{ID: "bad1", Query: "a AND"},
		{ID: "bad2", Query: "(a OR b"},
		{ID: "ok", Query: "b"},
		{ID: "", Query: "c"},
	})
	if err == nil {
		t.Fatal("Compile succeeded, want errors")
	}
	msg := err.Error()
	for _, want := range []string{
		`topic "bad1": query: line 1, column 6: missing term after AND`,
		`topic "bad2": query: line 1, column 1: unbalanced parenthesis: ( is never closed`,
		`topic "ok": duplicate topic id`,
		`topic #5: empty topic id`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	var se *SyntaxError
	if !errors.As(err, &se) || se.Column != 6 {
		t.Errorf("errors.As(*SyntaxError) = %v, %+v; want the first topic's error", errors.As(err, &se), se)
	}

	ix, err := Compile(nil)
	if err != nil || len(ix.Topics()) != 0 || ix.Match(news.Item{Title: "x"}, now) != nil {
		t.Errorf("Compile(nil) = %v, %v", ix, err)
	}
}

func TestTopicsIsACopy(t *testing.T) {
	topics := []news.Topic{{ID: "a", Query: "x", Sources: []string{"s1"}}}
	ix, err := Compile(topics)
	if err != nil {
		t.Fatal(err)
	}
	topics[0].Sources[0] = "changed"
	got := ix.Topics()
	if got[0].Sources[0] != "s1" {
		t.Errorf("index changed with the caller's slice: %+v", got)
	}
	got[0].Sources[0] = "changed"
	if ix.Topics()[0].Sources[0] != "s1" {
		t.Error("Topics() exposes the index's own slice")
	}
	if len(ix.Match(news.Item{SourceID: "s1", Title: "x"}, now)) != 1 {
		t.Error("topic no longer matches its source")
	}
}

func TestSnippet(t *testing.T) {
	words := strings.Fields(strings.Repeat("lorem ipsum dolor sit amet consectetur adipiscing elit ", 20))
	before := strings.Join(words[:60], " ")
	after := strings.Join(words[60:], " ")
	content := before + " the Bachelet visit " + after

	t.Run("around hit in content", func(t *testing.T) {
		m, ok := matchOne(t, "Bachelet", news.Item{Title: "Title", Content: content})
		if !ok {
			t.Fatal("no match")
		}
		s := m.Snippet
		if n := utf8.RuneCountInString(s); n > snippetRunes {
			t.Errorf("snippet has %d runes, > %d", n, snippetRunes)
		}
		if !strings.HasPrefix(s, "…") || !strings.HasSuffix(s, "…") {
			t.Errorf("snippet %q: want … at both cuts", s)
		}
		if !strings.Contains(s, "the Bachelet visit") {
			t.Errorf("snippet %q lacks the hit", s)
		}
		// Cut at word boundaries: every word is a whole word of the text.
		for _, w := range strings.Fields(strings.Trim(s, "…")) {
			if !strings.Contains(" "+content+" ", " "+w+" ") {
				t.Errorf("snippet %q has partial word %q", s, w)
			}
		}
	})
	t.Run("summary preferred", func(t *testing.T) {
		m, _ := matchOne(t, "Bachelet", news.Item{Title: "Bachelet", Summary: "Short  summary\nabout Bachelet.", Content: content})
		if m.Snippet != "Short summary about Bachelet." {
			t.Errorf("Snippet = %q", m.Snippet)
		}
	})
	t.Run("title when no text hit", func(t *testing.T) {
		m, _ := matchOne(t, "title:Bachelet", news.Item{Title: "Bachelet in Xinjiang", Content: content})
		if m.Snippet != "Bachelet in Xinjiang" {
			t.Errorf("Snippet = %q", m.Snippet)
		}
	})
	t.Run("hit near the end", func(t *testing.T) {
		text := before + " " + after + " final Bachelet"
		m, _ := matchOne(t, "Bachelet", news.Item{Content: text})
		if !strings.HasSuffix(m.Snippet, "final Bachelet") || !strings.HasPrefix(m.Snippet, "…") {
			t.Errorf("Snippet = %q", m.Snippet)
		}
		if n := utf8.RuneCountInString(m.Snippet); n < snippetRunes-20 || n > snippetRunes {
			t.Errorf("snippet has %d runes; want the budget used", n)
		}
	})
	t.Run("cjk without spaces", func(t *testing.T) {
		text := strings.Repeat("新疆地区的经济发展情况", 40) + "维吾尔" + strings.Repeat("人权状况报告", 40)
		m, ok := matchOne(t, "维吾尔", news.Item{Content: text})
		if !ok {
			t.Fatal("no match")
		}
		if n := utf8.RuneCountInString(m.Snippet); n > snippetRunes {
			t.Errorf("snippet has %d runes", n)
		}
		if !strings.Contains(m.Snippet, "维吾尔") || !utf8.ValidString(m.Snippet) {
			t.Errorf("Snippet = %q", m.Snippet)
		}
	})
}

func TestExplain(t *testing.T) {
	ix, err := Compile([]news.Topic{
		{ID: "xj", Query: issueQuery},
		{ID: "bbc-only", Query: "Xinjiang", Sources: []string{"bbc"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ok, ex, err := ix.Explain("xj", news.Item{SourceID: "s", Title: "Bachelet visits Xinjiang"})
	if err != nil || !ok {
		t.Fatalf("Explain = %v, %v", ok, err)
	}
	for _, want := range []string{
		`topic "xj" matched: score 4, terms: Xinjiang, Bachelet`,
		"query: " + issueQuery,
		"✓ AND: all 2 parts hold",
		"✓ OR: 1 of 3 alternatives hold",
		`    ✓ Xinjiang: found in title "Xinjiang"`,
		`    ✗ Uyghur*: not found in title, summary, content`,
		`    ✓ Bachelet: found in title "Bachelet"`,
	} {
		if !strings.Contains(ex, want) {
			t.Errorf("explanation lacks %q:\n%s", want, ex)
		}
	}

	ok, ex, err = ix.Explain("xj", news.Item{SourceID: "s", Title: "Xinjiang cotton prices rise"})
	if err != nil || ok {
		t.Fatalf("Explain = %v, %v", ok, err)
	}
	for _, want := range []string{
		`topic "xj" did not match: missing "human rights" OR "crimes against humanity" OR Bachelet`,
		"✗ AND: 1 of 2 required parts failed",
		"  ✗ OR: none of 3 alternatives holds",
		`    ✗ "human rights": not found in title, summary, content`,
	} {
		if !strings.Contains(ex, want) {
			t.Errorf("explanation lacks %q:\n%s", want, ex)
		}
	}

	ok, ex, err = ix.Explain("bbc-only", news.Item{SourceID: "reuters", Title: "Xinjiang"})
	if err != nil || ok || !strings.Contains(ex, `does not watch source "reuters"`) || !strings.Contains(ex, `✓ Xinjiang: found in title "Xinjiang"`) {
		t.Errorf("Explain on unwatched source = %v, %v:\n%s", ok, err, ex)
	}

	if _, _, err := ix.Explain("nope", news.Item{}); !errors.Is(err, news.ErrNotFound) {
		t.Errorf("Explain(unknown) error = %v, want ErrNotFound", err)
	}
}

func TestExplainAgreesWithMatch(t *testing.T) {
	queries := []string{issueQuery, "a NOT b", "title:a OR summary:b", "(a b) OR (c NOT d)", `"a b" cd*`}
	var topics []news.Topic
	for i, q := range queries {
		topics = append(topics, news.Topic{ID: fmt.Sprint(i), Query: q})
	}
	ix, err := Compile(topics)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := []string{"a", "b", "c", "d", "cd", "Xinjiang", "Uyghurs", "human", "rights", "Bachelet", "-", "."}
	for range 300 {
		var w []string
		for range rng.IntN(8) {
			w = append(w, vocab[rng.IntN(len(vocab))])
		}
		item := news.Item{Title: strings.Join(w[:len(w)/2], " "), Summary: strings.Join(w[len(w)/2:], " ")}
		matched := map[string]bool{}
		for _, m := range ix.Match(item, now) {
			matched[m.TopicID] = true
		}
		for _, tp := range topics {
			ok, ex, err := ix.Explain(tp.ID, item)
			if err != nil || ok != matched[tp.ID] {
				t.Fatalf("topic %q on %+v: Explain = %v (%v), Match = %v\n%s", tp.Query, item, ok, err, matched[tp.ID], ex)
			}
		}
	}
}

// TestPhraseSearchPaths checks that the two phrase strategies (checking
// each occurrence of the first word, and KMP over the field's occurrences)
// agree on random token sequences, including final prefixes, repeated words
// that exercise the failure function, and gaps between field values.
func TestPhraseSearchPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		words := make([]string, rng.IntN(30))
		for i := range words {
			words[i] = []string{"aa", "ab", "bb", "xy"}[rng.IntN(4)]
		}
		item := news.Item{Categories: []string{strings.Join(words, " ")}}
		if len(words) > 2 && rng.IntN(3) == 0 {
			k := rng.IntN(len(words))
			item.Categories = []string{strings.Join(words[:k], " "), strings.Join(words[k:], " ")}
		}
		phrase := make([]string, 2+rng.IntN(4))
		for i := range phrase {
			phrase[i] = []string{"aa", "ab", "bb"}[rng.IntN(3)]
		}
		query := `category:"` + strings.Join(phrase, " ") + `"`
		if rng.IntN(2) == 0 {
			phrase[len(phrase)-1] = "a"
			query = "category:" + strings.Join(phrase, "-") + "a*" // hyphens make a phrase; the last word a prefix
		}
		ix, err := Compile([]news.Topic{{ID: "t", Query: query}})
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		d := ix.scan(&item)
		full, err := ix.tree(ix.topics[0])
		if err != nil {
			t.Fatal(err)
		}
		m := full.query.term.alts[0].m
		pat := ix.pat(m)
		var direct []ospan
		for i := d.est[pat[0]].head; i != 0; i = d.occs[i-1].next {
			if last, ok := d.verify(pat, i-1, d.hi[fieldCategory]); ok {
				direct = append(direct, ospan{d.occs[i-1].pos, d.occs[last].pos, d.occs[i-1].start, d.occs[last].end})
			}
		}
		got := d.kmp(m, fieldCategory, false, nil)
		if !reflect.DeepEqual(got, direct) {
			t.Fatalf("values %q query %s: kmp = %v, direct = %v", item.Categories, query, got, direct)
		}
		first := d.kmp(m, fieldCategory, true, nil)
		if len(direct) > 0 != (len(first) == 1) || len(first) == 1 && first[0] != direct[0] {
			t.Fatalf("values %q query %s: first kmp = %v, direct = %v", item.Categories, query, first, direct)
		}
		ix.release(d)
	}
}

// TestLargeInput runs a pathological phrase against a large item: without
// the KMP fallback this is quadratic.
func TestLargeInput(t *testing.T) {
	text := strings.Repeat("a ", 500_000)
	query := `"` + strings.Repeat("a ", 1000) + `b"`
	if _, ok := matchOne(t, query, news.Item{Content: text}); ok {
		t.Error("matched without b")
	}
	if _, ok := matchOne(t, query, news.Item{Content: text + "b"}); !ok {
		t.Error("did not match with b at the end")
	}
}

func TestConcurrentMatch(t *testing.T) {
	ix, err := Compile([]news.Topic{{ID: "xj", Query: issueQuery}, {ID: "jp", Query: "ウイグル"}})
	if err != nil {
		t.Fatal(err)
	}
	items := []news.Item{
		{Title: "Bachelet visits Xinjiang"},
		{Title: "新疆ウイグル自治区", Summary: "Türkiye"},
		{Title: "Xinjiang cotton"},
	}
	want := make([]int, len(items))
	for i, it := range items {
		want[i] = len(ix.Match(it, now))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(items)
				if got := len(ix.Match(items[k], now)); got != want[k] {
					t.Errorf("item %d: %d matches, want %d", k, got, want[k])
				}
			}
		})
	}
	wg.Wait()
}
