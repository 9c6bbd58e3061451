package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"wirewatch/news"
)

// SourceState returns what is remembered about a source. An unknown source
// yields a zero state with SourceID set: "never polled" is not an error.
func (s *SQLite) SourceState(ctx context.Context, sourceID string) (news.SourceState, error) {
	st := news.SourceState{SourceID: sourceID}
	var lastPoll, lastSuccess sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT url, title, etag, last_modified, baselined,
			last_poll, last_success, last_error, failures
		FROM sources WHERE id = $1`, sourceID).
		Scan(&st.URL, &st.Title, &st.ETag, &st.LastModified, &st.Baselined,
			&lastPoll, &lastSuccess, &st.LastError, &st.Failures)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return news.SourceState{}, fmt.Errorf("store: source state %q: %w", sourceID, err)
	}
	st.LastPoll, st.LastSuccess = timeOf(lastPoll), timeOf(lastSuccess)
	return st, nil
}

// SaveSourceState inserts or replaces what is remembered about a source.
func (s *SQLite) SaveSourceState(ctx context.Context, st news.SourceState) error {
	err := s.write(ctx, func(tx *sql.Tx) error { return upsertSource(ctx, tx, st) })
	if err != nil {
		return fmt.Errorf("store: save source state %q: %w", st.SourceID, err)
	}
	return nil
}

func upsertSource(ctx context.Context, tx *sql.Tx, st news.SourceState) error {
	if st.SourceID == "" {
		return errors.New("empty source id")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO sources (id, url, title, etag, last_modified, baselined,
			last_poll, last_success, last_error, failures)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET
			url = excluded.url, title = excluded.title, etag = excluded.etag,
			last_modified = excluded.last_modified, baselined = excluded.baselined,
			last_poll = excluded.last_poll, last_success = excluded.last_success,
			last_error = excluded.last_error, failures = excluded.failures`,
		st.SourceID, st.URL, st.Title, st.ETag, st.LastModified, st.Baselined,
		msOf(st.LastPoll), msOf(st.LastSuccess), st.LastError, st.Failures)
	return err
}

// unseenChunk bounds the parameters of one IN (...) list, well below every
// SQL engine's limit.
const unseenChunk = 500

// UnseenItems returns the ids that are not stored yet, in input order
// (duplicates in the input are kept as they are).
func (s *SQLite) UnseenItems(ctx context.Context, ids []string) ([]string, error) {
	seen := make(map[string]bool)
	for start := 0; start < len(ids); start += unseenChunk {
		chunk := ids[start:min(start+unseenChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := collectSeen(ctx, s.db, chunk, args, seen); err != nil {
			return nil, fmt.Errorf("store: unseen items: %w", err)
		}
	}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

func collectSeen(ctx context.Context, db *sql.DB, chunk []string, args []any, seen map[string]bool) error {
	rows, err := db.QueryContext(ctx, `SELECT id FROM items WHERE id IN (`+placeholders(1, len(chunk))+`)`, args...)
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

// SavePoll persists one poll in one transaction: the source state is
// upserted; each item is inserted unless its ID is already stored; matches
// and deliveries are inserted only for items this call inserted, so a
// repeated or concurrent save of the same items never creates a second match
// or delivery (primary-key conflicts are ignored as a second guard). It
// returns the number of deliveries inserted.
//
// An item with an empty SourceID takes the state's; an item of another
// source, or a delivery without a match for its (topic, item) in p, is an
// error and nothing is saved. A delivery with an empty ID gets
// news.DeliveryID, an empty EventType news.EventMatchCreated, an empty Status
// pending, and a zero CreatedAt the poll's time (State.LastPoll).
func (s *SQLite) SavePoll(ctx context.Context, p news.PollResult) (newDeliveries int, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		n, err := savePoll(ctx, tx, p)
		newDeliveries = n
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: save poll for source %q: %w", p.State.SourceID, err)
	}
	return newDeliveries, nil
}

type matchKey struct{ topic, item string }

func savePoll(ctx context.Context, tx *sql.Tx, p news.PollResult) (int, error) {
	src := p.State.SourceID
	if err := upsertSource(ctx, tx, p.State); err != nil {
		return 0, fmt.Errorf("source state: %w", err)
	}

	// published of each item this call inserts; only these get matches.
	fresh := make(map[string]sql.NullInt64, len(p.Items))
	if len(p.Items) > 0 {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO items (id, source_id, item_key, title, link,
				summary, content, authors, categories, published, updated, fetched_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return 0, err
		}
		defer ins.Close()
		for _, it := range p.Items {
			if it.ID == "" {
				return 0, fmt.Errorf("item with key %q has no id", it.Key)
			}
			if it.SourceID == "" {
				it.SourceID = src
			}
			if it.SourceID != src {
				return 0, fmt.Errorf("item %q belongs to source %q", it.ID, it.SourceID)
			}
			authors, err := encodeStrings(it.Authors)
			if err != nil {
				return 0, fmt.Errorf("item %q authors: %w", it.ID, err)
			}
			categories, err := encodeStrings(it.Categories)
			if err != nil {
				return 0, fmt.Errorf("item %q categories: %w", it.ID, err)
			}
			res, err := ins.ExecContext(ctx, it.ID, it.SourceID, it.Key, it.Title, it.Link,
				it.Summary, it.Content, authors, categories,
				msOf(it.Published), msOf(it.Updated), msOf(it.FetchedAt))
			if err != nil {
				return 0, fmt.Errorf("item %q: %w", it.ID, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return 0, fmt.Errorf("item %q: %w", it.ID, err)
			} else if n > 0 {
				fresh[it.ID] = msOf(it.Published)
			}
		}
	}

	// Statements are prepared on first use: most polls bring no matches.
	var insMatch, insDelivery *sql.Stmt
	matched := make(map[matchKey]bool)
	for _, m := range p.Matches {
		published, ok := fresh[m.ItemID]
		if !ok {
			continue // item stored before: its matches were saved with it
		}
		if m.TopicID == "" {
			return 0, fmt.Errorf("match of item %q has no topic", m.ItemID)
		}
		enc, err := encodeMatch(m)
		if err != nil {
			return 0, err
		}
		if insMatch == nil {
			if insMatch, err = tx.PrepareContext(ctx, `INSERT INTO matches (topic_id, item_id,
					item_published, terms, hits, score, snippet, marks, matched_at, baseline)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (topic_id, item_id) DO NOTHING`); err != nil {
				return 0, err
			}
			defer insMatch.Close()
		}
		if _, err := insMatch.ExecContext(ctx,
			m.TopicID, m.ItemID, published, enc.terms, enc.hits, scoreOf(m.Score), m.Snippet,
			enc.marks, msOf(m.MatchedAt), m.Baseline); err != nil {
			return 0, fmt.Errorf("match %q/%q: %w", m.TopicID, m.ItemID, err)
		}
		matched[matchKey{m.TopicID, m.ItemID}] = true
	}

	inserted := 0
	for _, d := range p.Deliveries {
		if _, ok := fresh[d.ItemID]; !ok {
			continue
		}
		if d.WebhookID == "" {
			return 0, fmt.Errorf("delivery of %q/%q has no webhook", d.TopicID, d.ItemID)
		}
		if !matched[matchKey{d.TopicID, d.ItemID}] {
			// Alerting something that is not in any topic feed would be a
			// caller bug; failing loudly beats a dangling outbox row.
			return 0, fmt.Errorf("delivery to %q for %q/%q has no match", d.WebhookID, d.TopicID, d.ItemID)
		}
		if d.EventType == "" {
			d.EventType = news.EventMatchCreated
		}
		if d.ID == "" {
			d.ID = news.DeliveryID(d.EventType, d.TopicID, d.ItemID, d.WebhookID)
		}
		if d.Status == "" {
			d.Status = news.DeliveryPending
		}
		if d.CreatedAt.IsZero() {
			d.CreatedAt = p.State.LastPoll
		}
		created := msOf(d.CreatedAt)
		if !created.Valid {
			return 0, fmt.Errorf("delivery %q has no creation time", d.ID)
		}
		if insDelivery == nil {
			var err error
			if insDelivery, err = tx.PrepareContext(ctx, `INSERT INTO deliveries (id, webhook_id,
					event_type, topic_id, item_id, status, attempts, next_attempt, last_error,
					created_at, delivered_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
				ON CONFLICT (id) DO NOTHING`); err != nil {
				return 0, err
			}
			defer insDelivery.Close()
		}
		res, err := insDelivery.ExecContext(ctx,
			d.ID, d.WebhookID, d.EventType, d.TopicID, d.ItemID, string(d.Status), d.Attempts,
			msOf(d.NextAttempt), d.LastError, created, msOf(d.DeliveredAt))
		if err != nil {
			return 0, fmt.Errorf("delivery %q: %w", d.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("delivery %q: %w", d.ID, err)
		}
		inserted += int(n)
	}
	return inserted, nil
}
