package terms

import (
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kinds of term.
const (
	// KindEntity is a name: a capitalised word or phrase that is not
	// capitalised merely because it starts a sentence (Xinjiang, Uyghurs,
	// Human Rights Watch).
	KindEntity = "entity"
	// KindPerson is a person, shown by surname (Bachelet): a name that
	// appears as "Given Surname" and then alone, or next to a reporting verb.
	KindPerson = "person"
	// KindAcronym is written in capitals (OHCHR, UN).
	KindAcronym = "acronym"
	// KindPhrase is a lowercase multiword term (crimes against humanity).
	KindPhrase = "phrase"
	// KindWord is a lowercase single word (re-education, torture).
	KindWord = "word"
)

// Term is one key term of a report with the forms it takes.
type Term struct {
	// Text is the term as it appears most often in the report ("crimes
	// against humanity", "Uyghurs"); a word capitalised only because it
	// starts a sentence is shown in lowercase.
	Text string `json:"text"`
	// Variants are the term's other forms: first those seen in the report
	// (case, singular/plural, spelling, alias and long forms), most frequent
	// first, then known forms not seen (transliterations from the built-in
	// alias table, the other of British/American spelling, a defined
	// acronym's other side).
	Variants []string `json:"variants,omitempty"`
	// Score ranks terms within one report; it means nothing across reports.
	Score float64 `json:"score"`
	// Count is how often the term occurs, all seen forms together.
	Count int `json:"count"`
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Forms maps each form seen in the report (Text included) to its count.
	Forms map[string]int `json:"forms,omitempty"`
	// Specific is how rare the term is in general news, from 0 (everywhere)
	// to 1 (never in the background corpus). SuggestQuery anchors a query
	// only on specific names.
	Specific float64 `json:"specific"`
}

// FromText extracts the n highest-ranked key terms of a plain-text report.
// A short first paragraph without a final period (a headline) counts as the
// title. n <= 0 returns nil.
func FromText(text string, n int) []Term {
	if n <= 0 {
		return nil
	}
	paras := splitParagraphs(cleanText(text))
	return extract(paras, looksLikeTitle(paras), n)
}

// looksLikeTitle reports whether the first paragraph is a headline: short,
// one sentence, not ending like body text.
func looksLikeTitle(paras []string) bool {
	if len(paras) < 2 {
		return false
	}
	p := paras[0]
	if utf8.RuneCountInString(p) > 200 || len(strings.Fields(p)) > 30 {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(p)
	return !strings.ContainsRune(".,;:", last)
}

// span is a half-open range of token indexes.
type span struct{ s, e int }

// cand is one candidate key (a word or phrase) with its occurrences.
type cand struct {
	key  string
	n    int
	occs []span
}

// group is a candidate term: candidates merged because they are forms of
// one thing (case, number, spelling, alias, acronym, person's full name).
type group struct {
	id      string
	members []*cand
	occs    []span
	tfEff   float64
	spec    float64
	score   float64
	kind    string
	person  bool
	alias   bool // from the built-in table
}

// extraction holds the per-call state of one document.
type extraction struct {
	m     *model
	paras []string
	toks  []token
	title bool
	lead  int

	cands    map[string]*cand
	runs     map[span]bool
	personOf map[string]string // full-name key → surname key
	persons  map[string]bool   // surname keys judged to be persons
	docAlias map[string]string // key → group id, from acronym definitions
	docForms map[string][]string
}

const (
	maxPhrase     = 8 // tokens in a name or alias form
	maxFreePhrase = 5 // tokens in a phrase accepted for its frequency alone
)

func extract(paras []string, hasTitle bool, n int) []Term {
	if n <= 0 || len(paras) == 0 {
		return nil
	}
	x := &extraction{
		m: loadModel(), paras: paras, title: hasTitle,
		cands: map[string]*cand{}, runs: map[span]bool{}, personOf: map[string]string{},
		persons: map[string]bool{}, docAlias: map[string]string{}, docForms: map[string][]string{},
	}
	if hasTitle {
		x.lead = 1
	}
	x.toks = tokenize(paras)
	if len(x.toks) == 0 {
		return nil
	}
	x.classify()
	x.nameRuns()
	x.definitions()
	x.generate()
	groups := x.group()
	x.score(groups)
	return x.terms(groups, n)
}

// classify decides, for every token, its key, whether it is written as a
// name, a stopword, a connector, or content that may edge a term.
func (x *extraction) classify() {
	m := x.m
	toks := x.toks
	for i := range toks {
		t := &toks[i]
		t.key = m.lexKey(*t)
		if !t.upper {
			if id, ok := m.aliasWord[t.key]; ok {
				t.key = wordKey(id[1:])
			}
		}
	}
	// A title in Title Case says nothing about which words are names.
	if x.title {
		caps, words := 0, 0
		for _, t := range toks {
			if t.para != 0 {
				break
			}
			if utf8.RuneCountInString(t.text) >= 4 && !t.num {
				words++
				if t.capital {
					caps++
				}
			}
		}
		if words >= 3 && float64(caps) >= 0.7*float64(words) {
			for i := range toks {
				if toks[i].para == 0 {
					toks[i].initial = true
				}
			}
		}
	}
	// How each word is written where its case is informative.
	written := map[string][2]int{}
	for _, t := range toks {
		if t.initial || t.num {
			continue
		}
		c := written[t.key]
		if t.capital {
			c[0]++
		} else {
			c[1]++
		}
		written[t.key] = c
	}
	for i := range toks {
		t := &toks[i]
		t.name = x.isName(*t, written)
		t.stop = m.isStop(*t, t.name)
		t.conn = !t.capital && (nameConnectors[t.lower] || phraseConnectors[t.lower])
		t.content = !t.stop && !t.num && !t.contraction && utf8.RuneCountInString(t.text) >= 2
	}
}

// isName reports whether a capitalised token is written as a name. At the
// start of a sentence, the evidence is how the word is written elsewhere in
// the document, else in the background, else its shape.
func (x *extraction) isName(t token, written map[string][2]int) bool {
	if !t.capital {
		return false
	}
	if t.upper {
		return true
	}
	m := x.m
	if m.function[t.lower] || m.calendar[t.lower] {
		return false
	}
	if !t.initial {
		return true
	}
	if c := written[t.key]; c[0]+c[1] > 0 {
		return c[0] > c[1]
	}
	if c := m.capShare[t.key]; c[0]+c[1] > 0 {
		return c[0] > c[1]
	}
	if m.filler[t.lower] || m.filler[t.key] {
		return false
	}
	for _, suf := range []string{"ing", "ed", "ly", "tion", "ment", "ness", "ists", "ers"} {
		if strings.HasSuffix(t.lower, suf) {
			return false
		}
	}
	return true
}

// nameRuns finds maximal runs of name tokens ("UN High Commissioner for
// Human Rights", "Michelle Bachelet"), splits a person's name off the end of
// a longer run, and judges which single names are persons.
func (x *extraction) nameRuns() {
	toks := x.toks
	var raw []span
	for i := 0; i < len(toks); {
		if !toks[i].name || !toks[i].content {
			i++
			continue
		}
		j := i + 1
		last := i + 1 // end after the last name token
		for j < len(toks) && toks[j].chunk == toks[i].chunk && !toks[j-1].possessive {
			t := toks[j]
			if t.name && t.content {
				j++
				last = j
				continue
			}
			if nameConnectors[t.lower] && !t.capital && j+1 < len(toks) && toks[j+1].chunk == t.chunk {
				j++
				continue
			}
			break
		}
		raw = append(raw, span{i, last})
		i = last
	}
	alone := map[string]int{}
	for _, r := range raw {
		if r.e-r.s == 1 && !toks[r.s].upper {
			alone[toks[r.s].key]++
		}
	}
	evidence := map[string]int{} // person evidence per surname key
	place := map[string]int{}
	var runs []span
	// "Richardson of Human Rights Watch": a name that stands alone elsewhere,
	// then a connector, is two names.
	var split []span
	for _, r := range raw {
		for k := r.s + 1; k < r.e-1; k++ {
			if toks[k].conn && k == r.s+1 && alone[toks[r.s].key] > 0 && !toks[r.s].upper {
				split = append(split, span{r.s, k})
				r.s = k + 1
				for r.s < r.e && toks[r.s].conn {
					r.s++
				}
				break
			}
		}
		if r.e > r.s {
			split = append(split, r)
		}
	}
	raw = split
	for _, r := range raw {
		// "... Human Rights Michelle Bachelet": split the person off.
		if r.e-r.s >= 3 {
			l := r.e - 1
			g := l - 1
			if alone[toks[l].key] > 0 && alone[toks[g].key] == 0 && toks[g].name && toks[g].content &&
				!toks[g].upper && !toks[l].upper {
				head := span{r.s, g}
				for head.e > head.s && toks[head.e-1].conn {
					head.e--
				}
				if head.e > head.s {
					runs = append(runs, head)
				}
				r = span{g, r.e}
			}
		}
		runs = append(runs, r)
	}
	for _, r := range runs {
		if r.e-r.s > maxPhrase {
			continue
		}
		x.runs[r] = true
		n := r.e - r.s
		lastTok := toks[r.e-1]
		if lastTok.upper {
			continue
		}
		noConn := true
		for k := r.s; k < r.e; k++ {
			if toks[k].conn || toks[k].upper || toks[k].hyphen {
				noConn = false
			}
		}
		if (n == 2 || n == 3) && noConn && alone[lastTok.key] > 0 {
			x.personOf[x.keyOf(r)] = lastTok.key
			evidence[lastTok.key] += 2
		}
		if n <= 3 && noConn {
			if r.s > 0 && toks[r.s-1].sent == toks[r.s].sent && reportingVerbs[toks[r.s-1].lower] {
				evidence[lastTok.key]++
			}
			if r.e < len(toks) && toks[r.e].sent == lastTok.sent && reportingVerbs[toks[r.e].lower] {
				evidence[lastTok.key]++
			}
			if r.s > 0 && toks[r.s-1].sent == toks[r.s].sent {
				switch toks[r.s-1].lower {
				case "in", "from", "to", "across", "throughout", "into", "near", "inside", "outside", "visited":
					place[lastTok.key]++
				}
			}
		}
	}
	for k, ev := range evidence {
		if ev >= 2 && ev > place[k] {
			x.persons[k] = true
		}
	}
	// A full name counts as its person only when that surname is a person.
	for full, sur := range x.personOf {
		if !x.persons[sur] {
			delete(x.personOf, full)
		}
	}
}

// keyOf is the key of a span of tokens.
func (x *extraction) keyOf(r span) string {
	if r.e-r.s == 1 {
		return x.toks[r.s].key
	}
	var b strings.Builder
	for k := r.s; k < r.e; k++ {
		if k > r.s {
			b.WriteByte(' ')
		}
		b.WriteString(x.toks[k].key)
	}
	return b.String()
}

// definitions finds acronyms the document defines, "Full Name (ACR)" and
// "ACR (Full Name)", checking that the acronym's letters are the initials of
// the name's words, and makes both sides one term.
func (x *extraction) definitions() {
	toks := x.toks
	for k := range toks {
		t := toks[k]
		if !t.upper || t.num {
			continue
		}
		letters := acronymLetters(t.text)
		if len(letters) < 2 || len(letters) > 10 {
			continue
		}
		var full span
		found := false
		if t.pOpen && t.pClose && k > 0 {
			// Full Name (ACR): match initials backwards.
			idx := len(letters) - 1
			lim := max(0, k-2*len(letters)-4)
			for j := k - 1; j >= lim; j-- {
				w := toks[j]
				if w.sent != t.sent || w.chunk != toks[k-1].chunk {
					break
				}
				if w.conn || x.m.function[w.lower] && idx < len(letters)-1 {
					continue
				}
				if !matchInitials(w, letters, &idx, false) {
					break
				}
				if idx < 0 {
					full, found = span{j, k}, true
					break
				}
			}
		} else if k+1 < len(toks) && toks[k+1].pOpen && toks[k+1].sent == t.sent {
			// ACR (Full Name): match initials forwards up to the closing parenthesis.
			idx := 0
			for j := k + 1; j < len(toks) && j <= k+1+2*len(letters)+4; j++ {
				w := toks[j]
				if w.sent != t.sent || w.chunk != toks[k+1].chunk {
					break
				}
				if !(w.conn || x.m.function[w.lower] && idx > 0) {
					if !matchInitials(w, letters, &idx, true) {
						break
					}
				}
				if idx == len(letters) {
					if w.pClose {
						full, found = span{k + 1, j + 1}, true
					}
					break
				}
			}
		}
		if !found {
			continue
		}
		acr := t.key
		fullKey := x.keyOf(full)
		id := ""
		if v, ok := x.m.aliasAcronym[acr]; ok {
			id = v
		} else if v, ok := x.m.aliasPhrase[fullKey]; ok {
			id = v
		} else if v, ok := x.docAlias[acr]; ok {
			id = v
		} else {
			id = "@" + strings.ToLower(acr)
		}
		x.docAlias[acr] = id
		x.docAlias[fullKey] = id
		x.docForms[id] = appendUnique(x.docForms[id], t.text, x.surface(full))
	}
}

// acronymLetters returns the capital letters of an acronym (NGOs → NGO).
func acronymLetters(s string) []rune {
	var out []rune
	for _, r := range s {
		if unicode.IsUpper(r) {
			out = append(out, r)
		}
	}
	return out
}

// matchInitials consumes the letters a word stands for in an acronym: its
// initial, or all its capitals if it is itself an acronym (UN in UNHCR).
func matchInitials(w token, letters []rune, idx *int, forward bool) bool {
	var own []rune
	if w.upper {
		own = acronymLetters(w.text)
	} else {
		r, _ := utf8.DecodeRuneInString(w.text)
		own = []rune{unicode.ToUpper(r)}
	}
	if forward {
		if *idx+len(own) > len(letters) {
			return false
		}
		for i, r := range own {
			if letters[*idx+i] != r {
				return false
			}
		}
		*idx += len(own)
		return true
	}
	if *idx+1-len(own) < 0 {
		return false
	}
	for i, r := range own {
		if letters[*idx+1-len(own)+i] != r {
			return false
		}
	}
	*idx -= len(own)
	return true
}

func appendUnique(list []string, vs ...string) []string {
	for _, v := range vs {
		dup := false
		for _, l := range list {
			if fold(l) == fold(v) {
				dup = true
				break
			}
		}
		if !dup && v != "" {
			list = append(list, v)
		}
	}
	return list
}

// generate collects candidate words and phrases (RAKE-style: sequences of
// content words between stopwords and punctuation, with connectors such as
// "of" and "against" allowed inside), name runs, and occurrences of known
// multiword forms (alias table, defined acronyms).
func (x *extraction) generate() {
	toks := x.toks
	add := func(r span) {
		key := x.keyOf(r)
		c := x.cands[key]
		if c == nil {
			c = &cand{key: key, n: r.e - r.s}
			x.cands[key] = c
		}
		c.occs = append(c.occs, r)
	}
	for i := range toks {
		if !toks[i].content {
			continue
		}
		allNames := toks[i].name
		nameConn := false
		conns, consec := 0, 0
		for j := i; j < len(toks) && j < i+maxPhrase; j++ {
			t := toks[j]
			if j > i && (t.chunk != toks[i].chunk || toks[j-1].possessive) {
				break
			}
			if t.content {
				allNames = allNames && t.name
				if nameConn && !allNames {
					break
				}
				consec = 0
				add(span{i, j + 1})
				continue
			}
			if j == i || !t.conn {
				break
			}
			conns++
			consec++
			if !phraseConnectors[t.lower] {
				nameConn = true
			}
			if conns > 3 || consec > 2 || nameConn && !allNames {
				break
			}
		}
	}
	// Known multiword forms wherever they occur, even across stopwords
	// ("UN human rights office", a defined acronym's full name).
	forms := map[string][][]string{}
	for first, seqs := range x.m.phrasesByKey {
		forms[first] = slices.Clone(seqs) // never append to the shared model
	}
	for _, fs := range x.docForms {
		for _, f := range fs {
			ts := tokenize([]string{cleanText(f)})
			if len(ts) < 2 {
				continue
			}
			keys := make([]string, len(ts))
			for i, t := range ts {
				keys[i] = x.m.lexKey(t)
				if id, ok := x.m.aliasWord[keys[i]]; ok && !t.upper {
					keys[i] = wordKey(id[1:])
				}
			}
			forms[keys[0]] = append(forms[keys[0]], keys)
		}
	}
	for i := range toks {
	next:
		for _, seq := range forms[toks[i].key] {
			if i+len(seq) > len(toks) {
				continue
			}
			for k, key := range seq {
				if t := toks[i+k]; t.key != key || t.chunk != toks[i].chunk {
					continue next
				}
			}
			add(span{i, i + len(seq)}) // duplicates of n-grams are removed in group
		}
	}
}

// groupOf maps a candidate key to its group: a defined acronym, an alias
// table entry, a person's surname, or itself.
func (x *extraction) groupOf(c *cand) (id string, alias bool) {
	if v, ok := x.docAlias[c.key]; ok {
		_, table := x.m.aliasForms[v]
		return v, table
	}
	if c.n == 1 {
		if v, ok := x.m.aliasAcronym[c.key]; ok {
			return v, true
		}
		if v, ok := x.m.aliasWord[c.key]; ok {
			return v, true
		}
	} else if v, ok := x.m.aliasPhrase[c.key]; ok {
		return v, true
	}
	if sur, ok := x.personOf[c.key]; ok {
		return sur, false
	}
	return c.key, false
}

// accepted reports whether a candidate may become a term: any content word;
// a phrase that recurs, is a name, a known form, or is quoted on its own.
func (x *extraction) accepted(c *cand) bool {
	if c.n == 1 {
		return true
	}
	if len(c.occs) >= 2 && c.n <= maxFreePhrase {
		return true
	}
	if _, ok := x.docAlias[c.key]; ok {
		return true
	}
	if _, ok := x.m.aliasPhrase[c.key]; ok {
		return true
	}
	if _, ok := x.personOf[c.key]; ok {
		return true
	}
	for _, o := range c.occs {
		if x.runs[o] {
			return true
		}
		if c.n <= maxFreePhrase && x.toks[o.s].qOpen && x.toks[o.e-1].qClose {
			return true
		}
	}
	return false
}

// group merges accepted candidates into terms and discounts occurrences
// nested in longer terms (C-value): "Rights Watch" inside "Human Rights
// Watch" is not a term of its own, and "crimes" counts only where it is not
// part of "crimes against humanity".
func (x *extraction) group() []*group {
	byID := map[string]*group{}
	var order []string
	keys := make([]string, 0, len(x.cands))
	for k := range x.cands {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := x.cands[k]
		c.occs = uniqueSpans(c.occs)
		if !x.accepted(c) {
			continue
		}
		id, alias := x.groupOf(c)
		g := byID[id]
		if g == nil {
			g = &group{id: id}
			byID[id] = g
			order = append(order, id)
		}
		g.alias = g.alias || alias
		g.members = append(g.members, c)
		g.occs = append(g.occs, c.occs...)
	}
	groups := make([]*group, 0, len(order))
	owner := map[span]*group{}
	for _, id := range order {
		g := byID[id]
		g.occs = dedupeSpans(g.occs)
		for _, o := range g.occs {
			owner[o] = g
		}
		g.person = x.persons[id]
		groups = append(groups, g)
	}
	nested := map[*group]map[*group]int{}
	for _, b := range groups {
		for _, o := range b.occs {
			if o.e-o.s < 2 {
				continue
			}
			for s := o.s; s < o.e; s++ {
				for e := s + 1; e <= o.e; e++ {
					if s == o.s && e == o.e {
						continue
					}
					if a := owner[span{s, e}]; a != nil && a != b {
						if nested[a] == nil {
							nested[a] = map[*group]int{}
						}
						nested[a][b]++
					}
				}
			}
		}
	}
	for _, g := range groups {
		g.tfEff = float64(len(g.occs))
		if in := nested[g]; len(in) > 0 {
			sum := 0
			for _, n := range in {
				sum += n
			}
			g.tfEff -= float64(sum) / float64(len(in))
		}
	}
	return groups
}

// uniqueSpans sorts spans and drops exact duplicates.
func uniqueSpans(list []span) []span {
	slices.SortFunc(list, func(a, b span) int {
		if a.s != b.s {
			return a.s - b.s
		}
		return a.e - b.e
	})
	return slices.Compact(list)
}

// dedupeSpans sorts spans and drops any contained in another (one group's
// "UN High Commissioner for Human Rights" and "High Commissioner for Human
// Rights" at the same place are one occurrence).
func dedupeSpans(list []span) []span {
	sort.Slice(list, func(i, j int) bool {
		if list[i].s != list[j].s {
			return list[i].s < list[j].s
		}
		return list[i].e > list[j].e
	})
	out := list[:0]
	maxEnd := -1
	for _, r := range list {
		if r.e <= maxEnd {
			continue // inside (or equal to) an earlier span
		}
		out = append(out, r)
		maxEnd = r.e
	}
	return out
}

// Weights of the ranking. Specificity is squared so that a common word
// needs many more occurrences to outrank a rare one; the rest are gentle
// multipliers in the spirit of YAKE's position and spread features.
const (
	boostTitle   = 1.3
	boostLead    = 1.15
	boostQuoted  = 1.5  // a short phrase quoted on its own: a term of art
	boostEntityN = 1.3  // multiword name
	boostAcronym = 1.2  // acronym of three letters or more
	boostPhrase  = 1.15 // multiword lowercase phrase
	boostName    = 1.1  // single-word name or person
	weightWord   = 0.7  // a lone lowercase word is rarely what a desk searches for
)

// score ranks groups: specificity² × salience × boosts.
func (x *extraction) score(groups []*group) {
	toks := x.toks
	n := float64(len(toks))
	for _, g := range groups {
		if g.tfEff < 0.5 || len(g.occs) == 0 {
			g.score = 0
			continue
		}
		// Specificity: the most specific form of the group.
		spec := 0.0
		for _, c := range g.members {
			spec = math.Max(spec, x.spanSpec(c.occs[0]))
		}
		if g.alias {
			spec = math.Max(spec, x.m.aliasSpec[g.id])
		}
		if _, ok := x.docForms[g.id]; ok {
			spec = math.Max(spec, 0.9)
		}
		g.spec = spec

		sal := g.tfEff
		if sal >= 1 {
			sal = 1 + math.Log(sal)
		}
		first := g.occs[0].s
		pos := 1 + 0.5*math.Exp(-3*float64(first)/n)
		paras := map[int]bool{}
		inTitle, inLead, quoted := false, false, false
		names, multi := 0, false
		for _, o := range g.occs {
			p := toks[o.s].para
			paras[p] = true
			inTitle = inTitle || x.title && p == 0
			inLead = inLead || p == x.lead
			if o.e-o.s > 1 {
				multi = true
				if toks[o.s].qOpen && toks[o.e-1].qClose {
					quoted = true
				}
			}
			if x.allNames(o) {
				names++
			}
		}
		spread := 1 + 0.08*math.Min(float64(len(paras)-1), 5)
		s := spec * spec * sal * pos * spread
		if inTitle {
			s *= boostTitle
		}
		if inLead {
			s *= boostLead
		}
		if quoted {
			s *= boostQuoted
		}
		entity := 2*names > len(g.occs) || g.alias
		switch {
		case g.person:
			g.kind = KindPerson
			s *= boostName
		case entity && multi:
			g.kind = KindEntity
			s *= boostEntityN
		case entity:
			g.kind = KindEntity
			s *= boostName
		case multi:
			g.kind = KindPhrase
			s *= boostPhrase
		case strings.Contains(g.members[0].key, "-"):
			g.kind = KindWord // a compound (re-education) weighs like a phrase
		default:
			g.kind = KindWord
			s *= weightWord
		}
		g.score = s
	}
}

// allNames reports whether every content token of a span is a name.
func (x *extraction) allNames(o span) bool {
	for k := o.s; k < o.e; k++ {
		if t := x.toks[k]; t.content && !t.name {
			return false
		}
	}
	return true
}

// spanSpec is the specificity of a span: the mean of its content words',
// plus a little per extra word, because a combination of words is rarer
// than its parts (a unigram background cannot see collocations).
func (x *extraction) spanSpec(o span) float64 {
	sum, k := 0.0, 0
	for i := o.s; i < o.e; i++ {
		t := x.toks[i]
		if t.conn && i > o.s && i < o.e-1 {
			continue
		}
		sum += x.m.tokenSpec(t, t.name)
		k++
	}
	if k == 0 {
		return 0
	}
	return clamp01(sum/float64(k) + 0.15*math.Min(float64(k-1), 2))
}

// minScore is the least score a term is listed with (Score is rounded to
// three decimals; nothing is listed as scoring zero).
const minScore = 0.001

// maxInside is the share of a term's occurrences that may lie inside terms
// ranked above it before it is dropped as redundant.
const maxInside = 0.75

// terms orders groups by score and renders the top n, skipping a group
// whose occurrences mostly lie inside terms already chosen.
func (x *extraction) terms(groups []*group, n int) []Term {
	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].score != groups[j].score {
			return groups[i].score > groups[j].score
		}
		return groups[i].id < groups[j].id
	})
	var out []Term
	// reach[i] is the furthest end of a chosen occurrence covering token i:
	// an occurrence [s, e) lies inside a chosen one when reach[s] >= e.
	reach := make([]int, len(x.toks))
	for _, g := range groups {
		if len(out) >= n || g.score < minScore {
			break
		}
		inside := 0
		for _, o := range g.occs {
			if reach[o.s] >= o.e {
				inside++
			}
		}
		if float64(inside) >= maxInside*float64(len(g.occs)) {
			continue // mostly said already: "labour" after "forced labour"
		}
		for _, o := range g.occs {
			for i := o.s; i < o.e; i++ {
				reach[i] = max(reach[i], o.e)
			}
		}
		out = append(out, x.render(g))
	}
	return out
}

// render turns a group into a Term: the most frequent surface form, the
// other forms seen, then known ones.
func (x *extraction) render(g *group) Term {
	forms := map[string]int{}
	firstAt := map[string]int{}
	for _, o := range g.occs {
		s := x.surface(o)
		if _, ok := forms[s]; !ok {
			firstAt[s] = o.s
		}
		forms[s]++
	}
	seen := make([]string, 0, len(forms))
	for s := range forms {
		seen = append(seen, s)
	}
	sort.Slice(seen, func(i, j int) bool {
		a, b := seen[i], seen[j]
		if forms[a] != forms[b] {
			return forms[a] > forms[b]
		}
		return firstAt[a] < firstAt[b]
	})
	text := seen[0]
	if g.person {
		// A person is searched for by surname: show the lone surname.
		for _, s := range seen {
			if !strings.Contains(s, " ") {
				text = s
				break
			}
		}
	}
	t := Term{
		Text:     text,
		Score:    math.Round(g.score*1000) / 1000,
		Count:    len(g.occs),
		Kind:     g.kind,
		Forms:    forms,
		Specific: math.Round(g.spec*100) / 100,
	}
	if g.kind != KindPerson && isAcronymText(t.Text) {
		t.Kind = KindAcronym
	}
	variants := appendUnique(nil, seen...)
	known := append([]string(nil), x.m.aliasForms[g.id]...)
	known = append(known, x.docForms[g.id]...)
	if alt := phraseVariant(t.Text); alt != "" {
		known = append(known, alt)
	}
	variants = appendUnique(variants, known...)
	for _, v := range variants {
		if v != t.Text {
			t.Variants = append(t.Variants, v)
		}
	}
	return t
}

// isAcronymText reports whether s is one word in capitals (OHCHR, NGOs).
func isAcronymText(s string) bool {
	if strings.ContainsAny(s, " -") {
		return false
	}
	letters := acronymLetters(s)
	return len(letters) >= 2 && len(letters) >= utf8.RuneCountInString(s)-1
}

// phraseVariant returns the phrase with its words' other common spelling
// ("forced labor" → "forced labour"), or "" when no word has one.
func phraseVariant(s string) string {
	words := strings.Fields(s)
	changed := false
	for i, w := range words {
		if alt := britishVariant(w); alt != "" {
			words[i] = alt
			changed = true
		}
	}
	if !changed {
		return ""
	}
	return strings.Join(words, " ")
}

// surface is the text of a span as written (possessive of its last word
// dropped, spaces collapsed), with a sentence-initial capital lowered when
// the word is not a name.
func (x *extraction) surface(o span) string {
	first, last := x.toks[o.s], x.toks[o.e-1]
	if first.para != last.para {
		return first.text
	}
	p := x.paras[first.para]
	end := last.wordEnd
	if end > len(p) || first.start > end {
		return first.text
	}
	s := strings.Join(strings.Fields(p[first.start:end]), " ")
	if first.initial && first.capital && !first.name && !first.upper {
		r, size := utf8.DecodeRuneInString(s)
		s = string(unicode.ToLower(r)) + s[size:]
	}
	return s
}
