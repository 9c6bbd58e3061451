package sources

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"wirewatch/news"
)

// fixedNow is the fetch time used by parse tests.
var fixedNow = time.Date(2022, 9, 3, 6, 0, 0, 0, time.FixedZone("CEST", 2*3600))

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFixture(t *testing.T, name, contentType string) (string, []news.Item) {
	t.Helper()
	title, items, err := Parse(readFixture(t, name), contentType, "src-1", fixedNow)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	checkItemInvariants(t, "src-1", items)
	return title, items
}

// checkItemInvariants asserts what every parsed item must satisfy whatever
// the input: valid UTF-8 everywhere, ID derived from the key, unique keys,
// only absolute http(s) links, UTC times, something to show.
func checkItemInvariants(t testing.TB, sourceID string, items []news.Item) {
	t.Helper()
	keys := map[string]bool{}
	for i, it := range items {
		if it.Key == "" || it.ID != news.ItemID(sourceID, it.Key) || it.SourceID != sourceID {
			t.Errorf("item %d: key %q id %q source %q: identity broken", i, it.Key, it.ID, it.SourceID)
		}
		if keys[it.Key] {
			t.Errorf("item %d: duplicate key %q", i, it.Key)
		}
		keys[it.Key] = true
		fields := append([]string{it.Key, it.Title, it.Link, it.Summary, it.Content}, it.Authors...)
		for _, f := range append(fields, it.Categories...) {
			if !utf8.ValidString(f) {
				t.Errorf("item %d: invalid UTF-8 in %q", i, f)
			}
		}
		if it.Link != "" && !strings.HasPrefix(it.Link, "http://") && !strings.HasPrefix(it.Link, "https://") {
			t.Errorf("item %d: link %q is not absolute http(s)", i, it.Link)
		}
		if it.Title == "" && it.Link == "" && it.Summary == "" && it.Content == "" {
			t.Errorf("item %d: empty item kept", i)
		}
		for _, tm := range []time.Time{it.Published, it.Updated, it.FetchedAt} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Errorf("item %d: time %v not in UTC", i, tm)
			}
		}
		if it.Published.IsZero() || it.FetchedAt.IsZero() {
			t.Errorf("item %d: Published or FetchedAt unset", i)
		}
	}
}

func TestParseRSS20(t *testing.T) {
	title, items := parseFixture(t, "rss20.xml", "application/rss+xml")
	if title != "Global Desk & Wires" {
		t.Errorf("feed title = %q", title)
	}
	wantKeys := []string{
		"gd-2022-0831-xinjiang",
		"gd-2022-0901-rates",
		"https://news.example.org/world/2022/09/01/floods-recede#top", // link identity, fragment kept
		hashKey("Correction: earlier story misstated casualty figures",
			"An earlier version of a story on the mine collapse gave the wrong number of injured workers.", ""),
		"https://news.example.org/politics/2022/09/02/recount", // guid
	}
	var gotKeys []string
	for _, it := range items {
		gotKeys = append(gotKeys, it.Key)
	}
	if !reflect.DeepEqual(gotKeys, wantKeys) {
		t.Fatalf("keys (duplicate guid and empty item must be dropped):\n got %q\nwant %q", gotKeys, wantKeys)
	}

	x := items[0]
	if x.ID != news.ItemID("src-1", "gd-2022-0831-xinjiang") {
		t.Errorf("ID = %q", x.ID)
	}
	if x.Title != "UN rights office says abuses in Xinjiang may amount to crimes against humanity" {
		t.Errorf("Title = %q", x.Title)
	}
	wantSummary := "The long-awaited assessment by the UN human-rights office describes “serious human rights violations” " +
		"against Uyghurs and other predominantly Muslim communities in the Xinjiang region. " +
		`Beijing rejected the report as "disinformation".`
	if x.Summary != wantSummary {
		t.Errorf("Summary:\n got %q\nwant %q", x.Summary, wantSummary)
	}
	if strings.Contains(x.Summary, "trackReader") || strings.Contains(x.Content, "display:none") {
		t.Error("script/style content leaked into text")
	}
	if !strings.HasPrefix(x.Content, "What the report found Investigators cite") || !strings.HasSuffix(x.Content, "Detention Family separation") {
		t.Errorf("Content = %q", x.Content)
	}
	if !reflect.DeepEqual(x.Authors, []string{"Amira Haddad"}) {
		t.Errorf("Authors = %q", x.Authors)
	}
	if !reflect.DeepEqual(x.Categories, []string{"Human rights", "China"}) {
		t.Errorf("Categories = %q (want deduplicated, in order)", x.Categories)
	}
	if want := time.Date(2022, 8, 31, 21, 45, 0, 0, time.UTC); !x.Published.Equal(want) || x.Published.Location() != time.UTC {
		t.Errorf("Published = %v, want %v in UTC", x.Published, want)
	}
	if !x.Updated.IsZero() {
		t.Errorf("Updated = %v, want zero (feed gives none)", x.Updated)
	}
	if !x.FetchedAt.Equal(fixedNow) {
		t.Errorf("FetchedAt = %v", x.FetchedAt)
	}

	if got := items[1].Summary; got != "Policy makers voted 7–2 to keep the benchmark rate at 2.25%, citing a slowdown in price growth & weaker demand." {
		t.Errorf("entities in description: %q", got)
	}
	if got := items[1].Link; got != "https://news.example.org/business/2022/09/01/rates-hold?utm_source=rss" {
		t.Errorf("Link = %q", got)
	}

	floods := items[2]
	if floods.Link != "https://news.example.org/world/2022/09/01/floods-recede#top" {
		t.Errorf("relative link resolved to %q, want it against the channel link", floods.Link)
	}

	corr := items[3]
	if corr.Link != "" || !corr.Published.Equal(fixedNow) {
		t.Errorf("hash-identity item: link %q published %v, want no link and FetchedAt", corr.Link, corr.Published)
	}

	recount := items[4]
	if !strings.HasPrefix(recount.Title, "Election officials in the capital began a manual recount") ||
		!strings.HasSuffix(recount.Title, "…") || utf8.RuneCountInString(recount.Title) > 81 {
		t.Errorf("fallback title = %q, want ~80 runes of the summary", recount.Title)
	}
	if recount.Link != "https://news.example.org/politics/2022/09/02/recount" {
		t.Errorf("permalink guid not used as link: %q", recount.Link)
	}
	if strings.Contains(recount.Summary, "<p>") {
		t.Errorf("escaped HTML not stripped: %q", recount.Summary)
	}
}

func hashKey(title, summary, content string) string {
	sum := sha256.Sum256([]byte(title + "\n" + summary + "\n" + content))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestParseRSS10(t *testing.T) {
	title, items := parseFixture(t, "rss10.rdf", "application/rdf+xml")
	if title != "Example Wire" || len(items) != 2 {
		t.Fatalf("title %q, %d items", title, len(items))
	}
	it := items[0]
	if it.Key != "https://wire.example.net/a/satellite-camps" || it.Link != it.Key {
		t.Errorf("RDF item without guid: key %q link %q, want link identity", it.Key, it.Link)
	}
	if it.Title != "Satellite images suggest expansion of detention sites in Xinjiang" {
		t.Errorf("Title = %q", it.Title)
	}
	if !reflect.DeepEqual(it.Authors, []string{"Lena Fischer"}) || !reflect.DeepEqual(it.Categories, []string{"Xinjiang"}) {
		t.Errorf("dc:creator/dc:subject: authors %q categories %q", it.Authors, it.Categories)
	}
	if want := time.Date(2022, 9, 2, 0, 15, 0, 0, time.UTC); !it.Published.Equal(want) {
		t.Errorf("Published = %v, want %v", it.Published, want)
	}
}

func TestParseAtom10(t *testing.T) {
	title, items := parseFixture(t, "atom10.xml", "application/atom+xml")
	if title != "Rights & Justice Monitor" || len(items) != 2 {
		t.Fatalf("title %q, %d items", title, len(items))
	}
	it := items[0]
	if it.Key != "tag:monitor.example.com,2022:hrc-debate" {
		t.Errorf("Key = %q, want the atom id", it.Key)
	}
	if it.Link != "https://monitor.example.com/2022/09/01/hrc-debate" {
		t.Errorf("relative alternate link resolved to %q", it.Link)
	}
	if it.Summary != "More than 40 organisations signed a joint letter." {
		t.Errorf("html summary = %q", it.Summary)
	}
	if it.Content != "The letter calls on member states to act on the findings." {
		t.Errorf("xhtml content = %q", it.Content)
	}
	if !reflect.DeepEqual(it.Authors, []string{"Jonas Berg", "Mei Lin"}) {
		t.Errorf("Authors = %q", it.Authors)
	}
	if !reflect.DeepEqual(it.Categories, []string{"Xinjiang", "United Nations"}) {
		t.Errorf("Categories = %q", it.Categories)
	}
	if !it.Published.Equal(time.Date(2022, 9, 1, 7, 0, 0, 0, time.UTC)) || !it.Updated.Equal(time.Date(2022, 9, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("Published %v Updated %v", it.Published, it.Updated)
	}
	// A <link> without rel is an alternate link.
	if items[1].Link != "https://monitor.example.com/2022/08/30/wildfires" {
		t.Errorf("rel-less link = %q", items[1].Link)
	}
	// No <published>: the updated time stands in.
	if !items[1].Published.Equal(time.Date(2022, 8, 30, 16, 20, 0, 0, time.UTC)) {
		t.Errorf("Published = %v, want the updated time", items[1].Published)
	}
}

func TestParseJSONFeed11(t *testing.T) {
	title, items := parseFixture(t, "jsonfeed11.json", "application/feed+json")
	if title != "Morning Brief" || len(items) != 2 {
		t.Fatalf("title %q, %d items", title, len(items))
	}
	it := items[0]
	if it.Key != "brief-2022-09-01-1" || it.Link != "https://brief.example.com/2022/09/01/xinjiang-reactions" {
		t.Errorf("key %q link %q", it.Key, it.Link)
	}
	if it.Content != "Some states welcomed the findings; others echoed Beijing's objections." {
		t.Errorf("Content = %q", it.Content)
	}
	if it.Summary != "Reactions to the OHCHR assessment" {
		t.Errorf("Summary = %q", it.Summary)
	}
	if !reflect.DeepEqual(it.Authors, []string{"Priya Raman"}) || !reflect.DeepEqual(it.Categories, []string{"Xinjiang", "Diplomacy"}) {
		t.Errorf("authors %q tags %q", it.Authors, it.Categories)
	}
	if !it.Published.Equal(time.Date(2022, 9, 1, 11, 0, 0, 0, time.UTC)) || !it.Updated.Equal(time.Date(2022, 9, 1, 12, 30, 0, 0, time.UTC)) {
		t.Errorf("Published %v Updated %v", it.Published, it.Updated)
	}
	strike := items[1]
	if strike.Link != "https://brief.example.com/2022/09/01/transit-strike" {
		t.Errorf("relative url resolved to %q, want against home_page_url", strike.Link)
	}
	if !strings.HasPrefix(strike.Title, "Commuters face delays") || !strings.HasSuffix(strike.Title, "…") {
		t.Errorf("title from content_text = %q", strike.Title)
	}
	if !strike.Published.Equal(fixedNow) {
		t.Errorf("Published = %v, want FetchedAt", strike.Published)
	}
}

func TestParseHTTPCharsetLatin1(t *testing.T) {
	title, items := parseFixture(t, "latin1.xml", "application/rss+xml; charset=ISO-8859-1")
	if title != "Le Journal du Matin" || len(items) != 1 {
		t.Fatalf("title %q, %d items", title, len(items))
	}
	if want := "Répression au Xinjiang : le rapport de l'ONU dénonce des violations graves"; items[0].Title != want {
		t.Errorf("Title = %q, want %q", items[0].Title, want)
	}
	if want := "Le Haut-Commissariat a publié son évaluation très attendue à Genève."; items[0].Summary != want {
		t.Errorf("Summary = %q, want %q", items[0].Summary, want)
	}
}

func TestParseIsDeterministic(t *testing.T) {
	for _, name := range []string{"rss20.xml", "rss10.rdf", "atom10.xml", "jsonfeed11.json"} {
		_, a := parseFixture(t, name, "")
		_, b := parseFixture(t, name, "")
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two parses differ", name)
		}
		// The fetch time does not leak into identity.
		_, c, err := Parse(readFixture(t, name), "", "src-1", fixedNow.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if a[i].ID != c[i].ID {
				t.Errorf("%s item %d: ID changed with fetch time", name, i)
			}
		}
		// A different source gives different IDs for the same keys.
		_, d, _ := Parse(readFixture(t, name), "", "src-2", fixedNow)
		if len(d) > 0 && d[0].ID == a[0].ID {
			t.Errorf("%s: ID does not depend on the source", name)
		}
	}
}

func TestParseInvalidUTF8IsRepaired(t *testing.T) {
	body := []byte(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bad` + "\xff" + `</title>` +
		`<item><title>Caf` + "\xe9\xff" + `</title><guid>g` + "\xfe" + `1</guid><category>c` + "\xff" + `</category></item></channel></rss>`)
	title, items, err := Parse(body, "text/xml; charset=utf-8", "s", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	checkItemInvariants(t, "s", items)
	if !utf8.ValidString(title) || len(items) != 1 || !strings.Contains(items[0].Title, "\uFFFD") {
		t.Errorf("title %q items %+v", title, items)
	}
}

func TestParseMalformed(t *testing.T) {
	for name, body := range map[string][]byte{
		"malformed fixture": readFixture(t, "malformed.xml"),
		"truncated":         []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>x</title>`),
		"html page":         []byte(`<!DOCTYPE html><html><body>Not a feed</body></html>`),
		"empty":             nil,
		"broken json":       []byte(`{"version": "https://jsonfeed.org/version/1.1", "items": [`),
		"binary":            {0x00, 0x01, 0x02, 0xff, '<'},
	} {
		t.Run(name, func(t *testing.T) {
			title, items, err := Parse(body, "", "s", fixedNow)
			if err == nil {
				t.Fatalf("Parse succeeded with title %q and %d items, want an error", title, len(items))
			}
			if !strings.HasPrefix(err.Error(), "sources: parse: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestParseGuidsAndLinksEdgeCases(t *testing.T) {
	body := `<rss version="2.0"><channel><title>Edge</title>
<item><title>javascript link dropped</title><link>javascript:alert(1)</link></item>
<item><title>relative link without any base</title><link>/only/relative</link></item>
<item><title>  </title><link>HTTPS://Example.ORG/Path#frag</link></item>
<item><title>same link, other fragment</title><link>https://example.org/Path#other</link></item>
<item><guid>   </guid><title>blank guid falls back to hash</title></item>
<item><guid>` + strings.Repeat("g", 5000) + `</guid><title>huge guid</title></item>
</channel></rss>`
	_, items, err := Parse([]byte(body), "", "s", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	checkItemInvariants(t, "s", items)
	if len(items) != 6 {
		for _, it := range items {
			t.Logf("%q %q %q", it.Key, it.Title, it.Link)
		}
		t.Fatalf("got %d items, want 6 (the same link with another fragment is another item)", len(items))
	}
	if items[0].Link != "" || items[0].Key != hashKey("javascript link dropped", "", "") {
		t.Errorf("javascript: link kept: %+v", items[0])
	}
	if items[1].Link != "" {
		t.Errorf("unresolvable relative link kept: %q", items[1].Link)
	}
	if items[2].Key != "https://example.org/Path#frag" || items[2].Link != "https://example.org/Path#frag" {
		t.Errorf("canonical link: key %q link %q", items[2].Key, items[2].Link)
	}
	if items[2].Title != "" {
		t.Errorf("whitespace title should stay empty when there is no text: %q", items[2].Title)
	}
	if items[3].Key != "https://example.org/Path#other" {
		t.Errorf("same page, other anchor: key %q", items[3].Key)
	}
	if items[4].Key != hashKey("blank guid falls back to hash", "", "") {
		t.Errorf("blank guid: key %q", items[4].Key)
	}
	if k := items[5].Key; !strings.HasPrefix(k, "sha256:") || len(k) != len("sha256:")+64 {
		t.Errorf("huge guid not bounded: %d bytes", len(k))
	}
}
