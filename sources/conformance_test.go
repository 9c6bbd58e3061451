package sources

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html/charset"

	"wirewatch/internal/shared"
	"wirewatch/news"
)

// The conformance tests serve every input of the third-party corpora in
// ../shared/corpora (see its README) from a local server through
// Fetcher.Fetch: the whole fetch → charset → parse → normalise path. Nothing
// may panic or hang, every failure must be a clean parse error, every item
// must satisfy the item invariants, and a well-formed feed (by the corpus's
// own labelling) whose source has items with a title or a link must yield
// items with a title or a link.

// conformanceCase is one corpus input.
type conformanceCase struct {
	rel    string // path inside the corpus, for messages
	path   string
	header http.Header // simulated response headers; no Content-Type means none is sent
	// wellFormed is the corpus's own verdict; labelled is false when the
	// corpus gives none for this input.
	wellFormed, labelled bool
}

// conformanceStats are the pass rates of one corpus.
type conformanceStats struct {
	total, parsed, errored int
	wellFormed             int
	// withItems counts well-formed inputs whose source holds at least one
	// item with a title or a link; itemsOut those of them that yielded at
	// least one item with a title or a link.
	withItems, itemsOut int
	misses              []string
}

func (s *conformanceStats) String() string {
	return fmt.Sprintf("%d inputs: %d parsed, %d errored cleanly; well-formed with items: %d/%d yielded items (%d well-formed)",
		s.total, s.parsed, s.errored, s.itemsOut, s.withItems, s.wellFormed)
}

// runConformance fetches every case through one Fetcher from one local
// server and returns the corpus's stats.
func runConformance(t *testing.T, cases []conformanceCase) *conformanceStats {
	t.Helper()
	if len(cases) == 0 {
		t.Fatal("corpus present but no inputs found")
	}
	byPath := make(map[string]*conformanceCase, len(cases))
	for i := range cases {
		byPath[fmt.Sprintf("/c/%d", i)] = &cases[i]
	}
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		c := byPath[r.URL.Path]
		if c == nil {
			http.NotFound(w, r)
			return
		}
		body, err := os.ReadFile(c.path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for k, v := range c.header {
			w.Header()[k] = v
		}
		if _, ok := c.header["Content-Type"]; !ok {
			w.Header()["Content-Type"] = nil // no sniffing: send none
		}
		w.Write(body)
	})
	f := newTestFetcher(t, Options{Timeout: 10 * time.Second})

	st := &conformanceStats{}
	for i := range cases {
		c := &cases[i]
		st.total++
		start := time.Now()
		res, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "corpus", URL: fmt.Sprintf("%s/c/%d", srv.URL, i)})
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: fetch took %v", c.rel, d)
		}
		if err != nil {
			var fe *FetchError
			if !errors.As(err, &fe) || fe.Reason != ReasonParse {
				t.Errorf("%s: not a clean parse error: %v", c.rel, err)
			}
			if c.labelled && c.wellFormed {
				t.Logf("well-formed by the corpus's verdict, but not parsed: %s: %v", c.rel, err)
			}
			st.errored++
		} else {
			st.parsed++
			checkItemInvariants(t, "corpus", res.Items)
		}
		if !c.labelled || !c.wellFormed {
			continue
		}
		st.wellFormed++
		body, rerr := os.ReadFile(c.path)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if !sourceHasItems(body, c.header.Get("Content-Type")) {
			continue
		}
		st.withItems++
		if hasTitleOrLink(res.Items) {
			st.itemsOut++
		} else {
			reason := "no usable items"
			if err != nil {
				reason = err.Error()
			}
			st.misses = append(st.misses, c.rel+": "+reason)
		}
	}
	for _, m := range st.misses {
		t.Logf("well-formed, but no item with a title or link: %s", m)
	}
	return st
}

func hasTitleOrLink(items []news.Item) bool {
	for _, it := range items {
		if it.Title != "" || it.Link != "" {
			return true
		}
	}
	return false
}

// sourceHasItems is the ground truth the corpora do not label: whether the
// document is a feed holding an item with a visible title or a web link.
// It reads the document with the standard library, not with gofeed, so a
// gofeed miss is not mistaken for an empty feed, and it counts only what
// the feed formats define:
//
//   - the whole document must be well-formed XML (HTML entities allowed),
//     rooted in <rss>, <rdf:RDF> or an Atom 0.3/1.0 <feed> (or a <feed>
//     with no namespace, which gofeed reads as Atom); JSON Feed must
//     be valid JSON;
//   - a title or link counts only as a child of the item in the item's own
//     namespace (not media:title, not itunes:link);
//   - a title counts when it has visible text ("<img onload=...>" has none);
//   - an Atom link counts only through its href and only as the entry's
//     web page (no rel, or rel="alternate"), an RSS link through its text;
//     and only http, https or relative links count, as those are the only
//     ones normalisation keeps.
func sourceHasItems(body []byte, contentType string) bool {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")), " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("{")) {
		var jf struct {
			Items []struct {
				Title       any `json:"title"`
				URL         any `json:"url"`
				ExternalURL any `json:"external_url"`
			} `json:"items"`
		}
		if json.Unmarshal(trimmed, &jf) != nil {
			return false
		}
		for _, it := range jf.Items {
			for _, v := range []any{it.Title, it.URL, it.ExternalURL} {
				if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
					return true
				}
			}
		}
		return false
	}
	d := xml.NewDecoder(bytes.NewReader(toUTF8(body, contentType)))
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charset.NewReaderLabel
	var (
		depth, itemDepth = 0, -1
		atom, found      bool
		itemNS, field    string
		text             strings.Builder
	)
	for {
		tok, err := d.Token()
		if err != nil {
			// Only a document read to its end counts.
			return errors.Is(err, io.EOF) && found
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				switch {
				case t.Name.Local == "feed" && (t.Name.Space == "http://www.w3.org/2005/Atom" || t.Name.Space == "http://purl.org/atom/ns#" || t.Name.Space == ""):
					atom = true
				case t.Name.Local == "rss" || t.Name.Local == "RDF":
				default:
					return false // not a feed document
				}
			}
			switch {
			case itemDepth < 0 && (t.Name.Local == "item" || (atom && t.Name.Local == "entry")):
				itemDepth, itemNS = depth, t.Name.Space
			case itemDepth >= 0 && depth == itemDepth+1 && t.Name.Space == itemNS && t.Name.Local == "title":
				field = "title"
				text.Reset()
			case itemDepth >= 0 && depth == itemDepth+1 && t.Name.Space == itemNS && t.Name.Local == "link":
				if !atom {
					field = "link"
					text.Reset()
					break
				}
				rel := strings.TrimSpace(attr(t.Attr, "rel"))
				if (rel == "" || rel == "alternate") && webLink(attr(t.Attr, "href")) {
					found = true
				}
			}
		case xml.CharData:
			if field != "" {
				text.Write(t)
			}
		case xml.EndElement:
			if field != "" && depth == itemDepth+1 {
				switch field {
				case "title":
					found = found || VisibleText(text.String()) != ""
				case "link":
					found = found || webLink(text.String())
				}
				field = ""
			}
			if depth == itemDepth {
				itemDepth = -1
			}
			depth--
		}
	}
}

// webLink reports whether s is a link normalisation may keep: http, https
// or relative.
func webLink(s string) bool {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	return s != "" && err == nil && (u.Scheme == "" || u.Scheme == "http" || u.Scheme == "https")
}

// walkCorpus lists the files under root with one of the extensions.
func walkCorpus(t *testing.T, root string, exts ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, e := range exts {
			if strings.HasSuffix(path, e) {
				out = append(out, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func relTo(root, path string) string {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

// feedparserCase reads a feedparser test's expectation: the simulated
// headers and whether feedparser calls it well-formed (not "bozo").
type feedparserExpectation struct {
	File        string   `json:"file"`
	Expect      string   `json:"expect"`
	HTTPHeaders []string `json:"http_headers"`
}

func TestConformanceFeedparser(t *testing.T) {
	root := shared.Path(t, "corpora", "feedparser-tests")
	expect := map[string]feedparserExpectation{}
	if b, err := os.ReadFile(filepath.Join(root, "expectations.jsonl")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e feedparserExpectation
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				expect[e.File] = e
			}
		}
	}
	byDir := map[string][]conformanceCase{}
	for _, p := range walkCorpus(t, root, ".xml", ".json") {
		rel := relTo(root, p)
		dir, _, _ := strings.Cut(rel, "/")
		c := conformanceCase{rel: rel, path: p, header: http.Header{}, labelled: true}
		e, ok := expect[rel]
		for _, h := range e.HTTPHeaders {
			if k, v, ok := strings.Cut(h, ":"); ok {
				c.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		// feedparser's verdict: the illformed/ folder, or an expectation
		// that starts "bozo" (its flag for a document that broke the rules).
		c.wellFormed = dir != "illformed" && !(ok && strings.HasPrefix(strings.TrimSpace(e.Expect), "bozo"))
		byDir[dir] = append(byDir[dir], c)
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			st := runConformance(t, byDir[dir])
			t.Logf("feedparser-tests/%s: %s", dir, st)
			requireAllItems(t, st)
		})
	}
}

// requireAllItems fails the test unless every well-formed input with
// items yielded items.
func requireAllItems(t *testing.T, st *conformanceStats) {
	t.Helper()
	if st.itemsOut != st.withItems {
		t.Errorf("only %d of %d well-formed inputs with items yielded items", st.itemsOut, st.withItems)
	}
}

func TestConformanceGofeed(t *testing.T) {
	root := shared.Path(t, "corpora", "gofeed-testdata")
	var cases []conformanceCase
	for _, p := range walkCorpus(t, root, ".xml", ".json") {
		if strings.HasSuffix(p, "_expected.json") {
			continue
		}
		c := conformanceCase{rel: relTo(root, p), path: p, labelled: true}
		switch filepath.Ext(p) {
		case ".json":
			// A .json beside an .xml of the same name is that input's
			// expected parse, not an input.
			if fileExists(strings.TrimSuffix(p, ".json") + ".xml") {
				continue
			}
			c.wellFormed = fileExists(strings.TrimSuffix(p, ".json") + "_expected.json")
		case ".xml":
			// gofeed's verdict: an input it has an expected parse for.
			c.wellFormed = fileExists(strings.TrimSuffix(p, ".xml") + ".json")
		}
		cases = append(cases, c)
	}
	st := runConformance(t, cases)
	t.Logf("gofeed-testdata: %s", st)
	requireAllItems(t, st)
}

// w3cIllFormed are the validator messages that say a document is not
// well-formed XML, as opposed to breaking a feed format's rules.
var w3cIllFormed = map[string]bool{"SAXError": true, "UnknownEncoding": true, "BadCharacters": true}

func TestConformanceW3CValidator(t *testing.T) {
	root := shared.Path(t, "corpora", "w3c-feedvalidator-testcases")
	illFormed := map[string]bool{}
	if b, err := os.ReadFile(filepath.Join(root, "expectations.jsonl")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e struct {
				File    string `json:"file"`
				Negated bool   `json:"negated"`
				Message string `json:"message"`
			}
			if json.Unmarshal(sc.Bytes(), &e) == nil && !e.Negated && w3cIllFormed[e.Message] {
				illFormed[e.File] = true
			}
		}
	}
	bySuite := map[string][]conformanceCase{}
	for _, p := range walkCorpus(t, filepath.Join(root, "testcases"), ".xml") {
		rel := relTo(root, p)
		suite := strings.Split(rel, "/")[1]
		bySuite[suite] = append(bySuite[suite], conformanceCase{rel: rel, path: p, labelled: true, wellFormed: !illFormed[rel]})
	}
	suites := make([]string, 0, len(bySuite))
	for s := range bySuite {
		suites = append(suites, s)
	}
	sort.Strings(suites)
	for _, s := range suites {
		t.Run(s, func(t *testing.T) {
			st := runConformance(t, bySuite[s])
			t.Logf("w3c-feedvalidator/%s: %s", s, st)
			requireAllItems(t, st)
		})
	}
}

func TestConformanceRealFeeds(t *testing.T) {
	for _, corpus := range []struct {
		name string
		exts []string
	}{
		{"miniflux-testdata", []string{".xml"}},
		{"feedjira-sample-feeds", []string{".xml", ".json"}},
		{"rss-parser-tests", []string{".rss", ".atom"}},
	} {
		t.Run(corpus.name, func(t *testing.T) {
			root := shared.Path(t, "corpora", corpus.name)
			var cases []conformanceCase
			for _, p := range walkCorpus(t, root, corpus.exts...) {
				if strings.Contains(filepath.ToSlash(p), "/output/") {
					continue
				}
				// Real publishers' feeds, kept by their projects as parse
				// fixtures: all count as well-formed.
				cases = append(cases, conformanceCase{rel: relTo(root, p), path: p, labelled: true, wellFormed: true})
			}
			st := runConformance(t, cases)
			t.Logf("%s: %s", corpus.name, st)
			requireAllItems(t, st)
		})
	}
}

func TestConformanceJSONFeed(t *testing.T) {
	root := shared.Path(t, "corpora", "jsonfeed")
	var cases []conformanceCase
	for _, p := range walkCorpus(t, root, ".json") {
		base := filepath.Base(p)
		if strings.HasPrefix(base, "schema") {
			continue
		}
		// The verdict is in the file name (valid-/invalid-); the schema
		// examples are valid. Schema-invalid feeds are still parseable
		// JSON, so they count as labelled but not well-formed.
		cases = append(cases, conformanceCase{
			rel: relTo(root, p), path: p, labelled: true,
			header:     http.Header{"Content-Type": {"application/feed+json"}},
			wellFormed: !strings.HasPrefix(base, "invalid"),
		})
	}
	st := runConformance(t, cases)
	t.Logf("jsonfeed: %s", st)
	requireAllItems(t, st)
}

func TestConformanceOPML(t *testing.T) {
	root := shared.Path(t, "corpora", "w3c-feedvalidator-testcases", "testcases", "opml")
	ok, failed := 0, 0
	for _, p := range walkCorpus(t, root, ".opml") {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		srcs, err := ParseOPML(bytes.NewReader(b))
		rel := relTo(root, p)
		switch {
		case err != nil:
			failed++
			if !strings.HasPrefix(err.Error(), "sources: opml: ") {
				t.Errorf("%s: unwrapped error %v", rel, err)
			}
			if strings.HasPrefix(rel, "clean/") {
				t.Errorf("%s: clean OPML rejected: %v", rel, err)
			}
		default:
			ok++
			for _, s := range srcs {
				if _, err := url.Parse(s.XMLURL); s.XMLURL == "" || err != nil {
					t.Errorf("%s: source with unusable xmlUrl %q", rel, s.XMLURL)
				}
			}
		}
	}
	t.Logf("w3c opml: %d parsed, %d errored cleanly, %d total", ok, failed, ok+failed)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
