package store

import (
	"context"
	"database/sql"
	"fmt"

	"wirewatch/news"
)

// maxSightings caps Entry.AlsoReportedBy: a story every outlet carries
// would otherwise make one entry as long as the whole feed.
const maxSightings = 20

// topicEntriesSQL reads a page of a topic's feed ($1 topic, $2 limit).
// Duplicates are left out: they show on their first sighting instead.
const topicEntriesSQL = `SELECT ` + itemColumns + `, ` + matchColumns + `, ` + sourceTitleExpr + `, i.previous_title
	FROM matches m
	JOIN items i ON i.id = m.item_id
	LEFT JOIN sources s ON s.id = i.source_id
	WHERE m.topic_id = $1 AND m.duplicate_of IS NULL
	ORDER BY m.item_published DESC NULLS LAST, m.matched_at DESC NULLS LAST, m.item_id
	LIMIT $2`

// sightingsBatch is how many entries one sightings query serves: the
// default page size, so that a default page costs one prepared statement.
const sightingsBatch = defaultEntryLimit

// sightingsSQL reads the oldest maxSightings duplicates of the topic ($1)
// of each of n first sightings ($2...; a NULL matches nothing). The window
// runs over the matches_duplicates index alone; items and sources are read
// for the rows kept only. A duplicate with an unknown MatchedAt (NULL)
// counts as the oldest, as the zero time does.
func sightingsSQL(n int) string {
	return fmt.Sprintf(`SELECT x.duplicate_of, x.item_id, i.source_id, %s, i.title, i.link, x.matched_at, x.rn
	FROM (SELECT m.duplicate_of, m.item_id, m.matched_at,
			ROW_NUMBER() OVER (PARTITION BY m.duplicate_of ORDER BY m.matched_at NULLS FIRST, m.item_id) AS rn
		FROM matches m
		WHERE m.topic_id = $1 AND m.duplicate_of IN (%s)) x
	JOIN items i ON i.id = x.item_id
	LEFT JOIN sources s ON s.id = i.source_id
	WHERE x.rn <= %d`, sourceTitleExpr, placeholders(2, n), maxSightings)
}

// TopicEntries returns a topic's newest matched items, baseline matches
// included and duplicates (matches with DuplicateOf set) left out: ordered
// by the item's Published time (newest first, unknown last), then
// MatchedAt (newest first), then item id. Each entry carries its source's
// remembered title, or the source id when there is none; its item's title
// before its latest correction (PreviousTitle); and the topic's duplicates
// of its item (AlsoReportedBy), oldest MatchedAt first, then by item id, at
// most 20. limit <= 0 means 50; limits above 10000 are clamped.
func (s *Store) TopicEntries(ctx context.Context, topicID string, limit int) ([]news.Entry, error) {
	out, err := s.topicEntries(ctx, topicID, clampLimit(limit, defaultEntryLimit))
	if err != nil {
		return nil, fmt.Errorf("store: topic entries %q: %w", topicID, err)
	}
	return out, nil
}

func (s *Store) topicEntries(ctx context.Context, topicID string, limit int) ([]news.Entry, error) {
	// Both reads see one snapshot, so a poll saved in between cannot pair
	// a page with sightings of another state. On SQLite, ReadOnly makes the
	// driver begin a deferred transaction (not the DSN's _txlock=immediate):
	// it takes no write lock, and WAL lets it run beside the writer. On
	// PostgreSQL the snapshot takes REPEATABLE READ (see Store.snapshot).
	opts := s.snapshot
	tx, err := s.db.BeginTx(ctx, &opts)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to keep

	rows, err := tx.StmtContext(ctx, s.hot.topicEntries).QueryContext(ctx, topicID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []news.Entry
	for rows.Next() {
		var ir itemRow
		var mr matchRow
		var e news.Entry
		if err := rows.Scan(append(append(ir.dest(), mr.dest()...), &e.SourceTitle, &e.PreviousTitle)...); err != nil {
			return nil, err
		}
		if e.Item, err = ir.item(); err != nil {
			return nil, err
		}
		if e.Match, err = mr.match(); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := addSightings(ctx, tx.StmtContext(ctx, s.hot.sightings), topicID, out); err != nil {
		return nil, fmt.Errorf("also reported by: %w", err)
	}
	return out, nil
}

// addSightings fills AlsoReportedBy of entries, running sightings (the
// prepared sightingsSQL(sightingsBatch)) once per sightingsBatch entries.
func addSightings(ctx context.Context, sightings *sql.Stmt, topicID string, entries []news.Entry) error {
	at := make(map[string]int, len(entries))
	for i, e := range entries {
		at[e.Item.ID] = i
	}
	type ranked struct {
		sg news.Sighting
		rn int
	}
	found := map[string][]ranked{}
	for start := 0; start < len(entries); start += sightingsBatch {
		chunk := entries[start:min(start+sightingsBatch, len(entries))]
		args := make([]any, sightingsBatch+1) // unused slots stay nil: NULL
		args[0] = topicID
		for i, e := range chunk {
			args[i+1] = e.Item.ID
		}
		err := func() error {
			rows, err := sightings.QueryContext(ctx, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var (
					first string
					r     ranked
					seen  sql.NullInt64
				)
				if err := rows.Scan(&first, &r.sg.ItemID, &r.sg.SourceID, &r.sg.SourceTitle,
					&r.sg.Title, &r.sg.Link, &seen, &r.rn); err != nil {
					return err
				}
				r.sg.SeenAt = timeOf(seen)
				found[first] = append(found[first], r)
			}
			return rows.Err()
		}()
		if err != nil {
			return err
		}
	}
	for first, rs := range found {
		i, ok := at[first]
		if !ok {
			continue
		}
		sgs := make([]news.Sighting, len(rs))
		for _, r := range rs {
			if r.rn < 1 || r.rn > len(rs) {
				return fmt.Errorf("sightings of %q: rank %d of %d", first, r.rn, len(rs))
			}
			sgs[r.rn-1] = r.sg
		}
		entries[i].AlsoReportedBy = sgs
	}
	return nil
}
