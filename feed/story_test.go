package feed

import (
	"encoding/json"
	"fmt"
	"html"
	"reflect"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

// itemTexts renders entries in every format and returns, per format, each
// item's HTML content and plain-text description as a reader sees them
// (XML and JSON decoded; RSS and Atom descriptions HTML-unescaped).
func itemTexts(t *testing.T, entries []news.Entry) map[string][][2]string {
	t.Helper()
	out := map[string][][2]string{}
	for _, format := range formats {
		b := render(t, format, testTopic(), entries, testOptions())
		var items [][2]string
		switch format {
		case FormatRSS:
			for _, it := range parseRSS(t, b).Items {
				items = append(items, [2]string{it.Content, html.UnescapeString(it.Description)})
			}
		case FormatAtom:
			for _, e := range parseAtom(t, b).Entries {
				items = append(items, [2]string{e.Content, html.UnescapeString(e.Summary)})
			}
		case FormatJSON:
			var d struct {
				Items []struct {
					ContentHTML string `json:"content_html"`
					Summary     string `json:"summary"`
				} `json:"items"`
			}
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatal(err)
			}
			for _, it := range d.Items {
				items = append(items, [2]string{it.ContentHTML, it.Summary})
			}
		}
		if len(items) != len(entries) {
			t.Fatalf("%s: %d items, want %d", format, len(items), len(entries))
		}
		out[format] = items
	}
	return out
}

// jsonExt decodes the _wirewatch extension of every JSON Feed item.
func jsonExt(t *testing.T, entries []news.Entry) []jsonExtension {
	t.Helper()
	var d struct {
		Items []struct {
			Ext jsonExtension `json:"_wirewatch"`
		} `json:"items"`
	}
	if err := json.Unmarshal(render(t, FormatJSON, testTopic(), entries, testOptions()), &d); err != nil {
		t.Fatal(err)
	}
	out := make([]jsonExtension, len(d.Items))
	for i, it := range d.Items {
		out[i] = it.Ext
	}
	return out
}

func TestStoryNotes(t *testing.T) {
	story := storyEntry(time.Date(2025, 3, 13, 3, 26, 53, 0, time.UTC))
	plain := testEntries()[0]
	entries := []news.Entry{plain, story}
	const (
		updated = `Updated — previously titled “UN: Xinjiang abuses "could be" <crimes>”`
		also    = "Also reported by: BBC News, The Guardian & Observer, local-paper"
		alsoHTM = `<p>Also reported by: <a href="https://bbc.example/news/1?a=1&amp;b=2" title="UN says Xinjiang abuses may be crimes">BBC News</a>, ` +
			`<a href="https://guardian.example/world/2" title="&#34;Crimes against humanity&#34; in Xinjiang">The Guardian &amp; Observer</a>, local-paper</p>`
		updHTM = `<p>Updated — previously titled “UN: Xinjiang abuses &#34;could be&#34; &lt;crimes&gt;”</p>`
	)
	for format, items := range itemTexts(t, entries) {
		content, desc := items[1][0], items[1][1]
		// The notes come after the summary and before the why-line.
		if want := updated + "\n" + also + "\nMatched: "; !strings.Contains(desc, "crimes against humanity.\n\n"+want) {
			t.Errorf("%s description = %q, want the notes %q", format, desc, want)
		}
		if !strings.Contains(content, updHTM+"\n"+alsoHTM+"\n<p>Matched: ") {
			t.Errorf("%s content lacks the notes:\n%s", format, content)
		}
		// BBC is named once, linked to its first report; the javascript:
		// link is not followed.
		if strings.Contains(content, "bbc.example/news/3") || strings.Contains(content, "javascript") {
			t.Errorf("%s content links a second BBC report or javascript:\n%s", format, content)
		}
		for _, s := range items[0] {
			if strings.Contains(s, "Also reported") || strings.Contains(s, "previously titled") {
				t.Errorf("%s: an entry without sightings or correction shows notes:\n%s", format, s)
			}
		}
	}

	ext := jsonExt(t, entries)
	if ext[0].AlsoReportedBy != nil || ext[0].PreviousTitle != "" {
		t.Errorf("item 0 extension = %+v, want no story notes", ext[0])
	}
	want := []jsonSighting{
		{SourceID: "bbc", SourceTitle: "BBC News", Title: "UN says Xinjiang abuses may be crimes", Link: "https://bbc.example/news/1?a=1&b=2"},
		{SourceID: "guardian", SourceTitle: "The Guardian & Observer", Title: `"Crimes against humanity" in Xinjiang`, Link: "https://guardian.example/world/2"},
		{SourceID: "bbc", SourceTitle: "BBC News", Title: "Follow-up", Link: "https://bbc.example/news/3"},
		{SourceID: "local-paper", Title: "Local view"},
	}
	if !reflect.DeepEqual(ext[1].AlsoReportedBy, want) {
		t.Errorf("also_reported_by =\n %+v\nwant\n %+v", ext[1].AlsoReportedBy, want)
	}
	if ext[1].PreviousTitle != `UN: Xinjiang abuses "could be" <crimes>` {
		t.Errorf("previous_title = %q", ext[1].PreviousTitle)
	}

	// A previous title that equals the current one (after cleaning) says
	// nothing: no note.
	story.PreviousTitle = " UN: Xinjiang abuses\tmay be crimes against humanity\x00"
	story.AlsoReportedBy = nil
	for format, items := range itemTexts(t, []news.Entry{story}) {
		if strings.Contains(items[0][0]+items[0][1], "previously titled") || strings.Contains(items[0][1], "Also reported") {
			t.Errorf("%s: notes for an unchanged title:\n%s", format, items[0][1])
		}
	}
}

// manySightings is an entry reported by n other outlets (each twice).
func manySightings(n int) news.Entry {
	e := storyEntry(time.Date(2025, 3, 13, 3, 26, 53, 0, time.UTC))
	e.PreviousTitle = ""
	e.AlsoReportedBy = nil
	for round := range 2 {
		for i := range n {
			e.AlsoReportedBy = append(e.AlsoReportedBy, news.Sighting{
				SourceID: fmt.Sprintf("outlet-%02d", i), SourceTitle: fmt.Sprintf("Outlet %02d", i),
				Title: fmt.Sprintf("Report %d.%d", i, round), Link: fmt.Sprintf("https://outlet%02d.example/%d", i, round),
			})
		}
	}
	return e
}

func TestSightingsCap(t *testing.T) {
	for _, tc := range []struct {
		outlets, more int
	}{{1, 0}, {maxSightingsShown, 0}, {maxSightingsShown + 1, 1}, {25, 15}} {
		e := manySightings(tc.outlets)
		shown := min(tc.outlets, maxSightingsShown)
		var names []string
		for i := range shown {
			names = append(names, fmt.Sprintf("Outlet %02d", i))
		}
		wantText := "Also reported by: " + strings.Join(names, ", ")
		if tc.more > 0 {
			wantText += fmt.Sprintf(" and %d more", tc.more)
		}
		for format, items := range itemTexts(t, []news.Entry{e}) {
			content, desc := items[0][0], items[0][1]
			if !strings.Contains(desc, wantText+"\n") {
				t.Errorf("%d outlets, %s description = %q, want %q", tc.outlets, format, desc, wantText)
			}
			if n := strings.Count(content, "<a href="); n != shown {
				t.Errorf("%d outlets, %s content links %d outlets, want %d", tc.outlets, format, n, shown)
			}
			// Each outlet links its first report, not its second.
			if strings.Contains(content, ".example/1") || !strings.Contains(content, `href="https://outlet00.example/0"`) {
				t.Errorf("%d outlets, %s content links the wrong reports:\n%s", tc.outlets, format, content)
			}
			if more := fmt.Sprintf(" and %d more</p>", tc.more); (tc.more > 0) != strings.Contains(content, more) || strings.Contains(content, " and 0 more") {
				t.Errorf("%d outlets, %s content:\n%s", tc.outlets, format, content)
			}
		}
		// Machine readers get every sighting.
		if got := len(jsonExt(t, []news.Entry{e})[0].AlsoReportedBy); got != 2*tc.outlets {
			t.Errorf("%d outlets: JSON extension lists %d sightings, want %d", tc.outlets, got, 2*tc.outlets)
		}
	}
}

// hostileStory is a corrected, widely reported story whose every
// third-party string is an attack on the HTML it ends up in, or on the
// attribute it is quoted in.
func hostileStory() news.Entry {
	const attr = `x" onmouseover="alert(1)`
	e := storyEntry(time.Date(2025, 3, 13, 3, 26, 53, 0, time.UTC))
	e.PreviousTitle = hostile + " " + attr
	e.AlsoReportedBy = []news.Sighting{
		{SourceID: "a", SourceTitle: hostile, Title: attr, Link: "https://a.example/" + `"><script>alert(1)</script>`},
		{SourceID: "b", SourceTitle: "<img src=x onerror=alert(2)>", Title: hostile, Link: "javascript:alert(3)"},
		{SourceID: "c", SourceTitle: "C\n\n<b>news</b>", Title: "t", Link: "data:text/html,<script>alert(4)</script>"},
		{SourceID: "<script>d</script>", Title: "\xff\x00", Link: "  https://d.example/ok  "},
	}
	return e
}

func TestHostileSightings(t *testing.T) {
	e := hostileStory()
	dangerous := []string{"<script", "<img", "<b>", "javascript:", "data:", `" onmouseover`, "\x00"}
	for _, format := range formats {
		b := string(render(t, format, testTopic(), []news.Entry{e}, testOptions()))
		for _, bad := range []string{"<script", "<img", "javascript:", "data:"} {
			if strings.Contains(strings.ToLower(b), bad) {
				t.Errorf("%s: raw output contains %q", format, bad)
			}
		}
	}
	for format, items := range itemTexts(t, []news.Entry{e}) {
		content := items[0][0]
		for _, bad := range dangerous {
			if strings.Contains(content, bad) {
				t.Errorf("%s content contains %q:\n%s", format, bad, content)
			}
		}
		// Escaped, not dropped; the link that broke out of its quotes
		// is percent-encoded inside them.
		for _, want := range []string{
			`<a href="https://a.example/%22%3E%3Cscript%3Ealert%281%29%3C/script%3E" title="x&#34; onmouseover=&#34;alert(1)">&lt;script&gt;`,
			`, &lt;img src=x onerror=alert(2)&gt;, C &lt;b&gt;news&lt;/b&gt;, &lt;script&gt;d&lt;/script&gt;</p>`,
			`previously titled “&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`,
		} {
			if !strings.Contains(content, want) {
				t.Errorf("%s content lacks %s:\n%s", format, want, content)
			}
		}
		// The plain description names every outlet on one line, as text.
		if desc := items[0][1]; !strings.Contains(desc, "Also reported by: <script>alert(\"x\")</script> & <img src=x onerror=alert(1)> ]]> end, <img src=x onerror=alert(2)>, C <b>news</b>, <script>d</script>\n") {
			t.Errorf("%s description = %q", format, desc)
		}
	}
	ext := jsonExt(t, []news.Entry{e})[0]
	for i, s := range ext.AlsoReportedBy {
		if s.Link != "" && !strings.HasPrefix(s.Link, "https://") {
			t.Errorf("sighting %d link %q: only http(s) links are passed on", i, s.Link)
		}
	}
	if ext.AlsoReportedBy[1].Link != "" || ext.AlsoReportedBy[2].Link != "" || ext.AlsoReportedBy[3].Title != "" {
		t.Errorf("extension sightings = %+v", ext.AlsoReportedBy)
	}
}

// The pages show the notes under each item, escaped like everything else.
func TestPageStoryNotes(t *testing.T) {
	_, srv := newFixture(t)
	_, body := checkPage(t, do(t, "GET", srv.URL+"/", nil))
	for _, want := range []string{
		`<p class="meta">Updated — previously titled “UN: Xinjiang abuses &#34;could be&#34; &lt;crimes&gt;”</p>`,
		`<p class="why">Also reported by: <a href="https://bbc.example/news/1?a=1&amp;b=2" title="UN says Xinjiang abuses may be crimes">BBC News</a>, ` +
			`<a href="https://guardian.example/world/2" title="&#34;Crimes against humanity&#34; in Xinjiang">The Guardian &amp; Observer</a>, local-paper</p>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("index lacks %s\n%s", want, body)
		}
	}
	if n := strings.Count(body, "Also reported by"); n != 1 {
		t.Errorf("%d items show sightings, want 1", n)
	}

	opts := serverOptions()
	l := &memLister{entries: map[string][]news.Entry{"uyghur-rights": {manySightings(25), hostileStory()}}}
	srv = newServer(t, l, opts)
	_, body = checkPage(t, do(t, "GET", srv.URL+"/topics/uyghur-rights", nil))
	if !strings.Contains(body, `<a href="https://outlet09.example/0" title="Report 9.0">Outlet 09</a> and 15 more</p>`) ||
		strings.Contains(body, "Outlet 10") {
		t.Errorf("topic page does not cap the outlets at %d:\n%s", maxSightingsShown, body)
	}
	for _, want := range []string{
		`title="x&#34; onmouseover=&#34;alert(1)">&lt;script&gt;alert(&#34;x&#34;)`,
		`&lt;img src=x onerror=alert(2)&gt;, C &lt;b&gt;news&lt;/b&gt;, &lt;script&gt;d&lt;/script&gt;</p>`,
		`previously titled “&lt;script&gt;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("topic page lacks %s\n%s", want, body)
		}
	}
	if strings.Contains(body, `" onmouseover`) {
		t.Errorf("an attribute was broken out of")
	}
}
