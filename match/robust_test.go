package match

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"wirewatch/news"
)

// slowTokens tokenises s entirely on the Unicode path: the definition the
// fast path must agree with.
func slowTokens(s string) []token {
	var c collector
	t := newTokenizer()
	t.out = &c
	t.feedUnicode(s, 0)
	t.close()
	return c.toks
}

// sameTokens reports whether the fast path's tokens agree with the
// Unicode path's: the same texts and ends, and starts no earlier. A start
// may be later: NFKC can put a separator and a following character in one
// segment (a space and a Hangul final consonant, " ᆵ"), and the Unicode
// path then attributes the token to the whole segment, where the fast path,
// having skipped the separator, points at the character itself.
func sameTokens(fast, slow []token) bool {
	if len(fast) != len(slow) {
		return false
	}
	for i := range fast {
		f, s := fast[i], slow[i]
		if f.text != s.text || f.end != s.end || f.start < s.start || f.start >= f.end {
			return false
		}
	}
	return true
}

// TestFastSeparators checks every character the fast path skips as a
// separator against the Unicode path, between words and next to marks.
func TestFastSeparators(t *testing.T) {
	n := 0
	for r := rune(0x80); r <= 0x3000; r++ {
		if !isFastSep(r) {
			continue
		}
		n++
		for _, s := range []string{"ab" + string(r) + "cd", string(r) + "\u0301x", "é" + string(r) + "Z"} {
			if got, want := newTokenizer().tokens(s), slowTokens(s); !sameTokens(got, want) {
				t.Errorf("U+%04X in %q: fast %+v, Unicode path %+v", r, s, got, want)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d fast separators", n)
	}
}

// TestTokenizerPaths checks the fast and Unicode paths agree on random
// mixtures of ASCII, accents, combining marks, CJK, punctuation and
// invalid bytes.
func TestTokenizerPaths(t *testing.T) {
	pieces := []string{"a", "Z", "ᆵ", "가", "9", " ", ".", "-", "'", "’", "—", "…", "\u00a0", "é", "e\u0301", "\u0301", "İ", "ß", "ﬁ", "½", "①", "ＵＮ",
		"维", "吾", "ｳ", "ﾞ", "한", "\u200d", "\xff", "\xe2\x80", "=\u0338", "Ω", "ا", "\u064e", "й", "\t", "\n"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		if got, want := newTokenizer().tokens(s), slowTokens(s); !sameTokens(got, want) {
			t.Fatalf("%q: fast %+v, Unicode path %+v", s, got, want)
		}
	}
}

func TestInvalidUTF8(t *testing.T) {
	item := news.Item{
		Title:      "Bachelet \xff\xfe visits",
		Summary:    "\xc3\x28 Xinjiang \xe2\x82",
		Content:    strings.Repeat("\x80", 300) + " Xinjiang " + strings.Repeat("\xf0\x9f", 200),
		Authors:    []string{"\xff"},
		Categories: []string{"a\xffb"},
		Link:       "http://x/\xff",
		SourceID:   "\xfe",
	}
	ix := compileTopic(t, news.Topic{Query: `Bachelet OR Xinjiang OR category:a OR author:xx* OR link:x`})
	v, ms := evaluate(t, ix, item)
	if !v.Matched || !utf8.ValidString(ms[0].Snippet) {
		t.Fatalf("%+v", ms)
	}
	markTexts(t, ms[0].Snippet, ms[0].Marks)
	if _, ex, err := ix.Explain("t", item); err != nil || !strings.Contains(ex, "Bachelet") {
		t.Errorf("Explain: %v\n%s", err, ex)
	}
	// Invalid UTF-8 in any topic field is a positioned error.
	for _, tp := range []news.Topic{
		{ID: "x", Query: "a\xff"},
		{ID: "x", Must: []string{"\xff"}},
		{ID: "x", Query: "a", Exclude: []string{"b\xff"}},
		{ID: "x", Query: "a", Synonyms: map[string][]string{"a": {"\xff"}}},
		{ID: "x", Query: "a", Synonyms: map[string][]string{"a\xff": {"b"}}},
	} {
		_, err := Compile([]news.Topic{tp})
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Msg, "invalid UTF-8") {
			t.Errorf("%+v: %v", tp, err)
		}
	}
}

// heapAlloc returns the bytes allocated while running fn.
func heapAlloc(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHugeItem matches a 10 MB item: time and memory must grow with the
// text, not with the text times the topics.
func TestHugeItem(t *testing.T) {
	c := newCorpus(9)
	var b strings.Builder
	s := c.story()
	for b.Len() < 10<<20 {
		c.sentence(&b, s)
		b.WriteByte(' ')
	}
	item := news.Item{ID: "big", Title: "Huge", Content: b.String()}
	size := uint64(len(item.Content))

	allocs := map[int]uint64{}
	for _, n := range []int{10, 1000, 10000} {
		topics := make([]news.Topic, n)
		for i := range topics {
			topics[i] = c.topic(i)
		}
		topics = append(topics, news.Topic{ID: "story", Query: fmt.Sprintf("%q NEAR/5 %s", s.entities[0], s.topical[0])})
		ix, err := Compile(topics)
		if err != nil {
			t.Fatal(err)
		}
		ix.Match(news.Item{Title: "warm up the pool"}, now)
		var ms []news.Match
		start := time.Now()
		allocs[n] = heapAlloc(func() { ms = ix.Match(item, now) })
		elapsed := time.Since(start)
		if elapsed > 20*time.Second {
			t.Errorf("%d topics: a 10 MB item took %v", n, elapsed)
		}
		if len(ms) == 0 || ms[len(ms)-1].TopicID != "story" {
			t.Errorf("%d topics: the story topic did not match", n)
		}
		t.Logf("%d topics: %v, %.1f bytes allocated per byte of text, %d matches", n, elapsed, float64(allocs[n])/float64(size), len(ms))
		if allocs[n] > 16*size {
			t.Errorf("%d topics: %d bytes allocated for a %d-byte item", n, allocs[n], size)
		}
	}
	// More topics find more words and report more matches, but a thousand
	// times the topics is nowhere near a thousand times the memory: the
	// per-item scratch sized by the index is allocated once per pooled
	// doc, and everything else is per occurrence found in the text.
	if allocs[10000] > 20*allocs[10] {
		t.Errorf("allocations grow with topics: %d at 10, %d at 10000", allocs[10], allocs[10000])
	}
}

func TestDeepNesting(t *testing.T) {
	for _, q := range []string{
		strings.Repeat("(", 100000) + "a" + strings.Repeat(")", 100000),
		strings.Repeat("NOT ", 100000) + "a",
		strings.Repeat("(", 2000) + "a",
		strings.Repeat("title:(", 50) + "a",
		strings.Repeat("a NEAR ", 1000) + "b",
	} {
		if _, err := Parse(q); err == nil {
			t.Errorf("Parse(%.40q…) succeeded", q)
		}
		if _, err := Compile([]news.Topic{{ID: "x", Must: []string{q}}}); err == nil {
			t.Errorf("Compile(must: %.40q…) succeeded", q)
		}
	}
	// The deepest valid query still evaluates and explains.
	q := strings.Repeat("(a AND ", 99) + "a" + strings.Repeat(")", 99)
	ix := compileTopic(t, news.Topic{Query: q})
	if v, _ := evaluate(t, ix, news.Item{Title: "a"}); !v.Matched {
		t.Error("deep query did not match")
	}
}

func TestPathologicalWildcards(t *testing.T) {
	for _, q := range []string{"*", "a*", "**", "*a", "a**", `"a*"`, "é*", "-*"} {
		if _, err := Parse(q); err == nil {
			t.Errorf("Parse(%q) succeeded", q)
		}
	}
	// Every two-letter prefix, and prefixes of one long word at every
	// length: each token of the item is a prefix of hundreds of them.
	var topics []news.Topic
	for a := 'a'; a <= 'z'; a++ {
		for b := 'a'; b <= 'z'; b++ {
			topics = append(topics, news.Topic{ID: fmt.Sprintf("p%c%c", a, b), Query: string([]rune{a, b}) + "*"})
		}
	}
	long := strings.Repeat("ab", 600)
	for n := 3; n <= 1200; n += 7 {
		topics = append(topics, news.Topic{ID: fmt.Sprint("l", n), Query: long[:n] + "*"})
	}
	ix, err := Compile(topics)
	if err != nil {
		t.Fatal(err)
	}
	content := strings.Repeat(long+" ", 2000) + strings.Repeat("zq ", 100000)
	start := time.Now()
	ms := ix.Match(news.Item{Content: content}, now)
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("took %v", elapsed)
	}
	if len(ms) != 2+172 { // ab*, zq*, and every l* prefix
		t.Errorf("%d matches", len(ms))
	}
}

func TestNearLimits(t *testing.T) {
	dense := strings.Repeat("a ", 200000)
	tests := []struct {
		query, content string
		want           bool
	}{
		{"a NEAR/100 b", dense + "b", true},
		{"b NEAR/100 c", "b " + dense + "c", false},
		{`"a a a" NEAR/100 "a a"`, dense, true},
		{`"a a a" NEAR/1 c`, dense + "x c", false},
		{`(a OR "a a" OR "a a a") NEAR/100 (b OR "b b")`, dense, false},
	}
	for _, tt := range tests {
		start := time.Now()
		m, ok := matchOne(t, tt.query, news.Item{Content: tt.content})
		if ok != tt.want {
			t.Errorf("%s: matched %v", tt.query, ok)
		}
		if ok && len(m.Marks) == 0 {
			t.Errorf("%s: no marks", tt.query)
		}
		if elapsed := time.Since(start); elapsed > 20*time.Second {
			t.Errorf("%s: took %v", tt.query, elapsed)
		}
	}
}
