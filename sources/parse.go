package sources

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	gofeedjson "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"

	"wirewatch/news"
)

// titleFallbackRunes is roughly how much of the summary or content stands in
// for a missing title.
const titleFallbackRunes = 80

// maxKeyBytes bounds an item key taken from the feed. Longer guids or links
// (a hostile or broken feed) are replaced by their SHA-256, which keeps the
// key stable without storing megabytes of identity.
const maxKeyBytes = 1024

// Parse parses an RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed document and
// normalises its entries to news.Item (see the package documentation for
// the rules). contentType is the HTTP Content-Type, or "" when unknown; its
// charset, when present, decides how the body is decoded. Relative links are
// resolved against the feed's own link; Fetch additionally resolves against
// the URL the body was fetched from.
//
// A body that is not a feed, or not well-formed enough for the parser,
// yields an error; a well-formed feed with no usable entries yields no items
// and no error.
func Parse(body []byte, contentType, sourceID string, fetchedAt time.Time) (feedTitle string, items []news.Item, err error) {
	pf, err := parse(body, contentType, sourceID, nil, fetchedAt)
	if err != nil {
		return "", nil, fmt.Errorf("sources: parse: %w", err)
	}
	return pf.title, pf.items, nil
}

// ErrHTMLPage is wrapped by the parse error for a body that is an HTML page
// rather than a feed: a site's home page given as a source, or an error or
// login page served with status 200. Discover finds the feeds such a page
// links to.
var ErrHTMLPage = errors.New("got an HTML page, not a feed")

// parsedFeed is what the parse path yields: the feed's title and items,
// and what the feed says about itself for polling.
type parsedFeed struct {
	title string
	items []news.Item
	// format is "rss", "atom" or "json".
	format string
	// ttl is the RSS <ttl>, 0 when absent.
	ttl time.Duration
	// hub and self are the feed's own WebSub links, absolute http(s) or "".
	hub, self string
}

// parse is Parse with the document's own URL as a last-resort base for
// relative links. Its error is unwrapped so each caller adds its own layer.
func parse(body []byte, contentType, sourceID string, docURL *url.URL, fetchedAt time.Time) (parsedFeed, error) {
	utf8Body := toUTF8(body, contentType)
	feed, err := parseFeed(utf8Body)
	if err != nil {
		if looksLikeHTML(utf8Body, contentType) {
			return parsedFeed{}, ErrHTMLPage
		}
		return parsedFeed{}, err
	}
	if feed == nil {
		return parsedFeed{}, errors.New("parser returned no feed")
	}

	// Relative item links resolve against the feed's link (itself resolved
	// against the document's URL), else against the document's URL.
	base := docURL
	if l := resolveHTTP(docURL, feed.Link); l != nil {
		base = l
	}

	fetchedAt = fetchedAt.UTC()
	seen := make(map[string]bool, len(feed.Items))
	items := make([]news.Item, 0, len(feed.Items))
	for _, fi := range feed.Items {
		if fi == nil {
			continue
		}
		it, ok := normalise(fi, sourceID, base, fetchedAt)
		if !ok || seen[it.Key] {
			continue
		}
		seen[it.Key] = true
		items = append(items, it)
	}
	if len(items) == 0 {
		items = nil
	}
	pf := parsedFeed{title: VisibleText(feed.Title), items: items, format: feed.FeedType}
	pf.ttl, pf.hub, pf.self = feedPolling(feed, utf8Body, docURL)
	return pf, nil
}

// feedPolling reads what a feed says about how to poll it: the RSS <ttl>,
// and its WebSub hub and self links (atom:link in RSS, link in Atom, hubs
// and feed_url in JSON Feed), resolved against the document's URL.
func feedPolling(feed *gofeed.Feed, body []byte, docURL *url.URL) (ttl time.Duration, hub, self string) {
	switch orig := feed.OriginalFeed().(type) {
	case *rss.Feed:
		ttl = ttlMinutes(orig.TTL)
		for _, l := range orig.Extensions["atom"]["link"] {
			hub, self = pickRel(docURL, l.Attrs["rel"], l.Attrs["href"], hub, self)
		}
	case *atom.Feed:
		for _, l := range orig.Links {
			if l != nil {
				hub, self = pickRel(docURL, l.Rel, l.Href, hub, self)
			}
		}
	case *gofeedjson.Feed:
		// gofeed does not read JSON Feed's hubs.
		var jf struct {
			FeedURL string `json:"feed_url"`
			Hubs    []struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"hubs"`
		}
		if json.Unmarshal(body, &jf) == nil {
			self = resolveLink(docURL, jf.FeedURL)
			for _, h := range jf.Hubs {
				if hub == "" && (h.Type == "" || strings.EqualFold(h.Type, "WebSub") || strings.EqualFold(h.Type, "PubSubHubbub")) {
					hub = resolveLink(docURL, h.URL)
				}
			}
		}
	}
	return ttl, hub, self
}

// pickRel keeps the first usable hub and self link: rel may list several
// relations ("self hub" is legal).
func pickRel(base *url.URL, rel, href, hub, self string) (string, string) {
	for _, r := range strings.Fields(strings.ToLower(rel)) {
		switch {
		case r == "hub" && hub == "":
			hub = resolveLink(base, href)
		case r == "self" && self == "":
			self = resolveLink(base, href)
		}
	}
	return hub, self
}

// looksLikeHTML reports whether a body that failed to parse as a feed is an
// HTML page: it says so in its Content-Type, or starts (after a BOM,
// whitespace and comments) with a doctype or a tag no feed starts with
// (<html>, <head>, <body>, ...: error pages often skip the first two).
func looksLikeHTML(body []byte, contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "text/html" || mt == "application/xhtml+xml" {
		return true
	}
	b := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	for range 8 { // a few leading comments, not an unbounded scan
		b = bytes.TrimLeft(b, " \t\r\n")
		if !bytes.HasPrefix(b, []byte("<!--")) {
			break
		}
		end := bytes.Index(b, []byte("-->"))
		if end < 0 {
			return false
		}
		b = b[end+3:]
	}
	head := bytes.ToLower(b[:min(len(b), 64)])
	for _, prefix := range []string{"<!doctype html", "<html", "<head", "<body", "<meta", "<script", "<style", "<div", "<p>", "<h1"} {
		if bytes.HasPrefix(head, []byte(prefix)) {
			return true
		}
	}
	return false
}

// parseFeed runs gofeed on an already-UTF-8 body. gofeed is third-party code
// fed untrusted bytes, so a panic in it is turned into a parse error rather
// than taking the poller down.
func parseFeed(body []byte) (feed *gofeed.Feed, err error) {
	defer func() {
		if r := recover(); r != nil {
			feed, err = nil, fmt.Errorf("feed parser panicked: %v", r)
		}
	}()
	p := gofeed.NewParser()
	p.KeepOriginalFeed = true // for <ttl> and WebSub links, see feedPolling
	// wirewatch never uses an item's image; finding one in its HTML is a
	// full HTML parse per item, a quarter of all parsing allocation.
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	return p.Parse(bytes.NewReader(body))
}

// normalise turns one gofeed item into a news.Item. ok is false for items
// with nothing to show: no title, no link and no text.
func normalise(fi *gofeed.Item, sourceID string, base *url.URL, fetchedAt time.Time) (news.Item, bool) {
	it := news.Item{
		SourceID:  sourceID,
		Summary:   VisibleText(fi.Description),
		Content:   VisibleText(fi.Content),
		FetchedAt: fetchedAt,
	}
	title := VisibleText(fi.Title)

	// The guid is only trimmed (and repaired): identity should depend on as
	// little of our own processing as possible, so it survives changes to it.
	guid := strings.TrimSpace(strings.ToValidUTF8(fi.GUID, "\uFFFD"))
	link := itemLink(fi, guid, base)
	if link != nil {
		it.Link = link.String()
	}

	if title == "" && it.Link == "" && it.Summary == "" && it.Content == "" {
		return news.Item{}, false
	}

	switch {
	case guid != "":
		it.Key = boundKey(guid)
	case link != nil:
		// The fragment stays part of the identity: live blogs publish one
		// page with an anchor per post (page#post-1, page#post-2).
		it.Key = boundKey(link.String())
	default:
		sum := sha256.Sum256([]byte(title + "\n" + it.Summary + "\n" + it.Content))
		it.Key = "sha256:" + hex.EncodeToString(sum[:])
	}
	it.ID = news.ItemID(sourceID, it.Key)

	it.Title = title
	if it.Title == "" {
		text := it.Summary
		if text == "" {
			text = it.Content
		}
		it.Title = truncateWords(text, titleFallbackRunes)
	}

	it.Authors = authorNames(fi)
	it.Categories = uniqueLabels(fi.Categories)

	published, hasPublished := itemDate(fi.Published, fi.PublishedParsed)
	updated, hasUpdated := itemDate(fi.Updated, fi.UpdatedParsed)
	switch {
	case hasPublished:
		it.Published = published.UTC()
	case hasUpdated:
		it.Published = updated.UTC()
	default:
		it.Published = fetchedAt
	}
	if hasUpdated {
		it.Updated = updated.UTC()
	}
	return it, true
}

// itemDate picks an item date: our own reading when the date ends in a zone
// name we know (gofeed reads names outside its short list as UTC), else
// gofeed's, else our fallback layouts (localized names and the like).
func itemDate(raw string, parsed *time.Time) (time.Time, bool) {
	if hasNamedZone(raw) {
		if t, ok := parseDate(raw); ok {
			return t, true
		}
	}
	if parsed != nil && !parsed.IsZero() {
		return *parsed, true
	}
	if raw == "" {
		return time.Time{}, false
	}
	return parseDate(raw)
}

// itemLink picks the item's web link: its link, else its first listed link
// (an Atom <link> without rel is an alternate link, which gofeed lists but
// does not promote), else a guid that is itself an http(s) URL (RSS guids
// are permalinks unless marked otherwise). Only absolute http and https
// URLs are kept.
func itemLink(fi *gofeed.Item, guid string, base *url.URL) *url.URL {
	candidates := make([]string, 0, 2+len(fi.Links))
	candidates = append(candidates, fi.Link)
	candidates = append(candidates, fi.Links...)
	for _, c := range candidates {
		if u := resolveHTTP(base, c); u != nil {
			return u
		}
	}
	if u, err := url.Parse(guid); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return canonicalHost(u)
	}
	return nil
}

// resolveHTTP resolves ref against base (which may be nil) and returns the
// result if it is an absolute http or https URL with a host, else nil.
func resolveHTTP(base *url.URL, ref string) *url.URL {
	ref = strings.TrimSpace(strings.ToValidUTF8(ref, ""))
	if ref == "" {
		return nil
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	return canonicalHost(u)
}

// canonicalHost lower-cases the host, which is case-insensitive, so the same
// link spelled two ways is one identity.
func canonicalHost(u *url.URL) *url.URL {
	c := *u
	c.Host = strings.ToLower(c.Host)
	c.User = nil // credentials in a feed link are never wanted downstream
	return &c
}

// boundKey keeps keys to a storable size; see maxKeyBytes.
func boundKey(k string) string {
	if len(k) <= maxKeyBytes {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// authorNames lists the item's author names (the e-mail address when a
// person has no name), without duplicates.
func authorNames(fi *gofeed.Item) []string {
	var names []string
	people := fi.Authors
	if len(people) == 0 && fi.Author != nil {
		people = []*gofeed.Person{fi.Author}
	}
	for _, p := range people {
		if p == nil {
			continue
		}
		n := p.Name
		if strings.TrimSpace(n) == "" {
			n = p.Email
		}
		names = append(names, n)
	}
	return uniqueLabels(names)
}

// uniqueLabels cleans labels and drops empty and repeated ones, keeping the
// first spelling and order.
func uniqueLabels(in []string) []string {
	var out []string
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		s = cleanLabel(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}
