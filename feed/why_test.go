package feed

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// asked records the refs an Explain was asked about.
type asked struct {
	mu   sync.Mutex
	refs []string
}

func (a *asked) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.refs...)
}

// whyServer serves the pages with an Explain that answers from answers
// (by ref) and records what it was asked.
func whyServer(t *testing.T, answers map[string]string) (srv string, got *asked) {
	t.Helper()
	got = &asked{}
	opts := serverOptions()
	opts.Explain = func(ctx context.Context, ref string) (string, bool, error) {
		got.mu.Lock()
		got.refs = append(got.refs, ref)
		got.mu.Unlock()
		if ref == "boom" {
			return "", false, errors.New("database gone")
		}
		text, ok := answers[ref]
		if !ok {
			return `no stored item has the id, guid or link "` + ref + `"`, false, nil
		}
		return text, true, nil
	}
	return newServer(t, &memLister{}, opts).URL, got
}

func TestWhyPage(t *testing.T) {
	const link = "https://example.org/world/a?x=1&y=<2>"
	srv, got := whyServer(t, map[string]string{
		link: "Topic uyghur-rights\n  verdict: matched\n  What wirewatch did:\n    alerted <script>alert(1)</script>",
	})
	get := func(query string) response {
		return do(t, "GET", srv+"/why"+query, nil)
	}

	// The index offers the form.
	_, body := checkPage(t, do(t, "GET", srv+"/", nil))
	if !strings.Contains(body, `<form class="why-form" action="https://wirewatch.example/why" method="get"><input name="item"`) {
		t.Errorf("index lacks the why form:\n%s", body)
	}

	// The page alone: the form, nothing asked.
	r := get("")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `<h1>Why didn't I get this?</h1>`) ||
		strings.Contains(string(r.body), `<pre`) || len(got.list()) != 0 {
		t.Errorf("empty form: status %d, asked %v:\n%s", r.status, got.list(), r.body)
	}

	// An answer: escaped, the question kept in the form, never cached.
	r = get("?item=" + url.QueryEscape(" "+link+" "))
	page := string(r.body)
	if refs := got.list(); r.status != http.StatusOK || len(refs) != 1 || refs[0] != link {
		t.Fatalf("status %d, asked %q", r.status, refs)
	}
	for _, want := range []string{
		"<pre class=\"explain\">Topic uyghur-rights\n  verdict: matched\n  What wirewatch did:\n    alerted &lt;script&gt;alert(1)&lt;/script&gt;</pre>",
		`value="https://example.org/world/a?x=1&amp;y=&lt;2&gt;"`,
		`<a class="brand" href="https://wirewatch.example/">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("answer lacks %s:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Errorf("answer carries live markup:\n%s", page)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Security-Policy") != pageCSP ||
		r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("headers %v", r.header)
	}

	// Not stored: 404, with the explanation of why.
	r = get("?item=https%3A%2F%2Felsewhere.test%2Fx")
	if r.status != http.StatusNotFound || !strings.Contains(string(r.body), "no stored item has the id, guid or link &#34;https://elsewhere.test/x&#34;") {
		t.Errorf("not stored: status %d:\n%s", r.status, r.body)
	}

	// A failure to answer is logged, not shown.
	r = get("?item=boom")
	if r.status != http.StatusServiceUnavailable || strings.Contains(string(r.body), "database gone") ||
		!strings.Contains(string(r.body), "could not answer just now") {
		t.Errorf("failure: status %d:\n%s", r.status, r.body)
	}

	// What is no link, guid or id is refused before anything is asked.
	n := len(got.list())
	for _, bad := range []string{"?item=" + strings.Repeat("a", maxWhyRef+1), "?item=%ff%fe"} {
		if r := get(bad); r.status != http.StatusBadRequest || len(got.list()) != n {
			t.Errorf("%.40s: status %d, asked %d times, want 400 and not asked", bad, r.status, len(got.list())-n)
		}
	}

	// HEAD answers without a body.
	if r := do(t, "HEAD", srv+"/why?item="+url.QueryEscape(link), nil); r.status != http.StatusOK || len(r.body) != 0 {
		t.Errorf("HEAD: status %d, %d bytes", r.status, len(r.body))
	}
}

func TestWhyPageNotServedWithoutExplain(t *testing.T) {
	_, srv := newFixture(t)
	if r := do(t, "GET", srv.URL+"/why?item=x", nil); r.status != http.StatusNotFound {
		t.Errorf("GET /why without Explain: status %d, want 404", r.status)
	}
	_, body := checkPage(t, do(t, "GET", srv.URL+"/", nil))
	if strings.Contains(body, "why-form") {
		t.Errorf("index offers a form nothing answers")
	}
}
