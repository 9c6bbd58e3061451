package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"wirewatch/news"
)

// TopicFingerprint returns the fingerprint stored for a topic by its last
// Backfill, or "" when the topic has none (it is new, or was pruned), which
// callers read as "backfill it".
func (s *Store) TopicFingerprint(ctx context.Context, topicID string) (string, error) {
	var fp string
	err := s.db.QueryRowContext(ctx, `SELECT fingerprint FROM topics WHERE id = $1`, topicID).Scan(&fp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: topic fingerprint %q: %w", topicID, err)
	}
	return fp, nil
}

// Backfill replaces a topic's matches among a window of stored items, in one
// transaction, after the topic was added or changed:
//
//   - each of matches is upserted. A new row is a baseline match (whatever
//     its Baseline field says): backfilled matches fill the topic feed but
//     are never alerted, so no deliveries are created. A zero MatchedAt
//     becomes now; a new row keeps the match's DuplicateOf. A row that
//     exists already gets the new terms, hits, score, snippet and marks but
//     keeps its Baseline flag, MatchedAt and DuplicateOf, so an alerted
//     match stays what it was and the feed order does not churn.
//   - the topic's matches of items in rematched (the ids that were
//     re-evaluated) that are not among matches are deleted, unless they have
//     deliveries: a match that was alerted keeps its history. Duplicates of
//     a deleted match are no longer duplicates (DuplicateOf cleared), so
//     they show in the feed rather than behind a missing entry. Matches of
//     items outside rematched, and of other topics, are left alone.
//   - fingerprint is stored for the topic, with backfilled_at = now.
//
// Running the same backfill twice leaves the same state. A match of another
// topic (an empty TopicID means topicID) or of an item that is not stored is
// an error, and then nothing changes.
func (s *Store) Backfill(ctx context.Context, topicID, fingerprint string, rematched []string, matches []news.Match, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return backfill(ctx, tx, topicID, fingerprint, rematched, matches, now)
	})
	if err != nil {
		return fmt.Errorf("store: backfill topic %q: %w", topicID, err)
	}
	return nil
}

func backfill(ctx context.Context, tx *sql.Tx, topicID, fingerprint string, rematched []string, matches []news.Match, now time.Time) error {
	if topicID == "" {
		return errors.New("empty topic id")
	}
	if fingerprint == "" {
		// "" is what TopicFingerprint says for a new topic: storing it would
		// have the topic backfilled again on every start.
		return errors.New("empty fingerprint")
	}

	matchedIDs := make([]string, 0, len(matches))
	for i := range matches {
		m := &matches[i]
		if m.TopicID != "" && m.TopicID != topicID {
			return fmt.Errorf("match of item %q belongs to topic %q", m.ItemID, m.TopicID)
		}
		matchedIDs = append(matchedIDs, m.ItemID)
	}
	published, err := itemsPublished(ctx, tx, matchedIDs)
	if err != nil {
		return err
	}

	if len(matches) > 0 {
		// On conflict, baseline, matched_at and duplicate_of are
		// deliberately not set. item_published is refreshed only for form:
		// corrections never change it.
		ups, err := tx.PrepareContext(ctx, `INSERT INTO matches (topic_id, item_id,
				item_published, terms, hits, score, snippet, marks, matched_at, baseline, duplicate_of,
				story_url, story_title)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, $10,
				(SELECT i.canonical_url FROM items i WHERE i.id = $2),
				(SELECT i.title_key FROM items i WHERE i.id = $2))
			ON CONFLICT (topic_id, item_id) DO UPDATE SET
				item_published = excluded.item_published, terms = excluded.terms,
				hits = excluded.hits, score = excluded.score, snippet = excluded.snippet,
				marks = excluded.marks`)
		if err != nil {
			return err
		}
		defer ups.Close()
		for _, m := range matches {
			pub, ok := published[m.ItemID]
			if !ok {
				return fmt.Errorf("match of item %q: item is not stored", m.ItemID)
			}
			m.TopicID = topicID
			enc, err := encodeMatch(m)
			if err != nil {
				return err
			}
			matchedAt := m.MatchedAt
			if matchedAt.IsZero() {
				matchedAt = now
			}
			if m.DuplicateOf == m.ItemID {
				return fmt.Errorf("match of item %q duplicates itself", m.ItemID)
			}
			if _, err := ups.ExecContext(ctx, topicID, m.ItemID, pub, enc.terms, enc.hits,
				scoreOf(m.Score), enc.snippet, enc.marks, msOf(matchedAt), nullIfEmpty(m.DuplicateOf)); err != nil {
				return fmt.Errorf("match of item %q: %w", m.ItemID, err)
			}
		}
	}

	keep := make(map[string]bool, len(matchedIDs))
	for _, id := range matchedIDs {
		keep[id] = true
	}
	var gone []string
	for _, id := range rematched {
		if !keep[id] {
			keep[id] = true // also dedupes rematched
			gone = append(gone, id)
		}
	}
	for start := 0; start < len(gone); start += unseenChunk {
		chunk := gone[start:min(start+unseenChunk, len(gone))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, topicID)
		for _, id := range chunk {
			args = append(args, id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM matches
			WHERE topic_id = $1 AND item_id IN (`+placeholders(2, len(chunk))+`)
				AND `+undeliveredCond, args...); err != nil {
			return fmt.Errorf("delete stale matches: %w", err)
		}
	}
	if len(gone) > 0 {
		if err := promoteOrphans(ctx, tx, topicID); err != nil {
			return err
		}
	}

	if _, err := tx.ExecContext(ctx, `INSERT INTO topics (id, fingerprint, backfilled_at)
		VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET
			fingerprint = excluded.fingerprint, backfilled_at = excluded.backfilled_at`,
		topicID, fingerprint, msOf(now)); err != nil {
		return fmt.Errorf("save fingerprint: %w", err)
	}
	return nil
}

// promoteOrphans makes the topic's duplicates whose first sighting is no
// longer matched (a backfill deleted it) stand on their own again: else
// they would be hidden from the feed behind an entry that is not there.
func promoteOrphans(ctx context.Context, tx *sql.Tx, topicID string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE matches SET duplicate_of = NULL
		WHERE topic_id = $1 AND duplicate_of IS NOT NULL AND NOT EXISTS (SELECT 1 FROM matches f
			WHERE f.topic_id = matches.topic_id AND f.item_id = matches.duplicate_of)`, topicID); err != nil {
		return fmt.Errorf("promote duplicates of deleted matches: %w", err)
	}
	return nil
}

// undeliveredCond holds for a row of matches (unaliased, as DELETE needs)
// that no delivery refers to: only such a match may be deleted, both to keep
// the history of what was alerted and to satisfy the deliveries foreign key.
const undeliveredCond = `NOT EXISTS (SELECT 1 FROM deliveries d
	WHERE d.topic_id = matches.topic_id AND d.item_id = matches.item_id)`

// itemsPublished returns the stored Published time of each of ids that is
// stored (absent from the map when not).
func itemsPublished(ctx context.Context, tx *sql.Tx, ids []string) (map[string]sql.NullInt64, error) {
	out := make(map[string]sql.NullInt64, len(ids))
	for start := 0; start < len(ids); start += unseenChunk {
		chunk := ids[start:min(start+unseenChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := func() error {
			rows, err := tx.QueryContext(ctx, `SELECT id, published FROM items
				WHERE id IN (`+placeholders(1, len(chunk))+`)`, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var (
					id  string
					pub sql.NullInt64
				)
				if err := rows.Scan(&id, &pub); err != nil {
					return err
				}
				out[id] = pub
			}
			return rows.Err()
		}(); err != nil {
			return nil, fmt.Errorf("look up items: %w", err)
		}
	}
	return out, nil
}

// PruneTopics forgets topics that are no longer configured (keep lists the
// configured topic ids; an empty keep prunes every topic): their matches are
// deleted unless they have deliveries, which keep the alert history, and
// their topic rows are deleted, so a topic that comes back is backfilled
// afresh. It returns the number of rows deleted, matches and topic rows
// together.
func (s *Store) PruneTopics(ctx context.Context, keep []string) (int, error) {
	var deleted int
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		deleted, err = pruneTopics(ctx, tx, keep)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune topics: %w", err)
	}
	return deleted, nil
}

func pruneTopics(ctx context.Context, tx *sql.Tx, keep []string) (int, error) {
	kept := make(map[string]bool, len(keep))
	for _, id := range keep {
		kept[id] = true
	}
	// The removed topics are found in Go rather than with NOT IN (keep), so
	// that no statement needs one parameter per configured topic.
	known, err := topicIDs(ctx, tx)
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, id := range known {
		if kept[id] {
			continue
		}
		for _, q := range []string{
			`DELETE FROM matches WHERE topic_id = $1 AND ` + undeliveredCond,
			`DELETE FROM topics WHERE id = $1`,
		} {
			res, err := tx.ExecContext(ctx, q, id)
			if err != nil {
				return 0, fmt.Errorf("topic %q: %w", id, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return 0, fmt.Errorf("topic %q: %w", id, err)
			}
			deleted += int(n)
		}
	}
	return deleted, nil
}

// topicIDs lists every topic id the store knows, from matches and topics.
func topicIDs(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT topic_id FROM matches
		UNION SELECT id FROM topics`)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list topics: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	return out, nil
}
