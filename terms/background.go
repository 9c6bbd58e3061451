package terms

import (
	"embed"
	"math"
	"sort"
	"strings"
	"sync"
)

// The background corpus is general news prose written for wirewatch (see
// background/*.txt): short invented reports on the economy, sport, weather,
// politics, science, courts, health, technology, culture, energy, local and
// world news. It stands for "what news says anyway", so a word is specific
// to a report when the report uses it much more than the background does.
// common.txt adds frequent English content words the prose happens to miss.
//
//go:embed background/*.txt
var backgroundFS embed.FS

// commonShare is the share of background paragraphs a word of common.txt
// counts as appearing in, on top of its real count: "a common word".
const commonShare = 0.06

// model is everything the extractor knows before it reads a document. It is
// built once, never changed afterwards, and shared by concurrent calls.
type model struct {
	function, filler, calendar map[string]bool

	df     map[string]float64 // bgStem → paragraphs of the background using it
	docs   int                // background paragraphs
	idfMax float64

	// capShare: wordKey → [capitalised mid-sentence, lowercase] counts in the
	// background, which tells "Stories" (a word) from "Beijing" (a name) at
	// the start of a sentence.
	capShare map[string][2]int

	aliasWord    map[string]string   // key of a one-word form → group id
	aliasAcronym map[string]string   // acronym as written (OHCHR) → group id
	aliasPhrase  map[string]string   // key sequence of a longer form → group id
	aliasForms   map[string][]string // group id → its forms, preferred first
	aliasSpec    map[string]float64  // group id → the specificity of its rarest form
	phrasesByKey map[string][][]string
}

// loadModel is built once per process: it only reads embedded files.
var loadModel = sync.OnceValue(buildModel)

func buildModel() *model {
	m := &model{
		function: wordSet(functionWords),
		filler:   wordSet(fillerWords),
		calendar: wordSet(calendarWords),
		df:       map[string]float64{},
		capShare: map[string][2]int{},

		aliasWord:    map[string]string{},
		aliasAcronym: map[string]string{},
		aliasPhrase:  map[string]string{},
		aliasForms:   map[string][]string{},
		aliasSpec:    map[string]float64{},
		phrasesByKey: map[string][][]string{},
	}
	entries, _ := backgroundFS.ReadDir("background")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var common []string
	for _, name := range names {
		b, err := backgroundFS.ReadFile("background/" + name)
		if err != nil {
			continue
		}
		if name == "common.txt" {
			for _, line := range strings.Split(string(b), "\n") {
				if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
					common = append(common, strings.Fields(line)...)
				}
			}
			continue
		}
		for _, p := range splitParagraphs(cleanText(string(b))) {
			m.docs++
			seen := map[string]bool{}
			for _, t := range tokenize([]string{p}) {
				if t.num || t.contraction {
					continue
				}
				low := fold(t.text)
				k := wordKey(low)
				c := m.capShare[k]
				if !t.initial {
					if t.capital {
						c[0]++
					} else {
						c[1]++
					}
				}
				m.capShare[k] = c
				for _, s := range stemsOf(low) {
					if !seen[s] {
						seen[s] = true
						m.df[s]++
					}
				}
			}
		}
	}
	boost := commonShare * float64(m.docs)
	for _, w := range common {
		m.df[bgStem(w)] += boost
		k := wordKey(w)
		c := m.capShare[k]
		c[1] += 3
		m.capShare[k] = c
	}
	m.idfMax = math.Log(float64(m.docs+1) / 0.5)

	for _, forms := range aliasGroups {
		id := "@" + fold(forms[0])
		m.aliasForms[id] = forms
		spec := 0.0
		for _, f := range forms {
			toks := tokenize([]string{cleanText(f)})
			keys := make([]string, 0, len(toks))
			fs := 0.0
			for _, t := range toks {
				keys = append(keys, m.lexKey(t))
				fs = math.Max(fs, m.tokenSpec(t, t.capital))
			}
			spec = math.Max(spec, fs)
			switch {
			case len(toks) == 1 && toks[0].upper:
				m.aliasAcronym[keys[0]] = id
			case len(toks) == 1:
				m.aliasWord[keys[0]] = id
			case len(toks) > 1:
				m.aliasPhrase[strings.Join(keys, " ")] = id
				m.phrasesByKey[keys[0]] = append(m.phrasesByKey[keys[0]], keys)
			}
		}
		m.aliasSpec[id] = spec
	}
	return m
}

// stemsOf returns the background lookup keys of a folded word: its stem,
// and for a hyphenated compound the stems of its parts as well.
func stemsOf(low string) []string {
	if !strings.Contains(low, "-") {
		return []string{bgStem(low)}
	}
	out := []string{bgStem(low)}
	for _, p := range strings.Split(low, "-") {
		if p != "" {
			out = append(out, bgStem(p))
		}
	}
	return out
}

// lexKey is a token's grouping key before aliases: acronyms keep their
// capitals (US is not us, WHO is not who), everything else is folded,
// singular, one spelling.
func (m *model) lexKey(t token) string {
	if t.upper {
		return strings.TrimSuffix(t.text, "s")
	}
	return wordKey(fold(t.text))
}

// isStop reports whether a token can never be (the edge of) a term.
func (m *model) isStop(t token, name bool) bool {
	if t.num || t.contraction {
		return true
	}
	if t.upper {
		return false // acronyms: US, WHO, UN
	}
	k := wordKey(t.lower)
	if m.function[t.lower] || m.function[k] || m.calendar[t.lower] || m.calendar[k] {
		return true
	}
	if m.filler[t.lower] || m.filler[k] {
		return !name // "Watch" in Human Rights Watch is part of a name
	}
	return false
}

// idf is the inverse document frequency of one background stem.
func (m *model) idf(stem string) float64 {
	return math.Log(float64(m.docs+1) / (m.df[stem] + 0.5))
}

// tokenSpec is how specific one word is: 1 for a word the background never
// uses, near 0 for a word in most of its paragraphs, 0 for stopwords.
// A hyphenated compound made only of stopwords and numbers ("years-long",
// "six-day") is filler. One with a bound prefix ("re-education",
// "anti-government") means something its parts do not, so it is looked up
// whole; any other is as specific as its parts, plus a little for the
// combination.
func (m *model) tokenSpec(t token, name bool) float64 {
	if m.docs == 0 {
		return 1
	}
	low := fold(t.text)
	if t.num || m.isStop(t, name) {
		return 0
	}
	if !strings.Contains(low, "-") {
		return clamp01(m.idf(bgStem(low)) / m.idfMax)
	}
	sum, n, prefixed := 0.0, 0, false
	for _, p := range strings.Split(low, "-") {
		if p == "" {
			continue
		}
		if wordPrefixes[p] {
			prefixed = true
			continue
		}
		n++
		if isNumberWord(p) || m.function[p] || m.calendar[p] || m.filler[p] || m.filler[wordKey(p)] || m.calendar[wordKey(p)] {
			continue // counts as a part, adds nothing
		}
		sum += clamp01(m.idf(bgStem(p)) / m.idfMax)
	}
	switch {
	case n == 0 || sum == 0:
		return 0
	case prefixed:
		return clamp01(m.idf(bgStem(low)) / m.idfMax)
	}
	return clamp01(sum/float64(n) + 0.15)
}

func isNumberWord(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func clamp01(x float64) float64 {
	return math.Max(0, math.Min(1, x))
}
