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
// first request and every redirect target.
//
// Normalisation gives each item a stable identity within its source: the
// entry's guid/id, else its canonical link (absolute, host lowercased;
// the fragment is kept because live blogs give each post its own anchor),
// else "sha256:" + the hex SHA-256 of title+"\n"+summary+"\n"+content.
// news.ItemID(sourceID, Key) is then the item's ID, so the same entry
// yields the same ID on every poll. Title, Summary and Content hold
// VisibleText: no markup, entities decoded, whitespace collapsed.
package sources
