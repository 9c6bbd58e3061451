package store

import (
	"context"
	"fmt"

	"wirewatch/news"
)

// TopicEntries returns a topic's newest matched items, baseline matches
// included: ordered by the item's Published time (newest first, unknown
// last), then MatchedAt (newest first), then item id. Each entry carries its
// source's remembered title, or the source id when there is none. limit <= 0
// means 50; limits above 10000 are clamped.
func (s *SQLite) TopicEntries(ctx context.Context, topicID string, limit int) ([]news.Entry, error) {
	limit = clampLimit(limit, defaultEntryLimit)
	rows, err := s.db.QueryContext(ctx, `SELECT `+itemColumns+`, `+matchColumns+`, `+sourceTitleExpr+`
		FROM matches m
		JOIN items i ON i.id = m.item_id
		LEFT JOIN sources s ON s.id = i.source_id
		WHERE m.topic_id = $1
		ORDER BY m.item_published DESC NULLS LAST, m.matched_at DESC NULLS LAST, m.item_id
		LIMIT $2`, topicID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: topic entries %q: %w", topicID, err)
	}
	defer rows.Close()
	var out []news.Entry
	for rows.Next() {
		var ir itemRow
		var mr matchRow
		var e news.Entry
		if err := rows.Scan(append(append(ir.dest(), mr.dest()...), &e.SourceTitle)...); err != nil {
			return nil, fmt.Errorf("store: topic entries %q: %w", topicID, err)
		}
		if e.Item, err = ir.item(); err != nil {
			return nil, fmt.Errorf("store: topic entries %q: %w", topicID, err)
		}
		if e.Match, err = mr.match(); err != nil {
			return nil, fmt.Errorf("store: topic entries %q: %w", topicID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: topic entries %q: %w", topicID, err)
	}
	return out, nil
}
