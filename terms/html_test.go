package terms

import (
	"strings"
	"testing"
)

func TestFromHTMLFixturePage(t *testing.T) {
	page := readFixture(t, "karsan-flood.html")
	ts, title, err := FromHTML(strings.NewReader(page), 20)
	if err != nil {
		t.Fatal(err)
	}
	logTerms(t, ts)
	if title != "Glacial lake flood sweeps through Karsan valley" {
		t.Errorf("title %q (want the h1)", title)
	}
	for _, want := range []string{"glacial lake", "Karsan", "KRC", "Dorvan", "Marrow", "moraine dam"} {
		if !hasTerm(ts, 10, want) {
			t.Errorf("%q not in the top 10 (rank %d)", want, rank(ts, want))
		}
	}
	// Page furniture never becomes a term.
	for _, noise := range []string{"Horoscopes", "Celebrity", "cookies", "newsletter", "Daily Ledger",
		"Copyright", "Facebook", "Search", "trackingPixel", "tracking pixel", "premium", "Sport", "Weather",
		"Related stories", "Privacy policy", "staff reporter"} {
		if hasTerm(ts, len(ts), noise) {
			t.Errorf("page furniture %q became a term", noise)
		}
	}
	assertNoFiller(t, ts, 20)
}

func TestHTMLTextExtraction(t *testing.T) {
	title, paras, err := htmlText(strings.NewReader(readFixture(t, "karsan-flood.html")))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(paras, "\n")
	for _, noise := range []string{"Horoscopes", "cookies", "Subscribe", "Copyright", "trackingPixel",
		"tracking pixel", "Share on Facebook", "Search", "Related stories", "font-family", "staff reporter"} {
		if strings.Contains(text, noise) {
			t.Errorf("extracted text contains furniture %q", noise)
		}
	}
	for _, want := range []string{"A glacial lake burst its moraine dam", "Road and bridges destroyed",
		"The Karsan Relief Committee (KRC) said"} {
		if !strings.Contains(text, want) {
			t.Errorf("extracted text lacks %q", want)
		}
	}
	if strings.Contains(text, title) {
		t.Errorf("the title is repeated in the body paragraphs")
	}
	// Headings and paragraphs stay separate paragraphs.
	if !containsPara(paras, "Road and bridges destroyed") {
		t.Errorf("the h2 is not its own paragraph: %q", paras)
	}
}

func containsPara(paras []string, want string) bool {
	for _, p := range paras {
		if p == want {
			return true
		}
	}
	return false
}

func TestHTMLTitleFallbackAndBody(t *testing.T) {
	page := `<html><head><title>Harbour dredging to begin in May – Coastal Courier</title></head>
<body><div class="menu">Home News Sport</div>
<div id="story"><p>Dredging of the Marisol harbour will begin in May, the harbour board said on Monday.</p>
<p hidden>Hidden teaser about lottery winners.</p>
<p style="display: none">Invisible lottery promotion.</p>
<p aria-hidden="true">Decorative lottery text.</p>
<p>Pellworth Dredging will do the work. Marisol pilots welcomed the dredging of the harbour.</p></div>
<!-- a comment about lottery -->
</body></html>`
	ts, title, err := FromHTML(strings.NewReader(page), 10)
	if err != nil {
		t.Fatal(err)
	}
	logTerms(t, ts)
	if title != "Harbour dredging to begin in May" {
		t.Errorf("title %q: want <title> without the site name", title)
	}
	if !hasTerm(ts, 5, "Marisol") || !hasTerm(ts, 5, "Pellworth Dredging") {
		t.Errorf("body terms missing")
	}
	if hasTerm(ts, len(ts), "lottery") || hasTerm(ts, len(ts), "Sport") {
		t.Errorf("hidden or menu text became a term")
	}
}

func TestHTMLMalformedAndEmpty(t *testing.T) {
	for _, page := range []string{"", "<", "<p>unclosed <b>bold <i>italic", "\x00\xff\xfe<html>",
		strings.Repeat("<div>", 2000) + "deep" + strings.Repeat("</div>", 2000)} {
		ts, _, err := FromHTML(strings.NewReader(page), 5)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "terms: parse html") {
				t.Errorf("error not wrapped: %v", err)
			}
			continue
		}
		for _, x := range ts {
			if x.Text == "" || strings.ContainsAny(x.Text, "<>") {
				t.Errorf("malformed term from %q: %+v", page[:min(len(page), 20)], x)
			}
		}
	}
	ts, _, err := FromHTML(strings.NewReader("<p>Unclosed <b>Corvina</b> lithium <i>mine at Xin<b>jiang</b>"), 5)
	if err != nil || !hasTerm(ts, 5, "Corvina") || !hasTerm(ts, 5, "Xinjiang") {
		t.Errorf("tolerant parsing: %v %+v", err, ts)
	}
}
