package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"wirewatch/news"
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
		{"robust/entities.xml", ""},
		{"robust/illegal-chars.xml", ""},
		{"robust/dates.xml", ""},
		{"robust/cp1252-undeclared.xml", ""},
		{"robust/html-error-page.html", "text/html"},
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

// FuzzFetch drives arbitrary bodies and response headers through the whole
// fetch path (HTTP, content decoding, body cap, charset, parse, normalise,
// politeness headers) from one local server per fuzzing process. Only a
// clean parse or too-large FetchError may come back, and a result must
// satisfy every invariant the caller relies on. Its committed seeds are in
// testdata/fuzz/FuzzFetch.
func FuzzFetch(f *testing.F) {
	f.Add(readFixture(f, "polite/rss-ttl-websub.xml"), "Content-Type: application/rss+xml\nCache-Control: max-age=600", false)
	f.Add(readFixture(f, "polite/atom-websub.xml"), "Link: <https://hub.example/>; rel=hub", true)
	f.Add(readFixture(f, "polite/jsonfeed-hubs.json"), "Expires: Thu, 01 Jan 2099 00:00:00 GMT", false)

	var (
		bodies sync.Map // request path → response
		seq    atomic.Int64
	)
	type response struct {
		body   []byte
		header http.Header
	}
	srv := newServer(f, func(w http.ResponseWriter, r *http.Request) {
		v, ok := bodies.Load(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		resp := v.(response)
		for k, vs := range resp.header {
			w.Header()[k] = vs
		}
		if _, ok := resp.header["Content-Type"]; !ok {
			w.Header()["Content-Type"] = nil
		}
		w.Write(resp.body)
	})
	fetcher := newTestFetcher(f, Options{Timeout: 3 * time.Second, MaxBytes: 1 << 20})

	f.Fuzz(func(t *testing.T, body []byte, headers string, gzipped bool) {
		resp := response{body: body, header: fuzzHeader(headers)}
		if gzipped {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(body)
			zw.Close()
			resp.body = buf.Bytes()
			resp.header.Set("Content-Encoding", "gzip")
		}
		path := fmt.Sprintf("/f/%d", seq.Add(1))
		bodies.Store(path, resp)
		defer bodies.Delete(path)

		start := time.Now()
		res, err := fetcher.Fetch(context.Background(), news.FetchRequest{SourceID: "fuzz", URL: srv.URL + path})
		if d := time.Since(start); d > time.Second {
			t.Fatalf("fetch took %v (%v)", d, err)
		}
		if err != nil {
			var fe *FetchError
			if !errors.As(err, &fe) || (fe.Reason != ReasonParse && fe.Reason != ReasonTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			if len(res.Items) != 0 || res.FeedTitle != "" {
				t.Fatalf("results alongside %v", err)
			}
			return
		}
		if res.StatusCode != http.StatusOK || res.NotModified || res.PermanentURL != "" {
			t.Fatalf("result %+v", res)
		}
		if !utf8.ValidString(res.FeedTitle) {
			t.Fatalf("invalid UTF-8 feed title %q", res.FeedTitle)
		}
		if res.MinInterval < 0 || res.MinInterval > maxMinInterval {
			t.Fatalf("MinInterval %v out of [0, %v]", res.MinInterval, maxMinInterval)
		}
		for _, u := range []string{res.Hub, res.Self} {
			if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Fatalf("WebSub link %q is not absolute http(s)", u)
			}
		}
		checkItemInvariants(t, "fuzz", res.Items)
	})
}

// fuzzHeader reads "Name: value" lines into response headers, keeping
// only what a server could send (net/http would refuse the rest).
func fuzzHeader(s string) http.Header {
	h := http.Header{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || !printableASCII(k) || strings.ContainsAny(k, " ()<>@,;\\\"/[]?={}") || !printableASCII(v) {
			continue
		}
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Transfer-Encoding", "Content-Encoding", "Connection", "Trailer":
			continue // framing is the server's job here
		}
		h.Add(k, v)
	}
	return h
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// FuzzParseOPML: never a panic; every source has a feed URL; what WriteOPML
// writes, ParseOPML reads back to the same feeds.
func FuzzParseOPML(f *testing.F) {
	f.Add(readFixture(f, "opml/nested.opml"))
	f.Add(readFixture(f, "opml/opml1.opml"))
	f.Add(readFixture(f, "opml/not-opml.xml"))
	f.Add([]byte(`<opml><body><outline xmlUrl="x" category=",/,a//b,"><outline/></outline></body></opml>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		srcs, err := ParseOPML(bytes.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "sources: opml: ") {
				t.Fatalf("unwrapped error %q", err)
			}
			return
		}
		for _, s := range srcs {
			if strings.TrimSpace(s.XMLURL) == "" {
				t.Fatalf("source without a feed URL: %+v", s)
			}
		}
		var buf bytes.Buffer
		if err := WriteOPML(&buf, "fuzz", srcs); err != nil {
			t.Fatal(err)
		}
		back, err := ParseOPML(&buf)
		if err != nil {
			t.Fatalf("re-reading our own OPML: %v\n%s", err, buf.Bytes())
		}
		if len(back) != len(srcs) {
			t.Fatalf("round trip: %d sources, then %d", len(srcs), len(back))
		}
	})
}

// FuzzParseDate: never a panic, and a date it accepts is a real instant.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"Mi, 05 Okt 2022 10:00:00 +0200", "lun., 12 sept. 2022 08:30:00 +0200", "Thu(x), 9(th) Feb 2006 23:59:45 z",
		"2003-07-01 T 01:55:07 -05:00", "Wed, 05 Oct 2022 10:00:00 GMT+5:30", "((\\)", "&#26;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseDate(s)
		if ok && d.IsZero() {
			t.Fatalf("parseDate(%q) accepted a zero time", s)
		}
	})
}
