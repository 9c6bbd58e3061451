package match

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		query string
		want  string // canonical String()
		terms []string
	}{
		{"Xinjiang", "Xinjiang", []string{"Xinjiang"}},
		{"a b", "a AND b", []string{"a", "b"}},
		{"a AND b", "a AND b", []string{"a", "b"}},
		{"a b OR c", "(a AND b) OR c", []string{"a", "b", "c"}},
		{"a OR b c", "a OR (b AND c)", []string{"a", "b", "c"}},
		{"NOT a b", "NOT a AND b", []string{"b"}},
		{"a AND NOT (b OR c)", "a AND NOT (b OR c)", []string{"a"}},
		{"NOT NOT a", "NOT NOT a", []string{"a"}},
		{"(a OR b) AND (c OR d)", "(a OR b) AND (c OR d)", []string{"a", "b", "c", "d"}},
		{"((a))", "a", []string{"a"}},
		{"a OR (b OR c)", "a OR b OR c", []string{"a", "b", "c"}},
		{"(a AND b) AND c", "a AND b AND c", []string{"a", "b", "c"}},
		{`title:(a OR "b  c")`, `title:a OR title:"b c"`, []string{"a", "b c"}},
		{"Title:x", "title:x", []string{"x"}},
		{`SUMMARY:"x y"`, `summary:"x y"`, []string{"x y"}},
		{"link:https://example.com/x", "link:https://example.com/x", []string{"https://example.com/x"}},
		{"title:AND", "title:AND", []string{"AND"}},
		{"title:(!0)", "title:!0", []string{"!0"}},
		{`"AND"`, `"AND"`, []string{"AND"}},
		{"and or not", "and AND or AND not", []string{"and", "or", "not"}},
		{"warning: x", "warning: AND x", []string{"warning:", "x"}},
		{"10:30", "10:30", []string{"10:30"}},
		{"source:bbc*", "source:bbc*", []string{"bbc*"}},
		{"author:Doe category:Asia", "author:Doe AND category:Asia", []string{"Doe", "Asia"}},
		{"\"human \n rights\"", `"human rights"`, []string{"human rights"}},
		{"Uyghur* OR Uighur*", "Uyghur* OR Uighur*", []string{"Uyghur*", "Uighur*"}},
		{"a\nOR\tb", "a OR b", []string{"a", "b"}},
		{"维吾尔", "维吾尔", []string{"维吾尔"}},
		{"x OR x", "x OR x", []string{"x"}},
		{"NOT(a)b", "NOT a AND b", []string{"b"}},
		{"China's", "China's", []string{"China's"}},
		{"“human rights” OR title:„Menschenrechte“", `"human rights" OR title:"Menschenrechte"`, []string{"human rights", "Menschenrechte"}},
		{
			`(Xinjiang OR Uyghur* OR Uighur*) AND ("human rights" OR "crimes against humanity" OR Bachelet)`,
			`(Xinjiang OR Uyghur* OR Uighur*) AND ("human rights" OR "crimes against humanity" OR Bachelet)`,
			[]string{"Xinjiang", "Uyghur*", "Uighur*", "human rights", "crimes against humanity", "Bachelet"},
		},
		{strings.Repeat("(", 100) + "a" + strings.Repeat(")", 100), "a", []string{"a"}},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.query, err)
			continue
		}
		if got := q.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.query, got, tt.want)
		}
		if got := q.Terms(); !reflect.DeepEqual(got, tt.terms) {
			t.Errorf("Parse(%q).Terms() = %q, want %q", tt.query, got, tt.terms)
		}
		// The canonical form is a fixed point.
		q2, err := Parse(q.String())
		if err != nil {
			t.Errorf("Parse(String() of %q = %q): %v", tt.query, q.String(), err)
		} else if q2.String() != q.String() {
			t.Errorf("canonical form of %q not stable: %q then %q", tt.query, q.String(), q2.String())
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		query             string
		offset, line, col int
		msg               string // substring of Msg
	}{
		{"", 0, 1, 1, "empty query"},
		{"  \n ", 0, 1, 1, "empty query"},
		{"(a OR b", 0, 1, 1, "unbalanced parenthesis: ( is never closed"},
		{"a OR b)", 6, 1, 7, "unbalanced parenthesis: ) without ("},
		{")", 0, 1, 1, "unbalanced parenthesis: ) without ("},
		{"(a OR (b AND c)", 0, 1, 1, "( is never closed"},
		{"a AND", 5, 1, 6, "missing term after AND"},
		{"a AND )", 6, 1, 7, "missing term after AND"},
		{"AND a", 0, 1, 1, "unexpected AND"},
		{"a OR OR b", 5, 1, 6, "missing term after OR"},
		{"(OR a)", 1, 1, 2, "unexpected OR"},
		{"NOT", 3, 1, 4, "missing term after NOT"},
		{"NOT a", 0, 1, 1, "query matches items that contain none of its terms"},
		{"a OR NOT b", 0, 1, 1, "none of its terms"},
		{"NOT (a AND b)", 0, 1, 1, "none of its terms"},
		{"()", 0, 1, 1, "empty parentheses"},
		{`a "human rights`, 2, 1, 3, "unterminated phrase"},
		{"a “human rights", 2, 1, 3, "unterminated phrase"},
		{"*", 0, 1, 1, "bare *"},
		{"a*", 0, 1, 1, `prefix "a*" is too short`},
		{"Xinjiang -cotton", 9, 1, 10, "a leading - does not exclude a term: write NOT cotton"},
		{"-5", 0, 1, 1, "write NOT 5"},
		{"re-election", -1, 0, 0, ""},
		{"U.S*", 0, 1, 1, `prefix "U.S*" is too short`}, // the word before * needs 2 letters
		{"U.Sa*", -1, 0, 0, ""},
		{"维*", -1, 0, 0, ""}, // CJK: the character itself
		{"foo*bar", 3, 1, 4, "* is only allowed at the end"},
		{"foo**", 3, 1, 4, "* is only allowed at the end"},
		{`"human right*"`, 12, 1, 13, "* is not supported inside a phrase"},
		{"tittle:x", 0, 1, 1, `unknown field "tittle"`},
		{"Re:Ukraine", 0, 1, 1, `unknown field "Re"`},
		{"title: x", 6, 1, 7, "missing term after title:"},
		{"title:", 6, 1, 7, "missing term after title:"},
		{"(title:)", 7, 1, 8, "missing term after title:"},
		{"title:(summary:x)", 7, 1, 8, "field summary: inside title: is not allowed"},
		{"---", 0, 1, 1, `term "---" has no letters or digits`},
		{`a ""`, 2, 1, 3, `phrase "" has no letters or digits`},
		{`source:""`, 7, 1, 8, "empty source id"},
		{"source:b*", 7, 1, 8, "too short"},
		{strings.Repeat("(", 101) + "a" + strings.Repeat(")", 101), 100, 1, 101, "nesting deeper than 100 levels"},
		{strings.Repeat("NOT ", 101) + "a", 400, 1, 401, "nesting deeper than 100 levels"},
		{"a OR\n  (b AND c", 7, 2, 3, "( is never closed"},
		{"Türkiye Ürümqi (x", 18, 1, 16, "( is never closed"},
		{"ab\xff", 2, 1, 3, "invalid UTF-8"},
		{strings.Repeat("a ", 2049), 4096, 1, 4097, "longer than 4096 bytes"},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if tt.offset < 0 {
			if err != nil {
				t.Errorf("Parse(%q): %v", tt.query, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Parse(%q) = %q, want error %q", tt.query, q, tt.msg)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error %T %v, want *SyntaxError", tt.query, err, err)
			continue
		}
		if se.Offset != tt.offset || se.Line != tt.line || se.Column != tt.col || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("Parse(%q) = offset %d line %d col %d %q; want offset %d line %d col %d containing %q",
				tt.query, se.Offset, se.Line, se.Column, se.Msg, tt.offset, tt.line, tt.col, tt.msg)
		}
	}
}

func TestSyntaxErrorFormat(t *testing.T) {
	_, err := Parse("Xinjiang AND (cotton")
	want := "query: line 1, column 14: unbalanced parenthesis: ( is never closed"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestTermTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"China's Türkiye", []string{"china", "s", "turkiye"}},
		{"TÜRKİYE İstanbul", []string{"turkiye", "istanbul"}},
		{"Straße", []string{"strasse"}},
		{"São Paulo", []string{"sao", "paulo"}},
		{"Ελλάδα ΟΔΟΣ", []string{"ελλαδα", "οδοσ"}},
		{"ＵＮ ﬁsh ①", []string{"un", "fish", "1"}},
		{"human-rights, COVID-19", []string{"human", "rights", "covid", "19"}},
		{"新疆abc 维吾尔", []string{"新", "疆", "abc", "维", "吾", "尔"}},
		{"ｳｲｸﾞﾙ", []string{"ウ", "イ", "グ", "ル"}},
		{"Йошкар-Ола", []string{"йошкар", "ола"}},
		{"e\u0301t\u00e9", []string{"ete"}},
		{"\u0301alone", []string{"alone"}},
		{"\xffbad\xfe", []string{"bad"}},
		{"", []string{}},
		{"... --- ???", []string{}},
	}
	n := newTokenizer()
	for _, tt := range tests {
		if got := n.termTokens(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestTokenSpans checks that tokens point back at the original text, which
// is what hits and snippets quote.
func TestTokenSpans(t *testing.T) {
	n := newTokenizer()
	text := "Die Türkei: ﬁnal ½ — 维吾尔"
	var got []string
	for _, tok := range n.tokens(text) {
		got = append(got, text[tok.start:tok.end])
	}
	want := []string{"Die", "Türkei", "ﬁnal", "½", "½", "维", "吾", "尔"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spans = %q, want %q", got, want)
	}
}
