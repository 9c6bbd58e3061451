package sources

import (
	"bytes"
	"encoding/xml"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseOPMLNested(t *testing.T) {
	srcs, err := ParseOPML(bytes.NewReader(readFixture(t, "opml/nested.opml")))
	if err != nil {
		t.Fatal(err)
	}
	want := []OPMLSource{
		{XMLURL: "https://afp.example.org/world.xml", HTMLURL: "https://afp.example.org/", Title: "AFP World", Text: "Agence Française",
			Categories: []string{"Wire & Agencies", "Human rights"}},
		{XMLURL: "https://asia.example.org/feed", Title: "Asia Desk", Text: "Asia Desk",
			Categories: []string{"Asia/East", "Breaking", "Wire & Agencies/Regional"}},
		{XMLURL: "https://rights.example.org/atom", HTMLURL: "https://rights.example.org", Title: "Rights Monitor", Text: "Rights Monitor",
			Categories: []string{"Human rights"}},
		{XMLURL: "https://top.example.org/rss", Title: "Top-level feed", Text: "Top-level feed"},
	}
	if !reflect.DeepEqual(srcs, want) {
		t.Errorf("sources:\n got %+v\nwant %+v", srcs, want)
	}
}

func TestParseOPML1(t *testing.T) {
	srcs, err := ParseOPML(bytes.NewReader(readFixture(t, "opml/opml1.opml")))
	if err != nil {
		t.Fatal(err)
	}
	want := []OPMLSource{
		{XMLURL: "https://lemonde.example.fr/rss/une.xml", Title: "Le Monde à la une", Text: "Le Monde à la une"},
		{XMLURL: "https://cafe.example.fr/feed/", Title: "Café Politique", Text: "Café Politique", Categories: []string{"Blogs"}},
	}
	if !reflect.DeepEqual(srcs, want) {
		t.Errorf("sources:\n got %+v\nwant %+v", srcs, want)
	}
}

func TestParseOPMLErrors(t *testing.T) {
	deep := strings.Repeat(`<outline text="f">`, maxOPMLDepth+1) + strings.Repeat(`</outline>`, maxOPMLDepth+1)
	for name, tc := range map[string]struct {
		r    io.Reader
		want string
	}{
		"rss":   {bytes.NewReader(readFixture(t, "opml/not-opml.xml")), "root element is <rss>, not <opml>"},
		"html":  {strings.NewReader("<!DOCTYPE html><html><body>hi</body></html>"), "root element is <html>, not <opml>"},
		"empty": {strings.NewReader(""), "not an OPML document"},
		"json":  {strings.NewReader(`{"version":"https://jsonfeed.org/version/1.1"}`), "not an OPML document"},
		"deep":  {strings.NewReader(`<opml version="2.0"><body>` + deep + `</body></opml>`), "nested deeper than"},
		"huge": {io.MultiReader(strings.NewReader(`<opml version="2.0"><body><outline text="`),
			strings.NewReader(strings.Repeat("x", maxOPMLBytes)), strings.NewReader(`"/></body></opml>`)), "larger than"},
	} {
		srcs, err := ParseOPML(tc.r)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "sources: opml: ") {
			t.Errorf("%s: %d sources, error %v; want one containing %q", name, len(srcs), err, tc.want)
		}
	}
	// An OPML with no feeds is not an error.
	srcs, err := ParseOPML(strings.NewReader(`<opml version="1.0"><head/><body/></opml>`))
	if err != nil || len(srcs) != 0 {
		t.Errorf("empty list: %v, %v", srcs, err)
	}
}

func TestWriteOPMLRoundTrip(t *testing.T) {
	orig, err := ParseOPML(bytes.NewReader(readFixture(t, "opml/nested.opml")))
	if err != nil {
		t.Fatal(err)
	}
	orig = append(orig, OPMLSource{XMLURL: `https://odd.example.org/feed?a=1&b="2"`, Title: "Odd <title> & \"quotes\"\nnewline"},
		OPMLSource{Title: "no feed URL: skipped"})
	var buf bytes.Buffer
	if err := WriteOPML(&buf, "wirewatch sources", orig); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, `<?xml version="1.0" encoding="UTF-8"?>`) || !strings.Contains(out, `<opml version="2.0">`) {
		t.Errorf("not an OPML 2.0 document:\n%s", out)
	}

	// Well-formed (strict decoder), every outline has text, feeds have
	// type and xmlUrl, the head has the title.
	var doc struct {
		Version string `xml:"version,attr"`
		Title   string `xml:"head>title"`
		Body    []struct {
			Text     string `xml:"text,attr"`
			XMLURL   string `xml:"xmlUrl,attr"`
			Type     string `xml:"type,attr"`
			Outlines []struct {
				Text   string `xml:"text,attr"`
				XMLURL string `xml:"xmlUrl,attr"`
				Type   string `xml:"type,attr"`
			} `xml:"outline"`
		} `xml:"body>outline"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("output is not well-formed XML: %v\n%s", err, out)
	}
	if doc.Version != "2.0" || doc.Title != "wirewatch sources" {
		t.Errorf("version %q title %q", doc.Version, doc.Title)
	}
	var folders []string
	feeds := 0
	for _, o := range doc.Body {
		if o.Text == "" {
			t.Errorf("outline without text: %+v", o)
		}
		if o.XMLURL == "" {
			folders = append(folders, o.Text)
		} else {
			feeds++
		}
		for _, c := range o.Outlines {
			if c.Text == "" || c.XMLURL == "" || c.Type != "rss" {
				t.Errorf("feed outline %+v", c)
			}
			feeds++
		}
	}
	if want := []string{"Wire & Agencies", "Asia/East", "Human rights"}; !reflect.DeepEqual(folders, want) {
		t.Errorf("folders %q, want %q", folders, want)
	}
	if feeds != 5 {
		t.Errorf("%d feeds written, want 5", feeds)
	}

	back, err := ParseOPML(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := orig[:len(orig)-1]
	want[len(want)-1].Text = want[len(want)-1].Title // text is required, so it is written
	want[len(want)-1].Title = "Odd <title> & \"quotes\" newline"
	want[len(want)-1].Text = want[len(want)-1].Title
	if !reflect.DeepEqual(back, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, want)
	}
}
