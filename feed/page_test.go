package feed

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

// checkPage asserts the shape every HTML page shares: an HTML5 document,
// the page headers, and no live markup from any third-party string.
func checkPage(t *testing.T, r response) (head, body string) {
	t.Helper()
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	page := string(r.body)
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n<html lang=\"en\">") || !strings.HasSuffix(page, "</html>\n") {
		t.Errorf("not an HTML5 document:\n%s", page)
	}
	if csp := r.header.Get("Content-Security-Policy"); csp != "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'" {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("headers %v", r.header)
	}
	if tag := r.header.Get("ETag"); tag != etag(r.body) {
		t.Errorf("ETag = %q, want the strong hash of the body %q", tag, etag(r.body))
	}
	for _, bad := range []string{"<script", "<img", "<b>", "<c>", "<i>", "javascript:"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	head, body, ok := strings.Cut(page, "</head>")
	if !ok {
		t.Fatalf("no </head>:\n%s", page)
	}
	return head, body
}

func TestIndex(t *testing.T) {
	l, srv := newFixture(t)
	r := do(t, "GET", srv.URL+"/", nil)
	head, body := checkPage(t, r)
	for _, want := range []string{
		`<title>Newsroom &lt;Watch&gt;</title>`,
		`<link rel="alternate" type="application/rss+xml" title="Uyghur rights (RSS)" href="https://wirewatch.example/feeds/uyghur-rights.rss">`,
		`<link rel="alternate" type="application/atom+xml" title="Uyghur rights (Atom)" href="https://wirewatch.example/feeds/uyghur-rights.atom">`,
		`<link rel="alternate" type="application/feed+json" title="Uyghur rights (JSON Feed)" href="https://wirewatch.example/feeds/uyghur-rights.json">`,
		`<link rel="alternate" type="application/rss+xml" title="&lt;script&gt;alert(&#34;topic&#34;)&lt;/script&gt; (RSS)" href="https://wirewatch.example/feeds/evil.rss">`,
	} {
		if !strings.Contains(head, want) {
			t.Errorf("<head> lacks %s\n%s", want, head)
		}
	}
	for _, want := range []string{
		`<h1 class="brand">Newsroom &lt;Watch&gt;</h1>`,
		`subscribe to one of its feeds`,
		// Topics: title linked to its page, query, feeds.
		`<h2><a href="https://wirewatch.example/topics/uyghur-rights">Uyghur rights</a></h2>`,
		`<dt>Query</dt><dd><code>&#34;human rights&#34; AND uyghur*</code></dd>`,
		`<h2><a href="https://wirewatch.example/topics/evil">&lt;script&gt;alert(&#34;topic&#34;)&lt;/script&gt;</a></h2>`,
		`<code>a &amp; &#34;b&#34; &lt;c&gt;</code>`,
		`<a href="https://wirewatch.example/feeds/evil.json">JSON Feed</a>`,
		// Matches: linked title, source, time, highlighted snippet, why.
		`<h3><a href="https://news.example/a/1?utm=x&amp;y=1">UN report details Uyghur detention camps</a></h3>`,
		`<span class="src">Rights Wire</span> · <time datetime="2025-03-14T07:26:53Z">14 Mar 2025, 07:26 UTC</time>`,
		`<p class="snip">…the detention of <mark>Uyghurs</mark>…</p>`,
		`Matched: <strong>human rights</strong> (summary), <strong>uyghur*</strong> (title, summary) · <span class="score">score 2.5</span>`,
		// The hostile item: escaped everywhere, its marks too, and its
		// javascript: link not linked at all.
		`<h3>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt; ]]&gt;  end</h3>`,
		`<p class="snip"><mark>&lt;script&gt;</mark>alert(&#34;x&#34;)&lt;/script&gt;`,
		`<mark>snippet</mark></p>`,
		`<strong>&lt;b&gt;uyghur*&lt;/b&gt;</strong> (&lt;i&gt;title&lt;/i&gt;)`,
		// A topic without matches says so.
		`<p class="empty">No matches yet.</p>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s\n%s", want, body)
		}
	}
	if n := strings.Count(body, "<li>"); n != len(testEntries()) {
		t.Errorf("%d matches listed, want %d", n, len(testEntries()))
	}
	if got, want := l.calledTopics(), []string{"uyghur-rights", "evil"}; !reflect.DeepEqual(got, want) {
		t.Errorf("index listed topics %q, want %q", got, want)
	}
	for _, n := range l.calls() {
		if n != indexItems {
			t.Errorf("index asked for %d entries, want %d", n, indexItems)
		}
	}
}

// TestIndexIsCurrent checks that the index is rendered per request with a
// strong ETag: a revalidation is a 304 until a new match arrives, then the
// page shows it with a new tag.
func TestIndexIsCurrent(t *testing.T) {
	l, srv := newFixture(t)
	first := do(t, "GET", srv.URL+"/", nil)
	tag := first.header.Get("ETag")
	if !strings.HasPrefix(tag, `"`) {
		t.Fatalf("ETag %q is not strong", tag)
	}
	if first.header.Get("Last-Modified") != "" {
		t.Errorf("page has Last-Modified %q; only the ETag can validate it", first.header.Get("Last-Modified"))
	}
	for _, inm := range []string{tag, `"nope", ` + tag, "W/" + tag} {
		if r := do(t, "GET", srv.URL+"/", map[string]string{"If-None-Match": inm}); r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Errorf("If-None-Match %s: status %d, %d body bytes; want 304", inm, r.status, len(r.body))
		}
	}
	if r := do(t, "GET", srv.URL+"/", map[string]string{"If-None-Match": `"nope"`}); r.status != http.StatusOK || !bytes.Equal(r.body, first.body) {
		t.Errorf("other tag: status %d", r.status)
	}

	e := testEntries()[0]
	e.Item.ID = news.ItemID("rights-wire", "new")
	e.Item.Title = "Brand new headline"
	e.Match.MatchedAt = time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	l.setEntries("uyghur-rights", append([]news.Entry{e}, testEntries()...))
	r := do(t, "GET", srv.URL+"/", map[string]string{"If-None-Match": tag})
	if r.status != http.StatusOK || r.header.Get("ETag") == tag || !bytes.Contains(r.body, []byte("Brand new headline")) {
		t.Errorf("after a new match: status %d, ETag %q (old %q)", r.status, r.header.Get("ETag"), tag)
	}
}

// The index shows the latest indexItems matches per topic, even from a
// store that returns more.
func TestIndexLimit(t *testing.T) {
	many := make([]news.Entry, 30)
	for i := range many {
		e := testEntries()[0]
		e.Item.ID = news.ItemID("bulk", strconv.Itoa(i))
		many[i] = e
	}
	l := &memLister{entries: map[string][]news.Entry{"uyghur-rights": many}, ignoreLimit: true}
	srv := newServer(t, l, serverOptions())
	_, body := checkPage(t, do(t, "GET", srv.URL+"/", nil))
	if n := strings.Count(body, "<li>"); n != indexItems {
		t.Errorf("%d matches listed, want %d", n, indexItems)
	}
}

// One topic the store cannot list does not take the index down: the
// others render, the failing one says so, and the error is logged.
func TestIndexListerError(t *testing.T) {
	var logs bytes.Buffer
	opts := serverOptions()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	l := &memLister{
		entries: map[string][]news.Entry{"uyghur-rights": testEntries()},
		errFor:  map[string]error{"evil": errors.New("sqlite: disk I/O error at /var/lib/secret.db")},
	}
	srv := newServer(t, l, opts)
	_, body := checkPage(t, do(t, "GET", srv.URL+"/", nil))
	if !strings.Contains(body, "Matches could not be loaded") || !strings.Contains(body, "<mark>Uyghurs</mark>") {
		t.Errorf("page does not show the working topic and the failing one:\n%s", body)
	}
	if strings.Contains(body, "secret") {
		t.Errorf("page leaks the error")
	}
	if !strings.Contains(logs.String(), "secret.db") || !strings.Contains(logs.String(), "topic=evil") {
		t.Errorf("error not logged with its topic: %q", logs.String())
	}
}

func TestIndexWithoutTopics(t *testing.T) {
	srv := newServer(t, &memLister{}, Options{BaseURL: "http://localhost:8080"})
	r := do(t, "GET", srv.URL+"/", nil)
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte("No topics are configured.")) ||
		!bytes.Contains(r.body, []byte("<title>wirewatch</title>")) {
		t.Errorf("status %d, body:\n%s", r.status, r.body)
	}
}

func TestTopicPage(t *testing.T) {
	l, srv := newFixture(t)
	r := do(t, "GET", srv.URL+"/topics/uyghur-rights", nil)
	head, body := checkPage(t, r)
	if !strings.Contains(head, `<title>Uyghur rights · Newsroom &lt;Watch&gt;</title>`) {
		t.Errorf("title wrong:\n%s", head)
	}
	// Discovery tags for this topic's feeds, and no other topic's.
	if n := strings.Count(head, `<link rel="alternate"`); n != 3 ||
		!strings.Contains(head, `<link rel="alternate" type="application/atom+xml" title="Uyghur rights (Atom)" href="https://wirewatch.example/feeds/uyghur-rights.atom">`) {
		t.Errorf("%d alternate links, want this topic's 3:\n%s", n, head)
	}
	for _, want := range []string{
		`<a class="brand" href="https://wirewatch.example/">Newsroom &lt;Watch&gt;</a>`,
		`<h1>Uyghur rights</h1>`,
		`<a href="https://wirewatch.example/feeds/uyghur-rights.rss">RSS</a>`,
		`<dt>Query</dt><dd><code>&#34;human rights&#34; AND uyghur*</code></dd>`,
		`<p class="snip">…the detention of <mark>Uyghurs</mark>…</p>`,
		`<p class="snip"><mark>&lt;script&gt;</mark>alert(&#34;x&#34;)`,
		`(untitled)`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s\n%s", want, body)
		}
	}
	if strings.Contains(body, "Show more") {
		t.Errorf("a page with fewer matches than the limit offers more")
	}
	if got := l.calls(); !reflect.DeepEqual(got, []int{defaultLimit}) {
		t.Errorf("lister asked for %v, want [%d]", got, defaultLimit)
	}
	if c := do(t, "GET", srv.URL+"/topics/uyghur-rights", map[string]string{"If-None-Match": r.header.Get("ETag")}); c.status != http.StatusNotModified {
		t.Errorf("conditional GET: status %d, want 304", c.status)
	}

	// ?limit= works as on the feeds, and a full page links to a longer one.
	r = do(t, "GET", srv.URL+"/topics/uyghur-rights?limit=2", nil)
	_, body = checkPage(t, r)
	if n := strings.Count(body, "<li>"); n != 2 {
		t.Errorf("limit=2: %d matches", n)
	}
	if !strings.Contains(body, `Showing the latest 2 matches. <a href="https://wirewatch.example/topics/uyghur-rights?limit=4">Show more</a>`) {
		t.Errorf("limit=2: no link to more:\n%s", body)
	}
	for _, q := range []string{"?limit=0", "?limit=x", "?limit=-1"} {
		if r := do(t, "GET", srv.URL+"/topics/uyghur-rights"+q, nil); r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, r.status)
		}
	}
}

func TestTopicPageGroups(t *testing.T) {
	opts := serverOptions()
	opts.Topics = []news.Topic{{
		ID:       "labour",
		Title:    "Forced labour",
		Must:     []string{`"forced labour" OR "forced labor"`},
		Should:   []string{"cotton", "<solar>"},
		Not:      []string{"football"},
		Exclude:  []string{"opinion"},
		Synonyms: map[string][]string{"xuar": {"Xinjiang", "East Turkestan"}},
		Weights:  map[string]float64{"cotton": 2},
		MinScore: 1.5,
		Sources:  []string{"ap", "reuters"},
		Report:   "OHCHR assessment",
	}}
	l := &memLister{entries: map[string][]news.Entry{}}
	srv := newServer(t, l, opts)
	_, body := checkPage(t, do(t, "GET", srv.URL+"/topics/labour", nil))
	for _, want := range []string{
		`<dt>All of</dt><dd><code>&#34;forced labour&#34; OR &#34;forced labor&#34;</code></dd>`,
		`<dt>Any of</dt><dd><code>cotton</code> <span class="op">or</span> <code>&lt;solar&gt;</code></dd>`,
		`<dt>None of</dt><dd><code>football</code></dd>`,
		`<dt>Never with</dt><dd><code>opinion</code></dd>`,
		`<dt>Synonyms</dt><dd><code>xuar = Xinjiang | East Turkestan</code></dd>`,
		`<dt>Weights</dt><dd><code>cotton ×2</code></dd>`,
		`<dt>Minimum score</dt><dd><code>1.5</code></dd>`,
		`<dt>Only sources</dt><dd><code>ap</code> <code>reuters</code></dd>`,
		`<dt>Terms from</dt><dd><code>OHCHR assessment</code></dd>`,
		`<p class="empty">No matches yet.</p>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s\n%s", want, body)
		}
	}
	if strings.Contains(body, "<dt>Query</dt>") {
		t.Errorf("a topic without a query shows one")
	}
	// The index shows the groups too, but not the details.
	_, index := checkPage(t, do(t, "GET", srv.URL+"/", nil))
	if !strings.Contains(index, `<dt>Any of</dt>`) || strings.Contains(index, `<dt>Synonyms</dt>`) {
		t.Errorf("index definition:\n%s", index)
	}
}

func TestTopicPageErrors(t *testing.T) {
	l, srv := newFixture(t)
	for _, path := range []string{"/topics/nope", "/topics/UYGHUR-RIGHTS", "/topics/uyghur-rights/extra", "/topics/"} {
		r := do(t, "GET", srv.URL+path, nil)
		if r.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, r.status)
		}
		if len(r.body) == 0 || len(r.body) > 100 {
			t.Errorf("GET %s: want a short message, got %q", path, r.body)
		}
	}
	if got := l.calls(); len(got) != 0 {
		t.Errorf("lister called %v for unknown topics", got)
	}

	var logs bytes.Buffer
	opts := serverOptions()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	srv = newServer(t, &memLister{err: errors.New("sqlite: disk I/O error at /var/lib/secret.db")}, opts)
	r := do(t, "GET", srv.URL+"/topics/uyghur-rights", nil)
	if r.status != http.StatusInternalServerError || bytes.Contains(r.body, []byte("secret")) || r.header.Get("ETag") != "" {
		t.Errorf("lister error: status %d, ETag %q, body %q", r.status, r.header.Get("ETag"), r.body)
	}
	if !strings.Contains(logs.String(), "topic=uyghur-rights") {
		t.Errorf("error not logged with its topic: %q", logs.String())
	}
	// An empty store is an empty page, not an error.
	srv = newServer(t, &memLister{err: news.ErrNotFound}, opts)
	if r := do(t, "GET", srv.URL+"/topics/uyghur-rights", nil); r.status != http.StatusOK || !bytes.Contains(r.body, []byte("No matches yet.")) {
		t.Errorf("ErrNotFound: status %d", r.status)
	}
}
