package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"wirewatch/news"
)

// ItemsSince returns stored items fetched at or after since, newest first
// (by FetchedAt, then ID descending), at most limit of them: limit <= 0
// means 10000 and larger limits are clamped to 10000, so a backfill window
// keeps its newest items when it holds more.
//
// sourceIDs restricts the result to those sources; nil or empty means all
// sources, as for news.Topic.Sources. A zero since means no lower bound:
// items without a fetch time are included then, last.
func (s *Store) ItemsSince(ctx context.Context, since time.Time, sourceIDs []string, limit int) ([]news.Item, error) {
	var (
		conds []string
		args  []any
	)
	if !since.IsZero() {
		args = append(args, since.UnixMilli())
		conds = append(conds, fmt.Sprintf("i.fetched_at >= $%d", len(args)))
	}
	if len(sourceIDs) > 0 {
		for _, id := range sourceIDs {
			args = append(args, id)
		}
		conds = append(conds, "i.source_id IN ("+placeholders(len(args)-len(sourceIDs)+1, len(sourceIDs))+")")
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	args = append(args, clampLimit(limit, maxLimit))
	rows, err := s.db.QueryContext(ctx, `SELECT `+itemColumns+` FROM items i `+where+`
		ORDER BY i.fetched_at DESC NULLS LAST, i.id DESC
		LIMIT `+fmt.Sprintf("$%d", len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: items since %v: %w", since, err)
	}
	defer rows.Close()
	var out []news.Item
	for rows.Next() {
		var ir itemRow
		if err := rows.Scan(ir.dest()...); err != nil {
			return nil, fmt.Errorf("store: items since %v: %w", since, err)
		}
		it, err := ir.item()
		if err != nil {
			return nil, fmt.Errorf("store: items since %v: %w", since, err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: items since %v: %w", since, err)
	}
	return out, nil
}

// Item returns one stored item and the title shown for its source (the
// remembered title, else the source id). An unknown id yields an error
// wrapping news.ErrNotFound.
func (s *Store) Item(ctx context.Context, id string) (news.Item, string, error) {
	var (
		ir    itemRow
		title string
	)
	err := s.db.QueryRowContext(ctx, `SELECT `+itemColumns+`, `+sourceTitleExpr+`
		FROM items i
		LEFT JOIN sources s ON s.id = i.source_id
		WHERE i.id = $1`, id).Scan(append(ir.dest(), &title)...)
	if errors.Is(err, sql.ErrNoRows) {
		return news.Item{}, "", fmt.Errorf("store: item %q: %w", id, news.ErrNotFound)
	}
	if err != nil {
		return news.Item{}, "", fmt.Errorf("store: item %q: %w", id, err)
	}
	it, err := ir.item()
	if err != nil {
		return news.Item{}, "", fmt.Errorf("store: item %q: %w", id, err)
	}
	return it, title, nil
}
