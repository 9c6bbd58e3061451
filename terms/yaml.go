package terms

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TopicYAML renders a ready-to-paste topic block for a wirewatch config: a
// list item indented to sit under `topics:` (as in examples/), with id,
// title, report (where the terms came from), synonyms for the terms whose
// other spellings or aliases the query uses, and the query as a folded
// block. Scalars are quoted whenever YAML could misread them. An empty or
// invalid id is replaced by Slug(title).
//
//   - id: un-report-human-rights-xinjiang
//     title: A UN report on human rights in Xinjiang
//     report: reports/un-xinjiang.txt
//     synonyms:
//     Uyghur: [Uighur, Uygur]
//     query: >-
//     (Xinjiang OR Uyghur* OR Uighur*)
//     AND ("crimes against humanity" OR Bachelet OR OHCHR)
func TopicYAML(id, title, reportPath string, ts []Term, query string) string {
	if !validID(id) {
		id = Slug(id + " " + title)
	}
	var b strings.Builder
	b.WriteString("  - id: " + yamlScalar(id) + "\n")
	if title = collapse(title); title != "" {
		b.WriteString("    title: " + yamlScalar(title) + "\n")
	}
	if reportPath = strings.TrimSpace(reportPath); reportPath != "" {
		b.WriteString("    report: " + yamlScalar(reportPath) + "\n")
	}
	if groups := synonymGroups(ts, query); len(groups) > 0 {
		b.WriteString("    synonyms:\n")
		for _, g := range groups {
			vals := make([]string, len(g.variants))
			for i, v := range g.variants {
				vals[i] = yamlScalar(v)
			}
			b.WriteString("      " + yamlScalar(g.name) + ": [" + strings.Join(vals, ", ") + "]\n")
		}
	}
	if q := collapse(query); q != "" {
		b.WriteString("    query: >-\n")
		for _, line := range wrapQuery(q, 96) {
			b.WriteString("      " + line + "\n")
		}
	}
	return b.String()
}

type synonymGroup struct {
	name     string
	variants []string
}

// synonymGroups lists, for each term whose forms the query uses, its
// spellings that differ by more than case or number (Uighur for Uyghur,
// forced labour for forced labor, OHCHR for the UN human rights office):
// every known spelling of a one-word name, and of longer terms the forms
// the query uses. Persons are left out: their full names are longer forms,
// not synonyms.
func synonymGroups(ts []Term, query string) []synonymGroup {
	inQuery := map[string]bool{}
	for _, f := range queryWords(query) {
		inQuery[f] = true
	}
	single := func(s string) bool { return !strings.ContainsAny(s, " ") }
	var out []synonymGroup
	named := map[string]bool{}
	for _, t := range ts {
		if t.Kind == KindPerson || !inQuery[normForm(t.Text)] {
			continue
		}
		name := t.Text
		for _, v := range t.Variants {
			// Name the group by the singular when both were seen (Uyghur).
			if fold(v)+"s" == fold(t.Text) {
				name = v
			}
		}
		var vals []string
		seen := map[string]bool{normForm(name): true}
		for _, v := range t.Variants {
			k := normForm(v)
			// Long forms only when the query uses them; one-word spellings
			// (transliterations) always.
			if seen[k] || !(single(v) && single(t.Text) || inQuery[k]) {
				continue
			}
			seen[k] = true
			vals = append(vals, v)
		}
		if !single(name) {
			// A group's name stands for it in queries, so it must be one
			// word: name a long term's group after its acronym (OHCHR for
			// the UN human rights office), or leave the group out (the
			// query spells the variants out anyway).
			acr := ""
			for _, v := range vals {
				if isAcronym(v) {
					acr = v
					break
				}
			}
			if acr == "" {
				continue
			}
			rest := []string{name}
			for _, v := range vals {
				if v != acr {
					rest = append(rest, v)
				}
			}
			name, vals = acr, rest
		}
		if len(vals) == 0 || named[fold(name)] {
			continue
		}
		named[fold(name)] = true
		out = append(out, synonymGroup{name, vals})
	}
	return out
}

// normForm compares forms ignoring case, number and punctuation.
func normForm(s string) string {
	words := strings.FieldsFunc(fold(s), func(r rune) bool { return !isWordRune(r) })
	for i, w := range words {
		words[i] = singular(w)
	}
	return strings.Join(words, " ")
}

// queryWords returns the normalised terms of a query (words and phrases,
// prefixes without their *), for checking which terms it uses.
func queryWords(q string) []string {
	var out []string
	for i := 0; i < len(q); {
		switch c := q[i]; {
		case c == '"':
			j := strings.IndexByte(q[i+1:], '"')
			if j < 0 {
				j = len(q) - i - 1
			}
			out = append(out, normForm(q[i+1:i+1+j]))
			i += j + 2
		case c == ' ' || c == '(' || c == ')':
			i++
		default:
			j := i
			for j < len(q) && q[j] != ' ' && q[j] != '(' && q[j] != ')' {
				j++
			}
			w := strings.TrimSuffix(q[i:j], "*")
			if w != "AND" && w != "OR" && w != "NOT" {
				out = append(out, normForm(w))
			}
			i = j
		}
	}
	return out
}

// wrapQuery breaks a query into lines of about width bytes at spaces
// outside quoted phrases; a folded YAML block joins them back with single
// spaces, so the query is unchanged.
func wrapQuery(q string, width int) []string {
	var lines []string
	start, lastBreak, quoted := 0, -1, false
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '"':
			quoted = !quoted
		case ' ':
			if !quoted {
				// Prefer to break before AND, the query's main joint.
				if strings.HasPrefix(q[i+1:], "AND ") && i-start > width/3 {
					lines = append(lines, q[start:i])
					start, lastBreak = i+1, -1
					continue
				}
				if w := q[start:i]; w != "AND" && w != "OR" {
					lastBreak = i // never leave an operator alone on a line
				}
			}
		}
		if i-start >= width && lastBreak > start {
			lines = append(lines, q[start:lastBreak])
			start, lastBreak = lastBreak+1, -1
		}
	}
	if start < len(q) {
		lines = append(lines, q[start:])
	}
	return lines
}

// validID is the config's rule for ids: 1-64 of a-z 0-9 . _ -.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Slug makes a topic id from a title: its first few content words, folded
// to ASCII lowercase and joined by '-', at most 48 bytes ("A UN report on
// human rights in Xinjiang" → "un-report-human-rights-xinjiang"). It
// returns "report" when the title has no usable word.
func Slug(title string) string {
	m := loadModel()
	var words []string
	size := 0
	for _, w := range strings.FieldsFunc(fold(title), func(r rune) bool { return !isWordRune(r) }) {
		var b strings.Builder
		for _, r := range w {
			if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				b.WriteRune(r)
			}
		}
		w = b.String()
		if w == "" || m.function[w] || m.calendar[w] {
			continue
		}
		if size+len(w)+1 > 48 || len(words) == 6 {
			break
		}
		words = append(words, w)
		size += len(w) + 1
	}
	if len(words) == 0 {
		return "report"
	}
	return strings.Join(words, "-")
}

// yamlScalar returns s as a YAML scalar: plain when it is unambiguous, else
// double-quoted with escapes (strconv's escapes are all valid in YAML).
func yamlScalar(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if plainSafe(s) {
		return s
	}
	return strconv.Quote(s)
}

// plainSafe reports whether s reads back as the same string when written
// plain, in block and in flow context: it starts with a letter,
// holds only letters, digits, spaces and . _ ' / -, does not end in a space,
// and is not a word YAML would read as a boolean, null or number.
func plainSafe(s string) bool {
	if s == "" || s != strings.TrimSpace(s) {
		return false
	}
	// A leading digit could read as a number or a date (2022-08-31).
	if r, _ := utf8.DecodeRuneInString(s); !unicode.IsLetter(r) {
		return false
	}
	for _, c := range s {
		if !(unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune(" ._'/-", c)) {
			return false
		}
	}
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf", "nan.", "inf.":
		return false
	}
	return !strings.Contains(s, "  ")
}

// isAcronym reports a one-word, all-capital form of two or more letters.
func isAcronym(s string) bool {
	if utf8.RuneCountInString(s) < 2 || strings.ContainsAny(s, " '") {
		return false
	}
	for _, r := range s {
		if !unicode.IsUpper(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
