package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// findStorySQL builds FindStory's query: $1 is the topic, then the since
// bound (when given) and the keys (those given). Matches carry their
// item's story keys, so the topic's first sightings are found by key in
// the partial matches_story_* indexes: one entry per story and topic,
// however many outlets carried it (walking items by key, as before
// migration 9, visited every one of them).
func findStorySQL(withSince, withURL, withTitle bool) string {
	n := 1
	param := func() string { n++; return fmt.Sprintf("$%d", n) }
	since := ""
	if withSince {
		since = ` AND matched_at >= ` + param()
	}
	// One SELECT per key, each an index search of its own: with the keys
	// OR-ed in one WHERE, SQLite may walk every match of the topic instead.
	var selects []string
	for _, key := range []struct {
		column string
		given  bool
	}{{"story_url", withURL}, {"story_title", withTitle}} {
		if key.given {
			selects = append(selects, `SELECT item_id, matched_at FROM matches
			WHERE topic_id = $1 AND duplicate_of IS NULL AND `+key.column+` = `+param()+since)
		}
	}
	return `SELECT item_id FROM (` + strings.Join(selects, ` UNION ALL `) + `) sightings
		ORDER BY matched_at NULLS FIRST, item_id
		LIMIT 1`
}

// findStory returns FindStory's query and its arguments for keys as
// stored ("" for a key the item lacks).
func findStory(topicID, canonicalURL, titleKey string, since time.Time) (string, []any) {
	args := []any{topicID}
	if !since.IsZero() {
		args = append(args, since.UnixMilli())
	}
	for _, k := range []string{canonicalURL, titleKey} {
		if k != "" {
			args = append(args, k)
		}
	}
	return findStorySQL(!since.IsZero(), canonicalURL != "", titleKey != ""), args
}

// FindStory returns the item id of the first sighting of a story for a
// topic: a match of topicID that is not itself a duplicate, matched at or
// after since, whose item has the same canonical URL (when canonicalURL is
// non-empty) or the same title key (when titleKey is non-empty). The
// earliest such match wins (by MatchedAt, then item id). ok=false when
// none. Baseline matches count: a story first seen in a source's backlog
// was seen all the same. A zero since means no lower bound. The keys are
// compared as given; callers pass news.CanonicalURL and news.TitleKey of
// the new item, which is what the store keeps for every item.
func (s *Store) FindStory(ctx context.Context, topicID, canonicalURL, titleKey string, since time.Time) (firstItemID string, ok bool, err error) {
	if canonicalURL == "" && titleKey == "" {
		return "", false, nil
	}
	q, args := findStory(topicID, indexKey(cleanText(canonicalURL)), indexKey(cleanText(titleKey)), since)
	stmt, err := s.stmt(ctx, q)
	if err != nil {
		return "", false, fmt.Errorf("store: find story for topic %q: %w", topicID, err)
	}
	err = stmt.QueryRowContext(ctx, args...).Scan(&firstItemID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: find story for topic %q: %w", topicID, err)
	}
	return firstItemID, true, nil
}

// ItemTitles returns the stored title of each id that exists (missing ids
// are absent from the map), for announcing a correction with the title it
// replaces.
func (s *Store) ItemTitles(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	err := inChunks(ctx, s.db, ids, `SELECT id, title FROM items WHERE id IN (%s)`, func(rows *sql.Rows) error {
		var id, title string
		if err := rows.Scan(&id, &title); err != nil {
			return err
		}
		out[id] = title
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: item titles: %w", err)
	}
	return out, nil
}

// AlertedTopics returns, per item id, the topics whose match of that item
// was alerted (not baseline, not a duplicate) — those whose subscribers may
// get a correction. Topics are sorted; an item without such a match is
// absent from the map. Whether a webhook actually had a delivery is not
// asked: a webhook added since would still want the correction of a story
// its topic alerted.
func (s *Store) AlertedTopics(ctx context.Context, itemIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	err := inChunks(ctx, s.db, itemIDs, `SELECT item_id, topic_id FROM matches
		WHERE item_id IN (%s) AND NOT baseline AND duplicate_of IS NULL`, func(rows *sql.Rows) error {
		var item, topic string
		if err := rows.Scan(&item, &topic); err != nil {
			return err
		}
		out[item] = append(out[item], topic)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: alerted topics: %w", err)
	}
	for _, topics := range out {
		slices.Sort(topics)
	}
	return out, nil
}

// querier is what inChunks reads through: the database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// inChunks runs query (with one %s for the IN list of ids, parameters $1...)
// once per unseenChunk ids and hands every row to scan.
func inChunks(ctx context.Context, db querier, ids []string, query string, scan func(*sql.Rows) error) error {
	for start := 0; start < len(ids); start += unseenChunk {
		chunk := ids[start:min(start+unseenChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		err := func() error {
			rows, err := db.QueryContext(ctx, fmt.Sprintf(query, placeholders(1, len(chunk))), args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := scan(rows); err != nil {
					return err
				}
			}
			return rows.Err()
		}()
		if err != nil {
			return err
		}
	}
	return nil
}
