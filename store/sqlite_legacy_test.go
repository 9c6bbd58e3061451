package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"wirewatch/news"
)

// Migration 10 records that a database has items from before source-
// prefixed IDs, with the newest fetch time among them; a database without
// items gets no record, and never looks items up twice.
func TestMigrationRecordsLegacyItemIDs(t *testing.T) {
	ctx := context.Background()
	for _, withItems := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "w.db")
		db := openAtVersion(t, path, 9)
		if _, err := db.ExecContext(ctx, `INSERT INTO sources (id, url) VALUES ('s1', 'https://example.org/s1.xml')`); err != nil {
			t.Fatal(err)
		}
		items := map[string]time.Time{"a": at(0), "b": at(time.Minute)}
		if !withItems {
			items = nil
		}
		for key, fetched := range items {
			if _, err := db.ExecContext(ctx, `INSERT INTO items (id, source_id, item_key, title, fetched_at) VALUES ($1, 's1', $2, 'old', $3)`,
				news.LegacyItemID("s1", key), key, fetched.UnixMilli()); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		s := openSQLiteAt(t, path)
		var rows int
		var until *int64
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(fetched_until) FROM legacy_item_ids`).Scan(&rows, &until); err != nil {
			t.Fatal(err)
		}
		got, err := s.LegacyItemIDs(ctx, []news.Item{testItem("s1", "a", at(0))})
		if err != nil {
			t.Fatal(err)
		}
		if withItems {
			if rows != 1 || until == nil || *until != at(time.Minute).UnixMilli() || got[news.ItemID("s1", "a")] != news.LegacyItemID("s1", "a") {
				t.Errorf("with items: %d rows, until %v, lookup %v", rows, until, got)
			}
		} else if rows != 0 || len(got) != 0 {
			t.Errorf("without items: %d rows, lookup %v", rows, got)
		}
	}
}
