// Package store persists wirewatch's state: what is remembered about each
// source, the items seen, the matches found, the webhook outbox, poll
// leases and WebSub subscriptions.
//
// One type, Store, runs on SQLite (modernc.org/sqlite, the default: a file)
// or PostgreSQL (pgx through database/sql, for several instances sharing a
// database); Open picks the engine from the DSN. One contract test suite
// runs against both. The SQL is shared: positional parameters are $1, $2,
// ... (which both drivers understand), upserts use INSERT ... ON CONFLICT,
// NULL ordering is spelled out (NULLS FIRST/LAST), and text columns compare
// by bytes in both. What differs lives in a few places: the DSN, pragmas
// and pool (sqlite.go, postgres.go), the DDL (migrations.go,
// migrations_postgres.go), and how concurrent writers are kept apart
// (db.go): SQLite writes one transaction at a time; PostgreSQL writers run
// side by side, kept apart by row locks, conditional updates, SKIP LOCKED
// claims and advisory locks, and retried when the server aborts them
// (deadlock, lost connection).
//
// Encoding rules, shared by every backend:
//   - times are stored as INTEGER unix milliseconds in UTC, so they sort
//     correctly and mean the same in every SQL dialect; the zero time is
//     stored as NULL. A round trip therefore keeps the instant at millisecond
//     precision and returns it in UTC.
//   - string lists (authors, categories, terms), hits and marks are stored as
//     JSON text; a nil slice is stored as NULL so that nil and empty survive a
//     round trip as themselves.
//   - a NaN score is stored as NULL (SQLite cannot store NaN) and read back
//     as NaN.
//   - text is stored as valid UTF-8 without NUL: every other byte sequence
//     and every NUL becomes U+FFFD (PostgreSQL refuses both), and a
//     snippet's marks move with its text (see text.go).
package store

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"wirewatch/news"
)

// DeliveryFilter selects outbox rows for operators. Empty fields match
// everything; Limit <= 0 means 100, and limits above 10000 are clamped.
type DeliveryFilter struct {
	WebhookID string
	Status    news.DeliveryStatus
	TopicID   string
	// ItemID selects the rows about one item. With TopicID too (one
	// match's rows) the outbox's (topic, item) index serves it; alone it
	// reads the whole outbox.
	ItemID string
	// Since selects rows created at or after it.
	Since time.Time
	Limit int
}

// Default and maximum page sizes. A caller-supplied limit is clamped to the
// maximum so that one request cannot make the store materialise every row.
const (
	defaultDeliveryLimit = 100
	defaultEntryLimit    = 50
	maxLimit             = 10000
)

func clampLimit(limit, def int) int {
	if limit <= 0 {
		return def
	}
	if limit > maxLimit {
		return maxLimit
	}
	return limit
}

// msOf encodes a time as unix milliseconds; the zero time becomes NULL.
func msOf(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// timeOf decodes what msOf encoded.
func timeOf(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

func scoreOf(f float64) sql.NullFloat64 {
	if math.IsNaN(f) {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: f, Valid: true}
}

func scoreFrom(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

func encodeStrings(v []string) (sql.NullString, error) {
	if v == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeStrings(v sql.NullString) ([]string, error) {
	if !v.Valid {
		return nil, nil
	}
	out := []string{}
	if err := json.Unmarshal([]byte(v.String), &out); err != nil {
		return nil, fmt.Errorf("decode string list: %w", err)
	}
	return out, nil
}

// hitJSON is the stored shape of a news.Hit. It has its own tags so that a
// rename in news never silently changes what is on disk.
type hitJSON struct {
	Term  string `json:"term"`
	Field string `json:"field"`
	Text  string `json:"text"`
}

func encodeHits(hits []news.Hit) (sql.NullString, error) {
	if hits == nil {
		return sql.NullString{}, nil
	}
	out := make([]hitJSON, len(hits))
	for i, h := range hits {
		out[i] = hitJSON(h)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeHits(v sql.NullString) ([]news.Hit, error) {
	if !v.Valid {
		return nil, nil
	}
	var in []hitJSON
	if err := json.Unmarshal([]byte(v.String), &in); err != nil {
		return nil, fmt.Errorf("decode hits: %w", err)
	}
	out := make([]news.Hit, len(in))
	for i, h := range in {
		out[i] = news.Hit(h)
	}
	return out, nil
}

// spanJSON is the stored shape of a news.Span (see hitJSON for why).
type spanJSON struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

func encodeSpans(spans []news.Span) (sql.NullString, error) {
	if spans == nil {
		return sql.NullString{}, nil
	}
	out := make([]spanJSON, len(spans))
	for i, sp := range spans {
		out[i] = spanJSON(sp)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeSpans(v sql.NullString) ([]news.Span, error) {
	if !v.Valid {
		return nil, nil
	}
	var in []spanJSON
	if err := json.Unmarshal([]byte(v.String), &in); err != nil {
		return nil, fmt.Errorf("decode marks: %w", err)
	}
	out := make([]news.Span, len(in))
	for i, sp := range in {
		out[i] = news.Span(sp)
	}
	return out, nil
}

// matchJSON holds a match's JSON-encoded columns, ready to bind.
type matchJSON struct {
	terms, hits, marks sql.NullString
	// snippet is the cleaned snippet (see cleanSnippet); marks are moved
	// with it.
	snippet string
}

func encodeMatch(m news.Match) (matchJSON, error) {
	var (
		enc matchJSON
		err error
	)
	if enc.terms, err = encodeStrings(m.Terms); err != nil {
		return matchJSON{}, fmt.Errorf("match %q/%q terms: %w", m.TopicID, m.ItemID, err)
	}
	if enc.hits, err = encodeHits(m.Hits); err != nil {
		return matchJSON{}, fmt.Errorf("match %q/%q hits: %w", m.TopicID, m.ItemID, err)
	}
	var marks []news.Span
	enc.snippet, marks = cleanSnippet(m.Snippet, m.Marks)
	if enc.marks, err = encodeSpans(marks); err != nil {
		return matchJSON{}, fmt.Errorf("match %q/%q marks: %w", m.TopicID, m.ItemID, err)
	}
	return enc, nil
}

// itemColumns and itemRow read an item selected with the alias i.
const itemColumns = `i.id, i.source_id, i.item_key, i.title, i.link, i.summary, i.content,
	i.authors, i.categories, i.published, i.updated, i.fetched_at`

type itemRow struct {
	it                          news.Item
	authors, categories         sql.NullString
	published, updated, fetched sql.NullInt64
}

func (r *itemRow) dest() []any {
	return []any{&r.it.ID, &r.it.SourceID, &r.it.Key, &r.it.Title, &r.it.Link, &r.it.Summary,
		&r.it.Content, &r.authors, &r.categories, &r.published, &r.updated, &r.fetched}
}

func (r *itemRow) item() (news.Item, error) {
	it := r.it
	var err error
	if it.Authors, err = decodeStrings(r.authors); err != nil {
		return news.Item{}, fmt.Errorf("item %q authors: %w", it.ID, err)
	}
	if it.Categories, err = decodeStrings(r.categories); err != nil {
		return news.Item{}, fmt.Errorf("item %q categories: %w", it.ID, err)
	}
	it.Published, it.Updated, it.FetchedAt = timeOf(r.published), timeOf(r.updated), timeOf(r.fetched)
	return it, nil
}

// matchColumns and matchRow read a match selected with the alias m.
const matchColumns = `m.topic_id, m.item_id, m.terms, m.hits, m.score, m.snippet, m.marks, m.matched_at, m.baseline,
	m.duplicate_of`

type matchRow struct {
	m           news.Match
	terms       sql.NullString
	hits        sql.NullString
	score       sql.NullFloat64
	marks       sql.NullString
	matchedAt   sql.NullInt64
	isBaseline  bool
	duplicateOf sql.NullString
}

func (r *matchRow) dest() []any {
	return []any{&r.m.TopicID, &r.m.ItemID, &r.terms, &r.hits, &r.score, &r.m.Snippet,
		&r.marks, &r.matchedAt, &r.isBaseline, &r.duplicateOf}
}

func (r *matchRow) match() (news.Match, error) {
	m := r.m
	var err error
	if m.Terms, err = decodeStrings(r.terms); err != nil {
		return news.Match{}, fmt.Errorf("match %q/%q terms: %w", m.TopicID, m.ItemID, err)
	}
	if m.Hits, err = decodeHits(r.hits); err != nil {
		return news.Match{}, fmt.Errorf("match %q/%q: %w", m.TopicID, m.ItemID, err)
	}
	if m.Marks, err = decodeSpans(r.marks); err != nil {
		return news.Match{}, fmt.Errorf("match %q/%q: %w", m.TopicID, m.ItemID, err)
	}
	m.Score = scoreFrom(r.score)
	m.MatchedAt = timeOf(r.matchedAt)
	m.Baseline = r.isBaseline
	m.DuplicateOf = r.duplicateOf.String
	return m, nil
}

// deliveryColumns and deliveryRow read a delivery selected with the alias d.
// A digest row has no topic or item (NULL), read as "".
const deliveryColumns = `d.id, d.webhook_id, d.event_type, COALESCE(d.topic_id, ''), COALESCE(d.item_id, ''), d.status,
	d.attempts, d.next_attempt, d.last_error, d.created_at, d.delivered_at, d.update_json,
	d.held_at, d.hold_reason, COALESCE(d.digest_id, ''), d.event_json`

type deliveryRow struct {
	d                                           news.Delivery
	status                                      string
	nextAttempt, createdAt, deliveredAt, heldAt sql.NullInt64
	update, event                               sql.NullString
}

func (r *deliveryRow) dest() []any {
	return []any{&r.d.ID, &r.d.WebhookID, &r.d.EventType, &r.d.TopicID, &r.d.ItemID, &r.status,
		&r.d.Attempts, &r.nextAttempt, &r.d.LastError, &r.createdAt, &r.deliveredAt, &r.update,
		&r.heldAt, &r.d.HoldReason, &r.d.DigestID, &r.event}
}

func (r *deliveryRow) delivery() (news.Delivery, error) {
	d := r.d
	d.Status = news.DeliveryStatus(r.status)
	d.NextAttempt, d.CreatedAt, d.DeliveredAt = timeOf(r.nextAttempt), timeOf(r.createdAt), timeOf(r.deliveredAt)
	d.HeldAt = timeOf(r.heldAt)
	if r.event.Valid && d.EventType == news.EventSourceHealth {
		var h healthJSON
		if err := json.Unmarshal([]byte(r.event.String), &h); err != nil {
			return news.Delivery{}, fmt.Errorf("delivery %q: decode event: %w", d.ID, err)
		}
		d.Health = h.health()
	}
	var err error
	if d.Update, err = decodeUpdate(r.update); err != nil {
		return news.Delivery{}, fmt.Errorf("delivery %q: %w", d.ID, err)
	}
	return d, nil
}

// updateJSON and sightingJSON are the stored shape of a news.Update (see
// hitJSON for why they have their own tags). SeenAt is unix milliseconds,
// absent for the zero time, as NULL is in columns.
type updateJSON struct {
	Kind          string        `json:"kind"`
	PreviousTitle string        `json:"previous_title,omitempty"`
	Title         string        `json:"title,omitempty"`
	Sighting      *sightingJSON `json:"sighting,omitempty"`
}

type sightingJSON struct {
	ItemID      string `json:"item_id"`
	SourceID    string `json:"source_id"`
	SourceTitle string `json:"source_title,omitempty"`
	Title       string `json:"title,omitempty"`
	Link        string `json:"link,omitempty"`
	SeenAt      *int64 `json:"seen_at,omitempty"`
}

func encodeUpdate(u *news.Update) (sql.NullString, error) {
	if u == nil {
		return sql.NullString{}, nil
	}
	out := updateJSON{Kind: u.Kind, PreviousTitle: u.PreviousTitle, Title: u.Title}
	if sg := u.Sighting; sg != nil {
		out.Sighting = &sightingJSON{ItemID: sg.ItemID, SourceID: sg.SourceID, SourceTitle: sg.SourceTitle,
			Title: sg.Title, Link: sg.Link}
		if seen := msOf(sg.SeenAt); seen.Valid {
			out.Sighting.SeenAt = &seen.Int64
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeUpdate(v sql.NullString) (*news.Update, error) {
	if !v.Valid {
		return nil, nil
	}
	var in updateJSON
	if err := json.Unmarshal([]byte(v.String), &in); err != nil {
		return nil, fmt.Errorf("decode update: %w", err)
	}
	u := &news.Update{Kind: in.Kind, PreviousTitle: in.PreviousTitle, Title: in.Title}
	if sg := in.Sighting; sg != nil {
		u.Sighting = &news.Sighting{ItemID: sg.ItemID, SourceID: sg.SourceID, SourceTitle: sg.SourceTitle,
			Title: sg.Title, Link: sg.Link}
		if sg.SeenAt != nil {
			u.Sighting.SeenAt = time.UnixMilli(*sg.SeenAt).UTC()
		}
	}
	return u, nil
}

// storyKeys are an item's story keys as stored: news.CanonicalURL of its
// link and news.TitleKey of its title, NULL when empty, so that items
// without a usable key never compare equal on it.
func storyKeys(title, link string) (canonicalURL, titleKey sql.NullString) {
	return nullIfEmpty(indexKey(news.CanonicalURL(link))), nullIfEmpty(indexKey(news.TitleKey(title)))
}

// maxIndexKey bounds a story key as stored. The keys are indexed, and
// PostgreSQL refuses a btree entry over about 2.7 kB: one absurdly long link
// would fail its source's every poll. A longer key is stored as its hash,
// which FindStory computes alike, so such stories still merge.
const maxIndexKey = 1024

// indexKey returns a story key as it is stored and looked up.
func indexKey(k string) string {
	if len(k) <= maxIndexKey {
		return k
	}
	h := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(h[:])
}

func nullIfEmpty(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// sourceTitleExpr is the title shown for an item's source: the remembered
// title, else the source id (s is LEFT JOINed, so it may be absent).
const sourceTitleExpr = `COALESCE(NULLIF(s.title, ''), i.source_id)`

// placeholders returns "$from, $from+1, ..." for n parameters.
func placeholders(from, n int) string {
	b := make([]byte, 0, n*5)
	for k := 0; k < n; k++ {
		if k > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "$%d", from+k)
	}
	return string(b)
}
