package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"wirewatch/news"
)

// A database written before item IDs had a source prefix (store migration
// 10) keeps working: its items keep their IDs, an item the feed still
// carries is recognised as seen (no second alert) and its corrections land
// on the stored row, and new items get the new IDs.
func TestUpgradeKeepsLegacyItemIDs(t *testing.T) {
	wire := &testFeed{}
	wire.add("b1", "Uyghur activists welcome the human rights report", "Exiles in Istanbul.")
	src := serveHTTP(t, wire)
	desk := &receiver{}
	deskSrv := serveHTTP(t, desk)
	cfgPath := writeConfig(t, fmt.Sprintf(`
database: ww.db
allow_private_networks: true
sources:
  - id: wire
    url: %s/feed.xml
topics:
  - id: xj
    query: 'Uyghur* AND "human rights"'
webhooks:
  - id: desk
    url: %s/hook
    secret: %s
`, src.URL, deskSrv.URL, testSecret))
	run := func() string { return runOnce(t, cfgPath, "10s") }
	run() // the baseline: b1 is stored, not alerted
	dbPath := filepath.Join(filepath.Dir(cfgPath), "ww.db")
	legacyID := news.LegacyItemID("wire", "b1")
	makeLegacy(t, dbPath, legacyID)

	wire.retitle("b1", "Uyghur activists welcome the UN human rights report")
	wire.add("b2", "Uyghur forced labour: new human rights sanctions", "Import ban widened.")
	out := run()
	got := desk.snapshot()
	if len(got) != 1 || !strings.Contains(string(got[0].body), "forced labour") {
		t.Fatalf("after the upgrade the desk got %d alerts, want only b2's; output:\n%s", len(got), out)
	}
	db := openDB(t, dbPath)
	rows, err := db.Query(`SELECT id, title FROM items ORDER BY item_key`)
	if err != nil {
		t.Fatal(err)
	}
	var ids, titles []string
	for rows.Next() {
		var id, title string
		if err := rows.Scan(&id, &title); err != nil {
			t.Fatal(err)
		}
		ids, titles = append(ids, id), append(titles, title)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{legacyID, news.ItemID("wire", "b2")}
	if strings.Join(ids, " ") != strings.Join(want, " ") || !strings.Contains(titles[0], "UN human rights") {
		t.Fatalf("items %v %q, want ids %v and b1's corrected title", ids, titles, want)
	}
	db.Close()
	run()
	if n := len(desk.snapshot()); n != 1 {
		t.Fatalf("a further run sent more: %d alerts", n)
	}
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// makeLegacy turns a database with one item into what a wirewatch from
// before migration 10 left: the item under its legacy ID, schema version 9.
func makeLegacy(t *testing.T, path, legacyID string) {
	t.Helper()
	ctx := context.Background()
	conn, err := openDB(t, path).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var id string
	if err := conn.QueryRowContext(ctx, `SELECT id FROM items`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`PRAGMA foreign_keys = OFF`,
		`UPDATE items SET id = $1 WHERE id = $2`,
		`UPDATE matches SET item_id = $1 WHERE item_id = $2`,
		`UPDATE deliveries SET item_id = $1 WHERE item_id = $2`,
		`DELETE FROM schema_migrations WHERE version >= 10`,
		`DROP TABLE legacy_item_ids`,
	} {
		var args []any
		if strings.Contains(q, "$2") {
			args = []any{legacyID, id}
		}
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
