package terms

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxTokens bounds the words read from one document. Key terms of a report
// are settled long before that (about a megabyte of prose), and the bound
// keeps time and memory linear in a cap, not in whatever a server sends.
const maxTokens = 200_000

// token is one word of the document with what the scorer needs to know
// about where it stands.
type token struct {
	text  string // surface form, possessive 's stripped
	lower string // folded (lowercase, no diacritics)
	key   string // grouping key: see classify

	// start, end are byte offsets of the surface in the paragraph text,
	// end including a stripped possessive (so surfaces keep "commissioner's"
	// inside a phrase).
	start, end  int
	para, sent  int
	chunk       int  // tokens of one chunk have no punctuation between them
	initial     bool // first word of a sentence, a paragraph or a quotation
	capital     bool // first letter is uppercase
	upper       bool // an acronym: two or more letters, all uppercase (NGOs too)
	num         bool // no letters at all
	hyphen      bool // a hyphenated compound
	qOpen       bool // a quotation mark opens right before it
	qClose      bool // a quotation mark closes right after it
	pOpen       bool // a parenthesis opens right before it
	pClose      bool // a parenthesis closes right after it
	possessive  bool
	contraction bool // I've, don't: never a term
	wordEnd     int  // end of the word without a possessive

	// Set by classify.
	stop    bool // never a term, splits phrases
	conn    bool // a connector that may sit inside a phrase (of, for, the)
	name    bool // capitalised as a name (not merely as the first word of a sentence)
	content bool // may start or end a candidate
}

// cleanText normalises a text before tokenising: NFC, typographic quotes to
// ASCII, invalid UTF-8 replaced, so one set of rules handles every source.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = norm.NFC.String(s)
	return strings.NewReplacer(
		"\u2018", "'", "\u2019", "'", "\u02BC", "'", "\u2032", "'", "\u201B", "'",
		"\u201C", "\"", "\u201D", "\"", "\u201E", "\"", "\u201F", "\"", "\u00AB", "\"", "\u00BB", "\"",
		"\u00A0", " ", "\u2009", " ", "\u202F", " ", "\u200B", "", "\u00AD", "",
		"\u2010", "-", "\u2011", "-", "\r\n", "\n", "\r", "\n",
	).Replace(s)
}

// splitParagraphs splits on blank lines; single newlines are spaces.
func splitParagraphs(s string) []string {
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " "))
			cur = cur[:0]
		}
	}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return out
}

// abbreviations end with a period that does not end the sentence.
var abbreviations = map[string]bool{"mr": true, "mrs": true, "ms": true, "dr": true, "st": true, "no": true,
	"gov": true, "sen": true, "rep": true, "gen": true, "lt": true, "col": true, "inc": true, "ltd": true,
	"co": true, "corp": true, "vs": true, "jr": true, "sr": true, "prof": true, "capt": true, "sgt": true,
	"jan": true, "feb": true, "aug": true, "sept": true, "oct": true, "nov": true, "dec": true, "approx": true,
	"dept": true, "est": true, "fig": true, "vol": true, "ed": true, "e.g": true, "i.e": true, "etc": true}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc)
}

// tokenize splits paragraphs into tokens, recording sentence, chunk,
// quotation and parenthesis boundaries. It reads at most maxTokens words.
func tokenize(paras []string) []token {
	var toks []token
	chunk, sent := 0, 0
	for pi, p := range paras {
		chunk++
		sent++
		sentStart := true
		pendingQuote, pendingParen := false, false
		lastEnd := -1 // byte offset where the last token ended
		i := 0
		for i < len(p) {
			if len(toks) >= maxTokens {
				return toks
			}
			r, size := utf8.DecodeRuneInString(p[i:])
			if isWordRune(r) {
				j := i + size
			scan:
				for j < len(p) {
					r2, s2 := utf8.DecodeRuneInString(p[j:])
					if isWordRune(r2) {
						j += s2
						continue
					}
					if !(r2 == '\'' || r2 == '-' || r2 == '.' || r2 == ',') || j+s2 >= len(p) {
						break
					}
					r3, _ := utf8.DecodeRuneInString(p[j+s2:])
					if !isWordRune(r3) {
						break
					}
					prev, _ := utf8.DecodeLastRuneInString(p[i:j])
					switch r2 {
					case '.':
						// U.S., U.N. and 1.5 stay one word; a period between words does not.
						if !(unicode.IsDigit(prev) && unicode.IsDigit(r3)) && !dottedInitials(p[i:j+s2+1]) {
							break scan
						}
					case ',':
						// 1,500 is one number; a comma between words splits.
						if !(unicode.IsDigit(prev) && unicode.IsDigit(r3)) {
							break scan
						}
					}
					j += s2
				}
				word := p[i:j]
				end := j
				t := token{start: i, para: pi, sent: sent, chunk: chunk,
					initial: sentStart || pendingQuote, qOpen: pendingQuote, pOpen: pendingParen}
				// Dotted initials (U.S.) take their final period and lose the dots.
				if dottedInitials(word) {
					if j < len(p) && p[j] == '.' {
						j++
						end = j
					}
					word = strings.ReplaceAll(word, ".", "")
				}
				lw := strings.ToLower(word)
				t.wordEnd = end
				switch {
				case strings.HasSuffix(lw, "'s"):
					word = word[:len(word)-2]
					t.possessive = true
					t.wordEnd = end - 2
				case j < len(p) && p[j] == '\'' && strings.HasSuffix(lw, "s") && (j+1 == len(p) || !isWordRune(rune(p[j+1]))):
					j++ // plural possessive: Uyghurs'
					end = j
					t.possessive = true
				case strings.Contains(lw, "'"):
					t.contraction = true
				}
				t.text, t.end, t.lower = word, end, fold(word)
				if t.text == "" {
					i = j
					continue
				}
				fr, _ := utf8.DecodeRuneInString(word)
				t.capital = unicode.IsUpper(fr)
				letters, uppers, lowerS := 0, 0, 0
				for k, c := range word {
					if unicode.IsLetter(c) {
						letters++
						if unicode.IsUpper(c) {
							uppers++
						} else if c == 's' && k == len(word)-1 {
							lowerS++
						}
					}
				}
				t.num = letters == 0
				t.upper = uppers >= 2 && uppers+lowerS == letters
				t.hyphen = strings.Contains(word, "-")
				toks = append(toks, t)
				sentStart, pendingQuote, pendingParen = false, false, false
				lastEnd = end
				i = j
				continue
			}
			switch {
			case r == '"':
				chunk++
				if lastEnd == i && len(toks) > 0 && toks[len(toks)-1].para == pi {
					toks[len(toks)-1].qClose = true
				} else if i > 0 && lastEnd >= 0 && isClosingContext(p, i) && len(toks) > 0 && toks[len(toks)-1].para == pi {
					// ." or ," closes too.
					toks[len(toks)-1].qClose = true
				} else {
					pendingQuote = true
				}
			case r == '.' || r == '!' || r == '?' || r == '\u2026':
				chunk++
				if r == '.' && lastEnd == i && len(toks) > 0 {
					last := toks[len(toks)-1]
					if abbreviations[strings.ToLower(last.text)] || (utf8.RuneCountInString(last.text) == 1 && last.capital) {
						break
					}
				}
				if !sentStart {
					sent++
					sentStart = true
				}
			case r == '(' || r == '[':
				chunk++
				pendingParen = true
			case r == ')' || r == ']':
				chunk++
				if len(toks) > 0 && toks[len(toks)-1].para == pi {
					toks[len(toks)-1].pClose = true
				}
			case unicode.IsSpace(r):
			case r == '\'':
				// A stray apostrophe or single quotation mark: a boundary.
				chunk++
			default:
				// Commas, colons, dashes, slashes, symbols: all split phrases.
				chunk++
			}
			i += size
		}
	}
	return toks
}

// isClosingContext reports whether the quotation mark at p[i] follows
// punctuation that ends a quotation (,", .", ?").
func isClosingContext(p string, i int) bool {
	if i == 0 {
		return false
	}
	prev, _ := utf8.DecodeLastRuneInString(p[:i])
	return strings.ContainsRune(".,!?;:\u2026", prev)
}

// dottedInitials reports whether w looks like U.S or U.N.: single letters
// separated by periods.
func dottedInitials(w string) bool {
	if len(w) < 3 {
		return false
	}
	n := 0
	for k, c := range w {
		if k%2 == 0 {
			if c >= utf8.RuneSelf || !unicode.IsLetter(c) {
				return false
			}
			n++
		} else if c != '.' {
			return false
		}
	}
	return n >= 2
}
