// Package feed renders wirewatch's per-topic feeds (RSS 2.0, Atom 1.0 and
// JSON Feed 1.1) and serves them over HTTP, with HTML pages for reporters:
// an index of every topic with its latest matches, and a page per topic.
//
// Output is a pure function of the topic, its entries and the options: no
// clock, no random ids. That is what lets the handler derive a strong ETag
// from the bytes, and lets readers that poll every few minutes get a 304
// instead of the whole feed.
//
// Every text field of an entry comes from a third-party server. Wherever a
// format interprets a field as HTML (RSS description and content:encoded,
// Atom summary and content, JSON Feed content_html) that text is escaped with
// html.EscapeString, so markup in a headline is shown, never run.
//
// gorilla/feeds builds the documents; its types stay inside this package.
// Where v1.2.0 lacks something (several categories per item, Atom self links,
// RSS isPermaLink defaults, JSON Feed's mandatory items array) the package
// wraps gorilla's exported structs rather than forking them.
//
// Every entry shows why it matched: the snippet with the matched parts
// highlighted (<mark> wherever the format carries HTML), and the matched
// terms with the fields they were found in and the score. It also shows
// what became of the story since: a corrected headline ("Updated —
// previously titled …") and the other outlets that reported it ("Also
// reported by: …"), which are not entries of their own.
//
// The handler serves only /feeds/..., /topics/... and the index at /. The
// health check (/healthz) belongs to the application, which mounts it on
// the same mux.
package feed

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/feeds"

	"wirewatch/news"
)

// Lister is what feed needs from storage: a topic's newest entries, newest first.
type Lister interface {
	TopicEntries(ctx context.Context, topicID string, limit int) ([]news.Entry, error)
}

// Options configures rendering and serving.
type Options struct {
	// BaseURL is the absolute base for self links, e.g.
	// "http://localhost:8080" (a trailing slash is trimmed). Feed readers
	// need absolute links; leaving it empty yields relative ones.
	BaseURL string
	// Title is the site title for the index page and the feeds' author,
	// default "wirewatch".
	Title string
	// Topics are the configured topics; any other topic id is a 404.
	Topics []news.Topic
	// Logger receives server-side failures, default slog.Default().
	Logger *slog.Logger
	// Now is the handler's clock, default time.Now. It only keeps
	// Last-Modified from lying about the future (RFC 9110 §8.8.2.1) when a
	// source publishes future-dated items; rendering never reads it.
	Now func() time.Time
	// Explain, when set, serves the "Why didn't I get this?" page (GET
	// /why?item=REF): a reporter pastes the link of an item they expected
	// (or its guid, or its id) and reads, per topic, why it did or did not
	// match and what was done with it. It returns that as plain text;
	// found is false when no stored item is ref, and text then says why.
	// An error is a failure to answer, logged and not shown.
	Explain func(ctx context.Context, ref string) (text string, found bool, err error)
}

// Format names accepted by Render, which are also the feed URLs' extensions.
const (
	FormatRSS  = "rss"
	FormatAtom = "atom"
	FormatJSON = "json"
)

// contentType maps a format to its media type; ok is false for unknown ones.
func contentType(format string) (ctype string, ok bool) {
	switch format {
	case FormatRSS:
		return "application/rss+xml; charset=utf-8", true
	case FormatAtom:
		return "application/atom+xml; charset=utf-8", true
	case FormatJSON:
		return "application/feed+json; charset=utf-8", true
	}
	return "", false
}

func (o Options) withDefaults() Options {
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.Title == "" {
		o.Title = "wirewatch"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// feedURL is the absolute URL of a topic's feed in a format.
func (o Options) feedURL(topicID, format string) string {
	return o.BaseURL + "/feeds/" + url.PathEscape(topicID) + "." + format
}

func (o Options) homeURL() string { return o.BaseURL + "/" }

// Render writes a topic's feed in one of "rss", "atom", "json". The same
// topic, entries and options always produce the same bytes. Entries are
// written in the order given (the Lister's, newest first).
func Render(w io.Writer, format string, topic news.Topic, entries []news.Entry, opts Options) error {
	opts = opts.withDefaults()
	var err error
	switch format {
	case FormatRSS:
		err = writeXML(w, buildRSS(topic, entries, opts))
	case FormatAtom:
		err = writeXML(w, buildAtom(topic, entries, opts))
	case FormatJSON:
		err = writeJSON(w, buildJSON(topic, entries, opts))
	default:
		return fmt.Errorf("feed: render: unknown format %q", format)
	}
	if err != nil {
		return fmt.Errorf("feed: render %s %q: %w", format, topic.ID, err)
	}
	return nil
}

func writeXML(w io.Writer, doc any) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	e := xml.NewEncoder(w)
	e.Indent("", "  ")
	if err := e.Encode(doc); err != nil {
		return err
	}
	if err := e.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func writeJSON(w io.Writer, doc any) error {
	e := json.NewEncoder(w)
	// HTML escaping stays on: "<" leaves as \u003c, so even a JSON body
	// sniffed as HTML by something careless carries no live markup.
	e.SetIndent("", "  ")
	return e.Encode(doc)
}

// epoch stands in for "no time" where a format requires a date (Atom's
// feed-level updated): fixed, so an empty feed's bytes are stable too.
var epoch = time.Unix(0, 0).UTC()

// stamp normalises a time for output: UTC, whole seconds, so that the
// bytes do not depend on the server's zone or the store's precision, and
// agree with HTTP dates, which have no fractions.
func stamp(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Second)
}

// changedAt is when an entry last changed for a subscriber: when it was
// matched, or when its item was updated, whichever is later.
func changedAt(e news.Entry) time.Time {
	t := e.Match.MatchedAt
	if e.Item.Updated.After(t) {
		t = e.Item.Updated
	}
	if t.IsZero() {
		t = e.Item.Published
	}
	return stamp(t)
}

// newest is the latest changedAt of the entries, zero when there are none.
func newest(entries []news.Entry) time.Time {
	var n time.Time
	for _, e := range entries {
		if t := changedAt(e); t.After(n) {
			n = t
		}
	}
	return n
}

// clean makes third-party text safe to put in XML 1.0: invalid UTF-8 and
// the control characters XML forbids (which encoding/xml lets through in
// CDATA sections) are dropped. JSON output is cleaned too, so the three
// formats carry the same text.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || !xmlChar(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToValidUTF8(s, "") {
		if xmlChar(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// xmlChar reports whether r is a legal XML 1.0 Char.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// itemID is an entry's stable, non-URL identity in every format.
func itemID(e news.Entry) string {
	return "urn:wirewatch:item:" + url.PathEscape(clean(e.Item.ID))
}

func topicURN(t news.Topic) string {
	return "urn:wirewatch:topic:" + url.PathEscape(clean(t.ID))
}

// itemLink is the item's own link when it is an absolute http(s) URL. Any
// other scheme (javascript:, data:) from a hostile source is replaced by a
// wirewatch URL rather than handed to a feed reader.
func itemLink(e news.Entry, opts Options) string {
	if u, err := url.Parse(e.Item.Link); err == nil && u.IsAbs() && u.Host != "" &&
		(strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")) {
		return clean(u.String())
	}
	return opts.BaseURL + "/items/" + url.PathEscape(clean(e.Item.ID))
}

func sourceName(e news.Entry) string {
	if s := strings.TrimSpace(e.SourceTitle); s != "" {
		return clean(s)
	}
	return clean(e.Item.SourceID)
}

func itemTitle(e news.Entry) string {
	if t := strings.TrimSpace(clean(e.Item.Title)); t != "" {
		return t
	}
	return "(untitled)"
}

// terms are the entry's matched terms, cleaned, without blanks.
func terms(e news.Entry) []string {
	out := make([]string, 0, len(e.Match.Terms))
	for _, t := range e.Match.Terms {
		if t = strings.TrimSpace(clean(t)); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// whyLine says why the entry is in the feed and where it came from:
// "Matched: Uyghur* (title, summary), human rights (summary) · score 3 —
// Source: Rights Wire".
func whyLine(e news.Entry) string {
	line := "Source: " + sourceName(e)
	if ts := explain(e.Match); len(ts) > 0 {
		line = "Matched: " + news.TermFieldsText(ts) + " · score " + scoreText(e.Match.Score) + " — " + line
	}
	return line
}

// plainDescription is the item's summary (else the match snippet), then
// the story's notes (a corrected headline, other outlets reporting it),
// then the why-line, as plain text: no highlighting, since the formats
// that carry it (RSS description, JSON Feed summary) have no markup to
// show it.
func plainDescription(e news.Entry) string {
	text := strings.TrimSpace(clean(e.Item.Summary))
	if text == "" {
		text = segmentsText(highlight(e.Match.Snippet, e.Match.Marks))
	}
	tail := strings.Join(append(storyNotes(e), whyLine(e)), "\n")
	if text == "" {
		return tail
	}
	return text + "\n\n" + tail
}

// contentHTML is the entry as HTML: the summary, the snippet with the
// matched parts in <mark>, the story's notes (a corrected headline, other
// outlets reporting it), the matched terms with the fields they were found
// in and the score, and the source. Every piece of it is third-party text,
// so every piece is escaped; the only markup is ours.
func contentHTML(e news.Entry) string {
	var b strings.Builder
	summary := strings.TrimSpace(clean(e.Item.Summary))
	segs := highlight(e.Match.Snippet, e.Match.Marks)
	snippet := segmentsText(segs)
	switch {
	case snippet == "":
		if summary != "" {
			b.WriteString("<p>" + html.EscapeString(summary) + "</p>\n")
		}
	case snippet == summary:
		// The snippet is the whole summary: show it once, highlighted.
		b.WriteString("<p>" + segmentsHTML(segs) + "</p>\n")
	default:
		if summary != "" {
			b.WriteString("<p>" + html.EscapeString(summary) + "</p>\n")
		}
		b.WriteString("<blockquote><p>" + segmentsHTML(segs) + "</p></blockquote>\n")
	}
	b.WriteString(storyNotesHTML(e))
	if ts := explain(e.Match); len(ts) > 0 {
		b.WriteString("<p>Matched: " + explainHTML(ts) + " · score " + scoreText(e.Match.Score) + "</p>\n")
	}
	b.WriteString("<p>Source: " + html.EscapeString(sourceName(e)) + "</p>")
	return b.String()
}

// feedTitle is the topic's title, else its id.
func feedTitle(t news.Topic) string {
	if s := strings.TrimSpace(clean(t.Title)); s != "" {
		return s
	}
	return clean(t.ID)
}

// feedDescription is the topic's query; RSS requires a non-empty one.
func feedDescription(t news.Topic) string {
	if q := strings.TrimSpace(clean(t.Query)); q != "" {
		return q
	}
	return feedTitle(t)
}

// buildFeed is the format-neutral gorilla feed for a topic. Descriptions
// are HTML (escaped plain text) because RSS and Atom readers treat them so;
// JSON Feed overrides its plain-text summary afterwards.
func buildFeed(topic news.Topic, entries []news.Entry, opts Options) *feeds.Feed {
	updated := newest(entries)
	if updated.IsZero() {
		updated = epoch
	}
	f := &feeds.Feed{
		Title:       feedTitle(topic),
		Link:        &feeds.Link{Href: opts.homeURL()},
		Description: feedDescription(topic),
		Author:      &feeds.Author{Name: clean(opts.Title)},
		Updated:     updated,
		Id:          topicURN(topic),
		Items:       make([]*feeds.Item, 0, len(entries)),
	}
	for _, e := range entries {
		created := stamp(e.Item.Published)
		if created.IsZero() {
			created = changedAt(e)
		}
		if created.IsZero() {
			created = epoch
		}
		upd := stamp(e.Item.Updated)
		if upd.IsZero() {
			upd = created
		}
		it := &feeds.Item{
			Title:       itemTitle(e),
			Link:        &feeds.Link{Href: itemLink(e, opts)},
			Description: html.EscapeString(plainDescription(e)),
			Id:          itemID(e),
			// The id is a urn, not a URL: RSS assumes a guid is a
			// permalink unless told otherwise.
			IsPermaLink: "false",
			Created:     created,
			Updated:     upd,
			Content:     contentHTML(e),
		}
		for _, a := range e.Item.Authors {
			if a = strings.TrimSpace(clean(a)); a != "" {
				it.Author = &feeds.Author{Name: a}
				break
			}
		}
		f.Items = append(f.Items, it)
	}
	return f
}
