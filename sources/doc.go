// Package sources fetches a source over HTTP and normalises its entries to
// news.Item. It is the only package that talks to third-party feed servers
// and the only one that knows gofeed; everything it returns is plain news
// types and visible text.
//
// Fetching is polite and defensive: conditional GET (ETag/Last-Modified),
// a User-Agent that says who we are, a whole-request deadline, a body cap
// applied after decompression (exceeding it fails rather than truncating,
// so a partial feed is never mistaken for the whole one), at most five
// redirects, and an SSRF guard (netguard) checked at connect time for the
// first request and every redirect target. Every failure is a *FetchError
// with a reason code (timeout, truncated, too-large, parse, ...).
//
// A fetch also reports what the publisher asks of pollers: the shortest
// polling interval (RSS <ttl>, Cache-Control max-age, Expires; capped at a
// day), the WebSub hub and self links (HTTP Link header, else the feed),
// and a permanent new address when every redirect was a 301 or 308.
//
// Real feeds break the rules, and parsing takes them as they come: the
// HTTP charset wins over the XML declaration, an undeclared body that is
// not UTF-8 is read as windows-1252, invalid UTF-8 is repaired, characters
// XML forbids are dropped, HTML named entities are accepted, and dates in
// the shapes publishers use (zone names, localized day and month names,
// two-digit years, comments) are read where gofeed gives up. An HTML page
// served instead of a feed is reported as such (ErrHTMLPage); Discover
// finds the feeds such a page links to.
//
// Normalisation gives each item a stable identity within its source: the
// entry's guid/id, else its canonical link (absolute, host lowercased;
// the fragment is kept because live blogs give each post its own anchor),
// else "sha256:" + the hex SHA-256 of title+"\n"+summary+"\n"+content.
// news.ItemID(sourceID, Key) is then the item's ID, so the same entry
// yields the same ID on every poll. Title, Summary and Content hold
// VisibleText: no markup, entities decoded, whitespace collapsed.
//
// ParseOPML and WriteOPML read and write subscription lists, so a desk can
// bring its sources from, and take them to, any feed reader.
package sources
