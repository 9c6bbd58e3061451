package sources

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"wirewatch/news"
)

// Fixtures in testdata/robust are shaped like what publishers actually
// serve: each exercises one way real feeds break the rules.

func TestRobustHTMLNamedEntities(t *testing.T) {
	title, items := parseFixture(t, "robust/entities.xml", "application/rss+xml")
	if want := "Café Society — Wire"; title != want {
		t.Errorf("feed title %q, want %q", title, want)
	}
	if len(items) != 2 {
		t.Fatalf("got %d items, want 2", len(items))
	}
	if want := "Benoît Hamon — réaction « immédiate »"; items[0].Title != want {
		t.Errorf("title %q, want %q", items[0].Title, want)
	}
	if want := "Prices rose 5 € – … & more “quoted” ©2022"; items[0].Summary != want {
		t.Errorf("summary %q, want %q", items[0].Summary, want)
	}
	if want := "AT&T & friends: bare ampersand"; items[1].Title != want {
		t.Errorf("title %q, want %q", items[1].Title, want)
	}
	if want := "https://entities.example.org/2?a=1&b=2"; items[1].Link != want {
		t.Errorf("link %q, want %q", items[1].Link, want)
	}
}

func TestRobustCharsets(t *testing.T) {
	for _, tc := range []struct {
		file, contentType string
		title, itemTitle  string
	}{
		// No declaration anywhere, windows-1252 bytes (curly quotes, €, œ).
		{"robust/cp1252-undeclared.xml", "application/rss+xml", "Le Quotidien de Genève",
			"L’ONU dénonce la répression – “un rapport accablant”"},
		// No HTTP charset: the XML prolog decides.
		{"robust/prolog-latin1.xml", "text/xml", "Diário de São Paulo", "Eleições: apuração começa às 17h"},
		// The HTTP charset overrides a wrong prolog.
		{"robust/http-cp1251.xml", "application/rss+xml; charset=windows-1251", "Новости дня",
			"Правозащитники сообщают о задержаниях"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body := readFixture(t, tc.file)
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.Write(body)
			})
			res, err := newTestFetcher(t, Options{}).Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			checkItemInvariants(t, "s", res.Items)
			if res.FeedTitle != tc.title || len(res.Items) != 1 || res.Items[0].Title != tc.itemTitle {
				t.Fatalf("title %q items %+v, want %q / %q", res.FeedTitle, res.Items, tc.title, tc.itemTitle)
			}
		})
	}
	t.Run("cp1252 summary", func(t *testing.T) {
		_, items := parseFixture(t, "robust/cp1252-undeclared.xml", "")
		if want := "Genève, Zürich et Besançon : 5 € de plus… pour l’œuvre."; items[0].Summary != want {
			t.Errorf("summary %q, want %q", items[0].Summary, want)
		}
	})
}

func TestRobustDeclaredUTF8WithInvalidBytesIsRepaired(t *testing.T) {
	_, items := parseFixture(t, "robust/invalid-utf8.xml", "application/rss+xml; charset=utf-8")
	if len(items) != 1 {
		t.Fatalf("got %d items, want 1", len(items))
	}
	// Declared UTF-8: valid sequences stay, invalid bytes become U+FFFD.
	if want := "Zürich: caf\uFFFD owners \uFFFD protest"; items[0].Title != want {
		t.Errorf("title %q, want %q", items[0].Title, want)
	}
}

func TestRobustIllegalXMLCharactersAreStripped(t *testing.T) {
	body := readFixture(t, "robust/illegal-chars.xml")
	if !strings.ContainsRune(string(body), '\uFFFE') || !strings.ContainsRune(string(body), 0) {
		t.Fatal("fixture lost its illegal characters")
	}
	title, items := parseFixture(t, "robust/illegal-chars.xml", "")
	if title != "Control Room" {
		t.Errorf("feed title %q", title)
	}
	if len(items) != 1 {
		t.Fatalf("got %d items, want 1", len(items))
	}
	if want := "Pasted from Word: the minister resigns"; items[0].Title != want {
		t.Errorf("title %q, want %q", items[0].Title, want)
	}
	if want := "Text with a form feed and an escape inside."; items[0].Summary != want {
		t.Errorf("summary %q, want %q", items[0].Summary, want)
	}
}

func TestRobustDates(t *testing.T) {
	_, items := parseFixture(t, "robust/dates.xml", "")
	oct5 := time.Date(2022, 10, 5, 10, 0, 0, 0, time.UTC)
	sep12 := time.Date(2022, 9, 12, 6, 30, 0, 0, time.UTC)
	want := map[string]time.Time{
		"french-sept":           sep12,
		"french-sept-two-digit": sep12,
		"french-mardi":          time.Date(2022, 10, 4, 10, 0, 0, 0, time.UTC),
		"impossible":            fixedNow.UTC(), // never guessed: the fetch time stands in
		"garbage":               fixedNow.UTC(),
	}
	if len(items) != 29 {
		t.Fatalf("got %d items, want 29", len(items))
	}
	for _, it := range items {
		w, ok := want[it.Title]
		if !ok {
			w = oct5
		}
		if !it.Published.Equal(w) {
			t.Errorf("%s: Published %v, want %v", it.Title, it.Published, w)
		}
	}
}

func TestParseDate(t *testing.T) {
	utc := func(y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
	}
	for in, want := range map[string]time.Time{
		"Mi, 05 Okt 2022 10:00:00 +0200":                                                 utc(2022, 10, 5, 8, 0, 0),
		"lun., 12 sept. 2022 08:30:00 +0200":                                             utc(2022, 9, 12, 6, 30, 0),
		"Seg, 24 Set 2018 19:42:40 -0300":                                                utc(2018, 9, 24, 22, 42, 40),
		"5 de octubre de 2022 10:00 -0500":                                               utc(2022, 10, 5, 15, 0, 0),
		"Thu, 09 Feb 2006 16:59:45 G":                                                    utc(2006, 2, 9, 16, 59, 45),
		"Thu, 09 Feb 2006 23:59:45 z":                                                    utc(2006, 2, 9, 23, 59, 45),
		"Thu , \t 09  Feb\t2006  23:59:45\t +0000":                                       utc(2006, 2, 9, 23, 59, 45),
		"Thu,\r\n 09 Feb 2006\r\n 23:59:45 +0000":                                        utc(2006, 2, 9, 23, 59, 45),
		"Thu(oh how I hate thursdays), 9(th) Feb(ruary) 2006 23:59:45 +0000(GMT r0x0rz)": utc(2006, 2, 9, 23, 59, 45),
		"Sunday, 9th October 2022 10:00 GMT":                                             utc(2022, 10, 9, 10, 0, 0),
		"October 9, 2022 10:00 AM EDT":                                                   utc(2022, 10, 9, 14, 0, 0),
		"2022-10-05T12:00:00 +02:00":                                                     utc(2022, 10, 5, 10, 0, 0),
		"2003-07-01T01:55:07 -05:00":                                                     utc(2003, 7, 1, 6, 55, 7),
		"2003-07-01 T01:55:07-05:00":                                                     utc(2003, 7, 1, 6, 55, 7),
		"05.10.2022 12:00 +0200":                                                         utc(2022, 10, 5, 10, 0, 0),
		"Wed, 05 Oct 2022 10:00:00 GMT+2":                                                utc(2022, 10, 5, 8, 0, 0),
		"Wed, 05 Oct 2022 10:00:00 UTC+05:30":                                            utc(2022, 10, 5, 4, 30, 0),
		"Wed, 05 Oct 2022 10:00:00 AEST":                                                 utc(2022, 10, 5, 0, 0, 0),
		"Wed, 05 Oct 2022 10:00:00 GMT +0200 (CEST)":                                     utc(2022, 10, 5, 8, 0, 0),
	} {
		got, ok := parseDate(in)
		if !ok || !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{
		"", "   ", "yesterday", "Wed, 32 Oct 2022 10:00:00 GMT", "2003-13-01T15:51:30-0500",
		"insert updated date here", strings.Repeat("9", 500), "Wed, 05 Oct 2022 25:00:00 GMT",
		"((((", "Mon, 05 Oct 2022 10:00:00 +9999",
	} {
		if got, ok := parseDate(in); ok {
			t.Errorf("parseDate(%q) = %v, want no date", in, got)
		}
	}
}

func TestItemDatePrefersKnownZoneNames(t *testing.T) {
	// gofeed reads "JST" as UTC; the item date must not be shifted.
	gofeedReading := time.Date(2022, 10, 5, 19, 0, 0, 0, time.FixedZone("JST", 0))
	got, ok := itemDate("Wed, 05 Oct 2022 19:00:00 JST", &gofeedReading)
	if !ok || !got.Equal(time.Date(2022, 10, 5, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("itemDate = %v, %v", got, ok)
	}
	// Without a zone name gofeed's reading stands.
	parsed := time.Date(2022, 10, 5, 10, 0, 0, 0, time.UTC)
	if got, ok := itemDate("something gofeed understood", &parsed); !ok || !got.Equal(parsed) {
		t.Errorf("itemDate = %v, %v", got, ok)
	}
	if _, ok := itemDate("", nil); ok {
		t.Error("empty date parsed")
	}
}

func TestParseHTMLPageIsReportedAsSuch(t *testing.T) {
	for _, ct := range []string{"text/html; charset=utf-8", "", "application/rss+xml"} {
		_, _, err := Parse(readFixture(t, "robust/html-error-page.html"), ct, "s", fixedNow)
		if !errors.Is(err, ErrHTMLPage) {
			t.Errorf("Content-Type %q: error %v, want ErrHTMLPage", ct, err)
		}
		if err != nil && err.Error() != "sources: parse: got an HTML page, not a feed" {
			t.Errorf("message %q", err)
		}
	}
	// A feed served as text/html is still a feed.
	if _, items, err := Parse(readFixture(t, "rss20.xml"), "text/html", "s", fixedNow); err != nil || len(items) == 0 {
		t.Errorf("feed labelled text/html: %v, %d items", err, len(items))
	}
	// Broken XML is not called HTML.
	if _, _, err := Parse(readFixture(t, "malformed.xml"), "", "s", fixedNow); errors.Is(err, ErrHTMLPage) {
		t.Errorf("malformed XML reported as HTML: %v", err)
	}
}

func TestStripIllegalXMLKeepsValidText(t *testing.T) {
	for _, s := range []string{"", "plain", "tab\tnl\ncr\r", "日本語 \U0001F600 \uFFFD \uE000"} {
		if got := string(stripIllegalXML([]byte(s))); got != s {
			t.Errorf("stripIllegalXML(%q) = %q", s, got)
		}
	}
	if got := stripIllegalXML([]byte("a\x00\uFFFF")); !utf8.Valid(got) || string(got) != "a" {
		t.Errorf("got %q", got)
	}
	// References to illegal characters go too; other references and
	// anything that only looks like one stay as they are.
	in := "&#26;a&#x1A;b&#x1a;c&#0;&#xFFFFFFFF;&#999999999;d&#65;&#x42;&#xFFFE;&#1114111;&#99999999999;&#;&#x;&#12&amp;&#x10FFFF;"
	want := "abcd&#65;&#x42;&#1114111;&#99999999999;&#;&#x;&#12&amp;&#x10FFFF;"
	if got := string(stripIllegalXML([]byte(in))); got != want {
		t.Errorf("stripIllegalXML(%q)\n = %q\nwant %q", in, got, want)
	}
}
