package feed

import (
	"encoding/xml"
	"math"
	"strings"
	"time"

	"github.com/gorilla/feeds"

	"wirewatch/news"
)

// The wrappers below embed gorilla/feeds v1.2.0's exported structs and add
// what it cannot express. A field declared on a wrapper shadows the embedded
// field of the same XML/JSON name (encoding/xml and encoding/json both follow
// Go's shallower-wins rule), which is how single-string Category fields become
// lists and single links become several.

// rssDocument is <rss> with the namespaces its channel uses declared:
// content (content:encoded), atom (the self link) and dc (dc:creator).
type rssDocument struct {
	XMLName   xml.Name `xml:"rss"`
	Version   string   `xml:"version,attr"`
	ContentNS string   `xml:"xmlns:content,attr"`
	AtomNS    string   `xml:"xmlns:atom,attr"`
	DCNS      string   `xml:"xmlns:dc,attr"`
	Channel   *rssChannel
}

type rssChannel struct {
	XMLName xml.Name `xml:"channel"`
	*feeds.RssFeed
	// AtomLink is the channel's self link (RSS Best Practices: atom:link
	// rel="self"), so readers and validators know the feed's own URL.
	AtomLink *rssAtomLink
	Items    []*rssItem `xml:"item"`
}

type rssAtomLink struct {
	XMLName xml.Name `xml:"atom:link"`
	Href    string   `xml:"href,attr"`
	Rel     string   `xml:"rel,attr"`
	Type    string   `xml:"type,attr"`
}

type rssItem struct {
	XMLName xml.Name `xml:"item"`
	*feeds.RssItem
	// Categories replaces gorilla's single Category string: one
	// <category> per matched term.
	Categories []string `xml:"category"`
	// Creator carries the author's name: RSS's <author> must be an email
	// address, which sources rarely give, so names go in dc:creator as
	// most feeds do.
	Creator string `xml:"dc:creator,omitempty"`
}

// buildRSS builds the RSS 2.0 document for a topic.
func buildRSS(topic news.Topic, entries []news.Entry, opts Options) *rssDocument {
	f := buildFeed(topic, entries, opts)
	ch := (&feeds.Rss{Feed: f}).RssFeed()
	// gorilla formats the feed author as "email (name)"; with no email
	// that is " (wirewatch)", and managingEditor wants an email anyway.
	ch.ManagingEditor = ""
	ch.Generator = "wirewatch"
	items := ch.Items
	ch.Items = nil
	out := &rssChannel{
		RssFeed: ch,
		AtomLink: &rssAtomLink{
			Href: opts.feedURL(topic.ID, FormatRSS),
			Rel:  "self",
			Type: "application/rss+xml",
		},
		Items: make([]*rssItem, len(items)),
	}
	for i, it := range items {
		creator := it.Author
		it.Author = ""
		out.Items[i] = &rssItem{RssItem: it, Categories: terms(entries[i]), Creator: creator}
	}
	return &rssDocument{
		Version:   "2.0",
		ContentNS: "http://purl.org/rss/1.0/modules/content/",
		AtomNS:    "http://www.w3.org/2005/Atom",
		DCNS:      "http://purl.org/dc/elements/1.1/",
		Channel:   out,
	}
}

type atomFeed struct {
	XMLName xml.Name `xml:"feed"`
	*feeds.AtomFeed
	// Links replaces gorilla's single link: rel=self (the feed) and
	// rel=alternate (the HTML index).
	Links   []feeds.AtomLink `xml:"link"`
	Entries []*atomEntry     `xml:"entry"`
}

type atomEntry struct {
	XMLName xml.Name `xml:"entry"`
	*feeds.AtomEntry
	// Categories replaces gorilla's Category string, which would emit
	// <category>text</category>; Atom wants <category term="..."/>.
	Categories []atomCategory `xml:"category"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

// buildAtom builds the Atom 1.0 document for a topic.
func buildAtom(topic news.Topic, entries []news.Entry, opts Options) *atomFeed {
	f := buildFeed(topic, entries, opts)
	af := (&feeds.Atom{Feed: f}).AtomFeed()
	// gorilla uses the link as the feed id; ours is a stable urn that
	// survives a change of BaseURL.
	af.Id = f.Id
	af.Link = nil
	src := af.Entries
	af.Entries = nil
	out := &atomFeed{
		AtomFeed: af,
		Links: []feeds.AtomLink{
			{Href: opts.feedURL(topic.ID, FormatAtom), Rel: "self", Type: "application/atom+xml"},
			{Href: opts.homeURL(), Rel: "alternate", Type: "text/html"},
		},
		Entries: make([]*atomEntry, len(src)),
	}
	for i, e := range src {
		// gorilla never fills <published>.
		e.Published = f.Items[i].Created.Format(time.RFC3339)
		ts := terms(entries[i])
		cats := make([]atomCategory, len(ts))
		for j, t := range ts {
			cats[j] = atomCategory{Term: t}
		}
		out.Entries[i] = &atomEntry{AtomEntry: e, Categories: cats}
	}
	return out
}

type jsonFeed struct {
	*feeds.JSONFeed
	// Items is never omitted: JSON Feed requires the array, even empty.
	Items []*jsonItem `json:"items"`
}

type jsonItem struct {
	*feeds.JSONItem
	Wirewatch *jsonExtension `json:"_wirewatch,omitempty"`
}

// jsonExtension is the JSON Feed extension object (keys starting with "_"
// are reserved for publishers) carrying why an item is in the topic.
type jsonExtension struct {
	TopicID      string   `json:"topic_id"`
	ItemID       string   `json:"item_id"`
	SourceID     string   `json:"source_id"`
	SourceTitle  string   `json:"source_title,omitempty"`
	MatchedTerms []string `json:"matched_terms"`
	// Matched pairs each term with the item fields it was found in.
	Matched   []news.TermFields `json:"matched"`
	MatchedAt time.Time         `json:"matched_at,omitzero"`
	Score     float64           `json:"score"`
	// Snippet is the match's excerpt as plain text, and Marks the byte
	// ranges [start, end) of it that matched, so a reader can highlight
	// it without parsing content_html.
	Snippet string   `json:"snippet,omitempty"`
	Marks   [][2]int `json:"marks,omitempty"`
	// PreviousTitle is the headline before its latest correction.
	PreviousTitle string `json:"previous_title,omitempty"`
	// AlsoReportedBy lists later sightings of the story, oldest first.
	AlsoReportedBy []jsonSighting `json:"also_reported_by,omitempty"`
}

// buildJSON builds the JSON Feed 1.1 document for a topic.
func buildJSON(topic news.Topic, entries []news.Entry, opts Options) *jsonFeed {
	f := buildFeed(topic, entries, opts)
	jf := (&feeds.JSON{Feed: f}).JSONFeed()
	jf.FeedUrl = opts.feedURL(topic.ID, FormatJSON)
	jf.HomePageUrl = opts.homeURL()
	src := jf.Items
	jf.Items = nil
	out := &jsonFeed{JSONFeed: jf, Items: make([]*jsonItem, len(src))}
	for i, it := range src {
		e := entries[i]
		// JSON Feed's summary is plain text, unlike RSS/Atom descriptions.
		it.Summary = plainDescription(e)
		it.Tags = terms(e)
		snippet, marks := segmentsMarks(highlight(e.Match.Snippet, e.Match.Marks))
		if len(marks) == 0 {
			marks = nil
		}
		out.Items[i] = &jsonItem{
			JSONItem: it,
			Wirewatch: &jsonExtension{
				TopicID:        clean(topic.ID),
				ItemID:         clean(e.Item.ID),
				SourceID:       clean(e.Item.SourceID),
				SourceTitle:    strings.TrimSpace(clean(e.SourceTitle)),
				MatchedTerms:   terms(e),
				Matched:        explain(e.Match),
				MatchedAt:      stamp(e.Match.MatchedAt),
				Score:          finite(e.Match.Score),
				Snippet:        snippet,
				Marks:          marks,
				PreviousTitle:  previousTitle(e),
				AlsoReportedBy: jsonSightings(e),
			},
		}
	}
	return out
}

// finite maps NaN and ±Inf, which JSON cannot encode, to 0 so one bad score
// cannot take a whole feed down.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}
