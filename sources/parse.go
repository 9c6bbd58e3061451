package sources

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

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
	feedTitle, items, err = parse(body, contentType, sourceID, nil, fetchedAt)
	if err != nil {
		return "", nil, fmt.Errorf("sources: parse: %w", err)
	}
	return feedTitle, items, nil
}

// parse is Parse with the document's own URL as a last-resort base for
// relative links. Its error is unwrapped so each caller adds its own layer.
func parse(body []byte, contentType, sourceID string, docURL *url.URL, fetchedAt time.Time) (string, []news.Item, error) {
	feed, err := parseFeed(toUTF8(body, contentType))
	if err != nil {
		return "", nil, err
	}
	if feed == nil {
		return "", nil, errors.New("parser returned no feed")
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
	return VisibleText(feed.Title), items, nil
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
	return gofeed.NewParser().Parse(bytes.NewReader(body))
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

	switch {
	case fi.PublishedParsed != nil:
		it.Published = fi.PublishedParsed.UTC()
	case fi.UpdatedParsed != nil:
		it.Published = fi.UpdatedParsed.UTC()
	default:
		it.Published = fetchedAt
	}
	if fi.UpdatedParsed != nil {
		it.Updated = fi.UpdatedParsed.UTC()
	}
	return it, true
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
