package store

import (
	"context"
	"testing"
	"time"

	"wirewatch/news"
)

// testLegacyIDContract covers items stored under the IDs an older wirewatch
// gave them (news.LegacyItemID): found under those while any remain, and
// the record of them forgotten once retention removed the last.
func testLegacyIDContract(t *testing.T, b backend) {
	ctx := context.Background()
	t.Run("LegacyItemIDs", func(t *testing.T) {
		st := b.open(t)
		// A fresh database has none: no lookup, no answer.
		now := testItem("s1", "now", at(0))
		if got, err := st.(*Store).LegacyItemIDs(ctx, []news.Item{now}); err != nil || len(got) != 0 {
			t.Fatalf("fresh store: LegacyItemIDs = %v, %v", got, err)
		}
		// An item as an older wirewatch stored it, and migration 10's
		// record of such items (written here as the migration writes it
		// on a database that had items).
		old := testItem("s1", "old", at(0))
		old.ID = news.LegacyItemID("s1", "old")
		old.FetchedAt = at(0)
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{old}})
		if _, err := st.(*Store).db.ExecContext(ctx, `INSERT INTO legacy_item_ids (fetched_until) VALUES ($1)`, at(0).UnixMilli()); err != nil {
			t.Fatal(err)
		}
		st = b.reopen(t, st)
		// The same item fetched again has a source-prefixed ID; it is
		// found under its old one. An item never stored is not.
		again := testItem("s1", "old", at(0))
		got, err := st.(*Store).LegacyItemIDs(ctx, []news.Item{again, now})
		if err != nil || len(got) != 1 || got[again.ID] != old.ID {
			t.Fatalf("LegacyItemIDs = %v, %v; want %s → %s", got, err, again.ID, old.ID)
		}
		// Items fetched after the migration do not keep the lookups on;
		// once the old item is gone, the record is forgotten.
		later := testItem("s1", "later", at(time.Hour))
		later.FetchedAt = at(time.Hour)
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{later}})
		if _, err := st.(*Store).db.ExecContext(ctx, `DELETE FROM items WHERE id = $1`, old.ID); err != nil {
			t.Fatal(err)
		}
		st = b.reopen(t, st)
		if got, err := st.(*Store).LegacyItemIDs(ctx, []news.Item{again}); err != nil || len(got) != 0 {
			t.Fatalf("after the last legacy item: LegacyItemIDs = %v, %v", got, err)
		}
		var n int
		if err := st.(*Store).db.QueryRowContext(ctx, `SELECT COUNT(*) FROM legacy_item_ids`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("legacy_item_ids has %d rows (%v), want 0", n, err)
		}
	})
}
