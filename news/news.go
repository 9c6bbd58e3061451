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
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
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
//
// The ID is 24 hex digits: 8 from a hash of the source, then 16 from a hash
// of (source, key). The source prefix keeps a source's items next to each
// other in every index ordered by ID, so storing a poll's items touches a
// page or two of each such index instead of one random page per item: with
// ten thousand sources that was most of what the store wrote (see
// docs/benchmarks.md). 64 bits of key hash per source keep IDs distinct.
func ItemID(sourceID, key string) string {
	src := sha256.Sum256([]byte(sourceID))
	h := sha256.Sum256([]byte(sourceID + "\x00" + key))
	var id [12]byte
	copy(id[:4], src[:4])
	copy(id[4:], h[:8])
	return hex.EncodeToString(id[:])
}

// LegacyItemID is the ID wirewatch gave items before ItemID had a source
// prefix (store migration 10). Items stored then keep it, since it is
// public (feed GUIDs, webhook payloads), so a store that still holds such
// items looks incoming items up under it too.
func LegacyItemID(sourceID, key string) string {
	h := sha256.Sum256([]byte(sourceID + "\x00" + key))
	return hex.EncodeToString(h[:12])
}

// Topic is a story a desk follows: a query over item text, or must/should/
// not groups of query expressions, whichever reads best for the desk.
type Topic struct {
	ID    string
	Title string
	// Query is a boolean query; when empty, Must/Should/Not are used.
	Query string
	// Must lists expressions that all have to match; Should lists
	// expressions of which at least one has to match (when any are given) and
	// whose hits add to the score; Not lists expressions none of which may
	// match.
	Must, Should, Not []string
	// Exclude lists terms that veto a match wherever they occur.
	Exclude []string
	// Synonyms maps a group name, usable as a term in any expression, to its
	// variants (aliases, transliterations, translations).
	Synonyms map[string][]string
	// Weights gives terms (as written in the query) a weight other than 1.
	Weights map[string]float64
	// MinScore is the score an item needs to match (0: any match counts).
	MinScore float64
	// Sources restricts the topic to these source ids; empty means all sources.
	Sources []string
	// Report names the document the topic's terms were drawn from, so the
	// choice of terms stays traceable.
	Report string
	// Backfill is how far back stored items are matched when the topic is
	// added or changed (their matches fill the feed but are never alerted).
	Backfill time.Duration
}

// Fingerprint identifies everything that decides what the topic matches, so
// a changed topic can be detected across restarts (and backfilled).
func (t Topic) Fingerprint() string {
	def := struct {
		Query             string
		Must, Should, Not []string
		Exclude           []string
		Synonyms          map[string][]string
		Weights           map[string]float64
		MinScore          float64
		Sources           []string
	}{t.Query, t.Must, t.Should, t.Not, t.Exclude, t.Synonyms, t.Weights, t.MinScore, t.Sources}
	b, _ := json.Marshal(def) // maps marshal with sorted keys: stable
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:12])
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
	Snippet string
	// Marks are the byte ranges of Snippet that matched, in order and not
	// overlapping, for highlighting (<mark> in HTML, bold in Slack).
	Marks     []Span
	MatchedAt time.Time
	// Baseline is true for matches found on a source's first fetch: they go
	// into topic feeds but are never alerted, so adding a source does not
	// flood the desk with its backlog.
	Baseline bool
	// DuplicateOf is set when the item is a later sighting of a story this
	// topic already matched (same canonical URL or headline within the
	// dedup window): the item id of the first sighting. Such a match is not
	// alerted or listed on its own; it shows as "also reported by" on the
	// first.
	DuplicateOf string
}

// Sighting is a later report of a story by another item (usually another
// outlet): "also reported by".
type Sighting struct {
	ItemID      string
	SourceID    string
	SourceTitle string
	Title       string
	Link        string
	SeenAt      time.Time
}

// Span is a half-open byte range [Start, End) of a string.
type Span struct {
	Start, End int
}

// ValidSpans returns the spans of s usable as they are: clamped to s,
// non-empty, on rune boundaries, in order and not overlapping. Any other
// span is skipped rather than repaired: one that starts inside a rune or
// overlaps its predecessor says the text and the spans disagree (they come
// from storage and, before that, from a matcher run over third-party text),
// and guessing would highlight the wrong text. Slicing s at the result
// never panics.
func ValidSpans(s string, spans []Span) []Span {
	var out []Span
	prevEnd := 0
	for _, sp := range spans {
		start, end := max(sp.Start, 0), min(sp.End, len(s))
		if start >= end || start < prevEnd {
			continue
		}
		if !utf8.RuneStart(s[start]) || (end < len(s) && !utf8.RuneStart(s[end])) {
			continue
		}
		out = append(out, Span{Start: start, End: end})
		prevEnd = end
	}
	return out
}

// Run is a stretch of a text, inside one of its spans (Mark) or not: what
// a renderer writes highlighted, or plain.
type Run struct {
	Text string
	Mark bool
}

// SplitSpans cuts s at its valid spans (ValidSpans) into runs: the text
// before each span, the span itself (Mark), and the text after the last.
// Runs may be empty; joined, they are s. Renderers cut before they clean or
// escape, since either changes the byte offsets the spans index.
func SplitSpans(s string, spans []Span) []Run {
	var out []Run
	at := 0
	for _, sp := range ValidSpans(s, spans) {
		out = append(out, Run{Text: s[at:sp.Start]}, Run{Text: s[sp.Start:sp.End], Mark: true})
		at = sp.End
	}
	return append(out, Run{Text: s[at:]})
}

// MergeRuns drops empty runs and joins neighbours of the same kind, so two
// adjacent spans make one highlight rather than two touching ones (which
// chat markup such as "*a**b*" would not even render).
func MergeRuns(rs []Run) []Run {
	var out []Run
	for _, r := range rs {
		switch {
		case r.Text == "":
		case len(out) > 0 && out[len(out)-1].Mark == r.Mark:
			out[len(out)-1].Text += r.Text
		default:
			out = append(out, r)
		}
	}
	return out
}

// TermFields is a matched query term with the item fields it was found in
// ("title", "summary", "content", ...): the explanation feeds and alerts
// show a reader, so a match is never a bare "it matched".
type TermFields struct {
	Term   string   `json:"term"`
	Fields []string `json:"fields"`
}

// Explained pairs each matched term with the fields its hits were in, in
// the order of Terms (then any term only the hits name), fields in the
// order the hits give them, each once. Terms and fields are trimmed and
// blank ones dropped. norm, when not nil, rewrites every term and field
// before that, so a renderer's own text cleaning decides which terms are
// the same. The result and every Fields are non-nil (JSON arrays, not null).
func (m Match) Explained(norm func(string) string) []TermFields {
	if norm == nil {
		norm = func(s string) string { return s }
	}
	out := []TermFields{}
	index := map[string]int{}
	add := func(term string) int {
		term = strings.TrimSpace(norm(term))
		if term == "" {
			return -1
		}
		if i, ok := index[term]; ok {
			return i
		}
		index[term] = len(out)
		out = append(out, TermFields{Term: term, Fields: []string{}})
		return len(out) - 1
	}
	for _, t := range m.Terms {
		add(t)
	}
	for _, h := range m.Hits {
		i := add(h.Term)
		f := strings.TrimSpace(norm(h.Field))
		if i < 0 || f == "" || slices.Contains(out[i].Fields, f) {
			continue
		}
		out[i].Fields = append(out[i].Fields, f)
	}
	return out
}

// TermFieldsText is an explanation as one plain line, the form every
// plain-text rendering uses: "Uyghur* (title, summary), crimes against
// humanity (summary)". A term without fields stands alone.
func TermFieldsText(ts []TermFields) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.Term
		if len(t.Fields) > 0 {
			parts[i] += " (" + strings.Join(t.Fields, ", ") + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// Entry is what a topic feed shows: a matched item with its match and source.
type Entry struct {
	Item        Item
	Match       Match
	SourceTitle string
	// AlsoReportedBy lists later sightings of the same story, oldest first.
	AlsoReportedBy []Sighting
	// PreviousTitle is the item's title before its latest correction
	// (empty when the title never changed).
	PreviousTitle string
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
	// Template is the Go text/template of format "template".
	Template string
	// Unordered lets deliveries to this webhook overtake each other (up to
	// Concurrency at once); by default they arrive in the order they were
	// made, one at a time.
	Unordered   bool
	Concurrency int
	// Updates opts in to match.updated events (corrections, "also
	// reported by").
	Updates bool
	// SourceHealth opts in to source.health events.
	SourceHealth bool
	// Noise defers alerts on a busy day or at night instead of dropping
	// them; the zero value sends every alert at once.
	Noise Noise
}

// Noise is a webhook's noise control. Deferred alerts are held in the
// outbox and go out later as one digest message; nothing is dropped.
// Urgent matches bypass all of it.
type Noise struct {
	// RateCount and RatePer limit the webhook to RateCount alerts per
	// RatePer (sliding); the overflow is held for a digest sent once the
	// window has passed. RateCount 0: no limit.
	RateCount int
	RatePer   time.Duration
	// Digest is a cron schedule as configured ("0 8 * * *"); DigestNext
	// is its parsed form, returning the next time strictly after its
	// argument. When set, every non-urgent alert is held and the webhook
	// gets one digest at each scheduled time that has something to send.
	Digest     string
	DigestNext func(after time.Time) time.Time
	// QuietFrom and QuietTo are quiet hours as offsets from midnight in
	// Location, wrapping past midnight when QuietFrom > QuietTo; equal
	// means none. Alerts in quiet hours are held and caught up in one
	// digest when they end.
	QuietFrom, QuietTo time.Duration
	// Location is the time zone of Digest and quiet hours (nil: UTC).
	Location *time.Location
	// UrgentScore (when above 0) and UrgentTopics mark the matches that
	// bypass every limit: a score at least UrgentScore, or a topic listed.
	UrgentScore  float64
	UrgentTopics []string
}

// Active reports whether any noise control is configured.
func (n Noise) Active() bool {
	return n.RateCount > 0 || n.DigestNext != nil || n.QuietFrom != n.QuietTo
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

// WebhookState is a webhook's health, as deliveries have found it.
type WebhookState struct {
	WebhookID           string
	LastSuccess         time.Time
	LastFailure         time.Time
	LastError           string
	ConsecutiveFailures int
	// DisabledAt is set when the receiver answered 410 Gone: nothing is sent
	// to the webhook until it is enabled again (wirewatch webhooks enable).
	DisabledAt     time.Time
	DisabledReason string
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
	// DeliveryHeld is a delivery that noise control deferred (rate limit,
	// quiet hours, digest schedule): it waits to go out in a digest.
	DeliveryHeld DeliveryStatus = "held"
	// DeliveryDigested is a held delivery that went into a digest
	// (Delivery.DigestID), which is delivered in its place.
	DeliveryDigested DeliveryStatus = "digested"
)

// Why noise control held a delivery (Delivery.HoldReason).
const (
	HoldRateLimit  = "rate_limit"
	HoldQuietHours = "quiet_hours"
	HoldDigest     = "digest" // the webhook gets digests on a schedule
)

// Event types. match.created announces a new match; match.updated tells
// webhooks that opted in (updates: true) that an alerted story changed: its
// headline was corrected, or another outlet reported it too.
const (
	EventMatchCreated = "match.created"
	EventMatchUpdated = "match.updated"
	// EventDigest carries several held matches in one message.
	EventDigest = "digest"
	// EventSourceHealth reports a source that turned failed or silent, or
	// recovered, to webhooks that opted in (source_health: true).
	EventSourceHealth = "source.health"
)

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
	// Update says what changed, for match.updated deliveries.
	Update *Update
	// HeldAt and HoldReason say when and why noise control deferred the
	// delivery (Status held or digested); DigestID names the digest it
	// went out in. A digest delivery has no TopicID or ItemID.
	HeldAt     time.Time
	HoldReason string
	DigestID   string
	// Health is what a source.health delivery reports.
	Health *SourceHealth
}

// Update is what a match.updated event reports: a corrected headline, or a
// new sighting of the story by another item.
type Update struct {
	Kind          string // "corrected" or "also_reported"
	PreviousTitle string
	Title         string
	Sighting      *Sighting
}

// Update kinds.
const (
	UpdateCorrected    = "corrected"
	UpdateAlsoReported = "also_reported"
)

// UpdateDeliveryID derives the stable webhook-id of an update event: one
// per (topic, item, webhook) and change, so a replayed poll never sends the
// same update twice and two different updates never share an id.
func UpdateDeliveryID(topicID, itemID, webhookID, change string) string {
	return DeliveryID(EventMatchUpdated+"\x00"+change, topicID, itemID, webhookID)
}

// UpdateDeliveries returns the match.updated events of u for topicID's
// match of itemID: one per webhook of hooks that opted in to updates and
// wants the topic, with the ids UpdateDeliveryID gives for change.
func UpdateDeliveries(hooks []Webhook, topicID, itemID, change string, u *Update) []Delivery {
	var out []Delivery
	for _, w := range hooks {
		if w.Updates && w.Wants(topicID) {
			out = append(out, Delivery{
				ID:        UpdateDeliveryID(topicID, itemID, w.ID, change),
				WebhookID: w.ID, EventType: EventMatchUpdated, TopicID: topicID, ItemID: itemID, Update: u,
			})
		}
	}
	return out
}

// AlsoReportedChange is the change (see UpdateDeliveryID) of an "also
// reported" update by the later sighting sightingItemID. The poller and,
// when two polls raced to one story, the store both queue such updates:
// one name keeps their ids the same.
func AlsoReportedChange(sightingItemID string) string { return "also:" + sightingItemID }

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
	// Digest holds the alerts a digest delivery carries, oldest first;
	// empty for any other event.
	Digest []Alert
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
	// Failures counts consecutive failed polls (a suspected network outage
	// of wirewatch's own does not count).
	Failures int
	// ErrorReason is the last failure's reason code (dns, connect, tls,
	// timeout, http-4xx, http-5xx, too-large, parse, ssrf-blocked,
	// redirects, other); "" after a success.
	ErrorReason string
	// NextPoll is the earliest time the source may be polled again (a
	// failure's backoff, the publisher's Retry-After or asked interval);
	// zero: at its next scheduled time.
	NextPoll time.Time
	// MinInterval is the polling interval the publisher last asked for.
	MinInterval time.Duration
	// MovedTo is where a permanent redirect moved the source: fetched
	// instead of URL for as long as the configured URL stays URL.
	MovedTo string
	// Health is the health last reported for the source (a HealthOK,
	// HealthFailing, HealthFailed or HealthSilent), so a change is reported
	// once, across restarts too; "" before the first poll.
	Health string
}

// Source health states.
const (
	HealthOK      = "ok"
	HealthFailing = "failing" // failed lately, still retried on a backoff
	HealthFailed  = "failed"  // failing for long: still retried, and reported
	HealthSilent  = "silent"  // fetched fine, but no new item for far longer than usual
)

// SourceHealth is a source-health event: a source turned failed or silent,
// or recovered.
type SourceHealth struct {
	SourceID    string
	Title       string
	URL         string
	State       string // HealthFailed, HealthSilent or HealthOK (recovered)
	Previous    string // the state before
	Reason      string // failure reason code when failed
	LastError   string
	LastSuccess time.Time
	LastItem    time.Time // when its newest item was first seen
	Failures    int
	At          time.Time
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
	// PermanentURL is where the source now lives when every redirect on
	// the way was permanent (301 or 308): the caller should store it and
	// fetch it from now on. Empty when there was no redirect or any hop
	// was temporary.
	PermanentURL string
	// MinInterval is the shortest polling interval the publisher asks for
	// (RSS <ttl>, Cache-Control max-age, Expires), 0 when it asks nothing.
	// The scheduler must not poll sooner, within its configured bounds.
	MinInterval time.Duration
	// Hub and Self are the feed's WebSub links (rel="hub" and rel="self"),
	// from the HTTP Link header or the feed itself; empty when absent.
	Hub  string
	Self string
}

// PollResult is everything one poll of one source wants persisted, in one
// transaction: the source's new state, its new items, their matches, and the
// outbox rows for those matches. Nothing is alerted that is not stored first.
type PollResult struct {
	State      SourceState
	Items      []Item
	Matches    []Match
	Deliveries []Delivery
	// Corrected lists already-stored items whose title changed: the store
	// updates them (keeping the previous title) in the same transaction.
	Corrected []Item
	// Events are deliveries of no single match (source.health), stored
	// in the same transaction.
	Events []Delivery
	// Stories, when set, has the store check each first sighting among
	// Matches again as it saves them. The caller decided "first" by
	// looking the story up before saving, and another poll (of this
	// instance or another) may have saved the same story since: one story,
	// one alert holds only if the store decides under its write lock.
	Stories *StoryCheck
}

// StoryCheck is how the store checks a poll's first sightings at save
// time (PollResult.Stories).
type StoryCheck struct {
	// Since is the start of the dedup window: only first sightings matched
	// at or after it merge a later one.
	Since time.Time
	// Webhooks are the configured webhooks. A match that turns out to be
	// a later sighting gets no match.created alert; instead each webhook
	// that opted in to updates and wants its topic gets an "also reported"
	// match.updated event for the first sighting, as when the caller finds
	// the duplicate itself.
	Webhooks []Webhook
	// Merged is set by the store on success: how many of the poll's
	// first sightings it found to be later sightings after all.
	Merged int
}

// Errors callers branch on.
var (
	// ErrNotFound is returned by lookups of unknown ids.
	ErrNotFound = errors.New("not found")
)
