package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"wirewatch/news"
)

// sourceStateColumns and scanSourceState read a sources row.
const sourceStateColumns = `id, url, title, etag, last_modified, baselined, last_poll, last_success, last_error, failures,
	error_reason, next_poll, min_interval, moved_to, health`

func scanSourceState(sc interface{ Scan(...any) error }) (news.SourceState, error) {
	var (
		st                              news.SourceState
		lastPoll, lastSuccess, nextPoll sql.NullInt64
		minInterval                     int64
	)
	err := sc.Scan(&st.SourceID, &st.URL, &st.Title, &st.ETag, &st.LastModified, &st.Baselined,
		&lastPoll, &lastSuccess, &st.LastError, &st.Failures,
		&st.ErrorReason, &nextPoll, &minInterval, &st.MovedTo, &st.Health)
	if err != nil {
		return news.SourceState{}, err
	}
	st.LastPoll, st.LastSuccess, st.NextPoll = timeOf(lastPoll), timeOf(lastSuccess), timeOf(nextPoll)
	st.MinInterval = time.Duration(minInterval) * time.Millisecond
	return st, nil
}

// SourceState returns what is remembered about a source. An unknown source
// has a zero state (with its id).
func (s *Store) SourceState(ctx context.Context, sourceID string) (news.SourceState, error) {
	q, err := s.stmt(ctx, `SELECT `+sourceStateColumns+` FROM sources WHERE id = $1`)
	if err != nil {
		return news.SourceState{}, fmt.Errorf("store: source state %q: %w", sourceID, err)
	}
	st, err := scanSourceState(q.QueryRowContext(ctx, sourceID))
	if errors.Is(err, sql.ErrNoRows) {
		return news.SourceState{SourceID: sourceID}, nil
	}
	if err != nil {
		return news.SourceState{}, fmt.Errorf("store: source state %q: %w", sourceID, err)
	}
	return st, nil
}

// SourceStates returns the state of every source ever polled, by id.
func (s *Store) SourceStates(ctx context.Context) ([]news.SourceState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sourceStateColumns+` FROM sources ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: source states: %w", err)
	}
	defer rows.Close()
	var out []news.SourceState
	for rows.Next() {
		st, err := scanSourceState(rows)
		if err != nil {
			return nil, fmt.Errorf("store: source states: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: source states: %w", err)
	}
	return out, nil
}

// SourceActivity counts a source's items first seen since the given time
// and says when its newest item was first seen (zero: never).
func (s *Store) SourceActivity(ctx context.Context, sourceID string, since time.Time) (items int, lastItem time.Time, err error) {
	var last sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM items WHERE source_id = $1 AND fetched_at >= $2),
			(SELECT MAX(fetched_at) FROM items WHERE source_id = $1)`, sourceID, since.UnixMilli()).Scan(&items, &last)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: activity of source %q: %w", sourceID, err)
	}
	return items, timeOf(last), nil
}

// SaveSourceState inserts or replaces what is remembered about a source,
// and queues events (source.health deliveries) in the same transaction.
//
// It is a poll without items: every unchanged (304) or failed poll ends
// here, so it joins the same group commits as SavePoll.
func (s *Store) SaveSourceState(ctx context.Context, st news.SourceState, events ...news.Delivery) error {
	events = slices.Clone(events)
	for i := range events {
		if events[i].CreatedAt.IsZero() {
			events[i].CreatedAt = s.now()
		}
	}
	_, err := s.savePollGrouped(ctx, news.PollResult{State: st, Events: events})
	if err != nil {
		return fmt.Errorf("store: save source state %q: %w", st.SourceID, err)
	}
	return nil
}

func (s *Store) upsertSource(ctx context.Context, tx *sql.Tx, st news.SourceState) error {
	if st.SourceID == "" {
		return errors.New("empty source id")
	}
	for _, f := range []*string{&st.URL, &st.Title, &st.ETag, &st.LastModified, &st.LastError,
		&st.ErrorReason, &st.MovedTo, &st.Health} {
		*f = cleanText(*f)
	}
	ins, err := s.txStmt(ctx, tx, upsertSourceSQL)
	if err != nil {
		return err
	}
	_, err = ins.ExecContext(ctx,
		st.SourceID, st.URL, st.Title, st.ETag, st.LastModified, st.Baselined,
		msOf(st.LastPoll), msOf(st.LastSuccess), st.LastError, st.Failures,
		st.ErrorReason, msOf(st.NextPoll), st.MinInterval.Milliseconds(), st.MovedTo, st.Health)
	return err
}

// upsertSourceSQL writes a source's whole state.
const upsertSourceSQL = `INSERT INTO sources (id, url, title, etag, last_modified, baselined,
			last_poll, last_success, last_error, failures, error_reason, next_poll, min_interval, moved_to, health)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (id) DO UPDATE SET
			url = excluded.url, title = excluded.title, etag = excluded.etag,
			last_modified = excluded.last_modified, baselined = excluded.baselined,
			last_poll = excluded.last_poll, last_success = excluded.last_success,
			last_error = excluded.last_error, failures = excluded.failures,
			error_reason = excluded.error_reason, next_poll = excluded.next_poll,
			min_interval = excluded.min_interval, moved_to = excluded.moved_to, health = excluded.health`

// unseenChunk bounds the parameters of one IN (...) list, well below every
// SQL engine's limit.
const unseenChunk = 500

// UnseenItems returns the ids that are not stored yet, in input order
// (duplicates in the input are kept as they are).
func (s *Store) UnseenItems(ctx context.Context, ids []string) ([]string, error) {
	seen, err := s.storedIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("store: unseen items: %w", err)
	}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// storedIDs returns which of the ids are stored, a chunk of IN (...) at a
// time.
func (s *Store) storedIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	seen := make(map[string]bool)
	for start := 0; start < len(ids); start += unseenChunk {
		chunk := ids[start:min(start+unseenChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := s.collectSeen(ctx, args, seen); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

func (s *Store) collectSeen(ctx context.Context, args []any, seen map[string]bool) error {
	args = padded(args)
	q, err := s.stmt(ctx, `SELECT id FROM items WHERE id IN (`+placeholders(1, len(args))+`)`)
	if err != nil {
		return err
	}
	rows, err := q.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		seen[id] = true
	}
	return rows.Err()
}

// SavePoll persists one poll atomically (concurrent calls share a group
// commit, each poll in its own savepoint; see saveGroup): the source state is
// upserted; each item is inserted unless its ID is already stored; each
// corrected item that is stored is updated; matches and match.created
// deliveries are inserted only for items this call inserted, so a repeated
// or concurrent save of the same items never creates a second match or
// delivery (primary-key conflicts are ignored as a second guard).
// match.updated deliveries may concern any stored match. It returns the
// number of deliveries inserted, of both kinds.
//
// Corrected items (p.Corrected) get the new title, link, summary, content,
// authors, categories, updated time and story keys; their ID, key, source,
// published and fetch times stay. When the title changes, the old one is
// kept as the previous title (Entry.PreviousTitle); when it does not, the
// previous title stays what it was. An unknown corrected item is skipped.
//
// A match's DuplicateOf must name a stored item (or one of p.Items). A
// match.created delivery for a duplicate match is skipped: a later sighting
// of a story is never alerted on its own. With p.Stories set, each match
// without DuplicateOf is looked up again (FindStory, inside the write
// transaction): one whose story another save stored first, within
// p.Stories.Since, is stored as its duplicate, its match.created
// deliveries are skipped, and the opted-in webhooks get "also reported"
// on the first sighting; p.Stories.Merged counts them.
//
// A match.updated delivery must carry an Update of a known kind; it is
// skipped when its (topic, item) has no match, stored or in p (the topic
// may have been pruned meanwhile). An empty ID gets news.UpdateDeliveryID
// with the change "corrected\x00<new title>" or
// "also_reported\x00<sighting item id>", so a replayed poll adds nothing.
//
// An item (or corrected item) with an empty SourceID takes the state's; an
// item of another source, a match.created delivery without a match for its
// (topic, item) in p, or an update that is missing or not of its event, is
// an error and nothing is saved. A delivery with an empty ID gets
// news.DeliveryID (news.UpdateDeliveryID for updates), an empty EventType
// news.EventMatchCreated, an empty Status pending, and a zero CreatedAt the
// poll's time (State.LastPoll).
func (s *Store) SavePoll(ctx context.Context, p news.PollResult) (newDeliveries int, err error) {
	newDeliveries, err = s.savePollGrouped(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("store: save poll for source %q: %w", p.State.SourceID, err)
	}
	return newDeliveries, nil
}

type matchKey struct{ topic, item string }

// freshItem is what a match copies from its item: the publication time
// (feed order) and the story keys (FindStory).
type freshItem struct {
	published           sql.NullInt64
	canonical, titleKey sql.NullString
	// title and link describe the item in an "also reported" event, when
	// its story turns out to have been saved first by another poll.
	title, link string
}

// pollTx is one SavePoll in progress. Statements are prepared on first use
// (most polls bring no matches, corrections or deliveries) and closed with
// the transaction.
type pollTx struct {
	store *Store
	ctx   context.Context
	tx    *sql.Tx
	src   string
	// fresh holds what the matches of each item this call inserted copy
	// from it; only these items get matches and match.created deliveries.
	fresh map[string]freshItem
	// matched holds the matches this call inserted, and which of them are
	// duplicates; known caches the existence of other matches.
	matched map[matchKey]bool
	known   map[matchKey]bool
	stmts   map[string]*sql.Stmt
	// state is the polled source's; stories is the poll's StoryCheck (nil:
	// its first sightings are taken as decided), and merged the "also
	// reported" events of the first sightings it found to be later ones.
	state      news.SourceState
	stories    *news.StoryCheck
	merged     []news.Delivery
	deliveries []news.Delivery // the poll's own, for merge's timestamps
}

func (p *pollTx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := p.stmts[query]; ok {
		return st, nil
	}
	st, err := p.store.txStmt(p.ctx, p.tx, query)
	if err != nil {
		return nil, err
	}
	p.stmts[query] = st
	return st, nil
}

func (p *pollTx) close() {
	for _, st := range p.stmts {
		_ = st.Close() // the transaction's end closes them anyway
	}
}

// savePoll is SavePoll's work inside tx; items are r.Items as itemInserts
// prepared them.
func (s *Store) savePoll(ctx context.Context, tx *sql.Tx, r news.PollResult, items []itemInsert) (int, error) {
	p := &pollTx{store: s, ctx: ctx, tx: tx, src: r.State.SourceID,
		fresh: make(map[string]freshItem, len(r.Items)), matched: map[matchKey]bool{},
		known: map[matchKey]bool{}, stmts: map[string]*sql.Stmt{}, state: r.State, stories: r.Stories,
		deliveries: r.Deliveries}
	defer p.close()
	if r.Stories != nil {
		r.Stories.Merged = 0 // a group that failed and runs again counts afresh
	}
	if err := s.upsertSource(ctx, tx, r.State); err != nil {
		return 0, fmt.Errorf("source state: %w", err)
	}
	for _, row := range items {
		if err := p.insertItem(row); err != nil {
			return 0, err
		}
	}
	for _, it := range r.Corrected {
		if err := p.correctItem(it); err != nil {
			return 0, err
		}
	}
	for _, m := range r.Matches {
		if err := p.insertMatch(m); err != nil {
			return 0, err
		}
	}
	inserted := 0
	for _, d := range slices.Concat(r.Deliveries, p.merged) {
		n, err := p.insertDelivery(d, r.State.LastPoll)
		if err != nil {
			return 0, err
		}
		inserted += n
	}
	for _, d := range r.Events {
		n, err := insertEvent(ctx, tx, d, r.State.LastPoll)
		if err != nil {
			return 0, err
		}
		inserted += n
	}
	return inserted, nil
}

// insertEvent inserts a delivery of no single match (a source.health
// event), or skips it when its ID is already in the outbox, and returns how
// many rows it added.
func insertEvent(ctx context.Context, tx *sql.Tx, d news.Delivery, now time.Time) (int, error) {
	if d.EventType != news.EventSourceHealth || d.Health == nil {
		return 0, fmt.Errorf("event delivery %q: want a %s event with its report", d.ID, news.EventSourceHealth)
	}
	if d.ID == "" || d.WebhookID == "" {
		return 0, fmt.Errorf("event delivery %q: no id or webhook", d.ID)
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	body, err := json.Marshal(healthJSONOf(*d.Health))
	if err != nil {
		return 0, fmt.Errorf("event delivery %q: %w", d.ID, err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, webhook_id, event_type, status, created_at, event_json)
		VALUES ($1, $2, $3, 'pending', $4, $5) ON CONFLICT (id) DO NOTHING`,
		d.ID, d.WebhookID, d.EventType, d.CreatedAt.UnixMilli(), string(body))
	if err != nil {
		return 0, fmt.Errorf("event delivery %q: %w", d.ID, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// healthJSON is the stored shape of a news.SourceHealth (times in unix
// milliseconds, 0 for none).
type healthJSON struct {
	SourceID    string `json:"source_id"`
	Title       string `json:"title,omitempty"`
	URL         string `json:"url,omitempty"`
	State       string `json:"state"`
	Previous    string `json:"previous,omitempty"`
	Reason      string `json:"reason,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	LastSuccess int64  `json:"last_success,omitempty"`
	LastItem    int64  `json:"last_item,omitempty"`
	Failures    int    `json:"failures,omitempty"`
	At          int64  `json:"at,omitempty"`
}

func healthJSONOf(h news.SourceHealth) healthJSON {
	ms := func(t time.Time) int64 { return msOf(t).Int64 }
	return healthJSON{h.SourceID, h.Title, h.URL, h.State, h.Previous, h.Reason, h.LastError,
		ms(h.LastSuccess), ms(h.LastItem), h.Failures, ms(h.At)}
}

func (j healthJSON) health() *news.SourceHealth {
	t := func(ms int64) time.Time { return timeOf(sql.NullInt64{Int64: ms, Valid: ms != 0}) }
	return &news.SourceHealth{SourceID: j.SourceID, Title: j.Title, URL: j.URL, State: j.State, Previous: j.Previous,
		Reason: j.Reason, LastError: j.LastError, LastSuccess: t(j.LastSuccess), LastItem: t(j.LastItem),
		Failures: j.Failures, At: t(j.At)}
}

// sourceOf checks that an item belongs to the polled source src, and
// gives it src when it names none.
func sourceOf(it *news.Item, src string) error {
	if it.ID == "" {
		return fmt.Errorf("item with key %q has no id", it.Key)
	}
	if it.SourceID == "" {
		it.SourceID = src
	}
	if it.SourceID != src {
		return fmt.Errorf("item %q belongs to source %q", it.ID, it.SourceID)
	}
	return nil
}

func encodeItemLists(it news.Item) (authors, categories sql.NullString, err error) {
	if authors, err = encodeStrings(it.Authors); err != nil {
		return authors, categories, fmt.Errorf("item %q authors: %w", it.ID, err)
	}
	if categories, err = encodeStrings(it.Categories); err != nil {
		return authors, categories, fmt.Errorf("item %q categories: %w", it.ID, err)
	}
	return authors, categories, nil
}

const insertItemSQL = `INSERT INTO items (id, source_id, item_key, title, link,
		summary, content, authors, categories, published, updated, fetched_at,
		canonical_url, title_key)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
	ON CONFLICT (id) DO NOTHING`

// itemInsert is an item as insertItemSQL stores it, or why it cannot be.
type itemInsert struct {
	it                  news.Item // cleaned, its SourceID filled in
	authors, categories sql.NullString
	canon, key          sql.NullString
	err                 error
}

// itemInserts prepares the rows of a poll's items. It runs before the poll
// joins a group commit, outside the writer's turn: everything it does is
// plain Go, and the writer is the one goroutine every poll waits for.
func itemInserts(src string, items []news.Item) []itemInsert {
	rows := make([]itemInsert, len(items))
	for i, it := range items {
		r := &rows[i]
		if r.err = sourceOf(&it, src); r.err != nil {
			continue
		}
		r.it = cleanItem(it)
		if r.authors, r.categories, r.err = encodeItemLists(r.it); r.err != nil {
			continue
		}
		r.canon, r.key = storyKeys(r.it.Title, r.it.Link)
	}
	return rows
}

func (p *pollTx) insertItem(r itemInsert) error {
	if r.err != nil {
		return r.err
	}
	it := r.it
	ins, err := p.stmt(insertItemSQL)
	if err != nil {
		return err
	}
	canon, key := r.canon, r.key
	res, err := ins.ExecContext(p.ctx, it.ID, it.SourceID, it.Key, it.Title, it.Link,
		it.Summary, it.Content, r.authors, r.categories,
		msOf(it.Published), msOf(it.Updated), msOf(it.FetchedAt), canon, key)
	if err != nil {
		return fmt.Errorf("item %q: %w", it.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("item %q: %w", it.ID, err)
	} else if n > 0 {
		p.fresh[it.ID] = freshItem{published: msOf(it.Published), canonical: canon, titleKey: key,
			title: it.Title, link: it.Link}
	}
	return nil
}

// correctItemSQL rewrites an item's text. Every right-hand side reads the
// row as it was, so previous_title gets the old title when it changes.
const correctItemSQL = `UPDATE items SET
		previous_title = CASE WHEN title <> $2 THEN title ELSE previous_title END,
		title = $2, link = $3, summary = $4, content = $5, authors = $6, categories = $7,
		updated = $8, canonical_url = $9, title_key = $10
	WHERE id = $1`

// correctStoryKeysSQL gives an item's matches its corrected story keys.
const correctStoryKeysSQL = `UPDATE matches SET story_url = $2, story_title = $3 WHERE item_id = $1`

func (p *pollTx) correctItem(it news.Item) error {
	if err := sourceOf(&it, p.src); err != nil {
		return fmt.Errorf("corrected %w", err)
	}
	it = cleanItem(it)
	authors, categories, err := encodeItemLists(it)
	if err != nil {
		return fmt.Errorf("corrected %w", err)
	}
	upd, err := p.stmt(correctItemSQL)
	if err != nil {
		return err
	}
	canon, key := storyKeys(it.Title, it.Link)
	if _, err := upd.ExecContext(p.ctx, it.ID, it.Title, it.Link, it.Summary, it.Content,
		authors, categories, msOf(it.Updated), canon, key); err != nil {
		return fmt.Errorf("corrected item %q: %w", it.ID, err)
	}
	keys, err := p.stmt(correctStoryKeysSQL)
	if err != nil {
		return err
	}
	if _, err := keys.ExecContext(p.ctx, it.ID, canon, key); err != nil {
		return fmt.Errorf("corrected item %q matches: %w", it.ID, err)
	}
	return nil
}

// matchExistsSQL counts a (topic, item)'s match: 0 or 1.
const matchExistsSQL = `SELECT COUNT(*) FROM matches WHERE topic_id = $1 AND item_id = $2`

const insertMatchSQL = `INSERT INTO matches (topic_id, item_id,
		item_published, terms, hits, score, snippet, marks, matched_at, baseline, duplicate_of,
		story_url, story_title)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
	ON CONFLICT (topic_id, item_id) DO NOTHING`

func (p *pollTx) insertMatch(m news.Match) error {
	item, ok := p.fresh[m.ItemID]
	if !ok {
		return nil // item stored before: its matches were saved with it
	}
	if m.TopicID == "" {
		return fmt.Errorf("match of item %q has no topic", m.ItemID)
	}
	if m.DuplicateOf == m.ItemID {
		return fmt.Errorf("match %q/%q duplicates itself", m.TopicID, m.ItemID)
	}
	if m.DuplicateOf == "" && p.stories != nil {
		first, err := p.firstSighting(m.TopicID, m.ItemID, item)
		if err != nil {
			return fmt.Errorf("match %q/%q: first sighting: %w", m.TopicID, m.ItemID, err)
		}
		if first != "" {
			if err := p.merge(&m, first); err != nil {
				return fmt.Errorf("match %q/%q: merge into %q: %w", m.TopicID, m.ItemID, first, err)
			}
		}
	}
	enc, err := encodeMatch(m)
	if err != nil {
		return err
	}
	ins, err := p.stmt(insertMatchSQL)
	if err != nil {
		return err
	}
	if _, err := ins.ExecContext(p.ctx,
		m.TopicID, m.ItemID, item.published, enc.terms, enc.hits, scoreOf(m.Score), enc.snippet,
		enc.marks, msOf(m.MatchedAt), m.Baseline, nullIfEmpty(m.DuplicateOf),
		item.canonical, item.titleKey); err != nil {
		return fmt.Errorf("match %q/%q: %w", m.TopicID, m.ItemID, err)
	}
	p.matched[matchKey{m.TopicID, m.ItemID}] = m.DuplicateOf != ""
	return nil
}

// firstSighting returns the item under which topic already has the story
// of item (the fresh item itemID): a first sighting saved since the caller
// looked (by another poll, or another instance), or "". It runs in the
// write transaction, after lockStories on PostgreSQL, so of two polls
// racing to one story the second sees the first's match.
func (p *pollTx) firstSighting(topic, itemID string, item freshItem) (string, error) {
	if !item.canonical.Valid && !item.titleKey.Valid {
		return "", nil
	}
	query, args := findStory(topic, item.canonical.String, item.titleKey.String, p.stories.Since)
	q, err := p.stmt(query)
	if err != nil {
		return "", err
	}
	var first string
	switch err := q.QueryRowContext(p.ctx, args...).Scan(&first); {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", err
	case first == itemID:
		return "", nil
	}
	return first, nil
}

// merge makes m a later sighting of first: it is stored as a duplicate,
// its match.created alerts are skipped (insertDelivery), and the webhooks
// that opted in to updates hear "also reported" on first instead, as the
// poller would have told them had it seen first in time.
func (p *pollTx) merge(m *news.Match, first string) error {
	m.DuplicateOf = first
	p.stories.Merged++
	if m.Baseline {
		return nil // a source's backlog is never announced
	}
	it := p.fresh[m.ItemID]
	sighting := &news.Sighting{ItemID: m.ItemID, SourceID: p.src, SourceTitle: p.state.Title,
		Title: it.title, Link: it.link, SeenAt: m.MatchedAt}
	// The update takes the place of the skipped alert in the outbox's
	// order (the poller spaces its deliveries in publication order), but
	// never before the first sighting's own alert: the other save may
	// have given that a later time, and a receiver should hear of the
	// story before it hears who else reported it.
	when := p.state.LastPoll
	for _, d := range p.deliveries {
		if d.TopicID == m.TopicID && d.ItemID == m.ItemID && !d.CreatedAt.IsZero() {
			when = d.CreatedAt
			break
		}
	}
	q, err := p.stmt(lastAlertSQL)
	if err != nil {
		return err
	}
	var alerted sql.NullInt64
	if err := q.QueryRowContext(p.ctx, m.TopicID, first, news.EventMatchCreated).Scan(&alerted); err != nil {
		return err
	}
	if alerted.Valid && !when.After(timeOf(alerted)) {
		when = timeOf(alerted).Add(time.Millisecond)
	}
	for _, d := range news.UpdateDeliveries(p.stories.Webhooks, m.TopicID, first, news.AlsoReportedChange(m.ItemID),
		&news.Update{Kind: news.UpdateAlsoReported, Sighting: sighting}) {
		d.Status, d.NextAttempt, d.CreatedAt = news.DeliveryPending, when, when
		p.merged = append(p.merged, d)
	}
	return nil
}

// lastAlertSQL is the outbox time of a match's latest alert (NULL: none).
const lastAlertSQL = `SELECT max(created_at) FROM deliveries WHERE topic_id = $1 AND item_id = $2 AND event_type = $3`

// matchExists reports whether (topic, item) has a match, stored before or
// by this call.
func (p *pollTx) matchExists(k matchKey) (bool, error) {
	if _, ok := p.matched[k]; ok {
		return true, nil
	}
	if ok, seen := p.known[k]; seen {
		return ok, nil
	}
	q, err := p.stmt(matchExistsSQL)
	if err != nil {
		return false, err
	}
	var n int
	if err := q.QueryRowContext(p.ctx, k.topic, k.item).Scan(&n); err != nil {
		return false, err
	}
	p.known[k] = n > 0
	return n > 0, nil
}

// updateChange names what an update reports, for its delivery id: two
// different corrections, or sightings, never share one.
func updateChange(u news.Update) string {
	if u.Kind == news.UpdateAlsoReported && u.Sighting != nil {
		return u.Kind + "\x00" + u.Sighting.ItemID
	}
	return u.Kind + "\x00" + u.Title
}

const insertDeliverySQL = `INSERT INTO deliveries (id, webhook_id,
		event_type, topic_id, item_id, status, attempts, next_attempt, last_error,
		created_at, delivered_at, update_json)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
	ON CONFLICT (id) DO NOTHING`

// insertDelivery inserts one outbox row, or skips it (see SavePoll), and
// returns how many rows it added.
func (p *pollTx) insertDelivery(d news.Delivery, pollTime time.Time) (int, error) {
	if d.EventType == "" {
		d.EventType = news.EventMatchCreated
	}
	updated := d.EventType == news.EventMatchUpdated
	if _, ok := p.fresh[d.ItemID]; !ok && !updated {
		return 0, nil // item stored before: its alerts were saved with it
	}
	if d.WebhookID == "" {
		return 0, fmt.Errorf("delivery of %q/%q has no webhook", d.TopicID, d.ItemID)
	}
	k := matchKey{d.TopicID, d.ItemID}
	if updated {
		if d.Update == nil {
			return 0, fmt.Errorf("%s delivery to %q for %q/%q has no update", d.EventType, d.WebhookID, d.TopicID, d.ItemID)
		}
		if d.Update.Kind != news.UpdateCorrected && d.Update.Kind != news.UpdateAlsoReported {
			return 0, fmt.Errorf("delivery to %q for %q/%q: unknown update kind %q", d.WebhookID, d.TopicID, d.ItemID, d.Update.Kind)
		}
		if ok, err := p.matchExists(k); err != nil {
			return 0, fmt.Errorf("delivery to %q for %q/%q: %w", d.WebhookID, d.TopicID, d.ItemID, err)
		} else if !ok {
			return 0, nil
		}
		if d.ID == "" {
			d.ID = news.UpdateDeliveryID(d.TopicID, d.ItemID, d.WebhookID, updateChange(*d.Update))
		}
	} else {
		if d.Update != nil {
			return 0, fmt.Errorf("%s delivery to %q for %q/%q carries an update", d.EventType, d.WebhookID, d.TopicID, d.ItemID)
		}
		duplicate, ok := p.matched[k]
		if !ok {
			// Alerting something that is not in any topic feed would be a
			// caller bug; failing loudly beats a dangling outbox row.
			return 0, fmt.Errorf("delivery to %q for %q/%q has no match", d.WebhookID, d.TopicID, d.ItemID)
		}
		if duplicate {
			return 0, nil // one story, one alert: the first sighting's
		}
		if d.ID == "" {
			d.ID = news.DeliveryID(d.EventType, d.TopicID, d.ItemID, d.WebhookID)
		}
	}
	if d.Status == "" {
		d.Status = news.DeliveryPending
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = pollTime
	}
	created := msOf(d.CreatedAt)
	if !created.Valid {
		return 0, fmt.Errorf("delivery %q has no creation time", d.ID)
	}
	update, err := encodeUpdate(d.Update)
	if err != nil {
		return 0, fmt.Errorf("delivery %q update: %w", d.ID, err)
	}
	ins, err := p.stmt(insertDeliverySQL)
	if err != nil {
		return 0, err
	}
	res, err := ins.ExecContext(p.ctx,
		d.ID, d.WebhookID, d.EventType, d.TopicID, d.ItemID, string(d.Status), d.Attempts,
		msOf(d.NextAttempt), cleanText(d.LastError), created, msOf(d.DeliveredAt), update)
	if err != nil {
		return 0, fmt.Errorf("delivery %q: %w", d.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delivery %q: %w", d.ID, err)
	}
	return int(n), nil
}
