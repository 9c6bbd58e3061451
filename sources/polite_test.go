package sources

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

func TestHTTPFreshness(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	date := now.Add(-time.Hour) // the server's clock is an hour behind ours
	at := func(d time.Duration) string { return date.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		name string
		hdr  http.Header
		want time.Duration
	}{
		{"nothing", http.Header{}, 0},
		{"max-age", http.Header{"Cache-Control": {"public, max-age=600"}}, 10 * time.Minute},
		{"quoted max-age", http.Header{"Cache-Control": {`max-age="600"`}}, 10 * time.Minute},
		{"upper case", http.Header{"Cache-Control": {"Max-Age=60"}}, time.Minute},
		{"s-maxage ignored", http.Header{"Cache-Control": {"s-maxage=3600"}}, 0},
		{"s-maxage beside max-age", http.Header{"Cache-Control": {"s-maxage=3600, max-age=60"}}, time.Minute},
		{"no-cache wins", http.Header{"Cache-Control": {"max-age=600, no-cache"}}, 0},
		{"no-store wins", http.Header{"Cache-Control": {"no-store"}, "Expires": {at(time.Hour)}}, 0},
		{"second header line", http.Header{"Cache-Control": {"public", "max-age=120"}}, 2 * time.Minute},
		{"bad max-age", http.Header{"Cache-Control": {"max-age=soon"}}, 0},
		{"negative max-age", http.Header{"Cache-Control": {"max-age=-5"}}, 0},
		{"huge max-age saturates", http.Header{"Cache-Control": {"max-age=99999999999999999999"}}, maxMinInterval},
		{"max-age overrides Expires", http.Header{"Cache-Control": {"max-age=60"}, "Expires": {at(time.Hour)}, "Date": {at(0)}}, time.Minute},
		{"Expires relative to Date", http.Header{"Expires": {at(30 * time.Minute)}, "Date": {at(0)}}, 30 * time.Minute},
		{"Expires relative to now without Date", http.Header{"Expires": {now.Add(20 * time.Minute).Format(http.TimeFormat)}}, 20 * time.Minute},
		{"Expires relative to now with bad Date", http.Header{"Expires": {now.Add(20 * time.Minute).Format(http.TimeFormat)}, "Date": {"yesterday"}}, 20 * time.Minute},
		{"past Expires", http.Header{"Expires": {at(-time.Minute)}, "Date": {at(0)}}, 0},
		{"Expires 0", http.Header{"Expires": {"0"}}, 0},
		{"Expires -1", http.Header{"Expires": {"-1"}, "Cache-Control": {"public"}}, 0},
	} {
		if got := httpFreshness(tc.hdr, now); got != tc.want {
			t.Errorf("%s: httpFreshness = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMinIntervalTakesTheLargestAndCaps(t *testing.T) {
	now := time.Now()
	h := func(v string) http.Header { return http.Header{"Cache-Control": {v}} }
	for _, tc := range []struct {
		hdr  http.Header
		ttl  time.Duration
		want time.Duration
	}{
		{http.Header{}, 0, 0},
		{h("max-age=300"), 0, 5 * time.Minute},
		{h("max-age=300"), time.Hour, time.Hour},
		{h("max-age=7200"), time.Hour, 2 * time.Hour},
		{h("no-cache"), 30 * time.Minute, 30 * time.Minute},
		{h("max-age=604800"), 0, 24 * time.Hour},
		{http.Header{}, 7 * 24 * time.Hour, 24 * time.Hour},
	} {
		if got := minInterval(tc.hdr, tc.ttl, now); got != tc.want {
			t.Errorf("minInterval(%v, %v) = %v, want %v", tc.hdr, tc.ttl, got, tc.want)
		}
	}
}

func TestTTLMinutes(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"": 0, "60": time.Hour, " 15 ": 15 * time.Minute, "0": 0, "-5": 0, "1.5": 0, "an hour": 0,
		"99999999999999999999999": maxMinInterval, "100000": maxMinInterval,
	} {
		if got := ttlMinutes(in); got != want {
			t.Errorf("ttlMinutes(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestLinkRels(t *testing.T) {
	for _, tc := range []struct {
		values    []string
		hub, self string
	}{
		{nil, "", ""},
		{[]string{`<https://hub.example/>; rel="hub", <https://x.example/feed>; rel="self"`}, "https://hub.example/", "https://x.example/feed"},
		{[]string{`<https://hub.example/>; rel=hub`, `</feed>; rel=self`}, "https://hub.example/", "/feed"},
		{[]string{`<https://x.example/feed>; rel="self hub"`}, "https://x.example/feed", "https://x.example/feed"},
		{[]string{`<https://a.example/>; title="a, b; c"; rel="HUB"`}, "https://a.example/", ""},
		{[]string{`<https://first.example/>; rel=hub, <https://second.example/>; rel=hub`}, "https://first.example/", ""},
		{[]string{`<https://x.example/style.css>; rel=preload; as=style`}, "", ""},
		{[]string{`garbage`, `<unterminated; rel=hub`, `<>; rel=hub`}, "", ""},
	} {
		got := linkRels(tc.values, "hub", "self")
		if got["hub"] != tc.hub || got["self"] != tc.self {
			t.Errorf("linkRels(%q) = %q, want hub %q self %q", tc.values, got, tc.hub, tc.self)
		}
	}
}

func TestFetchPoliteness(t *testing.T) {
	rssBody := readFixture(t, "polite/rss-ttl-websub.xml")
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feeds/main":
			w.Header().Set("Cache-Control", "max-age=1800")
			w.Header().Set("ETag", `"e1"`)
			if r.Header.Get("If-None-Match") == `"e1"` {
				w.Header().Set("Link", `</hub-from-header>; rel="hub"`)
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Write(rssBody)
		case "/feeds/linked":
			w.Header().Add("Link", `<https://hub.example.net/>; rel="hub"`)
			w.Header().Add("Link", `</canonical/feed>; rel="self"`)
			w.Header().Set("Cache-Control", "max-age=100000")
			w.Write(rssBody)
		case "/atom":
			w.Header().Set("Expires", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
			w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
			w.Write(readFixture(t, "polite/atom-websub.xml"))
		case "/json/feed":
			w.Header().Set("Content-Type", "application/feed+json")
			w.Write(readFixture(t, "polite/jsonfeed-hubs.json"))
		}
	})
	f := newTestFetcher(t, Options{})
	fetch := func(path, etag string) news.FetchResult {
		t.Helper()
		res, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL + path, ETag: etag})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return res
	}

	res := fetch("/feeds/main", "")
	// <ttl>90</ttl> beats max-age=1800; relative atom:links resolve
	// against the URL fetched.
	if res.MinInterval != 90*time.Minute || res.Hub != srv.URL+"/websub" || res.Self != srv.URL+"/feeds/feed.xml" {
		t.Errorf("rss: MinInterval %v Hub %q Self %q", res.MinInterval, res.Hub, res.Self)
	}
	if res.PermanentURL != "" {
		t.Errorf("PermanentURL %q without a redirect", res.PermanentURL)
	}

	res = fetch("/feeds/main", `"e1"`)
	if !res.NotModified || res.MinInterval != 30*time.Minute || res.Hub != srv.URL+"/hub-from-header" {
		t.Errorf("304: NotModified %v MinInterval %v Hub %q", res.NotModified, res.MinInterval, res.Hub)
	}

	res = fetch("/feeds/linked", "")
	if res.Hub != "https://hub.example.net/" || res.Self != srv.URL+"/canonical/feed" {
		t.Errorf("Link header must win over the feed: Hub %q Self %q", res.Hub, res.Self)
	}
	if res.MinInterval != 24*time.Hour {
		t.Errorf("MinInterval %v, want capped at 24h", res.MinInterval)
	}

	res = fetch("/atom", "")
	if res.Hub != "https://pubsubhubbub.appspot.com/" || res.Self != "https://push.example.org/atom.xml" {
		t.Errorf("atom: Hub %q Self %q", res.Hub, res.Self)
	}
	if res.MinInterval < 59*time.Minute || res.MinInterval > time.Hour {
		t.Errorf("atom: MinInterval %v, want about an hour from Expires", res.MinInterval)
	}

	res = fetch("/json/feed", "")
	if res.Hub != "https://websub.example.org/hub" || res.Self != srv.URL+"/feed.json" || len(res.Items) != 1 {
		t.Errorf("json: Hub %q Self %q items %d", res.Hub, res.Self, len(res.Items))
	}
}

func TestFetchPermanentRedirects(t *testing.T) {
	feed := readFixture(t, "rss10.rdf")
	// /chain/301/308 redirects with 301 to /chain/308, which redirects
	// with 308 to /chain, which serves the feed.
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/chain")
		if rest == "" || rest == "/" {
			w.Write(feed)
			return
		}
		code, next, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
		status, _ := strconv.Atoi(code)
		target := "/chain"
		if next != "" {
			target += "/" + next
		}
		http.Redirect(w, r, target, status)
	})
	f := newTestFetcher(t, Options{})
	for _, tc := range []struct {
		chain     string
		permanent bool
	}{
		{"", false},
		{"/301", true},
		{"/308", true},
		{"/301/308/301", true},
		{"/301/302", false},
		{"/302/301", false},
		{"/301/303", false},
		{"/307", false},
		{"/308/307/308", false},
		{"/301/301/301/301/301", true}, // five hops: the most followed
	} {
		res, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL + "/chain" + tc.chain})
		if err != nil {
			t.Fatalf("%s: %v", tc.chain, err)
		}
		want := ""
		if tc.permanent {
			want = srv.URL + "/chain"
		}
		if res.PermanentURL != want || len(res.Items) != 2 {
			t.Errorf("chain %q: PermanentURL %q (want %q), %d items", tc.chain, res.PermanentURL, want, len(res.Items))
		}
	}
	_, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL + "/chain/301/301/301/301/301/301"})
	fetchErr(t, err, ReasonRedirects)
}

func TestPermanentURLRefusesDowngrade(t *testing.T) {
	// Built by hand: a TLS server our guarded transport trusts cannot be
	// set up in a test.
	req := func(raw string, via *http.Response) *http.Request {
		u, _ := url.Parse(raw)
		return &http.Request{URL: u, Response: via}
	}
	chain := func(status int, urls ...string) *http.Response {
		r := req(urls[0], nil)
		for _, u := range urls[1:] {
			r = req(u, &http.Response{StatusCode: status, Request: r})
		}
		return &http.Response{StatusCode: 200, Request: r}
	}
	for _, tc := range []struct {
		resp *http.Response
		want string
	}{
		{chain(301, "https://a.example/feed", "https://b.example/feed"), "https://b.example/feed"},
		{chain(301, "http://a.example/feed", "https://a.example/feed"), "https://a.example/feed"},
		{chain(301, "https://a.example/feed", "http://a.example/feed"), ""},
		{chain(308, "https://a.example/feed", "http://b.example/x", "https://b.example/feed"), "https://b.example/feed"},
		{chain(308, "https://a.example/feed", "https://b.example/x", "http://b.example/feed"), ""},
		{chain(301, "https://a.example/feed", "https://a.example/other", "https://a.example/feed"), ""}, // back where it started
		{chain(301, "https://a.example/feed"), ""},
	} {
		if got := permanentURL(tc.resp); got != tc.want {
			t.Errorf("permanentURL = %q, want %q", got, tc.want)
		}
	}
}
