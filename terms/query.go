package terms

import (
	"strings"
	"unicode"
)

// Limits of a suggested query: enough to catch the story, short enough for
// an editor to read and prune.
const (
	maxAnchors      = 3
	maxIssues       = 10
	maxFormsPerTerm = 4
	// anchorWindow is how far down the ranking anchors are looked for.
	anchorWindow = 12
	// minAnchorShare: an anchor scores at least this share of the first.
	minAnchorShare = 0.25
)

// SuggestQuery builds an editor-style boolean query from ranked terms:
//
//	(anchor OR anchor*) AND ("issue phrase" OR Person OR ACRONYM ...)
//
// Anchors say what the story is about: the highest-ranked names that are
// single words, occur more than once, are not persons or acronyms and are
// specific (rare in general news) — places and peoples such as Xinjiang and
// Uyghurs, not China. A word seen with a plural becomes a prefix (Uyghur*),
// and its known transliterations join it (Uighur*).
//
// Issues say what about it: the next terms that are multiword phrases and
// names (organisations), acronyms of three letters or more, persons named
// at least three times (by surname), and compounds or words that are both
// specific and repeated. Each brings its other spellings and aliases (up to
// four forms). Generic terms (rarely specific, like "human rights") and
// terms that merely repeat an anchor ("Xinjiang region") are left out.
//
// The query uses only whole words, "quoted phrases", uppercase AND and OR,
// parentheses and trailing * — the subset every wirewatch query accepts.
// It returns "" when ts gives nothing to search for.
func SuggestQuery(ts []Term) string {
	if len(ts) == 0 {
		return ""
	}
	var anchors []Term
	used := map[int]bool{}
	for i, t := range ts {
		if i >= anchorWindow || len(anchors) == maxAnchors {
			break
		}
		if isAnchor(t) && (len(anchors) == 0 || t.Score >= minAnchorShare*anchors[0].Score) {
			anchors = append(anchors, t)
			used[i] = true
		}
	}
	fallback := len(anchors) == 0
	if fallback {
		// No place or people stands out: anchor on the top term.
		for i, t := range ts {
			if len(queryForms(t, false)) > 0 {
				anchors = append(anchors, t)
				used[i] = true
				break
			}
		}
	}
	anchorWords := map[string]bool{}
	var anchorPart []string
	for _, a := range anchors {
		for _, f := range queryForms(a, !fallback) {
			anchorPart = appendFold(anchorPart, f)
		}
		for _, f := range append([]string{a.Text}, a.Variants...) {
			anchorWords[fold(f)] = true
			anchorWords[singular(fold(f))] = true
		}
	}
	var issuePart []string
	issues := 0
	for i, t := range ts {
		if used[i] || issues == maxIssues || !isIssue(t) || mentionsAny(t.Text, anchorWords) {
			continue
		}
		forms := queryForms(t, false)
		if len(forms) == 0 {
			continue
		}
		for _, f := range forms {
			issuePart = appendFold(issuePart, f)
		}
		issues++
	}
	a, b := orGroup(anchorPart), orGroup(issuePart)
	switch {
	case a == "" && b == "":
		return ""
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " AND " + b
}

// isAnchor: a specific single-word name seen more than once (a place, a
// people), not a person and not an acronym.
func isAnchor(t Term) bool {
	return t.Kind == KindEntity && !strings.ContainsAny(t.Text, " ") && t.Count >= 2 && t.Specific >= 0.8
}

// isIssue: a term specific enough to pin the story down.
func isIssue(t Term) bool {
	switch t.Kind {
	case KindPerson:
		return t.Count >= 3
	case KindAcronym:
		return len(acronymLetters(t.Text)) >= 3 && t.Specific >= 0.6
	case KindPhrase:
		return t.Specific >= 0.7
	case KindEntity:
		// A lone name (a place) belongs with the anchors or nowhere.
		return strings.Contains(t.Text, " ") && t.Specific >= 0.6
	case KindWord:
		return t.Specific >= 0.9 && t.Count >= 2
	}
	return false
}

// mentionsAny reports whether a phrase contains one of the anchor words.
func mentionsAny(s string, words map[string]bool) bool {
	for _, w := range strings.FieldsFunc(fold(s), func(r rune) bool { return !isWordRune(r) && r != '-' }) {
		if words[w] || words[singular(w)] {
			return true
		}
	}
	return false
}

// queryForms renders a term's searchable forms: its text, other spellings
// and aliases seen or known, and for a word seen with a plural a prefix
// (Uyghur*). Case variants and a word's plural are dropped (matching
// ignores case; the prefix covers plurals); a phrase's plural is kept,
// because a quoted phrase matches only its own words.
func queryForms(t Term, anchor bool) []string {
	candidates := []string{t.Text}
	if t.Kind != KindPerson {
		for _, v := range t.Variants {
			// Anchors take every known spelling (Uighur for Uyghur); issues
			// take the forms seen, acronyms and the other English spelling,
			// not every long form an alias table knows.
			if anchor || len(t.Forms) == 0 || t.Forms[v] > 0 || isAcronymText(v) || v == phraseVariant(t.Text) {
				candidates = append(candidates, v)
			}
		}
	}
	prefix := false
	base := t.Text
	if !strings.ContainsAny(t.Text, " -'") {
		for _, v := range append([]string{t.Text}, t.Variants...) {
			fv, ft := fold(v), fold(t.Text)
			if fv+"s" == ft || fv+"es" == ft {
				base, prefix = v, true
			} else if ft+"s" == fv || ft+"es" == fv {
				prefix = true
			}
		}
	}
	var out []string
	seen := map[string]bool{}
	for i, c := range candidates {
		if i == 0 {
			c = base
		}
		if anchor && strings.ContainsAny(c, " ") {
			continue // anchors are single words; a long form is an issue's business
		}
		// A word's plural is covered by its prefix; a phrase's is not
		// ("glacial lake" does not match "glacial lakes"), so it stays.
		k := fold(c)
		if !strings.ContainsAny(c, " -'") {
			k = singular(k)
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		q := queryTerm(c, prefix)
		if q == "" {
			continue
		}
		out = append(out, q)
		if len(out) == maxFormsPerTerm && !anchor {
			break
		}
	}
	return out
}

// queryTerm writes one form in query syntax: a bare word (with * when
// prefix), or a quoted phrase when it holds anything but letters and digits.
func queryTerm(s string, prefix bool) string {
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r == '"' || r == '\u201C' || r == '\u201D' || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)), " ")
	if s == "" {
		return ""
	}
	plain := true
	letters := 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc):
		default:
			plain = false
		}
	}
	if letters == 0 {
		return ""
	}
	if !plain || s == "AND" || s == "OR" || s == "NOT" || strings.Contains(s, ":") {
		return `"` + s + `"`
	}
	if prefix && letters >= 2 {
		return s + "*"
	}
	return s
}

// appendFold appends q unless it is already there, ignoring case.
func appendFold(list []string, q string) []string {
	for _, l := range list {
		if strings.EqualFold(l, q) {
			return list
		}
	}
	return append(list, q)
}

// orGroup joins forms with OR, parenthesised when more than one.
func orGroup(forms []string) string {
	switch len(forms) {
	case 0:
		return ""
	case 1:
		return forms[0]
	}
	return "(" + strings.Join(forms, " OR ") + ")"
}
