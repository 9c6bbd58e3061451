package terms

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// fold lowercases a word and strips its diacritics, so "Türkiye" and
// "Turkiye", "Uyghur" and "UYGHUR" compare equal. The transformer is built
// per call because x/text transformers are not safe for concurrent use.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
		if out, _, err := transform.String(t, s); err == nil {
			s = out
		}
	}
	return strings.ToLower(s)
}

// wordKey is the grouping key of one lowercase word: plural folded to the
// singular and British spellings folded to one form. It is only a key: the
// term shown to the editor is always a form that appeared in the text.
func wordKey(w string) string {
	if i := strings.IndexByte(w, '-'); i > 0 {
		// Hyphenated compounds: normalise each part ("re-education centres").
		parts := strings.Split(w, "-")
		for j, p := range parts {
			if j == len(parts)-1 {
				parts[j] = singular(spelling(p))
			} else {
				parts[j] = spelling(p)
			}
		}
		return strings.Join(parts, "-")
	}
	return singular(spelling(w))
}

// singular strips an English plural ending. It errs on the side of leaving a
// word alone: "crisis", "status", "process" keep their s.
func singular(w string) string {
	n := len(w)
	if n <= 3 || !isASCIIWord(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"),
		strings.HasSuffix(w, "ics"), strings.HasSuffix(w, "'s"):
		return w
	case strings.HasSuffix(w, "ies") && n > 4:
		return w[:n-3] + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "ches"),
		strings.HasSuffix(w, "shes"), strings.HasSuffix(w, "zzes"):
		return w[:n-2]
	case strings.HasSuffix(w, "s"):
		return w[:n-1]
	}
	return w
}

// spelling folds British and American spellings to one key: labour/labor,
// centre/center, organise/organize, analyse/analyze, catalogue/catalog,
// defence/defense. Keys only: "size" becomes "sise", which is harmless
// because both sides of a comparison go through the same function.
func spelling(w string) string {
	if !isASCIIWord(w) || len(w) < 5 {
		return w
	}
	if v, ok := spellingPairs[w]; ok {
		return v
	}
	// -our → -or, after at least three letters (labour, colour, behaviour).
	for _, suf := range []string{"our", "ours", "oured", "ouring", "ourer", "ourers", "ourite", "ourites", "ourable"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			return w[:len(w)-len(suf)] + "or" + suf[3:]
		}
	}
	// -tre/-bre → -ter/-ber (centre, theatre, fibre), with plural.
	for _, suf := range []string{"tre", "tres", "bre", "bres"} {
		if strings.HasSuffix(w, suf) {
			stem := w[:len(w)-len(suf)]
			return stem + string(suf[0]) + "er" + suf[3:]
		}
	}
	// -ize/-ise, -yze/-yse and their derivatives fold to -ise/-yse.
	for _, pair := range [][2]string{{"ization", "isation"}, {"izations", "isations"}, {"ize", "ise"}, {"izes", "ises"},
		{"ized", "ised"}, {"izing", "ising"}, {"izer", "iser"}, {"izers", "isers"}, {"yze", "yse"}, {"yzes", "yses"},
		{"yzed", "ysed"}, {"yzing", "ysing"}} {
		if strings.HasSuffix(w, pair[0]) {
			return w[:len(w)-len(pair[0])] + pair[1]
		}
	}
	// -ogue → -og (catalogue, dialogue, analogue).
	if strings.HasSuffix(w, "ogue") {
		return w[:len(w)-2]
	}
	if strings.HasSuffix(w, "ogues") {
		return w[:len(w)-3] + "s"
	}
	return w
}

// spellingPairs are British spellings no suffix rule covers, keyed to the
// form the rules above would produce for the American one.
var spellingPairs = map[string]string{
	"defence": "defense", "defences": "defenses", "offence": "offense", "offences": "offenses",
	"licence": "license", "licences": "licenses", "pretence": "pretense",
	"programme": "program", "programmes": "programs", "judgement": "judgment", "judgements": "judgments",
	"ageing": "aging", "grey": "gray", "travelled": "traveled", "travelling": "traveling",
	"traveller": "traveler", "travellers": "travelers", "cancelled": "canceled", "cancelling": "canceling",
	"labelled": "labeled", "modelled": "modeled", "fuelled": "fueled", "counselling": "counseling",
	"jewellery": "jewelry", "aluminium": "aluminum", "sceptical": "skeptical", "sceptic": "skeptic",
	"sceptics": "skeptics", "manoeuvre": "maneuver", "manoeuvres": "maneuvers", "paediatric": "pediatric",
	"anaesthetic": "anesthetic", "foetus": "fetus", "haemorrhage": "hemorrhage", "leukaemia": "leukemia",
	"diarrhoea": "diarrhea", "oestrogen": "estrogen", "enrol": "enroll", "fulfil": "fulfill",
}

// isASCIIWord reports whether w is made only of ASCII letters, digits,
// hyphens and apostrophes: the English spelling rules apply only there.
func isASCIIWord(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '\'') {
			return false
		}
	}
	return true
}

// bgStem is a light suffix stripper used only to look words up in the
// background model, whose few thousand words cannot contain every
// inflection: "investigated" finds "investigation", "stressing" finds
// "stress". Over-stemming is harmless there; it never groups terms.
func bgStem(w string) string {
	w = singular(spelling(w))
	if !isASCIIWord(w) {
		return w
	}
	for _, suf := range []string{"izations", "isations", "ization", "isation", "ations", "ation", "ments", "ment",
		"ings", "ing", "ions", "ion", "ied", "ers", "er", "edly", "ed", "ly", "e"} {
		minStem := 4
		if suf == "ed" || suf == "ing" {
			minStem = 3 // aimed → aim
		}
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= minStem {
			w = w[:len(w)-len(suf)]
			break
		}
	}
	// Undouble a final consonant left by -ing/-ed (planned → plan).
	if n := len(w); n >= 4 && w[n-1] == w[n-2] && strings.IndexByte("bdgmnprt", w[n-1]) >= 0 {
		w = w[:n-1]
	}
	return w
}

// britishVariant returns the other common spelling of a word (labor ↔
// labour, center ↔ centre, organize ↔ organise) when it has a well-known
// one, preserving the word's capitalisation of its first letter, or "".
func britishVariant(w string) string {
	lw := strings.ToLower(w)
	alt := ""
	if v, ok := altSpellings[lw]; ok {
		alt = v
	} else {
		for base, other := range altSpellingStems {
			if strings.HasPrefix(lw, base) {
				rest := lw[len(base):]
				if rest == "" || rest == "s" || rest == "ed" || rest == "ing" || rest == "er" || rest == "ers" {
					alt = other + rest
					break
				}
			}
		}
		if alt == "" {
			for _, pair := range [][2]string{{"ization", "isation"}, {"izations", "isations"}, {"ize", "ise"},
				{"izes", "ises"}, {"ized", "ised"}, {"izing", "ising"}} {
				if strings.HasSuffix(lw, pair[0]) && len(lw) > len(pair[0])+2 && !izeOnly[lw] {
					alt = lw[:len(lw)-len(pair[0])] + pair[1]
					break
				}
				if strings.HasSuffix(lw, pair[1]) && len(lw) > len(pair[1])+2 && izeWords[lw[:len(lw)-len(pair[1])]] {
					alt = lw[:len(lw)-len(pair[1])] + pair[0]
					break
				}
			}
		}
	}
	if alt == "" || alt == lw {
		return ""
	}
	if r, _ := utf8.DecodeRuneInString(w); unicode.IsUpper(r) {
		return strings.ToUpper(alt[:1]) + alt[1:]
	}
	return alt
}

// altSpellingStems pairs American and British stems; inflections follow.
var altSpellingStems = map[string]string{
	"labor": "labour", "labour": "labor", "color": "colour", "colour": "color", "honor": "honour", "honour": "honor",
	"favor": "favour", "favour": "favor", "neighbor": "neighbour", "neighbour": "neighbor", "behavior": "behaviour",
	"behaviour": "behavior", "harbor": "harbour", "harbour": "harbor", "rumor": "rumour", "rumour": "rumor",
	"center": "centre", "centre": "center", "theater": "theatre", "theatre": "theater", "fiber": "fibre", "fibre": "fiber",
	"catalog": "catalogue", "catalogue": "catalog", "analyze": "analyse", "analyse": "analyze", "paralyze": "paralyse",
	"paralyse": "paralyze", "tumor": "tumour", "tumour": "tumor", "vapor": "vapour", "vapour": "vapor",
}

// altSpellings are whole-word pairs (no inflection rule).
var altSpellings = map[string]string{
	"defense": "defence", "defence": "defense", "offense": "offence", "offence": "offense", "license": "licence",
	"licence": "license", "program": "programme", "programme": "program", "programs": "programmes",
	"programmes": "programs", "gray": "grey", "grey": "gray", "judgment": "judgement", "judgement": "judgment",
	"aging": "ageing", "ageing": "aging", "dialog": "dialogue", "dialogue": "dialog",
}

// izeOnly are -ize words with no -ise spelling; izeWords are stems whose
// -ise form is a spelling of the -ize word (so "promise" is left alone).
var (
	izeOnly  = map[string]bool{"size": true, "sizes": true, "prize": true, "prizes": true, "seize": true, "seized": true, "seizes": true, "capsize": true}
	izeWords = map[string]bool{
		"organ": true, "recogn": true, "critic": true, "mobil": true, "apolog": true, "real": true, "emphas": true,
		"legal": true, "author": true, "character": true, "priorit": true, "modern": true, "normal": true, "final": true,
		"maxim": true, "minim": true, "privat": true, "central": true, "national": true, "stabil": true, "subsid": true,
		"summar": true, "symbol": true, "util": true, "civil": true, "colon": true, "hospital": true, "immun": true,
		"industrial": true, "jeopard": true, "marginal": true, "militar": true, "neutral": true, "polar": true,
		"radical": true, "standard": true, "terror": true, "urban": true, "victim": true, "vandal": true, "weapon": true,
		"capital": true, "categor": true, "global": true, "harmon": true, "ital": true, "memor": true, "optim": true,
	}
)
