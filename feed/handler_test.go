package feed

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

// memLister is an in-memory stand-in for the store package: it returns a
// topic's entries in the order given (newest first), honouring limit unless
// told to ignore it, and records the limits it was asked for.
type memLister struct {
	mu      sync.Mutex
	entries map[string][]news.Entry
	err     error
	// errFor fails the listing of single topics.
	errFor      map[string]error
	ignoreLimit bool
	limits      []int
	topics      []string
}

func (m *memLister) TopicEntries(ctx context.Context, topicID string, limit int) ([]news.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.limits = append(m.limits, limit)
	m.topics = append(m.topics, topicID)
	if m.err != nil {
		return nil, m.err
	}
	if err := m.errFor[topicID]; err != nil {
		return nil, err
	}
	es := m.entries[topicID]
	if !m.ignoreLimit && len(es) > limit {
		es = es[:limit]
	}
	return append([]news.Entry(nil), es...), nil
}

func (m *memLister) setEntries(topicID string, es []news.Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[topicID] = es
}

func (m *memLister) calls() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.limits...)
}

func (m *memLister) calledTopics() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.topics...)
}

var fixedNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func serverOptions() Options {
	opts := testOptions()
	opts.Topics = []news.Topic{
		testTopic(),
		{ID: "evil", Title: `<script>alert("topic")</script>`, Query: `a & "b" <c>`},
	}
	opts.Now = func() time.Time { return fixedNow }
	return opts
}

func newServer(t *testing.T, l Lister, opts Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHandler(l, opts))
	t.Cleanup(srv.Close)
	return srv
}

func newFixture(t *testing.T) (*memLister, *httptest.Server) {
	t.Helper()
	l := &memLister{entries: map[string][]news.Entry{"uyghur-rights": testEntries()}}
	return l, newServer(t, l, serverOptions())
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, body}
}

func TestServeFeeds(t *testing.T) {
	_, srv := newFixture(t)
	wantType := map[string]string{
		"rss":  "application/rss+xml; charset=utf-8",
		"atom": "application/atom+xml; charset=utf-8",
		"json": "application/feed+json; charset=utf-8",
	}
	for _, format := range formats {
		r := do(t, "GET", srv.URL+"/feeds/uyghur-rights."+format, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", format, r.status, r.body)
		}
		if got := r.header.Get("Content-Type"); got != wantType[format] {
			t.Errorf("%s: Content-Type = %q, want %q", format, got, wantType[format])
		}
		// The body is exactly what Render produces, so the goldens cover it.
		if want := render(t, format, testTopic(), testEntries(), serverOptions()); !bytes.Equal(r.body, want) {
			t.Errorf("%s: body differs from Render's output", format)
		}
		if got, want := r.header.Get("ETag"), etag(r.body); got != want || !strings.HasPrefix(got, `"`) {
			t.Errorf("%s: ETag = %q, want strong %q", format, got, want)
		}
		if got, want := r.header.Get("Last-Modified"), "Fri, 14 Mar 2025 09:26:53 GMT"; got != want {
			t.Errorf("%s: Last-Modified = %q, want the newest match time %q", format, got, want)
		}
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q", format, got)
		}
	}
}

func TestLimit(t *testing.T) {
	many := make([]news.Entry, 600)
	for i := range many {
		e := testEntries()[0]
		e.Item.ID = news.ItemID("bulk", strconv.Itoa(i))
		many[i] = e
	}
	for _, tc := range []struct {
		query     string
		wantLimit int
	}{
		{"", defaultLimit},
		{"?limit=7", 7},
		{"?limit=1", 1},
		{"?limit=500", 500},
		{"?limit=501", 500},
		{"?limit=99999999999999999999999", 500},
		{"?other=1&limit=3", 3},
	} {
		l := &memLister{entries: map[string][]news.Entry{"uyghur-rights": many}}
		srv := newServer(t, l, serverOptions())
		r := do(t, "GET", srv.URL+"/feeds/uyghur-rights.json"+tc.query, nil)
		if r.status != http.StatusOK {
			t.Errorf("%q: status %d: %s", tc.query, r.status, r.body)
			continue
		}
		if got := l.calls(); len(got) != 1 || got[0] != tc.wantLimit {
			t.Errorf("%q: lister asked for %v, want [%d]", tc.query, got, tc.wantLimit)
		}
		if n := bytes.Count(r.body, []byte(`"_wirewatch"`)); n != tc.wantLimit {
			t.Errorf("%q: %d items served, want %d", tc.query, n, tc.wantLimit)
		}
	}
	for _, q := range []string{"?limit=abc", "?limit=0", "?limit=-3", "?limit=", "?limit=1.5", "?limit=%205", "?limit=-99999999999999999999999"} {
		l := &memLister{entries: map[string][]news.Entry{"uyghur-rights": many}}
		srv := newServer(t, l, serverOptions())
		r := do(t, "GET", srv.URL+"/feeds/uyghur-rights.rss"+q, nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", q, r.status)
		}
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || !strings.Contains(string(r.body), "limit") {
			t.Errorf("%q: want a plain message about limit, got %q (%s)", q, r.body, r.header.Get("Content-Type"))
		}
		if got := l.calls(); len(got) != 0 {
			t.Errorf("%q: lister called %v on a bad request", q, got)
		}
	}
}

// A store that returns more than asked for must not make the feed longer.
func TestLimitEnforcedOnListerResult(t *testing.T) {
	l := &memLister{entries: map[string][]news.Entry{"uyghur-rights": testEntries()}, ignoreLimit: true}
	srv := newServer(t, l, serverOptions())
	r := do(t, "GET", srv.URL+"/feeds/uyghur-rights.json?limit=2", nil)
	if n := bytes.Count(r.body, []byte(`"_wirewatch"`)); n != 2 {
		t.Errorf("%d items served, want 2", n)
	}
}

func TestConditionalRequests(t *testing.T) {
	l, srv := newFixture(t)
	url := srv.URL + "/feeds/uyghur-rights.atom"
	first := do(t, "GET", url, nil)
	tag, lm := first.header.Get("ETag"), first.header.Get("Last-Modified")
	if tag == "" || lm == "" {
		t.Fatalf("no validators: ETag=%q Last-Modified=%q", tag, lm)
	}
	earlier := time.Date(2025, 3, 14, 9, 26, 52, 0, time.UTC).Format(http.TimeFormat)

	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"matching If-None-Match", map[string]string{"If-None-Match": tag}, http.StatusNotModified},
		{"If-None-Match list", map[string]string{"If-None-Match": `"nope", ` + tag}, http.StatusNotModified},
		{"weak If-None-Match", map[string]string{"If-None-Match": "W/" + tag}, http.StatusNotModified},
		{"If-None-Match *", map[string]string{"If-None-Match": "*"}, http.StatusNotModified},
		{"other If-None-Match", map[string]string{"If-None-Match": `"nope"`}, http.StatusOK},
		{"If-Modified-Since = Last-Modified", map[string]string{"If-Modified-Since": lm}, http.StatusNotModified},
		{"If-Modified-Since later", map[string]string{"If-Modified-Since": fixedNow.Format(http.TimeFormat)}, http.StatusNotModified},
		{"If-Modified-Since earlier", map[string]string{"If-Modified-Since": earlier}, http.StatusOK},
		// If-None-Match takes precedence: a stale tag wins over a fresh date.
		{"stale tag, fresh date", map[string]string{"If-None-Match": `"nope"`, "If-Modified-Since": lm}, http.StatusOK},
		{"fresh tag, stale date", map[string]string{"If-None-Match": tag, "If-Modified-Since": earlier}, http.StatusNotModified},
	} {
		r := do(t, "GET", url, tc.header)
		if r.status != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.want)
			continue
		}
		if tc.want == http.StatusNotModified {
			if len(r.body) != 0 || r.header.Get("ETag") != tag {
				t.Errorf("%s: 304 with %d body bytes, ETag %q", tc.name, len(r.body), r.header.Get("ETag"))
			}
		} else if !bytes.Equal(r.body, first.body) {
			t.Errorf("%s: 200 with a different body", tc.name)
		}
	}

	// A new match changes the bytes, the tag and the date: old validators
	// no longer produce a 304.
	e := testEntries()[0]
	e.Item.ID = news.ItemID("rights-wire", "new")
	e.Match.MatchedAt = time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	l.setEntries("uyghur-rights", append([]news.Entry{e}, testEntries()...))
	r := do(t, "GET", url, map[string]string{"If-None-Match": tag})
	if r.status != http.StatusOK || r.header.Get("ETag") == tag {
		t.Errorf("after a new match: status %d, ETag %q (old %q)", r.status, r.header.Get("ETag"), tag)
	}
	r = do(t, "GET", url, map[string]string{"If-Modified-Since": lm})
	if r.status != http.StatusOK || r.header.Get("Last-Modified") != "Sat, 15 Mar 2025 00:00:00 GMT" {
		t.Errorf("after a new match: status %d, Last-Modified %q", r.status, r.header.Get("Last-Modified"))
	}
}

func TestHead(t *testing.T) {
	_, srv := newFixture(t)
	for _, path := range []string{"/feeds/uyghur-rights.rss", "/feeds/uyghur-rights.json", "/", "/topics/uyghur-rights"} {
		get := do(t, "GET", srv.URL+path, nil)
		head := do(t, "HEAD", srv.URL+path, nil)
		if head.status != http.StatusOK || len(head.body) != 0 {
			t.Errorf("HEAD %s: status %d, %d body bytes", path, head.status, len(head.body))
		}
		if head.header.Get("ETag") != get.header.Get("ETag") ||
			head.header.Get("Content-Length") != strconv.Itoa(len(get.body)) ||
			head.header.Get("Content-Type") != get.header.Get("Content-Type") {
			t.Errorf("HEAD %s headers %v disagree with GET's %v (body %d bytes)", path, head.header, get.header, len(get.body))
		}
		if tag := get.header.Get("ETag"); tag != "" {
			if r := do(t, "HEAD", srv.URL+path, map[string]string{"If-None-Match": tag}); r.status != http.StatusNotModified {
				t.Errorf("conditional HEAD %s: status %d, want 304", path, r.status)
			}
		}
	}
}

func TestLastModifiedNotInFuture(t *testing.T) {
	e := testEntries()[0]
	e.Item.Updated = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &memLister{entries: map[string][]news.Entry{"uyghur-rights": {e}}}
	srv := newServer(t, l, serverOptions())
	r := do(t, "GET", srv.URL+"/feeds/uyghur-rights.rss", nil)
	if got, want := r.header.Get("Last-Modified"), fixedNow.Format(http.TimeFormat); got != want {
		t.Errorf("Last-Modified = %q, want it clamped to now %q", got, want)
	}
}

func TestEmptyTopic(t *testing.T) {
	for _, err := range []error{nil, news.ErrNotFound, errors.Join(errors.New("store: topic entries"), news.ErrNotFound)} {
		l := &memLister{entries: map[string][]news.Entry{}, err: err}
		srv := newServer(t, l, serverOptions())
		r := do(t, "GET", srv.URL+"/feeds/evil.json", nil)
		if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"items": []`)) {
			t.Errorf("lister err %v: status %d, body %s", err, r.status, r.body)
		}
		if r.header.Get("Last-Modified") != "" || r.header.Get("ETag") == "" {
			t.Errorf("empty feed: Last-Modified %q, ETag %q; want none and one", r.header.Get("Last-Modified"), r.header.Get("ETag"))
		}
	}
}

func TestNotFound(t *testing.T) {
	l, srv := newFixture(t)
	for _, path := range []string{
		"/feeds/nope.rss",
		"/feeds/uyghur-rights.xml",
		"/feeds/uyghur-rights",
		"/feeds/uyghur-rights.",
		"/feeds/.rss",
		"/feeds/",
		"/feeds/uyghur-rights.rss/extra",
		"/feeds/UYGHUR-RIGHTS.rss",
		"/elsewhere",
		"/healthz",
	} {
		r := do(t, "GET", srv.URL+path, nil)
		if r.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, r.status)
		}
		if len(r.body) == 0 || len(r.body) > 100 {
			t.Errorf("GET %s: want a short message, got %q", path, r.body)
		}
	}
	if got := l.calls(); len(got) != 0 {
		t.Errorf("lister called %v for unknown feeds", got)
	}
	if r := do(t, "POST", srv.URL+"/feeds/uyghur-rights.rss", nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", r.status)
	}
}

func TestListerError(t *testing.T) {
	var logs bytes.Buffer
	opts := serverOptions()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	l := &memLister{err: errors.New("sqlite: disk I/O error at /var/lib/secret.db")}
	srv := newServer(t, l, opts)
	r := do(t, "GET", srv.URL+"/feeds/uyghur-rights.rss", nil)
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", r.status)
	}
	if bytes.Contains(r.body, []byte("secret")) || bytes.Contains(r.body, []byte("sqlite")) {
		t.Errorf("500 body leaks the error: %q", r.body)
	}
	if r.header.Get("ETag") != "" || r.header.Get("Cache-Control") != "" {
		t.Errorf("500 carries caching headers: %v", r.header)
	}
	if !strings.Contains(logs.String(), "secret.db") || !strings.Contains(logs.String(), "topic=uyghur-rights") {
		t.Errorf("error not logged with its topic: %q", logs.String())
	}
}
