package sources

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
)

// FeedLink is a feed found by Discover.
type FeedLink struct {
	// URL is absolute http or https.
	URL string
	// Title is the link's title attribute (or the feed's own title when
	// the page was itself a feed); often empty.
	Title string
	// Type is the media type: application/rss+xml, application/atom+xml,
	// application/feed+json, application/json or application/rdf+xml.
	Type string
}

// isFeedType reports whether a <link> type names a feed Discover reports.
func isFeedType(mediaType string) bool {
	switch mediaType {
	case "application/rss+xml", "application/atom+xml", "application/feed+json",
		"application/json", "application/rdf+xml":
		return true
	}
	return false
}

// formatType is the media type of a feed of gofeed's format name.
func formatType(format string) string {
	switch format {
	case "rss":
		return "application/rss+xml"
	case "atom":
		return "application/atom+xml"
	case "json":
		return "application/feed+json"
	}
	return ""
}

// discoverAccept prefers HTML, since Discover is given pages, but takes a
// feed too: a feed URL given to Discover is its own answer.
const discoverAccept = "text/html, application/xhtml+xml;q=0.9, application/rss+xml;q=0.8, " +
	"application/atom+xml;q=0.8, application/feed+json;q=0.8, */*;q=0.5"

// Discover finds the feeds a web page announces: its <link rel="alternate">
// elements of a feed type, made absolute (against the page's <base> or
// final URL), deduplicated, in page order, with their titles. The page is
// fetched under the same guard, deadline and size cap as feeds, and a
// failed fetch is a *FetchError.
//
// When pageURL is itself a feed, the answer is that feed alone: its URL
// (the final one when every redirect was permanent, see
// news.FetchResult.PermanentURL), its title and its type. A body that
// looks like a feed but does not parse is a *FetchError with Reason
// "parse". A page that announces no feeds yields no links and no error.
//
// Links typed application/json under /wp-json/ are skipped: WordPress
// announces its REST API that way on every page, and it is not a feed.
func (f *Fetcher) Discover(ctx context.Context, pageURL string) ([]FeedLink, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	resp, err := f.get(ctx, pageURL, http.Header{"Accept": {discoverAccept}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		drain(resp.Body)
		return nil, statusError(pageURL, resp.StatusCode)
	}
	body, err := f.readBody(resp)
	if err != nil {
		return nil, &FetchError{URL: pageURL, Reason: classify(ctx, err), Err: err}
	}
	contentType := resp.Header.Get("Content-Type")
	finalURL := resp.Request.URL

	if utf8Body := toUTF8(body, contentType); gofeed.DetectFeedType(bytes.NewReader(utf8Body)) != gofeed.FeedTypeUnknown {
		pf, err := parse(body, contentType, "", finalURL, f.now())
		if err != nil {
			return nil, &FetchError{URL: pageURL, Reason: ReasonParse, Err: err}
		}
		self := permanentURL(resp)
		if self == "" {
			self = pageURL
		}
		return []FeedLink{{URL: self, Title: pf.title, Type: formatType(pf.format)}}, nil
	}
	return feedLinks(DecodePage(body, contentType), finalURL), nil
}

// statusError is the *FetchError for a non-2xx, non-304 status.
func statusError(rawURL string, status int) *FetchError {
	fe := &FetchError{URL: rawURL, Reason: ReasonOther, Status: status}
	switch {
	case status >= 400 && status < 500:
		fe.Reason = ReasonHTTP4xx
	case status >= 500 && status < 600:
		fe.Reason = ReasonHTTP5xx
	}
	return fe
}

// feedLinks lists the feed links of an HTML page (already UTF-8). Relative
// URLs resolve against the page's first <base href>, itself resolved
// against pageURL.
func feedLinks(page []byte, pageURL *url.URL) []FeedLink {
	type rawLink struct{ href, title, typ string }
	var (
		raw     []rawLink
		base    string
		hasBase bool
	)
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if !hasAttr || (string(name) != "link" && string(name) != "base") {
			continue
		}
		attrs := map[string]string{}
		for more := true; more; {
			var k, v []byte
			k, v, more = z.TagAttr()
			if _, dup := attrs[string(k)]; !dup {
				attrs[string(k)] = string(v)
			}
		}
		if string(name) == "base" {
			if href, ok := attrs["href"]; ok && !hasBase {
				base, hasBase = href, true
			}
			continue
		}
		typ, _, _ := strings.Cut(attrs["type"], ";")
		typ = strings.ToLower(strings.TrimSpace(typ))
		if !isFeedType(typ) || !hasToken(attrs["rel"], "alternate") {
			continue
		}
		raw = append(raw, rawLink{href: attrs["href"], title: attrs["title"], typ: typ})
	}

	resolveAgainst := pageURL
	if hasBase {
		if b := resolveHTTP(pageURL, base); b != nil {
			resolveAgainst = b
		}
	}
	var out []FeedLink
	seen := map[string]bool{}
	for _, l := range raw {
		u := resolveHTTP(resolveAgainst, l.href)
		if u == nil {
			continue
		}
		if l.typ == "application/json" && strings.Contains(u.Path, "/wp-json/") {
			continue
		}
		s := u.String()
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, FeedLink{URL: s, Title: cleanLabel(l.title), Type: l.typ})
	}
	return out
}

// hasToken reports whether a space-separated attribute (rel) lists token,
// case-insensitively.
func hasToken(list, token string) bool {
	for _, t := range strings.Fields(list) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}
