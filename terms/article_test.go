package terms

import (
	"os"
	"strings"
	"testing"

	"wirewatch/internal/shared"
)

// The project's running example: a third-party news article on the UN
// report on Xinjiang, read in place from ../shared when it is there (never
// copied). The method is not tuned to it: the same ranking must also do
// well on the invented fixtures above.
func TestUNXinjiangArticle(t *testing.T) {
	path := shared.Path(t, "reports", "un-xinjiang-report-article.txt")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ts := FromText(string(b), 25)
	logTerms(t, ts)
	if len(ts) < 20 {
		t.Fatalf("only %d terms", len(ts))
	}
	top := ts[:15]
	for _, want := range [][]string{
		{"Xinjiang"},
		{"Uyghur", "Uyghurs"},
		{"crimes against humanity"},
		{"Bachelet"},
		{"OHCHR", "UN human rights office"},
	} {
		found := false
		for _, w := range want {
			found = found || hasTerm(top, 15, w)
		}
		if !found {
			t.Errorf("none of %q in the top 15 (rank %d)", want, rank(ts, want[0]))
		}
	}
	issues := 0
	for _, any := range [][]string{{"re-education"}, {"vocational training", "vocational training centers", "vocational training centres"},
		{"forced labour", "forced labor"}, {"Human Rights Watch"}} {
		for _, w := range any {
			if hasTerm(top, 15, w) {
				issues++
				break
			}
		}
	}
	if issues < 2 {
		t.Errorf("only %d of re-education, vocational training, forced labour, Human Rights Watch in the top 15", issues)
	}
	assertNoFiller(t, ts, 20)

	q := SuggestQuery(ts)
	t.Logf("query: %s", q)
	if _, err := checkQuery(q); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	anchors, issuesPart, ok := strings.Cut(q, " AND ")
	if !ok || !strings.Contains(anchors, "Xinjiang") || !strings.Contains(anchors, "Uyghur*") ||
		!strings.Contains(anchors, "Uighur*") || strings.Contains(anchors, "China") {
		t.Errorf("anchors: %s", anchors)
	}
	for _, want := range []string{`"crimes against humanity"`, "Bachelet", "OHCHR"} {
		if !strings.Contains(issuesPart, want) {
			t.Errorf("issues lack %s", want)
		}
	}
	y := TopicYAML("", "A UN report on human rights in Xinjiang", "../shared/reports/un-xinjiang-report-article.txt", ts, q)
	t.Logf("\n%s", y)
	checkYAMLBlock(t, y)
	if !strings.Contains(y, "      Uyghur: [Uighur, Uygur, Uigur]\n") {
		t.Errorf("want the Uyghur synonym group")
	}
}
