// Package news holds wirewatch's domain types: the sources a desk watches, the
// items they publish, the topics a desk follows, the matches between them and
// the webhook deliveries that announce those matches.
//
// It imports only the standard library so that every other package can share
// these types without pulling in each other's dependencies: sources, match,
// feed, alert and store all speak news, never each other's types.
package news

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Source is one place wirewatch polls (an RSS, Atom or JSON feed URL).
type Source struct {
	ID  string
	URL string
	// Title is an optional human name; the feed's own title is used when empty.
	Title string
}

// Item is one entry of a source, normalised: every text field holds visible
// text (HTML stripped, entities decoded), so matching and rendering never see
// markup from a third-party server.
type Item struct {
	// ID is wirewatch's stable identity for the item: ItemID(SourceID, Key).
	ID       string
	SourceID string
	// Key is the item's identity within its source: the feed's guid, else its
	// canonical link, else a hash of its content.
	Key        string
	Title      string
	Link       string
	Summary    string
	Content    string
	Authors    []string
	Categories []string
	// Published is the publisher's date, or FetchedAt when the feed gives none.
	Published time.Time
	Updated   time.Time
	FetchedAt time.Time
}

// ItemID derives an item's stable identity from its source and its key within
// that source. The same (source, key) always yields the same ID, across
// restarts and machines, which is what makes "processed once" checkable.
func ItemID(sourceID, key string) string {
	h := sha256.Sum256([]byte(sourceID + "\x00" + key))
	return hex.EncodeToString(h[:12])
}

// Topic is a story a desk follows: a query over item text.
type Topic struct {
	ID    string
	Title string
	Query string
	// Sources restricts the topic to these source ids; empty means all sources.
	Sources []string
}

// AppliesTo reports whether the topic watches the given source.
func (t Topic) AppliesTo(sourceID string) bool {
	if len(t.Sources) == 0 {
		return true
	}
	for _, s := range t.Sources {
		if s == sourceID {
			return true
		}
	}
	return false
}

// Hit is one query term that matched, and where.
type Hit struct {
	// Term is the query term as the user wrote it ("Uyghur*", "human rights").
	Term string
	// Field is where it matched: "title", "summary", "content", ...
	Field string
	// Text is the matched text as it appears in the item ("Uyghurs").
	Text string
}

// Match records that an item satisfied a topic's query, and why.
type Match struct {
	TopicID string
	ItemID  string
	// Terms lists the distinct query terms that matched, in query order.
	Terms []string
	Hits  []Hit
	Score float64
	// Snippet is a short plain-text excerpt around the strongest hit.
	Snippet   string
	MatchedAt time.Time
	// Baseline is true for matches found on a source's first fetch: they go
	// into topic feeds but are never alerted, so adding a source does not
	// flood the desk with its backlog.
	Baseline bool
}

// Entry is what a topic feed shows: a matched item with its match and source.
type Entry struct {
	Item        Item
	Match       Match
	SourceTitle string
}

// Webhook is one alert receiver.
type Webhook struct {
	ID     string
	URL    string
	Format string // json | slack | discord
	// Secrets sign every request (Standard Webhooks, whsec_ base64). More than
	// one signs side by side during a rotation window.
	Secrets []string
	// Topics restricts the webhook to these topic ids; empty means all.
	Topics []string
	// Retry lists the waits between attempts; its length+1 is the attempt cap.
	Retry   []time.Duration
	Timeout time.Duration
}

// Wants reports whether the webhook subscribes to the topic.
func (w Webhook) Wants(topicID string) bool {
	if len(w.Topics) == 0 {
		return true
	}
	for _, t := range w.Topics {
		if t == topicID {
			return true
		}
	}
	return false
}

// DefaultRetry is the Standard Webhooks / Svix retry schedule.
var DefaultRetry = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// DeliveryStatus is where a delivery stands in the outbox.
type DeliveryStatus string

// Delivery states. Pending rows are retried until delivered or dead; a dead
// delivery is kept (dead-lettered), never silently dropped.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed" // permanent 4xx: not retried
	DeliveryDead      DeliveryStatus = "dead"   // retries exhausted
)

// EventMatchCreated is the event type of a new match alert.
const EventMatchCreated = "match.created"

// Delivery is one outbox row: one event for one webhook.
type Delivery struct {
	// ID is the Standard Webhooks webhook-id, stable per (event, webhook) so
	// a receiver that drops repeated ids sees each alert once.
	ID          string
	WebhookID   string
	EventType   string
	TopicID     string
	ItemID      string
	Status      DeliveryStatus
	Attempts    int
	NextAttempt time.Time
	LastError   string
	CreatedAt   time.Time
	DeliveredAt time.Time
}

// DeliveryID derives the stable webhook-id of a match alert for a webhook.
func DeliveryID(eventType, topicID, itemID, webhookID string) string {
	h := sha256.Sum256([]byte(eventType + "\x00" + topicID + "\x00" + itemID + "\x00" + webhookID))
	return "msg_" + hex.EncodeToString(h[:16])
}

// Alert is a claimed delivery with everything needed to render its payload.
type Alert struct {
	Delivery Delivery
	Topic    Topic
	Entry    Entry
}

// SourceState is what wirewatch remembers about a source between polls.
type SourceState struct {
	SourceID     string
	URL          string
	Title        string
	ETag         string
	LastModified string
	// Baselined is set after the first successful fetch; until then matches
	// are recorded without alerts.
	Baselined   bool
	LastPoll    time.Time
	LastSuccess time.Time
	LastError   string
	// Failures counts consecutive failed polls.
	Failures int
}

// FetchRequest asks for a source's current items, conditionally.
type FetchRequest struct {
	SourceID     string
	URL          string
	ETag         string
	LastModified string
}

// FetchResult is a fetched and parsed source.
type FetchResult struct {
	// NotModified is true when the server answered 304: Items is empty.
	NotModified  bool
	StatusCode   int
	ETag         string
	LastModified string
	FeedTitle    string
	Items        []Item
}

// PollResult is everything one poll of one source wants persisted, in one
// transaction: the source's new state, its new items, their matches, and the
// outbox rows for those matches. Nothing is alerted that is not stored first.
type PollResult struct {
	State      SourceState
	Items      []Item
	Matches    []Match
	Deliveries []Delivery
}

// Errors callers branch on.
var (
	// ErrNotFound is returned by lookups of unknown ids.
	ErrNotFound = errors.New("not found")
)
