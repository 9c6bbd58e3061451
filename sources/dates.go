package sources

import (
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Publishers write dates in many more shapes than RFC 822 and RFC 3339
// allow. gofeed knows most English ones; parseDate is the fallback for what
// it leaves unparsed (localized day and month names, zone names it does
// not know, stray spaces and comments) and the override for zone names it
// would silently read as UTC.

// zoneOffsets maps the zone abbreviations feeds use to their UTC offset in
// seconds. Go's time package resolves only UTC and the host's zone, so
// every other abbreviation would parse as offset 0. Ambiguous ones take the
// reading that dominates news feeds: CST is US Central, BST British Summer
// Time, IST India. RFC 822's single-letter military zones other than Z are
// read as UTC, as RFC 5322 advises (their signs were defined backwards and
// nobody agrees on them).
var zoneOffsets = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
	"EST": -5 * 3600, "EDT": -4 * 3600,
	"CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600,
	"PST": -8 * 3600, "PDT": -7 * 3600,
	"AKST": -9 * 3600, "AKDT": -8 * 3600,
	"HST": -10 * 3600,
	"AST": -4 * 3600, "ADT": -3 * 3600,
	"NST": -(3*3600 + 1800), "NDT": -(2*3600 + 1800),
	"BRT": -3 * 3600, "ART": -3 * 3600,
	"WEST": 1 * 3600, "BST": 1 * 3600, "IST": 5*3600 + 1800,
	"CET": 1 * 3600, "CEST": 2 * 3600, "MET": 1 * 3600, "MEST": 2 * 3600,
	"MEZ": 1 * 3600, "MESZ": 2 * 3600,
	"EET": 2 * 3600, "EEST": 3 * 3600,
	"WAT": 1 * 3600, "CAT": 2 * 3600, "SAST": 2 * 3600, "EAT": 3 * 3600,
	"MSK": 3 * 3600, "TRT": 3 * 3600,
	"PKT": 5 * 3600, "ICT": 7 * 3600, "WIB": 7 * 3600,
	"HKT": 8 * 3600, "SGT": 8 * 3600, "AWST": 8 * 3600, "PHT": 8 * 3600,
	"JST": 9 * 3600, "KST": 9 * 3600,
	"ACST": 9*3600 + 1800, "ACDT": 10*3600 + 1800,
	"AEST": 10 * 3600, "AEDT": 11 * 3600,
	"NZST": 12 * 3600, "NZDT": 13 * 3600,
}

// monthNames maps lower-cased month names and abbreviations in the
// languages of the feeds wirewatch watches most (English, German, French,
// Spanish, Italian, Portuguese, Dutch) to the English abbreviation Go's
// layouts read. Names shared between languages agree on the month.
//
// Like zoneOffsets, it is built once and only read afterwards.
var monthNames = func() map[string]string {
	m := map[string]string{}
	for i, names := range [12][]string{
		{"jan", "january", "januar", "jän", "jänner", "janv", "janvier", "ene", "enero", "gen", "gennaio", "janeiro", "januari"},
		{"feb", "february", "februar", "févr", "fevr", "février", "fevrier", "febrero", "febbraio", "fev", "fevereiro", "februari"},
		{"mar", "march", "mär", "märz", "maerz", "mrz", "mars", "marzo", "março", "marco", "mrt", "maart"},
		{"apr", "april", "avr", "avril", "abr", "abril", "aprile"},
		{"may", "mai", "mayo", "mag", "maggio", "maio", "mei"},
		{"jun", "june", "juni", "juin", "junio", "giu", "giugno", "junho"},
		{"jul", "july", "juli", "juil", "juillet", "julio", "lug", "luglio", "julho"},
		{"aug", "august", "août", "aout", "ago", "agosto", "augustus"},
		{"sep", "sept", "september", "septembre", "septiembre", "set", "settembre", "setembro"},
		{"oct", "october", "okt", "oktober", "octobre", "octubre", "ott", "ottobre", "out", "outubro"},
		{"nov", "november", "novembre", "noviembre", "novembro"},
		{"dec", "december", "dez", "dezember", "déc", "decembre", "décembre", "dic", "diciembre", "dicembre", "dezembro"},
	} {
		for _, n := range names {
			m[n] = time.Month(i + 1).String()[:3]
		}
	}
	return m
}()

// fillerWords are the little words some languages put between the parts
// of a date ("5 de octubre de 2022", "12 sept. 2022 à 08:30").
var fillerWords = map[string]bool{"de": true, "del": true, "à": true, "a": true, "um": true, "at": true, "le": true, "el": true, "às": true}

// fallbackLayouts are tried, in order, on the normalised string: weekday
// removed, month in English, zone as a numeric offset, single spaces.
var fallbackLayouts = []string{
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 06 15:04:05 -0700",
	"2 Jan 06 15:04 -0700",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 Jan 2006",
	"Jan 2 2006 15:04:05 -0700",
	"Jan 2 2006 15:04 -0700",
	"Jan 2 2006 15:04:05",
	"Jan 2 2006 15:04",
	"Jan 2 2006",
	"Jan 2 2006 3:04 PM -0700",
	"Jan 2 2006 3:04 PM",
	"2 Jan 2006 3:04 PM -0700",
	"2 Jan 2006 3:04 PM",
	"Jan 2 15:04:05 2006 -0700",
	"Jan 2 15:04:05 -0700 2006",
	"2006-01-02T15:04:05.999999999-0700",
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04-0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
	"2.1.2006 15:04:05 -0700",
	"2.1.2006 15:04 -0700",
	"2.1.2006 15:04:05",
	"2.1.2006 15:04",
	"2.1.2006",
}

// maxDateLen bounds the strings parseDate looks at: no real date is longer,
// and the work per item stays small whatever a feed puts there.
const maxDateLen = 128

// parseDate reads a date as publishers write it. ok is false when no
// fallback layout fits, and for impossible dates (a 32nd day), which are
// never guessed at.
func parseDate(s string) (t time.Time, ok bool) {
	if len(s) > maxDateLen {
		return time.Time{}, false
	}
	n := normaliseDate(s)
	if n == "" {
		return time.Time{}, false
	}
	for _, layout := range fallbackLayouts {
		if t, err := time.Parse(layout, n); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// hasNamedZone reports whether s ends in a zone abbreviation parseDate
// knows, in which case parseDate's reading is preferred to gofeed's: gofeed
// reads abbreviations outside its short list as UTC without saying so.
func hasNamedZone(s string) bool {
	s = strings.TrimSpace(s)
	i := strings.LastIndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if i < 0 || i == len(s)-1 {
		return false
	}
	_, ok := zoneOffsets[strings.ToUpper(s[i+1:])]
	return ok
}

// normaliseDate rewrites s into the shape fallbackLayouts read:
//
//	"Mi, 05 Okt 2022 10:00:00 MESZ"         → "05 Oct 2022 10:00:00 +0200"
//	"lun., 12 sept. 2022 08:30 +0200"       → "12 Sep 2022 08:30 +0200"
//	"Thu(hate), 9(th) Feb 2006 23:59:45 z"  → "9 Feb 2006 23:59:45 +0000"
//	"2003-07-01 T 01:55:07 -05:00"          → "2003-07-01T01:55:07 -0500" (then joined)
//
// RFC 822 comments are dropped, commas and runs of space become one space,
// a leading weekday (any word that is not a month) is dropped, month names
// are translated, ordinal suffixes go ("9th"), and a trailing zone name or
// "+hh:mm" becomes "+hhmm".
func normaliseDate(s string) string {
	s = stripComments(s)
	s = strings.NewReplacer(",", " ", "\u00a0", " ").Replace(s)
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return ""
	}
	// ISO 8601 with stray spaces around the T: "2003-07-01 T 01:55:07".
	var joined []string
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case f == "T" || f == "t":
			if len(joined) > 0 && i+1 < len(fields) {
				joined[len(joined)-1] += "T" + fields[i+1]
				i++
				continue
			}
		case (strings.HasPrefix(f, "T") || strings.HasPrefix(f, "t")) && len(f) > 1 && f[1] >= '0' && f[1] <= '9' && len(joined) > 0 && isISODate(joined[len(joined)-1]):
			joined[len(joined)-1] += "T" + f[1:]
			continue
		case (strings.HasSuffix(f, "T") || strings.HasSuffix(f, "t")) && isISODate(f[:len(f)-1]) && i+1 < len(fields):
			joined = append(joined, f[:len(f)-1]+"T"+fields[i+1])
			i++
			continue
		}
		joined = append(joined, f)
	}
	fields = joined

	// A leading weekday, in any language, is redundant: drop a first word
	// made of letters (and a trailing dot) that is not a month name, or
	// that is followed by a day and a month ("mar., 12 sept.": mardi, not
	// March).
	if w := lowerWord(fields[0]); isWord(w) {
		if monthNames[w] == "" || (len(fields) > 2 && isDigits(fields[1]) && monthNames[lowerWord(fields[2])] != "") {
			fields = fields[1:]
		}
	}
	kept := fields[:0]
	for _, f := range fields {
		lower := lowerWord(f)
		if m, ok := monthNames[lower]; ok {
			kept = append(kept, m)
			continue
		}
		if fillerWords[lower] {
			continue
		}
		if d := strings.TrimRight(lower, "stndrh"); len(d) > 0 && len(d) <= 2 && isDigits(d) {
			f = d // 9th, 1st, 22nd, 3rd, and German "5." for the 5th
		}
		kept = append(kept, f)
	}
	fields = kept
	if len(fields) == 0 {
		return ""
	}
	fields[len(fields)-1] = normaliseZone(fields[len(fields)-1])
	if len(fields) >= 2 {
		// "GMT +0200" or "+0200 (CEST)" leftovers: a zone name before a
		// numeric offset is redundant.
		prev := strings.ToUpper(fields[len(fields)-2])
		if _, ok := zoneOffsets[prev]; ok && isOffset(fields[len(fields)-1]) {
			fields = append(fields[:len(fields)-2], fields[len(fields)-1])
		}
	}
	// An ISO date and a space-separated offset: "2022-10-05T10:00:00 +0200".
	if n := len(fields); n == 2 && strings.Contains(fields[0], "T") && isOffset(fields[1]) && isISODate(fields[0][:min(10, len(fields[0]))]) {
		return fields[0] + fields[1]
	}
	return strings.Join(fields, " ")
}

// normaliseZone rewrites the last field of a date when it is or ends in a
// zone: a known name, a military letter, "GMT+2", "+hh:mm" or "+hh", or a
// zone glued to an ISO time ("10:00:00+02:00", "10:00:00Z").
func normaliseZone(last string) string {
	if off, ok := zoneOffsets[strings.ToUpper(last)]; ok {
		return formatOffset(off)
	}
	if len(last) == 1 && isWord(strings.ToLower(last)) {
		return "+0000" // other military zones, see zoneOffsets
	}
	if z, ok := numericZone(last); ok {
		return z
	}
	if !strings.ContainsAny(last, "Tt") {
		return last
	}
	if i := strings.LastIndexAny(last, "+-"); i > 0 {
		if z, ok := numericZone(last[i:]); ok {
			return last[:i] + z
		}
	}
	if strings.HasSuffix(last, "Z") || strings.HasSuffix(last, "z") {
		return last[:len(last)-1] + "+0000"
	}
	return last
}

// lowerWord lower-cases a date word and drops a trailing abbreviation dot.
func lowerWord(s string) string {
	return strings.TrimSuffix(strings.ToLower(s), ".")
}

// stripComments removes RFC 822 comments ("(GMT)"), nested ones included;
// an unbalanced parenthesis leaves the rest of the string as it is.
func stripComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && depth > 0 && i+1 < len(s):
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
			if depth == 0 {
				b.WriteByte(' ')
			}
		case depth == 0:
			b.WriteByte(c)
		}
	}
	if depth != 0 {
		return s
	}
	return b.String()
}

// numericZone rewrites "+02:00", "+2", "+02", "GMT+2", "UTC-05:30" and
// "+0200" as "+hhmm".
func numericZone(s string) (string, bool) {
	u := strings.ToUpper(s)
	for _, p := range []string{"GMT", "UTC", "UT"} {
		if strings.HasPrefix(u, p) && len(u) > len(p) {
			s = s[len(p):]
			break
		}
	}
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return "", false
	}
	sign, rest := s[:1], strings.Replace(s[1:], ":", "", 1)
	if !isDigits(rest) {
		return "", false
	}
	switch len(rest) {
	case 1, 2:
		rest = strings.Repeat("0", 2-len(rest)) + rest + "00"
	case 3:
		rest = "0" + rest
	case 4:
	default:
		return "", false
	}
	h, _ := strconv.Atoi(rest[:2])
	m, _ := strconv.Atoi(rest[2:])
	if h > 14 || m > 59 {
		return "", false
	}
	return sign + rest, true
}

func formatOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	return string(sign) + twoDigits(sec/3600) + twoDigits(sec%3600/60)
}

func twoDigits(n int) string {
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}

func isOffset(s string) bool {
	return len(s) == 5 && (s[0] == '+' || s[0] == '-') && isDigits(s[1:])
}

func isISODate(s string) bool {
	return len(s) == 10 && s[4] == '-' && s[7] == '-' && isDigits(s[:4]) && isDigits(s[5:7]) && isDigits(s[8:])
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isWord reports whether s is letters only (any script), as day and month
// names are.
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}
