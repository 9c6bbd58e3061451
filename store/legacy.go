package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"wirewatch/news"
)

// Items stored before migration 10 keep the IDs an older wirewatch gave
// them (news.LegacyItemID): their IDs are public (feed GUIDs, webhook
// payloads, /items/ links), so rewriting them would make every reader show
// them again. Migration 10 records whether any such items exist, and until
// retention has removed the last of them, an incoming item that is not
// stored under its ID is also looked up under its legacy ID
// (LegacyItemIDs), so that it is recognised as seen and not alerted twice.

// migrationItemIDsBySource is migration 10, the same on both engines: one
// row, holding the newest fetch time among the items stored then, when
// there were any.
var migrationItemIDsBySource = migration{version: 10, name: "item ids grouped by source", stmts: []string{
	`CREATE TABLE legacy_item_ids (fetched_until BIGINT)`,
	`INSERT INTO legacy_item_ids (fetched_until)
		SELECT (SELECT MAX(fetched_at) FROM items) WHERE EXISTS (SELECT 1 FROM items)`,
}}

// loadLegacyItemIDs sets s.legacyItemIDs when items from before migration
// 10 may remain, and forgets the record once none do: every item fetched
// since has a source-prefixed ID. Both questions are index probes
// (items_fetched).
func (s *Store) loadLegacyItemIDs(ctx context.Context) error {
	var until sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT fetched_until FROM legacy_item_ids`).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("legacy item ids: %w", err)
	}
	var left bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM items WHERE fetched_at IS NULL)
		OR EXISTS (SELECT 1 FROM items WHERE fetched_at <= $1)`, until).Scan(&left); err != nil {
		return fmt.Errorf("legacy item ids: %w", err)
	}
	if !left {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM legacy_item_ids`); err != nil {
			return fmt.Errorf("legacy item ids: forget: %w", err)
		}
	}
	s.legacyItemIDs = left
	return nil
}

// LegacyItemIDs returns, for those of the items that are stored under the
// ID an older wirewatch gave them (news.LegacyItemID of their source and
// key), that stored ID, by the item's ID. It asks the database only while
// such items may remain (see loadLegacyItemIDs); the poller calls it for
// the items UnseenItems did not find.
func (s *Store) LegacyItemIDs(ctx context.Context, items []news.Item) (map[string]string, error) {
	if !s.legacyItemIDs || len(items) == 0 {
		return nil, nil
	}
	olds := make([]string, len(items))
	for i, it := range items {
		olds[i] = news.LegacyItemID(it.SourceID, it.Key)
	}
	stored, err := s.storedIDs(ctx, olds)
	if err != nil {
		return nil, fmt.Errorf("store: legacy item ids: %w", err)
	}
	out := make(map[string]string)
	for i, it := range items {
		if stored[olds[i]] {
			out[it.ID] = olds[i]
		}
	}
	return out, nil
}
