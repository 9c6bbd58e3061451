package terms

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// checkQuery parses a query in the subset SuggestQuery promises — whole
// words, "phrases", trailing *, uppercase AND/OR, parentheses — and
// returns its words and phrases, or an error naming what is wrong.
// (The real parser lives in wirewatch/match, which a sibling may not
// import; the CLI checks the suggestion against it.)
func checkQuery(q string) ([]string, error) {
	var toks []string
	for i := 0; i < len(q); {
		switch c := q[i]; {
		case c == ' ':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '"':
			j := strings.IndexByte(q[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unclosed quote at %d", i)
			}
			if j == 0 || strings.TrimSpace(q[i+1:i+1+j]) != q[i+1:i+1+j] {
				return nil, fmt.Errorf("empty or padded phrase at %d", i)
			}
			toks = append(toks, q[i:i+j+2])
			i += j + 2
		default:
			j := i
			for j < len(q) && !strings.ContainsRune(` ()"`, rune(q[j])) {
				j++
			}
			toks = append(toks, q[i:j])
			i = j
		}
	}
	var terms []string
	pos := 0
	var expr func(depth int) error
	term := func(depth int) error {
		if pos >= len(toks) {
			return fmt.Errorf("query ends where a term is expected")
		}
		tk := toks[pos]
		pos++
		switch {
		case tk == "(":
			if err := expr(depth + 1); err != nil {
				return err
			}
			if pos >= len(toks) || toks[pos] != ")" {
				return fmt.Errorf("unbalanced parenthesis")
			}
			pos++
			return nil
		case tk == ")" || tk == "AND" || tk == "OR" || tk == "NOT":
			return fmt.Errorf("%q where a term is expected", tk)
		case strings.HasPrefix(tk, `"`):
			terms = append(terms, tk)
			return nil
		}
		w := strings.TrimSuffix(tk, "*")
		if w == "" || strings.Contains(w, "*") {
			return fmt.Errorf("bad word %q", tk)
		}
		letters := 0
		for _, r := range w {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.In(r, unicode.Mn, unicode.Mc) {
				return fmt.Errorf("word %q holds %q (should be quoted)", tk, r)
			}
			if unicode.IsLetter(r) {
				letters++
			}
		}
		if strings.HasSuffix(tk, "*") && letters < 2 {
			return fmt.Errorf("prefix %q too short", tk)
		}
		terms = append(terms, tk)
		return nil
	}
	expr = func(depth int) error {
		if depth > 3 {
			return fmt.Errorf("nesting deeper than a suggestion needs")
		}
		if err := term(depth); err != nil {
			return err
		}
		for pos < len(toks) && (toks[pos] == "AND" || toks[pos] == "OR") {
			pos++
			if err := term(depth); err != nil {
				return err
			}
		}
		return nil
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty query")
	}
	if err := expr(0); err != nil {
		return nil, err
	}
	if pos != len(toks) {
		return nil, fmt.Errorf("trailing %q", toks[pos])
	}
	return terms, nil
}

func TestCheckQueryRejects(t *testing.T) {
	for _, bad := range []string{"", "(a OR b", "a OR", `"open`, "a b*c", "AND a", "a OR (b))", "x*", `""`, "re-education"} {
		if _, err := checkQuery(bad); err == nil {
			t.Errorf("checkQuery accepted %q", bad)
		}
	}
	if _, err := checkQuery(`(Xinjiang OR Uyghur*) AND ("crimes against humanity" OR OHCHR)`); err != nil {
		t.Error(err)
	}
}

func TestSuggestQueryFixtureReport(t *testing.T) {
	ts := FromText(readFixture(t, "corvina-report.txt"), 25)
	q := SuggestQuery(ts)
	t.Log(q)
	words, err := checkQuery(q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	anchors, issues, ok := strings.Cut(q, " AND ")
	if !ok || !strings.HasPrefix(anchors, "(") || !strings.HasPrefix(issues, "(") {
		t.Fatalf("want (anchors) AND (issues): %s", q)
	}
	for _, want := range []string{"Corvina", "Sela"} {
		if !strings.Contains(anchors, want) {
			t.Errorf("anchor %s missing: %s", want, anchors)
		}
	}
	for _, want := range []string{`"forced labour"`, `"forced labor"`, `"debt bondage"`, `"Brightwater Minerals"`,
		"Ndovu", "IMI"} {
		if !strings.Contains(issues, want) {
			t.Errorf("issue %s missing: %s", want, issues)
		}
	}
	// Persons by surname only; no generic or filler words anywhere.
	if strings.Contains(q, "Amara") {
		t.Errorf("person's full name in the query: %s", q)
	}
	for _, w := range words {
		for _, f := range append(filler, "inquiry", "mine", "workers") {
			if strings.EqualFold(strings.Trim(w, `"*`), f) {
				t.Errorf("generic term %s in the query", w)
			}
		}
	}
}

func TestSuggestQueryHandmadeTerms(t *testing.T) {
	ts := []Term{
		{Text: "Telmir", Kind: KindEntity, Count: 5, Specific: 1, Score: 9, Variants: []string{"Telmirs", "Tel'mir"}},
		{Text: "dam failure", Kind: KindPhrase, Count: 3, Specific: 0.9, Score: 5},
		{Text: "AND", Kind: KindAcronym, Count: 2, Specific: 1, Score: 4},
		{Text: `say "no" now`, Kind: KindPhrase, Count: 2, Specific: 1, Score: 3},
		{Text: "title:flood", Kind: KindPhrase, Count: 2, Specific: 1, Score: 2.5},
		{Text: "Ilse Marrow", Kind: KindPerson, Count: 4, Specific: 1, Score: 2, Variants: []string{"Marrow"}},
		{Text: "China", Kind: KindEntity, Count: 9, Specific: 0.5, Score: 8},
		{Text: "water", Kind: KindWord, Count: 9, Specific: 0.3, Score: 1},
	}
	q := SuggestQuery(ts)
	t.Log(q)
	if _, err := checkQuery(q); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	for _, want := range []string{"(Telmir* OR \"Tel'mir\")", `"dam failure"`, `"AND"`, `"say no now"`,
		`"title:flood"`, `"Ilse Marrow"`} {
		if !strings.Contains(q, want) {
			t.Errorf("want %s in %s", want, q)
		}
	}
	for _, not := range []string{"China", "water", "Marrow OR"} {
		if strings.Contains(q, not) {
			t.Errorf("%s should not be in %s", not, q)
		}
	}
	if SuggestQuery(nil) != "" {
		t.Error("no terms, want an empty query")
	}
	// With no specific place, the top term anchors the query alone.
	one := SuggestQuery([]Term{{Text: "glacial lake", Kind: KindPhrase, Count: 3, Specific: 0.9, Score: 3}})
	if one != `"glacial lake"` {
		t.Errorf("single term: %q", one)
	}
}

func TestTopicYAML(t *testing.T) {
	ts := FromText(readFixture(t, "corvina-report.txt"), 25)
	q := SuggestQuery(ts)
	title := `Corvina: "forced labour" # inquiry`
	y := TopicYAML("", title, `reports/corvina report.txt`, ts, q)
	t.Log("\n" + y)
	checkYAMLBlock(t, y)
	fields := yamlFields(t, y)
	if got := fields["id"]; got != "corvina-forced-labour-inquiry" {
		t.Errorf("id %q", got)
	}
	if got := fields["title"]; got != title {
		t.Errorf("title reads back as %q", got)
	}
	if got := fields["report"]; got != "reports/corvina report.txt" {
		t.Errorf("report %q", got)
	}
	if got := fields["query"]; got != q {
		t.Errorf("folded query reads back as\n%s\nwant\n%s", got, q)
	}
	// Group names stand for their group in queries, so each is one word: a
	// long term is named after its acronym, or has no group (the query
	// spells out its variants, as here "forced labour" OR "forced labor").
	for _, line := range strings.Split(y, "\n") {
		if name, _, ok := strings.Cut(strings.TrimPrefix(line, "      "), ": ["); ok && strings.HasPrefix(line, "      ") && strings.ContainsAny(name, " \"'*") {
			t.Errorf("synonym group name %q is not a single word", name)
		}
	}
	if !strings.Contains(q, `"forced labour" OR "forced labor"`) {
		t.Errorf("want both spellings of forced labour in the query: %s", q)
	}
	if !strings.Contains(y, "      IMI: [Independent Mining Inquiry]\n") {
		t.Errorf("want the acronym synonym group")
	}
	// A valid id is kept; an invalid one is slugged.
	if y := TopicYAML("corvina.mine_2", "t", "", nil, ""); !strings.HasPrefix(y, "  - id: corvina.mine_2\n    title: t\n") ||
		strings.Contains(y, "query") || strings.Contains(y, "report") {
		t.Errorf("minimal block:\n%s", y)
	}
	if y := TopicYAML("Bad ID!", "Glacial lake", "", nil, ""); !strings.HasPrefix(y, "  - id: bad-id-glacial-lake\n") {
		t.Errorf("invalid id:\n%s", y)
	}
}

// checkYAMLBlock asserts the block's shape: a list item under topics:,
// two-space indentation, no tabs, known keys, flow lists whose items are
// plain-safe or double-quoted.
func checkYAMLBlock(t *testing.T, y string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(y, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "  - id: ") {
		t.Fatalf("first line %q", lines[0])
	}
	section := ""
	for _, l := range lines[1:] {
		if strings.ContainsRune(l, '\t') || strings.TrimRight(l, " ") != l {
			t.Errorf("tab or trailing space: %q", l)
		}
		indent := len(l) - len(strings.TrimLeft(l, " "))
		switch {
		case indent == 4:
			key, _, ok := strings.Cut(strings.TrimSpace(l), ":")
			if !ok || !map[string]bool{"title": true, "report": true, "synonyms": true, "query": true}[key] {
				t.Errorf("unexpected key line %q", l)
			}
			section = key
		case indent == 6 && section == "synonyms":
			_, list, ok := strings.Cut(l, ": [")
			if !ok || !strings.HasSuffix(list, "]") {
				t.Errorf("synonym line %q", l)
				continue
			}
			for _, item := range splitFlow(strings.TrimSuffix(list, "]")) {
				if !plainSafe(item) {
					if _, err := strconv.Unquote(item); err != nil || !strings.HasPrefix(item, `"`) {
						t.Errorf("flow item %q neither plain nor quoted", item)
					}
				}
			}
		case indent == 6 && section == "query":
		default:
			t.Errorf("misplaced line %q", l)
		}
	}
}

// splitFlow splits a flow sequence body at commas outside double quotes.
func splitFlow(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// yamlFields reads back the scalar fields of a block as YAML would: plain
// as is, double-quoted unescaped, the folded query's lines joined by spaces.
func yamlFields(t *testing.T, y string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var folded []string
	inQuery := false
	for _, l := range strings.Split(strings.TrimSuffix(y, "\n"), "\n") {
		l = strings.TrimPrefix(l, "  - ")
		trimmed := strings.TrimSpace(l)
		if inQuery && strings.HasPrefix(l, "      ") {
			folded = append(folded, trimmed)
			continue
		}
		inQuery = false
		key, val, _ := strings.Cut(trimmed, ": ")
		if trimmed == "query: >-" {
			inQuery = true
			continue
		}
		if strings.HasPrefix(val, `"`) {
			u, err := strconv.Unquote(val)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			val = u
		}
		out[key] = val
	}
	out["query"] = strings.Join(folded, " ")
	return out
}

func TestYAMLScalar(t *testing.T) {
	for in, want := range map[string]string{
		"Uyghur":                     "Uyghur",
		"high commissioner's office": "high commissioner's office",
		"yes":                        `"yes"`,
		"2022-08-31":                 `"2022-08-31"`,
		"a: b":                       `"a: b"`,
		"#tag":                       `"#tag"`,
		"[x]":                        `"[x]"`,
		" padded":                    `" padded"`,
		"Null":                       `"Null"`,
		"line\nbreak":                `"line\nbreak"`,
		"":                           `""`,
	} {
		if got := yamlScalar(in); got != want {
			t.Errorf("yamlScalar(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestWrapQuery(t *testing.T) {
	q := `(Xinjiang OR Uyghur*) AND ("a long phrase that must not be broken" OR "another long phrase here" OR word OR "third phrase kept whole")`
	lines := wrapQuery(q, 40)
	if strings.Join(lines, " ") != q {
		t.Errorf("wrapping changed the query: %q", lines)
	}
	for _, l := range lines {
		if strings.Count(l, `"`)%2 != 0 {
			t.Errorf("line breaks a phrase: %q", l)
		}
	}
	if len(lines) < 3 || !strings.HasPrefix(lines[1], "AND ") {
		t.Errorf("want a break before AND: %q", lines)
	}
}
