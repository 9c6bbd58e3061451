package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// pruneBatch is how many items one PruneItems transaction considers: it
// bounds the memory a prune holds and how long it keeps others waiting
// (SQLite's single writer, PostgreSQL's row locks).
const pruneBatch = 500

// PruneItems deletes items first seen (FetchedAt) before before, with
// their matches and their finished deliveries (delivered, failed, dead and
// digested rows), in transactions of at most 500 items, newest first, and
// returns how many items it deleted. An item stays, with everything of it,
// when:
//
//   - a pending or held delivery refers to it, or it is in a digest that
//     is still pending or held: the outbox must still be able to send it;
//   - one of its matches is among the newest keepPerTopic of its topic
//     (non-duplicate matches in feed order, as TopicEntries lists them),
//     or is a duplicate of such a match (it shows as "also reported by"):
//     topic feeds keep their pages however old they are (feeds show 50,
//     so keepPerTopic should be at least that; 0 keeps none);
//   - a match of an item that stays names it as its first sighting (a
//     duplicate of it): the item goes with, or after, its duplicates;
//   - its fetch time is unknown (NULL).
//
// It also deletes finished deliveries that belong to no item (source.health
// events, digests whose members are gone) created before before; they are
// not counted. A failure or a canceled ctx stops it between batches,
// keeping what was deleted, which the count returned with the error says.
func (s *Store) PruneItems(ctx context.Context, before time.Time, keepPerTopic int) (int, error) {
	n, err := s.pruneItems(ctx, before, keepPerTopic)
	if err != nil {
		return n, fmt.Errorf("store: prune items before %v: %w", before, err)
	}
	return n, nil
}

func (s *Store) pruneItems(ctx context.Context, before time.Time, keepPerTopic int) (int, error) {
	if keepPerTopic < 0 {
		return 0, fmt.Errorf("negative keepPerTopic %d", keepPerTopic)
	}
	if before.IsZero() {
		return 0, errors.New("zero time")
	}
	cutoffs, err := s.feedCutoffs(ctx, keepPerTopic)
	if err != nil {
		return 0, err
	}
	deleted := 0
	cursor := pruneCursor{at: before.UnixMilli()}
	for {
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
		ids, next, err := s.pruneCandidates(ctx, before.UnixMilli(), cursor)
		if err != nil {
			return deleted, err
		}
		if len(ids) == 0 {
			break
		}
		var n int
		err = s.write(ctx, func(tx *sql.Tx) error {
			var err error
			n, err = pruneBatchTx(ctx, tx, ids, cutoffs)
			return err
		})
		if err != nil {
			return deleted, err
		}
		deleted += n
		cursor = next
		if len(ids) < pruneBatch {
			break
		}
	}
	if err := s.pruneEvents(ctx, before.UnixMilli()); err != nil {
		return deleted, err
	}
	return deleted, nil
}

// pruneCursor is where the walk down items (by fetched_at, then id,
// descending) stands: the next batch starts below it.
type pruneCursor struct {
	at    int64
	id    string
	begun bool
}

// pruneCandidates returns the next batch of items fetched before before,
// below the cursor, and the cursor after them.
func (s *Store) pruneCandidates(ctx context.Context, before int64, c pruneCursor) ([]string, pruneCursor, error) {
	// NULLS LAST, though no NULL passes the WHERE: it is the order the
	// items_fetched index has read backwards, in both engines.
	q := `SELECT id, fetched_at FROM items WHERE fetched_at < $1 ORDER BY fetched_at DESC NULLS LAST, id DESC LIMIT $2`
	args := []any{before, pruneBatch}
	if c.begun {
		// fetched_at <= $3 bounds the index range; the OR skips the rows
		// of the last batch's millisecond that were already seen.
		q = `SELECT id, fetched_at FROM items
			WHERE fetched_at < $1 AND fetched_at <= $3 AND (fetched_at < $3 OR id < $4)
			ORDER BY fetched_at DESC NULLS LAST, id DESC LIMIT $2`
		args = append(args, c.at, c.id)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, c, fmt.Errorf("list old items: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, c, fmt.Errorf("list old items: %w", err)
		}
		ids = append(ids, id)
		c = pruneCursor{at: at, id: id, begun: true}
	}
	if err := rows.Err(); err != nil {
		return nil, c, fmt.Errorf("list old items: %w", err)
	}
	return ids, c, nil
}

// feedKey is a match's place in its topic's feed (see TopicEntries).
type feedKey struct {
	published, matched sql.NullInt64
	item               string
}

// before reports whether k comes before o in a feed: newer Published first
// (unknown last), then newer MatchedAt (unknown last), then item id.
func (k feedKey) before(o feedKey) bool {
	if k.published != o.published {
		return newerFirst(k.published, o.published)
	}
	if k.matched != o.matched {
		return newerFirst(k.matched, o.matched)
	}
	return k.item < o.item
}

// newerFirst orders two distinct times newest first, NULL last.
func newerFirst(a, b sql.NullInt64) bool {
	if a.Valid != b.Valid {
		return a.Valid
	}
	return a.Int64 > b.Int64
}

// cutoffs says which matches PruneItems keeps: for each topic with more
// than keep entries, the feed key of its keep-th entry (every entry up to
// it is kept); a topic without a cutoff keeps all of its few entries.
type cutoffs struct {
	keep int
	last map[string]feedKey
}

func (c cutoffs) kept(topic string, k feedKey) bool {
	if c.keep == 0 {
		return false
	}
	last, ok := c.last[topic]
	return !ok || !last.before(k)
}

// feedCutoffs finds every topic's cutoff: one skip scan for the topics,
// one index walk of keep entries per topic.
func (s *Store) feedCutoffs(ctx context.Context, keep int) (cutoffs, error) {
	c := cutoffs{keep: keep, last: map[string]feedKey{}}
	if keep == 0 {
		return c, nil
	}
	// A recursive skip scan: one index probe per topic, however many
	// matches each has.
	rows, err := s.db.QueryContext(ctx, `WITH RECURSIVE t (id) AS (
			SELECT MIN(topic_id) FROM matches
			UNION ALL
			SELECT (SELECT MIN(m.topic_id) FROM matches m WHERE m.topic_id > t.id) FROM t WHERE t.id IS NOT NULL
		)
		SELECT id FROM t WHERE id IS NOT NULL`)
	if err != nil {
		return c, fmt.Errorf("list topics: %w", err)
	}
	var topics []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return c, fmt.Errorf("list topics: %w", err)
		}
		topics = append(topics, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("list topics: %w", err)
	}
	for _, topic := range topics {
		k := feedKey{}
		err := s.db.QueryRowContext(ctx, `SELECT item_published, matched_at, item_id FROM matches
			WHERE topic_id = $1 AND duplicate_of IS NULL
			ORDER BY item_published DESC NULLS LAST, matched_at DESC NULLS LAST, item_id
			LIMIT 1 OFFSET $2`, topic, keep-1).Scan(&k.published, &k.matched, &k.item)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return c, fmt.Errorf("feed cutoff of topic %q: %w", topic, err)
		}
		c.last[topic] = k
	}
	return c, nil
}

// finishedStatuses are the outbox states PruneItems may delete.
const finishedStatuses = `('delivered', 'failed', 'dead', 'digested')`

// pruneBatchTx deletes what it may of the items ids (see PruneItems) and
// returns how many items went. The deletes repeat the checks that protect
// rows, so that a row another process made precious meanwhile survives.
func pruneBatchTx(ctx context.Context, tx *sql.Tx, ids []string, c cutoffs) (int, error) {
	type matchRef struct {
		topic, dupOf string
		key          feedKey
	}
	matches := map[string][]matchRef{} // by item
	firsts := map[string]bool{}        // first sightings of the batch's duplicates
	err := inChunks(ctx, tx, ids, `SELECT topic_id, item_id, item_published, matched_at, COALESCE(duplicate_of, '')
		FROM matches WHERE item_id IN (%s)`, func(rows *sql.Rows) error {
		var m matchRef
		if err := rows.Scan(&m.topic, &m.key.item, &m.key.published, &m.key.matched, &m.dupOf); err != nil {
			return err
		}
		matches[m.key.item] = append(matches[m.key.item], m)
		if m.dupOf != "" {
			firsts[m.dupOf] = true
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read matches: %w", err)
	}
	// The feed keys of the first sightings, by topic and item.
	firstKeys := map[matchKey]feedKey{}
	err = inChunks(ctx, tx, keys(firsts), `SELECT topic_id, item_id, item_published, matched_at
		FROM matches WHERE item_id IN (%s)`, func(rows *sql.Rows) error {
		var topic string
		var k feedKey
		if err := rows.Scan(&topic, &k.item, &k.published, &k.matched); err != nil {
			return err
		}
		firstKeys[matchKey{topic, k.item}] = k
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read first sightings: %w", err)
	}
	busy := map[string]bool{}
	err = inChunks(ctx, tx, ids, `SELECT DISTINCT m.item_id FROM matches m
		JOIN deliveries d ON d.topic_id = m.topic_id AND d.item_id = m.item_id
		WHERE m.item_id IN (%s) AND (d.status IN ('pending', 'held')
			OR (d.status = 'digested' AND EXISTS (SELECT 1 FROM deliveries g
				WHERE g.id = d.digest_id AND g.status IN ('pending', 'held'))))`, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		busy[id] = true
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read unfinished deliveries: %w", err)
	}
	referrers := map[string][]string{} // first sighting -> items of its duplicates
	err = inChunks(ctx, tx, ids, `SELECT duplicate_of, item_id FROM matches WHERE duplicate_of IN (%s)`, func(rows *sql.Rows) error {
		var first, dup string
		if err := rows.Scan(&first, &dup); err != nil {
			return err
		}
		referrers[first] = append(referrers[first], dup)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read duplicates: %w", err)
	}

	doomed := map[string]bool{}
	for _, id := range ids {
		if busy[id] {
			continue
		}
		keep := false
		for _, m := range matches[id] {
			k := m.key
			if m.dupOf != "" {
				fk, ok := firstKeys[matchKey{m.topic, m.dupOf}]
				if !ok {
					continue // a duplicate of nothing in this topic shows nowhere
				}
				k = fk
			}
			if c.kept(m.topic, k) {
				keep = true
				break
			}
		}
		if !keep {
			doomed[id] = true
		}
	}
	// An item stays while a duplicate of it stays.
	for changed := true; changed; {
		changed = false
		for id := range doomed {
			for _, dup := range referrers[id] {
				if !doomed[dup] {
					delete(doomed, id)
					changed = true
					break
				}
			}
		}
	}
	if len(doomed) == 0 {
		return 0, nil
	}
	gone := keys(doomed)
	if err := execChunks(ctx, tx, gone, `DELETE FROM deliveries WHERE id IN (SELECT d.id FROM matches m
		JOIN deliveries d ON d.topic_id = m.topic_id AND d.item_id = m.item_id
		WHERE m.item_id IN (%s) AND d.status IN `+finishedStatuses+`)`, nil); err != nil {
		return 0, fmt.Errorf("delete deliveries: %w", err)
	}
	if err := execChunks(ctx, tx, gone, `DELETE FROM matches WHERE item_id IN (%s) AND `+undeliveredCond, nil); err != nil {
		return 0, fmt.Errorf("delete matches: %w", err)
	}
	n := 0
	if err := execChunks(ctx, tx, gone, `DELETE FROM items WHERE id IN (%s)
		AND NOT EXISTS (SELECT 1 FROM matches m WHERE m.item_id = items.id)
		AND NOT EXISTS (SELECT 1 FROM matches m WHERE m.duplicate_of IS NOT NULL AND m.duplicate_of = items.id)`, &n); err != nil {
		return 0, fmt.Errorf("delete items: %w", err)
	}
	return n, nil
}

// pruneEventsSQL walks the outbox rows of no item created before $1, by
// age, from the cursor ($3, $4) on, $2 at a time, in the deliveries_events
// index.
const pruneEventsSQL = `SELECT id, created_at FROM deliveries
	WHERE item_id IS NULL AND created_at < $1 AND created_at >= $3 AND (created_at > $3 OR id > $4)
	ORDER BY created_at, id LIMIT $2`

// pruneEvents deletes finished deliveries of no item created before
// before: source.health events, and digests none of whose members are left.
func (s *Store) pruneEvents(ctx context.Context, before int64) error {
	var (
		at int64 = math.MinInt64
		id string
	)
	for {
		var ids []string
		err := func() error {
			rows, err := s.db.QueryContext(ctx, pruneEventsSQL, before, pruneBatch, at, id)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := rows.Scan(&id, &at); err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return rows.Err()
		}()
		if err != nil {
			return fmt.Errorf("list old events: %w", err)
		}
		if len(ids) > 0 {
			err = s.write(ctx, func(tx *sql.Tx) error {
				return execChunks(ctx, tx, ids, `DELETE FROM deliveries WHERE id IN (%s)
					AND status IN ('delivered', 'failed', 'dead') AND item_id IS NULL
					AND NOT EXISTS (SELECT 1 FROM deliveries m WHERE m.digest_id = deliveries.id)`, nil)
			})
			if err != nil {
				return fmt.Errorf("delete events: %w", err)
			}
		}
		if len(ids) < pruneBatch {
			return nil
		}
	}
}

// keys returns a set's members (in no particular order).
func keys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	return out
}

// execChunks runs a statement (with one %s for the IN list of ids) once per
// unseenChunk ids, adding the rows it affected to *affected when given.
func execChunks(ctx context.Context, tx *sql.Tx, ids []string, query string, affected *int) error {
	for start := 0; start < len(ids); start += unseenChunk {
		chunk := ids[start:min(start+unseenChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		res, err := tx.ExecContext(ctx, fmt.Sprintf(query, placeholders(1, len(chunk))), args...)
		if err != nil {
			return err
		}
		if affected != nil {
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			*affected += int(n)
		}
	}
	return nil
}

// Backup writes a consistent copy of a SQLite database to path, while the
// store stays in use (VACUUM INTO: a compacted copy of one snapshot). path
// must not exist yet. A PostgreSQL database is backed up with its own
// tools (pg_dump); Backup says so with an error wrapping
// errors.ErrUnsupported.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.eng == enginePostgres {
		return fmt.Errorf("store: backup: a PostgreSQL database is backed up with pg_dump (e.g. pg_dump --format=custom --file=wirewatch.dump \"$DSN\"), not by wirewatch: %w", errors.ErrUnsupported)
	}
	if path == "" {
		return errors.New("store: backup: empty path")
	}
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO $1`, path); err != nil {
		return fmt.Errorf("store: backup to %q: %w", path, err)
	}
	return nil
}
