package sources

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes and Content-Types through the whole parse
// path: charset handling, gofeed and normalisation. It must never panic,
// and whatever it returns must satisfy the item invariants.
func FuzzParse(f *testing.F) {
	for _, seed := range []struct{ file, contentType string }{
		{"rss20.xml", "application/rss+xml"},
		{"rss10.rdf", ""},
		{"atom10.xml", "application/atom+xml; charset=utf-8"},
		{"jsonfeed11.json", "application/feed+json"},
		{"latin1.xml", "text/xml; charset=ISO-8859-1"},
		{"malformed.xml", ""},
	} {
		f.Add(readFixture(f, seed.file), seed.contentType)
	}
	f.Add([]byte("\xff\xfe<\x00r\x00s\x00s\x00>\x00"), "")
	f.Add([]byte(`<?xml version="1.0" encoding="big5"?><rss><channel><item><title>&lt;b&gt;x</title></item></channel></rss>`), "text/xml; charset=gbk")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":1,"url":"//x"}]}`), "")

	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		title, items, err := Parse(body, contentType, "fuzz", fixedNow)
		if err != nil {
			if title != "" || items != nil {
				t.Fatalf("error %v with results %q %d", err, title, len(items))
			}
			if !strings.HasPrefix(err.Error(), "sources: parse: ") {
				t.Fatalf("unwrapped error %q", err)
			}
			return
		}
		if !utf8.ValidString(title) {
			t.Fatalf("invalid UTF-8 feed title %q", title)
		}
		checkItemInvariants(t, "fuzz", items)
	})
}
