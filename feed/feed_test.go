package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"wirewatch/news"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

var formats = []string{FormatRSS, FormatAtom, FormatJSON}

const testBase = "https://wirewatch.example"

func testOptions() Options {
	// The trailing slash checks that BaseURL is trimmed before joining.
	return Options{BaseURL: testBase + "/", Title: "Newsroom <Watch>"}
}

func testTopic() news.Topic {
	return news.Topic{ID: "uyghur-rights", Title: "Uyghur rights", Query: `"human rights" AND uyghur*`}
}

// hostile is a third-party string trying every trick: markup, entities,
// quotes, a CDATA terminator, XML-illegal control characters, invalid UTF-8.
const hostile = `<script>alert("x")</script> & <img src=x onerror=alert(1)> ]]> ` + "\x00\x0b\xff" + ` end`

// testEntries is a fixed set of entries, newest first, covering: a full
// item, a hostile one, a minimal one with times in a non-UTC zone and
// sub-second precision, and a corrected story other outlets reported too.
func testEntries() []news.Entry {
	base := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	berlin := time.FixedZone("CET", 3600)
	return []news.Entry{
		{
			Item: news.Item{
				ID:        news.ItemID("rights-wire", "https://news.example/a/1"),
				SourceID:  "rights-wire",
				Key:       "https://news.example/a/1",
				Title:     "UN report details Uyghur detention camps",
				Link:      "https://news.example/a/1?utm=x&y=1",
				Summary:   "A new UN report on human rights in Xinjiang documents the detention of Uyghurs.",
				Authors:   []string{"", "Jane Reporter", "Second Author"},
				Published: base.Add(-2 * time.Hour),
				Updated:   base.Add(-1 * time.Hour),
			},
			Match: news.Match{
				TopicID: "uyghur-rights",
				Terms:   []string{"human rights", "uyghur*"},
				Hits: []news.Hit{
					{Term: "human rights", Field: "summary", Text: "human rights"},
					{Term: "uyghur*", Field: "title", Text: "Uyghur"},
					{Term: "uyghur*", Field: "summary", Text: "Uyghurs"},
				},
				Snippet:   "…the detention of Uyghurs…",
				Marks:     []news.Span{spanOf("…the detention of Uyghurs…", "Uyghurs")},
				Score:     2.5,
				MatchedAt: base,
			},
			SourceTitle: "Rights Wire",
		},
		{
			Item: news.Item{
				ID:        news.ItemID("evil", "k2"),
				SourceID:  "evil",
				Title:     hostile,
				Link:      "javascript:alert(1)",
				Summary:   hostile,
				Authors:   []string{hostile},
				Published: base.Add(-3 * time.Hour),
			},
			Match: news.Match{
				TopicID: "uyghur-rights",
				Terms:   []string{"<b>uyghur*</b>", "human rights"},
				Hits: []news.Hit{
					{Term: "<b>uyghur*</b>", Field: "<i>title</i>", Text: hostile},
				},
				Snippet: hostile + " snippet",
				// A mark over markup, then marks a buggy or hostile
				// store might hold: overlapping, negative, past the end
				// (clamped to "snippet").
				Marks: []news.Span{
					{Start: 0, End: 8}, {Start: 5, End: 12}, {Start: -5, End: -1},
					{Start: len(hostile) + 1, End: len(hostile) + 100},
				},
				Score:     1,
				MatchedAt: base.Add(-30 * time.Minute),
			},
			SourceTitle: hostile,
		},
		{
			Item: news.Item{
				ID:        news.ItemID("plain-source", "k3"),
				SourceID:  "plain-source",
				Link:      "http://plain.example/story",
				Published: base.Add(-26 * time.Hour).In(berlin).Add(123456789),
			},
			Match: news.Match{
				TopicID:   "uyghur-rights",
				Terms:     []string{"uyghur*"},
				Snippet:   "Uyghur activists",
				Score:     0.5,
				MatchedAt: base.Add(-25 * time.Hour).In(berlin).Add(987),
			},
		},
		storyEntry(base.Add(-30 * time.Hour)),
	}
}

// storyEntry is a story whose headline was corrected and which three
// other outlets reported (one of them twice, one with a link no browser
// should follow and no source title).
func storyEntry(at time.Time) news.Entry {
	const summary = "The UN human rights office says abuses against Uyghurs may amount to crimes against humanity."
	return news.Entry{
		Item: news.Item{
			ID:        news.ItemID("wire-two", "k4"),
			SourceID:  "wire-two",
			Title:     "UN: Xinjiang abuses may be crimes against humanity",
			Link:      "https://wire-two.example/story/4",
			Summary:   summary,
			Published: at,
			Updated:   at.Add(2 * time.Hour),
		},
		Match: news.Match{
			TopicID:   "uyghur-rights",
			Terms:     []string{"human rights", "uyghur*"},
			Hits:      []news.Hit{{Term: "human rights", Field: "summary"}, {Term: "uyghur*", Field: "summary"}},
			Snippet:   summary,
			Marks:     []news.Span{spanOf(summary, "human rights"), spanOf(summary, "Uyghurs")},
			Score:     1.5,
			MatchedAt: at.Add(time.Minute),
		},
		SourceTitle:   "Wire Two",
		PreviousTitle: `UN: Xinjiang abuses "could be" <crimes>`,
		AlsoReportedBy: []news.Sighting{
			{ItemID: news.ItemID("bbc", "1"), SourceID: "bbc", SourceTitle: "BBC News", Title: "UN says Xinjiang abuses may be crimes", Link: "https://bbc.example/news/1?a=1&b=2", SeenAt: at.Add(10 * time.Minute)},
			{ItemID: news.ItemID("guardian", "2"), SourceID: "guardian", SourceTitle: "The Guardian & Observer", Title: `"Crimes against humanity" in Xinjiang`, Link: "https://guardian.example/world/2", SeenAt: at.Add(20 * time.Minute)},
			{ItemID: news.ItemID("bbc", "3"), SourceID: "bbc", SourceTitle: "BBC News", Title: "Follow-up", Link: "https://bbc.example/news/3", SeenAt: at.Add(30 * time.Minute)},
			{ItemID: news.ItemID("local", "4"), SourceID: "local-paper", Title: "Local view", Link: "javascript:alert(1)", SeenAt: at.Add(40 * time.Minute)},
		},
	}
}

// spanOf is the byte range of the first sub in s.
func spanOf(s, sub string) news.Span {
	i := strings.Index(s, sub)
	if i < 0 {
		panic("spanOf: " + sub + " not in " + s)
	}
	return news.Span{Start: i, End: i + len(sub)}
}

func render(t *testing.T, format string, topic news.Topic, entries []news.Entry, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, format, topic, entries, opts); err != nil {
		t.Fatalf("Render(%s): %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			got := render(t, format, testTopic(), testEntries(), testOptions())
			path := filepath.Join("testdata", format+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./feed -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s output differs from %s (run with -update if the change is intended)\n%s",
					format, path, firstDiff(got, want))
			}
		})
	}
}

// firstDiff shows the first differing line, which is enough to see why.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return "(no line differs)"
}

func TestRenderIsDeterministic(t *testing.T) {
	entries := testEntries()
	// The same instants in another zone must not change a byte: output is
	// normalised to UTC seconds.
	shifted := testEntries()
	tokyo := time.FixedZone("JST", 9*3600)
	for i := range shifted {
		shifted[i].Item.Published = shifted[i].Item.Published.In(tokyo)
		shifted[i].Item.Updated = shifted[i].Item.Updated.In(tokyo)
		shifted[i].Match.MatchedAt = shifted[i].Match.MatchedAt.In(tokyo)
	}
	for _, format := range formats {
		a := render(t, format, testTopic(), entries, testOptions())
		b := render(t, format, testTopic(), entries, testOptions())
		c := render(t, format, testTopic(), shifted, testOptions())
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renders of the same entries differ", format)
		}
		if !bytes.Equal(a, c) {
			t.Errorf("%s: output depends on the entries' time zone\n%s", format, firstDiff(c, a))
		}
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, "xml", testTopic(), testEntries(), testOptions()); err == nil {
		t.Fatal("Render(xml) succeeded, want an error")
	}
	if buf.Len() != 0 {
		t.Errorf("Render(xml) wrote %d bytes", buf.Len())
	}
}

type rssDoc struct {
	XMLName   xml.Name `xml:"rss"`
	Version   string   `xml:"version,attr"`
	Title     string   `xml:"channel>title"`
	AtomLinks []struct {
		Href string `xml:"href,attr"`
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
	} `xml:"http://www.w3.org/2005/Atom channel>link"`
	Links         []string `xml:"channel>link"`
	Description   string   `xml:"channel>description"`
	LastBuildDate string   `xml:"channel>lastBuildDate"`
	Items         []struct {
		Title       string `xml:"title"`
		Link        string `xml:"link"`
		Description string `xml:"description"`
		Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
		Author      string `xml:"author"`
		Creator     string `xml:"http://purl.org/dc/elements/1.1/ creator"`
		PubDate     string `xml:"pubDate"`
		Guid        struct {
			Value       string `xml:",chardata"`
			IsPermaLink string `xml:"isPermaLink,attr"`
		} `xml:"guid"`
		Categories []string `xml:"category"`
	} `xml:"channel>item"`
}

func parseRSS(t *testing.T, b []byte) rssDoc {
	t.Helper()
	var d rssDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("RSS does not parse as XML: %v\n%s", err, b)
	}
	return d
}

func isAbsHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs() && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https")
}

func TestRSS(t *testing.T) {
	entries := testEntries()
	d := parseRSS(t, render(t, FormatRSS, testTopic(), entries, testOptions()))
	if d.Version != "2.0" {
		t.Errorf("version = %q, want 2.0", d.Version)
	}
	if d.Title != "Uyghur rights" || d.Description != testTopic().Query {
		t.Errorf("channel title/description = %q/%q", d.Title, d.Description)
	}
	// Links holds both <link> and <atom:link>'s (empty) text, since an
	// un-namespaced field matches any namespace; the plain one comes first.
	if len(d.Links) == 0 || d.Links[0] != testBase+"/" {
		t.Errorf("channel links = %q, want first %q", d.Links, testBase+"/")
	}
	if len(d.AtomLinks) != 1 || d.AtomLinks[0].Rel != "self" ||
		d.AtomLinks[0].Href != testBase+"/feeds/uyghur-rights.rss" || d.AtomLinks[0].Type != "application/rss+xml" {
		t.Errorf("atom:link = %+v, want one rel=self to the feed", d.AtomLinks)
	}
	if want := entries[0].Match.MatchedAt.Format(time.RFC1123Z); d.LastBuildDate != want {
		t.Errorf("lastBuildDate = %q, want newest entry's %q", d.LastBuildDate, want)
	}
	if len(d.Items) != len(entries) {
		t.Fatalf("%d items, want %d", len(d.Items), len(entries))
	}
	for i, it := range d.Items {
		e := entries[i]
		if want := "urn:wirewatch:item:" + e.Item.ID; it.Guid.Value != want || it.Guid.IsPermaLink != "false" {
			t.Errorf("item %d guid = %q isPermaLink=%q, want %q isPermaLink=false", i, it.Guid.Value, it.Guid.IsPermaLink, want)
		}
		if !isAbsHTTP(it.Link) {
			t.Errorf("item %d link %q is not an absolute http(s) URL", i, it.Link)
		}
		if !reflect.DeepEqual(it.Categories, wantTerms(e)) {
			t.Errorf("item %d categories = %q, want %q", i, it.Categories, wantTerms(e))
		}
		pub, err := time.Parse(time.RFC1123Z, it.PubDate)
		if err != nil || !pub.Equal(e.Item.Published.Truncate(time.Second)) {
			t.Errorf("item %d pubDate = %q (%v), want %v", i, it.PubDate, err, e.Item.Published)
		}
		if !strings.Contains(it.Description, "Source: ") || !strings.Contains(it.Content, "Source: ") {
			t.Errorf("item %d does not name its source:\n%s\n%s", i, it.Description, it.Content)
		}
	}
	first := d.Items[0]
	if first.Link != entries[0].Item.Link {
		t.Errorf("item 0 link = %q, want the item's own %q", first.Link, entries[0].Item.Link)
	}
	if first.Creator != "Jane Reporter" || first.Author != "" {
		t.Errorf("item 0 dc:creator = %q, author = %q; want the first non-blank author as dc:creator only", first.Creator, first.Author)
	}
	if want := "Matched: human rights (summary), uyghur* (title, summary) · score 2.5 — Source: Rights Wire"; !strings.HasSuffix(first.Description, want) {
		t.Errorf("item 0 description = %q, want it to end with %q", first.Description, want)
	}
	// The third entry has no source title: its source id names it.
	if !strings.Contains(d.Items[2].Description, "Source: plain-source") {
		t.Errorf("item 2 description = %q, want the source id", d.Items[2].Description)
	}
	if d.Items[2].Title != "(untitled)" {
		t.Errorf("untitled item title = %q", d.Items[2].Title)
	}
}

// wantTerms is what the categories of an entry should be.
func wantTerms(e news.Entry) []string { return e.Match.Terms }

type atomDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Links   []struct {
		Href string `xml:"href,attr"`
		Rel  string `xml:"rel,attr"`
	} `xml:"link"`
	Author  string `xml:"author>name"`
	Entries []struct {
		ID         string `xml:"id"`
		Title      string `xml:"title"`
		Updated    string `xml:"updated"`
		Published  string `xml:"published"`
		Categories []struct {
			Term string `xml:"term,attr"`
		} `xml:"category"`
		Links []struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
		} `xml:"link"`
		Summary string `xml:"summary"`
		Content string `xml:"content"`
	} `xml:"entry"`
}

func parseAtom(t *testing.T, b []byte) atomDoc {
	t.Helper()
	var d atomDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("Atom does not parse as XML: %v\n%s", err, b)
	}
	return d
}

func TestAtom(t *testing.T) {
	entries := testEntries()
	b := render(t, FormatAtom, testTopic(), entries, testOptions())
	d := parseAtom(t, b)
	if d.ID != "urn:wirewatch:topic:uyghur-rights" {
		t.Errorf("feed id = %q", d.ID)
	}
	if want := "2025-03-14T09:26:53Z"; d.Updated != want {
		t.Errorf("feed updated = %q, want the newest entry's %q", d.Updated, want)
	}
	links := map[string]string{}
	for _, l := range d.Links {
		links[l.Rel] = l.Href
	}
	if links["self"] != testBase+"/feeds/uyghur-rights.atom" || links["alternate"] != testBase+"/" {
		t.Errorf("feed links = %+v", d.Links)
	}
	if d.Author != "Newsroom <Watch>" {
		t.Errorf("feed author = %q, want the site title", d.Author)
	}
	if len(d.Entries) != len(entries) {
		t.Fatalf("%d entries, want %d", len(d.Entries), len(entries))
	}
	for i, e := range d.Entries {
		if want := "urn:wirewatch:item:" + entries[i].Item.ID; e.ID != want {
			t.Errorf("entry %d id = %q, want %q", i, e.ID, want)
		}
		var terms []string
		for _, c := range e.Categories {
			terms = append(terms, c.Term)
		}
		if !reflect.DeepEqual(terms, wantTerms(entries[i])) {
			t.Errorf("entry %d category terms = %q, want %q", i, terms, wantTerms(entries[i]))
		}
		if len(e.Links) == 0 || !isAbsHTTP(e.Links[0].Href) {
			t.Errorf("entry %d links = %+v, want an absolute alternate", i, e.Links)
		}
		if _, err := time.Parse(time.RFC3339, e.Published); err != nil {
			t.Errorf("entry %d published = %q: %v", i, e.Published, err)
		}
	}
	if d.Entries[0].Updated != "2025-03-14T08:26:53Z" || d.Entries[0].Published != "2025-03-14T07:26:53Z" {
		t.Errorf("entry 0 updated/published = %q/%q", d.Entries[0].Updated, d.Entries[0].Published)
	}
	// No Updated: the entry's updated is its published time.
	if d.Entries[2].Updated != d.Entries[2].Published {
		t.Errorf("entry 2 updated %q != published %q", d.Entries[2].Updated, d.Entries[2].Published)
	}
	// Ids are not invented per render (gorilla falls back to random uuids).
	if again := parseAtom(t, render(t, FormatAtom, testTopic(), entries, testOptions())); !reflect.DeepEqual(again, d) {
		t.Error("a second render parses differently")
	}
}

func TestJSONFeed(t *testing.T) {
	entries := testEntries()
	b := render(t, FormatJSON, testTopic(), entries, testOptions())
	var d struct {
		Version     string `json:"version"`
		Title       string `json:"title"`
		HomePageURL string `json:"home_page_url"`
		FeedURL     string `json:"feed_url"`
		Description string `json:"description"`
		Items       []struct {
			ID          string   `json:"id"`
			URL         string   `json:"url"`
			Title       string   `json:"title"`
			Summary     string   `json:"summary"`
			ContentHTML string   `json:"content_html"`
			Tags        []string `json:"tags"`
			Published   string   `json:"date_published"`
			Modified    string   `json:"date_modified"`
			Ext         struct {
				TopicID      string   `json:"topic_id"`
				SourceID     string   `json:"source_id"`
				SourceTitle  string   `json:"source_title"`
				MatchedTerms []string `json:"matched_terms"`
				MatchedAt    string   `json:"matched_at"`
				Score        float64  `json:"score"`
			} `json:"_wirewatch"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("JSON Feed does not parse: %v\n%s", err, b)
	}
	if d.Version != "https://jsonfeed.org/version/1.1" {
		t.Errorf("version = %q", d.Version)
	}
	if d.FeedURL != testBase+"/feeds/uyghur-rights.json" || d.HomePageURL != testBase+"/" {
		t.Errorf("feed_url/home_page_url = %q/%q", d.FeedURL, d.HomePageURL)
	}
	if d.Title != "Uyghur rights" || d.Description != testTopic().Query {
		t.Errorf("title/description = %q/%q", d.Title, d.Description)
	}
	if len(d.Items) != len(entries) {
		t.Fatalf("%d items, want %d", len(d.Items), len(entries))
	}
	for i, it := range d.Items {
		e := entries[i]
		if it.ID != "urn:wirewatch:item:"+e.Item.ID || !isAbsHTTP(it.URL) {
			t.Errorf("item %d id/url = %q/%q", i, it.ID, it.URL)
		}
		if !reflect.DeepEqual(it.Tags, wantTerms(e)) || !reflect.DeepEqual(it.Ext.MatchedTerms, wantTerms(e)) {
			t.Errorf("item %d tags = %q, extension terms = %q, want %q", i, it.Tags, it.Ext.MatchedTerms, wantTerms(e))
		}
		if it.Ext.TopicID != "uyghur-rights" || it.Ext.SourceID != e.Item.SourceID || it.Ext.Score != e.Match.Score {
			t.Errorf("item %d extension = %+v", i, it.Ext)
		}
		if it.ContentHTML == "" {
			t.Errorf("item %d has no content_html", i)
		}
	}
	// summary is plain text: not HTML-escaped, unlike RSS/Atom descriptions.
	if want := "Matched: human rights (summary), uyghur* (title, summary) · score 2.5 — Source: Rights Wire"; !strings.HasSuffix(d.Items[0].Summary, "\n\n"+want) {
		t.Errorf("item 0 summary = %q", d.Items[0].Summary)
	}
	if !strings.Contains(d.Items[1].Summary, `<b>uyghur*</b>`) {
		t.Errorf("item 1 summary should carry the term as plain text: %q", d.Items[1].Summary)
	}
	if d.Items[0].Ext.SourceTitle != "Rights Wire" || d.Items[2].Ext.SourceTitle != "" {
		t.Errorf("source titles = %q, %q", d.Items[0].Ext.SourceTitle, d.Items[2].Ext.SourceTitle)
	}
	if d.Items[0].Published != "2025-03-14T07:26:53Z" || d.Items[0].Modified != "2025-03-14T08:26:53Z" ||
		d.Items[0].Ext.MatchedAt != "2025-03-14T09:26:53Z" {
		t.Errorf("item 0 dates = %q %q %q", d.Items[0].Published, d.Items[0].Modified, d.Items[0].Ext.MatchedAt)
	}
}

func TestEmptyFeed(t *testing.T) {
	for _, format := range formats {
		b := render(t, format, testTopic(), nil, testOptions())
		switch format {
		case FormatRSS:
			if d := parseRSS(t, b); len(d.Items) != 0 || d.Title != "Uyghur rights" {
				t.Errorf("empty RSS = %+v", d)
			}
		case FormatAtom:
			if d := parseAtom(t, b); d.Updated != "1970-01-01T00:00:00Z" || len(d.Entries) != 0 {
				t.Errorf("empty Atom updated = %q, %d entries; want the epoch, none", d.Updated, len(d.Entries))
			}
		case FormatJSON:
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if items, ok := m["items"].([]any); !ok || len(items) != 0 {
				t.Errorf("empty JSON Feed items = %#v, want [] (the array is required)", m["items"])
			}
		}
		if !bytes.Equal(b, render(t, format, testTopic(), nil, testOptions())) {
			t.Errorf("%s: empty feed is not byte-stable", format)
		}
	}
}

// TestHostileText checks that markup from a source never reaches a reader
// as markup: not in the raw bytes, and not in any field a reader renders as
// HTML once the XML or JSON is decoded.
func TestHostileText(t *testing.T) {
	entries := testEntries()[1:2]
	topic := news.Topic{ID: "t", Title: `<script>alert("topic")</script>`, Query: `<img src=x>`}
	dangerous := []string{"<script", "<img", "javascript:"}
	checkHTML := func(t *testing.T, where, s string) {
		t.Helper()
		for _, bad := range dangerous {
			if strings.Contains(strings.ToLower(s), bad) {
				t.Errorf("%s contains %q unescaped:\n%s", where, bad, s)
			}
		}
		if !strings.Contains(s, "&lt;script&gt;") {
			t.Errorf("%s lost the escaped text instead of escaping it:\n%s", where, s)
		}
	}
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			b := render(t, format, topic, entries, testOptions())
			for _, bad := range dangerous {
				if bytes.Contains(bytes.ToLower(b), []byte(bad)) {
					t.Errorf("raw output contains %q:\n%s", bad, b)
				}
			}
			if bytes.ContainsAny(b, "\x00\x0b") || !utf8.Valid(b) {
				t.Errorf("raw output carries control characters or invalid UTF-8")
			}
			switch format {
			case FormatRSS:
				d := parseRSS(t, b)
				checkHTML(t, "description", d.Items[0].Description)
				checkHTML(t, "content:encoded", d.Items[0].Content)
				if d.Items[0].Link != testBase+"/items/"+entries[0].Item.ID {
					t.Errorf("javascript: link replaced by %q, want the wirewatch item URL", d.Items[0].Link)
				}
			case FormatAtom:
				d := parseAtom(t, b)
				checkHTML(t, "summary", d.Entries[0].Summary)
				checkHTML(t, "content", d.Entries[0].Content)
			case FormatJSON:
				var d struct {
					Items []struct {
						ContentHTML string `json:"content_html"`
					} `json:"items"`
				}
				if err := json.Unmarshal(b, &d); err != nil {
					t.Fatal(err)
				}
				checkHTML(t, "content_html", d.Items[0].ContentHTML)
			}
		})
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                     "plain",
		"tab\tnl\ncr\r":             "tab\tnl\ncr\r",
		"nul\x00vt\x0bff\x0c":       "nulvtff",
		"bad\xffutf8":               "badutf8",
		"ok ünïcödé \U0001F600":     "ok ünïcödé \U0001F600",
		"nonchar \uFFFE \uFFFF end": "nonchar   end",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}
