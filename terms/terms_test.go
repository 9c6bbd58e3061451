package terms

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// filler are words no desk editor would pick as a key term.
var filler = []string{"said", "says", "say", "told", "added", "according", "report", "reports", "reported",
	"statement", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "also",
	"would", "could", "may", "year", "years", "week", "month", "months", "people", "percent", "new", "last",
	"three", "many", "more", "officials", "time", "including", "however"}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hasTerm reports whether one of the first n terms has want as its text or
// one of its variants (case-insensitively).
func hasTerm(ts []Term, n int, want string) bool {
	for i, t := range ts {
		if i >= n {
			break
		}
		if strings.EqualFold(t.Text, want) {
			return true
		}
		for _, v := range t.Variants {
			if strings.EqualFold(v, want) {
				return true
			}
		}
	}
	return false
}

func rank(ts []Term, want string) int {
	for i, t := range ts {
		if hasTerm([]Term{t}, 1, want) {
			return i + 1
		}
	}
	return -1
}

func logTerms(t *testing.T, ts []Term) {
	t.Helper()
	for i, x := range ts {
		t.Logf("%2d  %-40s %6.2f  n=%-2d %-8s %s", i+1, x.Text, x.Score, x.Count, x.Kind, strings.Join(x.Variants, ", "))
	}
}

// assertNoFiller fails when a filler word is one of the first n terms.
func assertNoFiller(t *testing.T, ts []Term, n int) {
	t.Helper()
	for i, x := range ts {
		if i >= n {
			break
		}
		for _, f := range filler {
			if strings.EqualFold(x.Text, f) {
				t.Errorf("filler %q ranked %d", x.Text, i+1)
			}
		}
	}
}

// The invented report: its places, people, company, inquiry and the abuse
// it found must lead; the prose's filler must not.
func TestFromTextFixtureReport(t *testing.T) {
	ts := FromText(readFixture(t, "corvina-report.txt"), 25)
	logTerms(t, ts)
	if len(ts) != 25 {
		t.Fatalf("got %d terms, want 25", len(ts))
	}
	for _, want := range []string{"Corvina", "Sela", "Valdoria", "forced labour", "Brightwater Minerals",
		"debt bondage", "Ndovu", "IMI"} {
		if !hasTerm(ts, 10, want) {
			t.Errorf("%q not in the top 10 (rank %d)", want, rank(ts, want))
		}
	}
	assertNoFiller(t, ts, 25)
	// Ranking is by score, and every term is well-formed.
	for i, x := range ts {
		if i > 0 && x.Score > ts[i-1].Score {
			t.Errorf("term %d (%s) outscores term %d", i+1, x.Text, i)
		}
		if x.Text == "" || !utf8.ValidString(x.Text) || x.Count < 1 || x.Forms[x.Text] < 1 {
			t.Errorf("malformed term %+v", x)
		}
		if x.Specific < 0 || x.Specific > 1 {
			t.Errorf("%s: specific %v out of [0,1]", x.Text, x.Specific)
		}
	}
	// The inquiry chair is a person, named by surname, full name a variant.
	i := rank(ts, "Ndovu") - 1
	if i < 0 || ts[i].Kind != KindPerson || ts[i].Text != "Ndovu" || !slices.Contains(ts[i].Variants, "Amara Ndovu") {
		t.Errorf("Ndovu: want a person term with variant Amara Ndovu, got %+v", ts[max(i, 0)])
	}
	// A word inside a ranked phrase is not repeated on its own.
	if hasTerm(ts, 25, "labour") && !hasTerm(ts, 25, "forced labour") {
		t.Error("labour listed without forced labour")
	}
	for _, x := range ts {
		if x.Text == "labour" || x.Text == "bondage" {
			t.Errorf("%q repeats a ranked phrase", x.Text)
		}
	}
}

func TestFromTextEdges(t *testing.T) {
	if got := FromText("", 10); got != nil {
		t.Errorf("empty text: %v", got)
	}
	if got := FromText("The Corvina mine.", 0); got != nil {
		t.Errorf("n=0: %v", got)
	}
	if got := FromText("said and the of , . ; 2024 Wednesday", 10); len(got) != 0 {
		t.Errorf("only stopwords and numbers gave terms: %v", got)
	}
	got := FromText("Corvina", 5)
	if len(got) != 1 || got[0].Text != "Corvina" || got[0].Count != 1 {
		t.Errorf("one word: %+v", got)
	}
}

func TestVariantMerging(t *testing.T) {
	text := `Uighur families in Telmir protest resettlement

Uighur families in Telmir said on Monday that the resettlement centres built by the province were overcrowded. Several Uyghurs told the council that forced labour was common in the centres.

A Uygur teacher said forced labor had been reported at two resettlement centers. The Uyghur community has asked the organisation running the resettlement centres to open its books; the organization said it would.

Resettlement centres are run by the province. Forced labour, campaigners said, begins with debts. Uyghur leaders will meet the council again.`
	ts := FromText(text, 15)
	logTerms(t, ts)

	find := func(want string) Term {
		t.Helper()
		for _, x := range ts {
			if _, ok := x.Forms[want]; ok {
				return x
			}
		}
		t.Fatalf("no term has the form %q", want)
		return Term{}
	}
	// Transliterations and plural: one term.
	u := find("Uyghurs")
	for _, form := range []string{"Uighur", "Uygur", "Uyghur", "Uyghurs"} {
		if u.Forms[form] == 0 {
			t.Errorf("Uyghur term lacks the form %q: %v", form, u.Forms)
		}
	}
	if u.Count != 6 {
		t.Errorf("Uyghur count %d, want 6", u.Count)
	}
	if !slices.Contains(u.Variants, "Uigur") {
		t.Errorf("known transliteration Uigur missing from %v", u.Variants)
	}
	// labour/labor and a sentence-initial capital: one term, lowercase text.
	fl := find("forced labour")
	if fl.Forms["forced labor"] != 1 || fl.Forms["forced labour"] != 2 {
		t.Errorf("forced labour forms: %v", fl.Forms)
	}
	// centre/center, singular/plural.
	rc := find("resettlement centres")
	if rc.Forms["resettlement centers"] != 1 || rc.Count != 4 {
		t.Errorf("resettlement centres: %+v", rc)
	}
	// organise/organize is merged even as a single word.
	if o := find("organisation"); o.Forms["organization"] != 1 {
		t.Errorf("organisation forms: %v", o.Forms)
	}
	// Only one term per thing.
	seen := map[string]bool{}
	for _, x := range ts {
		k := normForm(x.Text)
		if seen[k] {
			t.Errorf("term %q listed twice", x.Text)
		}
		seen[k] = true
	}
}

func TestNormalisation(t *testing.T) {
	same := [][2]string{{"labour", "labor"}, {"centres", "center"}, {"organise", "organize"},
		{"organisations", "organization"}, {"analyse", "analyze"}, {"catalogue", "catalog"},
		{"defence", "defense"}, {"uyghurs", "uyghur"}, {"policies", "policy"}, {"theatre", "theater"},
		{"programme", "program"}, {"re-education", "re-education"}, {"crimes", "crime"}}
	for _, p := range same {
		if a, b := wordKey(p[0]), wordKey(p[1]); a != b {
			t.Errorf("wordKey(%q)=%q, wordKey(%q)=%q: want equal", p[0], a, p[1], b)
		}
	}
	for _, w := range []string{"crisis", "status", "process", "analysis", "physics"} {
		if wordKey(w) != w {
			t.Errorf("wordKey(%q)=%q, want unchanged", w, wordKey(w))
		}
	}
	if fold("Türkiye") != "turkiye" || fold("ÜRÜMQI") != "urumqi" {
		t.Errorf("fold: %q %q", fold("Türkiye"), fold("ÜRÜMQI"))
	}
	for w, want := range map[string]string{"labor": "labour", "Centre": "Center", "organized": "organised",
		"criticises": "criticizes", "promise": "", "size": "", "defence": "defense", "lithium": ""} {
		if got := britishVariant(w); got != want {
			t.Errorf("britishVariant(%q)=%q, want %q", w, got, want)
		}
	}
	if got := phraseVariant("forced labor"); got != "forced labour" {
		t.Errorf("phraseVariant: %q", got)
	}
}

func TestAcronymDefinitions(t *testing.T) {
	text := `Fisheries agency closes the northern banks

The Coastal Fisheries Protection Agency (CFPA) closed the northern banks to trawlers on Friday. The CFPA said cod stocks had fallen for a fifth year, and the CFPA will review the closure in spring.

Its partner, the KRC (Karsan Relief Committee), will pay crews while the banks are closed. The Karsan Relief Committee has paid crews before.

Trawler owners said on Monday (FBI) that they would appeal.`
	ts := FromText(text, 20)
	logTerms(t, ts)
	var cfpa, krc *Term
	for i := range ts {
		switch {
		case ts[i].Forms["CFPA"] > 0:
			cfpa = &ts[i]
		case ts[i].Forms["KRC"] > 0:
			krc = &ts[i]
		}
	}
	if cfpa == nil || cfpa.Text != "CFPA" || cfpa.Count != 4 || cfpa.Forms["Coastal Fisheries Protection Agency"] != 1 ||
		cfpa.Kind != KindAcronym {
		t.Errorf("Full Name (ACR): %+v", cfpa)
	}
	if krc == nil || krc.Count != 3 || krc.Forms["Karsan Relief Committee"] != 2 ||
		!slices.Contains(krc.Variants, "KRC") && krc.Text != "KRC" {
		t.Errorf("ACR (Full Name): %+v", krc)
	}
	// "(FBI)" after words whose initials do not spell it defines nothing.
	for _, x := range ts {
		if x.Forms["FBI"] > 0 && len(x.Forms) > 1 {
			t.Errorf("FBI wrongly defined: %+v", x)
		}
	}
	// The definition ranks the organisation above its parts.
	if rank(ts, "CFPA") > 3 {
		t.Errorf("CFPA ranked %d", rank(ts, "CFPA"))
	}
}

func TestAliasTableLongForms(t *testing.T) {
	text := `Rights office criticises detentions

The UN human rights office said on Tuesday that detentions in the province were arbitrary. The Office of the High Commissioner for Human Rights called for the release of all detainees.

The OHCHR has asked for access to the province since 2019. The UN rights chief will visit in June.`
	ts := FromText(text, 10)
	logTerms(t, ts)
	if len(ts) == 0 || ts[0].Count != 4 || !hasTerm(ts[:1], 1, "OHCHR") || !hasTerm(ts[:1], 1, "UN human rights office") {
		t.Fatalf("want the OHCHR group (4 mentions) first, got %+v", ts[:min(1, len(ts))])
	}
	if ts[0].Kind != KindEntity && ts[0].Kind != KindAcronym {
		t.Errorf("kind %q", ts[0].Kind)
	}
}

func TestNamesAndSentenceStarts(t *testing.T) {
	text := `Harbour board approves dredging

Dredging of the Marisol harbour will begin in May, the harbour board said. Stories of silted berths have circulated for years.

Captains said dredging was overdue. Marisol pilots agreed. Engineers from Pellworth Dredging will start the work; Pellworth Dredging has done similar work in Telmir.

Marisol is the busiest harbour on the coast.`
	ts := FromText(text, 12)
	logTerms(t, ts)
	for _, x := range ts {
		if x.Text == "Stories" || x.Text == "Captains" || x.Text == "Engineers" || x.Text == "Dredging" {
			t.Errorf("sentence-initial word shown as a name: %+v", x)
		}
	}
	m := ts[rank(ts, "Marisol")-1]
	if m.Kind != KindEntity || m.Count != 3 {
		t.Errorf("Marisol: %+v", m)
	}
	if r := rank(ts, "Pellworth Dredging"); r < 1 || ts[r-1].Kind != KindEntity {
		t.Errorf("Pellworth Dredging: rank %d", r)
	}
	if r := rank(ts, "dredging"); r < 1 || ts[r-1].Text != "dredging" {
		t.Errorf("dredging should be one lowercase term, rank %d", r)
	}
}

func TestTokenBound(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 1600000; i++ {
		b.WriteString("Corvina lithium mine workers. ")
	}
	paras := splitParagraphs(cleanText(b.String()))
	if n := len(tokenize(paras)); n != maxTokens {
		t.Errorf("tokenize read %d tokens, want the cap %d", n, maxTokens)
	}
	if ts := FromText(b.String(), 3); len(ts) == 0 || !hasTerm(ts, 1, "Corvina lithium mine workers") || ts[0].Count != maxTokens/4 {
		t.Errorf("long text: %+v", ts)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"A UN report on human rights in Xinjiang is expected on Wednesday after long delays": "un-report-human-rights-xinjiang-expected",
		"Glacial lake flood sweeps through Karsan valley":                                    "glacial-lake-flood-sweeps-karsan-valley",
		"Türkiye: élections 2023":                                                            "turkiye-elections-2023",
		"":                                                                                   "report",
		"!!! ???":                                                                            "report",
	} {
		if got := Slug(in); got != want || !validID(got) {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// The background model is shared by concurrent calls; results are the same
// whichever goroutine computes them (run with -race).
func TestConcurrentUseIsDeterministic(t *testing.T) {
	text := readFixture(t, "corvina-report.txt")
	page := readFixture(t, "karsan-flood.html")
	want := FromText(text, 20)
	wantHTML, _, _ := FromHTML(strings.NewReader(page), 20)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := FromText(text, 20); !reflect.DeepEqual(got, want) {
				errs <- "FromText differs between calls"
			}
			if got, _, _ := FromHTML(strings.NewReader(page), 20); !reflect.DeepEqual(got, wantHTML) {
				errs <- "FromHTML differs between calls"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
