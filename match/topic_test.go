package match

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"wirewatch/news"
)

// compileTopic compiles one topic, failing the test on error.
func compileTopic(t *testing.T, tp news.Topic) *Index {
	t.Helper()
	if tp.ID == "" {
		tp.ID = "t"
	}
	ix, err := Compile([]news.Topic{tp})
	if err != nil {
		t.Fatalf("Compile(%+v): %v", tp, err)
	}
	return ix
}

// evaluate runs Match and Evaluate on one topic and checks they agree.
func evaluate(t *testing.T, ix *Index, item news.Item) (Verdict, []news.Match) {
	t.Helper()
	id := ix.topics[0].topic.ID
	v, err := ix.Evaluate(id, item)
	if err != nil {
		t.Fatal(err)
	}
	ms := ix.Match(item, now)
	if v.Matched != (len(ms) == 1) {
		t.Fatalf("Evaluate.Matched = %v but Match found %d (%s)", v.Matched, len(ms), v.Reason)
	}
	return v, ms
}

func TestParseNear(t *testing.T) {
	valid := []struct{ query, want string }{
		{"a NEAR/3 b", "a NEAR/3 b"},
		{"a NEAR b", "a NEAR/10 b"},
		{"a NEAR/100 b", "a NEAR/100 b"},
		{`title:(a NEAR/3 "b c")`, `title:a NEAR/3 title:"b c"`},
		{"(a OR bb*) NEAR/2 c", "(a OR bb*) NEAR/2 c"},
		{"x a NEAR/2 b OR c", "(x AND a NEAR/2 b) OR c"},
		{"NOT a NEAR b c", "NOT a NEAR/10 b AND c"},
		{"(a NEAR b) AND (c NEAR d)", "a NEAR/10 b AND c NEAR/10 d"},
		{"a near b", "a AND near AND b"}, // lowercase near is a word
		{"title:NEAR", "title:NEAR"},
		{"维吾尔 NEAR/2 人权", "维吾尔 NEAR/2 人权"},
	}
	for _, tt := range valid {
		q, err := Parse(tt.query)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.query, err)
			continue
		}
		if got := q.String(); got != tt.want {
			t.Errorf("Parse(%q) = %q, want %q", tt.query, got, tt.want)
		}
		if q2, err := Parse(q.String()); err != nil || q2.String() != q.String() {
			t.Errorf("canonical form %q of %q does not reparse to itself: %v", q.String(), tt.query, err)
		}
	}
	invalid := []struct {
		query string
		col   int
		msg   string
	}{
		{"a NEAR/0 b", 3, "from 1 to 100"},
		{"a NEAR/101 b", 3, "from 1 to 100"},
		{"a NEAR/1000000000000000000000 b", 3, "from 1 to 100"},
		{"a NEAR/x b", 3, "whole number"},
		{"a NEAR/+5 b", 3, "whole number"},
		{"a NEAR", 7, "missing term after NEAR"},
		{"NEAR b", 1, "unexpected NEAR"},
		{"a NEAR NOT b", 8, "NOT inside NEAR"},
		{"a NEAR b NEAR c", 10, "NEAR joins two operands"},
		{"(a b) NEAR c", 1, "NEAR joins terms"},
		{"(a NEAR b) NEAR c", 1, "NEAR joins terms"},
		{"title:a NEAR b", 9, "same field"},
		{"source:x NEAR source:y", 10, "no words"},
		{"a NEAR /3 b", 8, "without a space"},
		{"(a OR title:b) NEAR c", 1, "in one field"},
	}
	for _, tt := range invalid {
		_, err := Parse(tt.query)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Column != tt.col || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("Parse(%q) = %v; want column %d, %q", tt.query, err, tt.col, tt.msg)
		}
	}
}

func TestNear(t *testing.T) {
	tests := []struct {
		query string
		item  news.Item
		want  bool
	}{
		{"a NEAR/1 b", news.Item{Title: "a b"}, true},
		{"a NEAR/1 b", news.Item{Title: "b a"}, true},
		{"a NEAR/1 b", news.Item{Title: "a x b"}, false},
		{"a NEAR/2 b", news.Item{Title: "a x b"}, true},
		{"a NEAR/2 b", news.Item{Title: "b, x — a"}, true},
		{"a NEAR/2 b", news.Item{Title: "a x y b"}, false},
		{"a NEAR/2 b", news.Item{Title: "a x y b x a"}, true}, // the second a
		{"a NEAR b", news.Item{Title: "a 1 2 3 4 5 6 7 8 9 b"}, true},
		{"a NEAR b", news.Item{Title: "a 1 2 3 4 5 6 7 8 9 10 b"}, false},
		{`"human rights" NEAR/3 Xinjiang`, news.Item{Title: "human rights abuses in Xinjiang"}, true},
		{`"human rights" NEAR/3 Xinjiang`, news.Item{Title: "human rights abuses reported in Xinjiang"}, false},
		{`"human rights" NEAR/3 Xinjiang`, news.Item{Title: "Xinjiang: the human-rights record"}, true},
		{`rights NEAR/1 "human rights"`, news.Item{Title: "human rights"}, false}, // overlapping
		{`rights NEAR/1 "human rights"`, news.Item{Title: "rights human rights"}, true},
		{"Uyghur* NEAR/2 camp*", news.Item{Summary: "Uyghurs in camps"}, true},
		{"(Uyghur OR Uighur) NEAR/2 camps", news.Item{Content: "Uighur detention camps"}, true},
		{"a NEAR/2 b", news.Item{Title: "a", Content: "b"}, false}, // different fields
		{"title:(a NEAR/2 b)", news.Item{Title: "a b", Content: "a b"}, true},
		{"title:(a NEAR/2 b)", news.Item{Title: "a", Content: "a b"}, false},
		{"category:(asia NEAR/5 rights)", news.Item{Categories: []string{"Asia Pacific", "Human Rights"}}, false},
		{"category:(asia NEAR/5 pacific)", news.Item{Categories: []string{"Asia Pacific", "Human Rights"}}, true},
		{"维吾尔 NEAR/2 人权", news.Item{Title: "维吾尔族人权"}, true},
		{"维吾尔 NEAR/1 人权", news.Item{Title: "维吾尔族人权"}, false},
		{"x AND NOT (a NEAR/1 b)", news.Item{Title: "x a b"}, false},
		{"x AND NOT (a NEAR/1 b)", news.Item{Title: "x a q b"}, true},
	}
	for _, tt := range tests {
		ix := compileTopic(t, news.Topic{Query: tt.query})
		v, _ := evaluate(t, ix, tt.item)
		if v.Matched != tt.want {
			t.Errorf("%q on %+v: matched = %v, want %v (%s)", tt.query, tt.item, v.Matched, tt.want, v.Reason)
		}
	}
	// A true NEAR reports its terms.
	ix := compileTopic(t, news.Topic{Query: `"human rights" NEAR/3 Xinjiang`})
	v, _ := evaluate(t, ix, news.Item{Content: "human rights abuses in Xinjiang"})
	if !reflect.DeepEqual(v.Terms, []string{"human rights", "Xinjiang"}) || v.Score != 2 {
		t.Errorf("NEAR report: terms %q score %v", v.Terms, v.Score)
	}
	_, ex, _ := ix.Explain("t", news.Item{Content: "human rights abuses in Xinjiang"})
	if !strings.Contains(ex, "✓ NEAR/3: within 3 words in content") {
		t.Errorf("explanation lacks the NEAR line:\n%s", ex)
	}
}

var uyghurSynonyms = map[string][]string{
	"Uyghur": {"Uighur*", "Uigur", "Uygur", "维吾尔", "Uyghur people"},
}

func TestSynonyms(t *testing.T) {
	tests := []struct {
		query string
		item  news.Item
		want  bool
		hit   news.Hit
	}{
		{"Uyghur AND camps", news.Item{Title: "Uighurs held in camps"}, true, news.Hit{Term: "Uyghur", Field: "title", Text: "Uighurs"}},
		{"Uyghur AND camps", news.Item{Title: "Uyghur camps"}, true, news.Hit{Term: "Uyghur", Field: "title", Text: "Uyghur"}},
		{"Uyghur AND camps", news.Item{Title: "Uygur camps"}, true, news.Hit{Term: "Uyghur", Field: "title", Text: "Uygur"}},
		{"Uyghur AND camps", news.Item{Title: "Uyghurs camps"}, false, news.Hit{}}, // the name itself is a whole word
		{"Uyghur", news.Item{Title: "新疆维吾尔自治区的人权状况"}, true, news.Hit{Term: "Uyghur", Field: "title", Text: "维吾尔"}},
		{"Uyghur", news.Item{Summary: "the Uyghur people"}, true, news.Hit{Term: "Uyghur", Field: "summary", Text: "Uyghur"}},
		{"uyghur", news.Item{Title: "Uigur"}, true, news.Hit{Term: "uyghur", Field: "title", Text: "Uigur"}}, // group names compare normalised
		{"ＵＹＧＨＵＲ", news.Item{Title: "Uigur"}, true, news.Hit{Term: "ＵＹＧＨＵＲ", Field: "title", Text: "Uigur"}},
		{`"Uyghur"`, news.Item{Title: "Uigur"}, false, news.Hit{}}, // quoted: the word only
		{"Uyghur*", news.Item{Title: "Uigur"}, false, news.Hit{}},  // a prefix is not the group
		{"title:Uyghur", news.Item{Title: "x", Content: "Uigur"}, false, news.Hit{}},
		{"content:Uyghur", news.Item{Content: "Uighurs"}, true, news.Hit{Term: "Uyghur", Field: "content", Text: "Uighurs"}},
		{"Uyghur NEAR/3 camps", news.Item{Content: "Uigur detention camps"}, true, news.Hit{Term: "Uyghur", Field: "content", Text: "Uigur"}},
		{"Xinjiang NOT Uyghur", news.Item{Title: "Xinjiang Uighurs"}, false, news.Hit{}},
	}
	for _, tt := range tests {
		ix := compileTopic(t, news.Topic{Query: tt.query, Synonyms: uyghurSynonyms})
		v, _ := evaluate(t, ix, tt.item)
		if v.Matched != tt.want {
			t.Errorf("%q on %+v: matched = %v, want %v (%s)", tt.query, tt.item, v.Matched, tt.want, v.Reason)
			continue
		}
		if tt.want && !slices.Contains(v.Hits, tt.hit) {
			t.Errorf("%q on %+v: hits %+v lack %+v", tt.query, tt.item, v.Hits, tt.hit)
		}
	}

	ix := compileTopic(t, news.Topic{Query: "Uyghur", Synonyms: uyghurSynonyms, Exclude: []string{"cotton"}})
	_, ex, _ := ix.Explain("t", news.Item{Title: "x", Summary: "Uighurs"})
	if !strings.Contains(ex, `✓ Uyghur: found in summary "Uighurs" (variant Uighur*)`) {
		t.Errorf("explanation lacks the variant:\n%s", ex)
	}
	_, ex, _ = ix.Explain("t", news.Item{Title: "x"})
	if !strings.Contains(ex, `✗ Uyghur: not found in title, summary, content (nor its variants Uighur*, Uigur, Uygur, 维吾尔, "Uyghur people")`) {
		t.Errorf("explanation lacks the variants looked for:\n%s", ex)
	}

	// Synonyms apply in exclude entries and in groups too.
	ix = compileTopic(t, news.Topic{Must: []string{"Xinjiang"}, Exclude: []string{"Uyghur"}, Synonyms: uyghurSynonyms})
	if v, _ := evaluate(t, ix, news.Item{Title: "Xinjiang Uighurs"}); v.Matched || !reflect.DeepEqual(v.Excluded, []string{"Uyghur"}) {
		t.Errorf("exclude of a group: %+v", v)
	}
	ix = compileTopic(t, news.Topic{Should: []string{"Uyghur", "Tibet"}, Synonyms: uyghurSynonyms})
	if v, _ := evaluate(t, ix, news.Item{Title: "Uigur"}); !v.Matched {
		t.Errorf("should with a group: %+v", v)
	}
}

func TestSynonymErrors(t *testing.T) {
	tests := []struct {
		synonyms map[string][]string
		key      string
		index    int
		msg      string
	}{
		{map[string][]string{"Uyghur": nil}, "Uyghur", -1, "no variants"},
		{map[string][]string{"Uyghur": {"Uighur", " "}}, "Uyghur", 1, "empty entry"},
		{map[string][]string{"human rights": {"rights"}}, "human rights", -1, "single word"},
		{map[string][]string{`"Uyghur"`: {"x"}}, `"Uyghur"`, -1, "single word"},
		{map[string][]string{"Uyghur*": {"x"}}, "Uyghur*", -1, "single word"},
		{map[string][]string{"": {"x"}}, "", -1, "empty entry"},
		{map[string][]string{"---": {"x"}}, "---", -1, "no letters"},
		{map[string][]string{"Uyghur": {"a OR b"}}, "Uyghur", 0, "one term or phrase"},
		{map[string][]string{"Uyghur": {"(a)"}}, "Uyghur", 0, "parentheses"},
		{map[string][]string{"Uyghur": {"title:x"}}, "Uyghur", 0, "not allowed here"},
		{map[string][]string{"Uyghur": {"Uig*ur"}}, "Uyghur", 0, "only allowed at the end"},
		{map[string][]string{"Uyghur": {`"Uighur`}}, "Uyghur", 0, "unbalanced quotes"},
		{map[string][]string{"Uyghur": {"x"}, "uyghur": {"y"}}, "uyghur", -1, `same word as group "Uyghur"`},
	}
	for _, tt := range tests {
		_, err := Compile([]news.Topic{{ID: "x", Query: "a", Synonyms: tt.synonyms}})
		var te *TopicError
		if !errors.As(err, &te) {
			t.Errorf("%v: error %v, want a TopicError", tt.synonyms, err)
			continue
		}
		if te.TopicID != "x" || te.Field != "synonyms" || te.Key != tt.key || te.Index != tt.index || !strings.Contains(te.Error(), tt.msg) {
			t.Errorf("%v: %+v (%v); want key %q index %d, %q", tt.synonyms, te, te, tt.key, tt.index, tt.msg)
		}
	}
	// Many synonyms are fine.
	variants := make([]string, 5000)
	for i := range variants {
		variants[i] = "variant" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	ix := compileTopic(t, news.Topic{Query: "Uyghur NEAR/5 camps", Synonyms: map[string][]string{"Uyghur": variants}})
	if v, _ := evaluate(t, ix, news.Item{Content: "the " + variants[4321] + " camps"}); !v.Matched {
		t.Errorf("variant 4321 of 5000 not found: %s", v.Reason)
	}
}

func TestWeightsMinScoreExclude(t *testing.T) {
	base := news.Topic{
		Query:   issueQuery,
		Weights: map[string]float64{"crimes against humanity": 3, "Xinjiang": 2, `"human rights"`: 0.5, "bachelet": 4},
	}
	item := news.Item{Title: "Report on Xinjiang", Content: "may amount to crimes against humanity, and human rights groups"}
	ix := compileTopic(t, base)
	v, ms := evaluate(t, ix, item)
	// Xinjiang 2×2 (title) + crimes against humanity 3 + human rights 0.5.
	if !v.Matched || v.Score != 7.5 || ms[0].Score != 7.5 {
		t.Fatalf("weighted score = %+v", v)
	}
	// The snippet centres on the strongest body hit: crimes against humanity.
	if !strings.Contains(ms[0].Snippet, "crimes against humanity") {
		t.Errorf("snippet %q", ms[0].Snippet)
	}

	low := base
	low.MinScore = 8
	ix = compileTopic(t, low)
	v, _ = evaluate(t, ix, item)
	if v.Matched || v.Reason != "score 7.5 below min_score 8" || v.MinScore != 8 || v.Score != 7.5 {
		t.Errorf("below min_score: %+v", v)
	}
	_, ex, _ := ix.Explain("t", item)
	for _, want := range []string{
		"did not match: score 7.5 below min_score 8",
		"score: 7.5 = Xinjiang 2×2 (title) + human rights 0.5 + crimes against humanity 3; min_score 8 not reached",
		"verdict: not matched: score 7.5 below min_score 8",
	} {
		if !strings.Contains(ex, want) {
			t.Errorf("explanation lacks %q:\n%s", want, ex)
		}
	}
	low.MinScore = 7.5
	if v, _ := evaluate(t, compileTopic(t, low), item); !v.Matched {
		t.Errorf("score equal to min_score does not match: %s", v.Reason)
	}

	ex1 := news.Topic{Query: "Xinjiang", Exclude: []string{"cotton", "forced labour", "title:prices", `"re-education"`, "exports*"}}
	ix = compileTopic(t, ex1)
	for _, tt := range []struct {
		item     news.Item
		excluded []string
	}{
		{news.Item{Title: "Xinjiang cotton"}, []string{"cotton"}},
		{news.Item{Title: "Xinjiang", Content: "forced-labour claims"}, []string{`"forced labour"`}},
		{news.Item{Title: "Xinjiang", Content: "prices"}, nil},
		{news.Item{Title: "Xinjiang prices", Summary: "re-education"}, []string{"title:prices", `"re-education"`}},
		{news.Item{Title: "Xinjiang exports"}, []string{"exports*"}},
	} {
		v, _ := evaluate(t, ix, tt.item)
		if v.Matched != (tt.excluded == nil) || !reflect.DeepEqual(v.Excluded, tt.excluded) {
			t.Errorf("%+v: matched %v excluded %q, want %q", tt.item, v.Matched, v.Excluded, tt.excluded)
		}
		if tt.excluded != nil && v.Reason != "excluded term "+strings.Join(tt.excluded, ", ")+" present" {
			t.Errorf("reason %q", v.Reason)
		}
	}
	_, ex, _ = ix.Explain("t", news.Item{Title: "Xinjiang cotton"})
	if !strings.Contains(ex, "exclude: present, vetoing the match:\n  ✓ cotton: found in title \"cotton\"") {
		t.Errorf("explanation lacks the excluded term:\n%s", ex)
	}
	_, ex, _ = ix.Explain("t", news.Item{Title: "Xinjiang"})
	if !strings.Contains(ex, `exclude: none present (cotton, "forced labour", title:prices, "re-education", exports*)`) {
		t.Errorf("explanation lacks the exclude list:\n%s", ex)
	}
}

func TestWeightErrors(t *testing.T) {
	tests := []struct {
		topic news.Topic
		field string
		key   string
		msg   string
	}{
		{news.Topic{Query: "a b", Weights: map[string]float64{"c": 2}}, "weights", "c", "not a term of the topic (its terms: a, b)"},
		{news.Topic{Query: "a NOT b", Weights: map[string]float64{"b": 2}}, "weights", "b", "only occurs negated"},
		{news.Topic{Must: []string{"a"}, Not: []string{"b"}, Weights: map[string]float64{"b": 2}}, "weights", "b", "only occurs negated"},
		{news.Topic{Query: "a", Weights: map[string]float64{"a": -1}}, "weights", "a", "not a weight"},
		{news.Topic{Query: "a", Weights: map[string]float64{"a": math.NaN()}}, "weights", "a", "not a weight"},
		{news.Topic{Query: "a", Weights: map[string]float64{"a": math.Inf(1)}}, "weights", "a", "not a weight"},
		{news.Topic{Query: "a", MinScore: math.NaN()}, "min_score", "", "not a score"},
		{news.Topic{Query: "a", MinScore: -1}, "min_score", "", "not a score"},
		{news.Topic{Query: "Uyghur", Synonyms: uyghurSynonyms, Weights: map[string]float64{"Uighur*": 2}}, "weights", "Uighur*", "not a term"},
	}
	for _, tt := range tests {
		tt.topic.ID = "x"
		_, err := Compile([]news.Topic{tt.topic})
		var te *TopicError
		if !errors.As(err, &te) || te.Field != tt.field || te.Key != tt.key || te.Index != -1 || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%+v: %v; want %s %q: %q", tt.topic, err, tt.field, tt.key, tt.msg)
		}
	}
	// Keys may differ in case and carry quotes; weight 0 is allowed.
	ix := compileTopic(t, news.Topic{Query: `XINJIANG "human rights"`, Weights: map[string]float64{"xinjiang": 0, `“human rights”`: 2}})
	if v, _ := evaluate(t, ix, news.Item{Summary: "Xinjiang human rights"}); v.Score != 2 {
		t.Errorf("score %v, want 2", v.Score)
	}
}

func TestGroups(t *testing.T) {
	topic := news.Topic{
		Must:   []string{"Xinjiang OR Uyghur*", "camps"},
		Should: []string{"detention", `"re-education"`},
		Not:    []string{"cotton", "title:prices"},
	}
	ix := compileTopic(t, topic)
	tests := []struct {
		title   string
		want    bool
		terms   []string
		missing []string
		reason  string
	}{
		{"Xinjiang camps detention", true, []string{"Xinjiang", "camps", "detention"}, nil, "matched Xinjiang, camps, detention, score 6"},
		{"Uyghurs in re-education camps, detention", true, []string{"Uyghur*", "camps", "detention", "re-education"}, nil, ""},
		{"Xinjiang camps", false, nil, []string{`should: any of detention | "re-education"`}, `missing should: any of detention | "re-education"`},
		{"Xinjiang detention", false, nil, []string{"must[1]: camps"}, "missing must[1]: camps"},
		{"Xinjiang camps detention cotton", false, nil, nil, `not[0] term "cotton" present`},
		{"Xinjiang camps detention prices", false, nil, nil, `not[1] term "prices" present`},
		{"cotton", false, nil, []string{"must[0]: Xinjiang OR Uyghur*", "must[1]: camps", `should: any of detention | "re-education"`}, ""},
	}
	for _, tt := range tests {
		v, _ := evaluate(t, ix, news.Item{Title: tt.title})
		if v.Matched != tt.want || !reflect.DeepEqual(v.Terms, tt.terms) || !reflect.DeepEqual(v.Missing, tt.missing) {
			t.Errorf("%q: %+v; want matched %v terms %q missing %q", tt.title, v, tt.want, tt.terms, tt.missing)
		}
		if tt.reason != "" && v.Reason != tt.reason {
			t.Errorf("%q: reason %q, want %q", tt.title, v.Reason, tt.reason)
		}
	}
	_, ex, _ := ix.Explain("t", news.Item{Title: "Xinjiang camps cotton"})
	for _, want := range []string{
		"must: 2 of 2 hold (all must hold)",
		"  must[0]: Xinjiang OR Uyghur*",
		`      ✓ Xinjiang: found in title "Xinjiang"`,
		"should: 0 of 2 hold (at least one must hold)",
		`    ✗ "re-education": not found in title, summary, content`,
		"not: 1 of 2 hold (none may hold)",
		`    ✓ cotton: found in title "cotton"`,
		"verdict: not matched: missing should",
	} {
		if !strings.Contains(ex, want) {
			t.Errorf("explanation lacks %q:\n%s", want, ex)
		}
	}

	// Should alone; each matching should adds its terms' scores.
	ix = compileTopic(t, news.Topic{Should: []string{"a", "b", "c d"}})
	if v, _ := evaluate(t, ix, news.Item{Title: "a", Summary: "b c"}); !v.Matched || v.Score != 3 || !reflect.DeepEqual(v.Terms, []string{"a", "b"}) {
		t.Errorf("should only: %+v", v)
	}
	// Must alone.
	ix = compileTopic(t, news.Topic{Must: []string{"a", "b"}, Not: []string{"c"}})
	if v, _ := evaluate(t, ix, news.Item{Title: "a b"}); !v.Matched {
		t.Errorf("must only: %+v", v)
	}
}

func TestTopicErrors(t *testing.T) {
	_, err := Compile([]news.Topic{
		{ID: "ok", Query: "Xinjiang"},
		{ID: "q", Query: "a AND"},
		{ID: "g", Must: []string{"a", "b OR (c"}, Not: []string{"x", "NOT y"}},
		{ID: "both", Query: "a", Must: []string{"b"}},
		{ID: "none", Not: []string{"b"}},
		{ID: "ex", Query: "a", Exclude: []string{"cotton", `"forced labour`, "a OR b", ""}},
		{ID: "sh", Should: []string{"title:"}},
	})
	if err == nil {
		t.Fatal("no error")
	}
	type want struct {
		id, field string
		index     int
		col       int // of the *SyntaxError; 0: none
		text      string
	}
	wants := []want{
		{"q", "query", -1, 6, `topic "q": query: line 1, column 6: missing term after AND`},
		{"g", "must", 1, 6, `topic "g": must[1]: line 1, column 6: unbalanced parenthesis: ( is never closed`},
		{"g", "not", 1, 1, `topic "g": not[1]: line 1, column 1: query matches items that contain none of its terms`},
		{"both", "query", -1, 0, `topic "both": query: write either query or must/should/not groups, not both`},
		{"none", "query", -1, 0, `topic "none": query: no query: write a query, or must/should groups`},
		{"ex", "exclude", 1, 1, `topic "ex": exclude[1]: line 1, column 1: unbalanced quotes`},
		{"ex", "exclude", 2, 3, `topic "ex": exclude[2]: line 1, column 3: OR: an entry is one term or phrase`},
		{"ex", "exclude", 3, 1, `topic "ex": exclude[3]: line 1, column 1: empty entry`},
		{"sh", "should", 0, 7, `topic "sh": should[0]: line 1, column 7: missing term after title:`},
	}
	var tes []*TopicError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var te *TopicError
		if !errors.As(e, &te) {
			t.Fatalf("error %v is not a TopicError", e)
		}
		tes = append(tes, te)
	}
	if len(tes) != len(wants) {
		t.Errorf("%d errors, want %d:\n%v", len(tes), len(wants), err)
	}
	for i, w := range wants[:min(len(wants), len(tes))] {
		te := tes[i]
		if te.TopicID != w.id || te.Field != w.field || te.Index != w.index || !strings.HasPrefix(te.Error(), w.text) {
			t.Errorf("error %d = %+v %q; want %+v", i, te, te.Error(), w)
		}
		var se *SyntaxError
		if got := errors.As(te, &se); got != (w.col > 0) || got && se.Column != w.col {
			t.Errorf("error %d: SyntaxError %v %+v, want column %d", i, got, se, w.col)
		}
	}
	var se *SyntaxError
	if !errors.As(err, &se) || se.Column != 6 {
		t.Errorf("errors.As(joined, *SyntaxError) = %+v", se)
	}
}

func TestTitleWeighting(t *testing.T) {
	ix := compileTopic(t, news.Topic{Query: "a OR b OR c"})
	tests := []struct {
		item  news.Item
		score float64
	}{
		{news.Item{Title: "a"}, 2},
		{news.Item{Content: "a"}, 1},
		{news.Item{Title: "a", Summary: "a", Content: "a"}, 2}, // a term counts once, doubled for the title
		{news.Item{Title: "a", Content: "b"}, 3},
		{news.Item{Title: "a b", Content: "c"}, 5},
		{news.Item{Summary: "a b c"}, 3},
	}
	for _, tt := range tests {
		if v, _ := evaluate(t, ix, tt.item); v.Score != tt.score {
			t.Errorf("%+v: score %v, want %v", tt.item, v.Score, tt.score)
		}
	}
}
