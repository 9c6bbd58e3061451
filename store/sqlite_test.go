package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

// openSQLiteAt opens the store at path and closes it when the test ends.
func openSQLiteAt(t testing.TB, path string) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenSQLite(%q): %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func sqliteBackend() backend {
	paths := map[contractStore]string{}
	var mu sync.Mutex
	return backend{
		open: func(t *testing.T) contractStore {
			path := filepath.Join(t.TempDir(), "wirewatch.db")
			s := openSQLiteAt(t, path)
			mu.Lock()
			paths[s] = path
			mu.Unlock()
			return s
		},
		reopen: func(t *testing.T, st contractStore) contractStore {
			mu.Lock()
			path := paths[st]
			mu.Unlock()
			if err := st.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s := openSQLiteAt(t, path)
			mu.Lock()
			paths[s] = path
			mu.Unlock()
			return s
		},
		another: func(t *testing.T, st contractStore) contractStore {
			mu.Lock()
			path := paths[st]
			mu.Unlock()
			s := openSQLiteAt(t, path)
			mu.Lock()
			paths[s] = path
			mu.Unlock()
			return s
		},
	}
}

func TestSQLiteContract(t *testing.T) {
	testStoreContract(t, sqliteBackend())
}

func TestOpenSQLiteTwiceIsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s := openSQLiteAt(t, path)
	if err := s.SaveSourceState(ctx, news.SourceState{SourceID: "s1", Title: "kept"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSQLiteAt(t, path)
	var rows, newest int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&rows, &newest); err != nil {
		t.Fatal(err)
	}
	if rows != len(sqliteMigrations) || newest != len(sqliteMigrations) {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d", rows, newest, len(sqliteMigrations))
	}
	if st, err := s.SourceState(ctx, "s1"); err != nil || st.Title != "kept" {
		t.Fatalf("data lost on reopen: %+v, %v", st, err)
	}
}

// Every pooled connection, not just the first, must carry the pragmas.
func TestSQLitePragmasOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteAt(t, filepath.Join(t.TempDir(), "w.db"))
	var conns []*sql.Conn
	for range maxConns {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var journal string
		var busy, fk, sync int
		if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal); err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct {
			name string
			dst  *int
		}{{"busy_timeout", &busy}, {"foreign_keys", &fk}, {"synchronous", &sync}} {
			if err := c.QueryRowContext(ctx, `PRAGMA `+p.name).Scan(p.dst); err != nil {
				t.Fatal(err)
			}
		}
		if journal != "wal" || busy != 5000 || fk != 1 || sync != 1 {
			t.Errorf("conn %d: journal_mode=%s busy_timeout=%d foreign_keys=%d synchronous=%d", i, journal, busy, fk, sync)
		}
	}
	for _, c := range conns {
		_ = c.Close()
	}
}

func TestFailedMigrationLeavesSchemaAsItWas(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "w.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := []migration{
		{version: 1, name: "good", stmts: []string{`CREATE TABLE a (x TEXT)`}},
		{version: 2, name: "bad", stmts: []string{`CREATE TABLE b (x TEXT)`, `ALTER TABLE a ADD COLUMN y TEXT`, `NOT SQL`}},
	}
	if err := migrate(ctx, db, engineSQLite, ms); err == nil || !strings.Contains(err.Error(), "2 (bad)") {
		t.Fatalf("migrate = %v, want an error naming migration 2", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("table of the failed migration exists (%d, %v)", n, err)
	}
	if _, err := db.ExecContext(ctx, `SELECT y FROM a`); err == nil {
		t.Fatal("column added by the failed migration exists")
	}
	var newest int
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&newest); err != nil || newest != 1 {
		t.Fatalf("recorded version = %d, %v; want 1", newest, err)
	}
	// Fixed, the migration then applies.
	ms[1].stmts = ms[1].stmts[:2]
	if err := migrate(ctx, db, engineSQLite, ms); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `SELECT y FROM a`); err != nil {
		t.Fatalf("fixed migration not applied: %v", err)
	}
}

func TestMigrationsRefuseBadListsAndNewerDatabases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := migrate(ctx, db, engineSQLite, []migration{{version: 2}}); err == nil {
		t.Fatal("a list not starting at version 1 was accepted")
	}
	if err := migrate(ctx, db, engineSQLite, sqliteMigrations); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if s, err := OpenSQLite(ctx, path); err == nil {
		s.Close()
		t.Fatal("a database migrated by a newer build was opened")
	}
}

func TestOpenSQLitePaths(t *testing.T) {
	ctx := context.Background()
	for _, bad := range []string{"", ":memory:", "file:x.db"} {
		if s, err := OpenSQLite(ctx, bad); err == nil {
			s.Close()
			t.Errorf("OpenSQLite(%q) succeeded", bad)
		}
	}
	// Characters that mean something in a SQLite URI name a plain file.
	dir := t.TempDir()
	path := filepath.Join(dir, "odd ?name#with%25.db")
	s := openSQLiteAt(t, path)
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %q: %v", path, err)
	}
	// A missing directory is an error, not a silent fallback.
	if s, err := OpenSQLite(ctx, filepath.Join(dir, "missing", "w.db")); err == nil {
		s.Close()
		t.Fatal("opened a database in a missing directory")
	}
}

// The topic feed and the delivery list are hot queries: their ORDER BY must
// come from an index, not a sort of every matching row. (The claim has its
// own test, TestClaimAndMarkPlans.)
func TestHotQueriesUseIndexes(t *testing.T) {
	s := openSQLiteAt(t, filepath.Join(t.TempDir(), "w.db"))
	for name, q := range map[string]string{
		"TopicEntries": strings.NewReplacer("$1", "'t1'", "$2", "50").Replace(topicEntriesSQL),
		"Deliveries":   `SELECT ` + deliveryColumns + ` FROM deliveries d ORDER BY d.created_at DESC, d.id DESC LIMIT 100`,
	} {
		joined := queryPlan(t, s.db, q)
		if strings.Contains(joined, "TEMP B-TREE") || !strings.Contains(joined, "INDEX") {
			t.Errorf("%s plan sorts or scans: %s", name, joined)
		}
	}
}

// A database written by an older build (schema version 1, before marks
// and topics) opens with this one: its rows are all there and usable, and
// the new columns and tables work on them.
func TestMigrationFromPreviousVersionKeepsRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	const prev = 1
	db := openAtVersion(t, path, prev)
	// Rows as the version-1 code wrote them, column for column.
	a, c := testItem("s1", "a", at(0)), testItem("s1", "c", at(time.Second))
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO sources (id, url, title, etag, last_modified, baselined, last_poll, last_success, last_error, failures)
			VALUES ($1, $2, $3, '', '', TRUE, $4, $4, '', 0)`, []any{"s1", "https://example.org/s1.xml", "Source s1", t0.UnixMilli()}},
		{`INSERT INTO items (id, source_id, item_key, title, link, summary, content, authors, categories, published, updated, fetched_at)
			VALUES ($1, 's1', $2, $3, $4, $5, $6, '["Ada","Grace"]', '["politics"]', $7, $8, $9)`,
			[]any{a.ID, a.Key, a.Title, a.Link, a.Summary, a.Content, a.Published.UnixMilli(), a.Updated.UnixMilli(), a.FetchedAt.UnixMilli()}},
		{`INSERT INTO items (id, source_id, item_key, title, link, summary, content, authors, categories, published, updated, fetched_at)
			VALUES ($1, 's1', $2, $3, $4, $5, $6, '["Ada","Grace"]', '["politics"]', $7, $8, $9)`,
			[]any{c.ID, c.Key, c.Title, c.Link, c.Summary, c.Content, c.Published.UnixMilli(), c.Updated.UnixMilli(), c.FetchedAt.UnixMilli()}},
		{`INSERT INTO matches (topic_id, item_id, item_published, terms, hits, score, snippet, matched_at, baseline)
			VALUES ('t1', $1, $2, '["rights"]', NULL, 1.5, 'old snippet', $3, FALSE)`, []any{a.ID, a.Published.UnixMilli(), at(time.Minute).UnixMilli()}},
		{`INSERT INTO matches (topic_id, item_id, item_published, terms, hits, score, snippet, matched_at, baseline)
			VALUES ('t1', $1, $2, '["rights"]', NULL, 1.5, 'old snippet', $3, TRUE)`, []any{c.ID, c.Published.UnixMilli(), at(time.Minute).UnixMilli()}},
		{`INSERT INTO deliveries (id, webhook_id, event_type, topic_id, item_id, status, attempts, next_attempt, last_error, created_at)
			VALUES ('msg_old', 'w1', 'match.created', 't1', $1, 'pending', 0, NULL, '', $2)`, []any{a.ID, at(time.Minute).UnixMilli()}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLiteAt(t, path)
	var newest int
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&newest); err != nil || newest != len(sqliteMigrations) {
		t.Fatalf("schema version = %d, %v; want %d", newest, err, len(sqliteMigrations))
	}
	oldMatch := func(it news.Item, baseline bool) news.Match {
		return news.Match{TopicID: "t1", ItemID: it.ID, Terms: []string{"rights"}, Score: 1.5,
			Snippet: "old snippet", MatchedAt: at(time.Minute), Baseline: baseline} // Marks nil
	}
	es, err := s.TopicEntries(ctx, "t1", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []news.Entry{
		{Item: c, Match: oldMatch(c, true), SourceTitle: "Source s1"},
		{Item: a, Match: oldMatch(a, false), SourceTitle: "Source s1"},
	}
	if !reflect.DeepEqual(es, want) {
		t.Fatalf("entries after migration:\n got %+v\nwant %+v", es, want)
	}
	if st, err := s.SourceState(ctx, "s1"); err != nil || !st.Baselined || st.Title != "Source s1" {
		t.Fatalf("source state after migration = %+v, %v", st, err)
	}
	if items, err := s.ItemsSince(ctx, at(0), []string{"s1"}, 0); err != nil || len(items) != 2 || !reflect.DeepEqual(items[0], c) {
		t.Fatalf("ItemsSince after migration = %+v, %v", items, err)
	}
	if fp, err := s.TopicFingerprint(ctx, "t1"); err != nil || fp != "" {
		t.Fatalf("fingerprint of a pre-migration topic = %q, %v; want new", fp, err)
	}
	alert, ok, err := s.ClaimNext(ctx, "w1", true, at(time.Hour), time.Minute)
	if err != nil || !ok || alert.Delivery.ID != "msg_old" || !reflect.DeepEqual(alert.Entry.Match, oldMatch(a, false)) {
		t.Fatalf("claim after migration = %+v, %v, %v", alert, ok, err)
	}
	// The first backfill after the upgrade gives old matches their marks.
	nc := oldMatch(c, false)
	nc.Marks = []news.Span{{Start: 0, End: 3}}
	if err := s.Backfill(ctx, "t1", "fp", []string{a.ID, c.ID}, []news.Match{nc}, at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	es, err = s.TopicEntries(ctx, "t1", 10)
	if err != nil || len(es) != 2 || !reflect.DeepEqual(es[0].Match.Marks, nc.Marks) || !es[0].Match.Baseline {
		t.Fatalf("entries after backfill = %+v, %v", es, err)
	}
}

// The queries that walk many rows for a backfill or a prune must search
// indexes, never scan a table: the outbox and the items grow without bound.
func TestBackfillQueriesSearchIndexes(t *testing.T) {
	s := openSQLiteAt(t, filepath.Join(t.TempDir(), "w.db"))
	for name, q := range map[string]string{
		"ItemsSince": `SELECT ` + itemColumns + ` FROM items i WHERE i.fetched_at >= 5
			ORDER BY i.fetched_at DESC NULLS LAST, i.id DESC LIMIT 10000`,
		"ItemsSinceOneSource": `SELECT ` + itemColumns + ` FROM items i WHERE i.fetched_at >= 5 AND i.source_id IN ('s1')
			ORDER BY i.fetched_at DESC NULLS LAST, i.id DESC LIMIT 10000`,
		"BackfillDelete": `DELETE FROM matches WHERE topic_id = 't1' AND item_id IN ('a', 'b') AND ` + undeliveredCond,
		"PruneCandidates": `SELECT id, fetched_at FROM items WHERE fetched_at < 9 AND fetched_at <= 8 AND (fetched_at < 8 OR id < 'x')
			ORDER BY fetched_at DESC NULLS LAST, id DESC LIMIT 500`,
		"PruneItemsDelete": `DELETE FROM items WHERE id IN ('a', 'b')
			AND NOT EXISTS (SELECT 1 FROM matches m WHERE m.item_id = items.id)
			AND NOT EXISTS (SELECT 1 FROM matches m WHERE m.duplicate_of IS NOT NULL AND m.duplicate_of = items.id)`,
		"PruneReferrers": `SELECT duplicate_of, item_id FROM matches WHERE duplicate_of IN ('a', 'b')`,
		"PruneDeliveries": `DELETE FROM deliveries WHERE id IN (SELECT d.id FROM matches m
			JOIN deliveries d ON d.topic_id = m.topic_id AND d.item_id = m.item_id
			WHERE m.item_id IN ('a', 'b') AND d.status IN ` + finishedStatuses + `)`,
		"PruneEvents": strings.NewReplacer("$1", "9", "$2", "500", "$3", "1", "$4", "'x'").Replace(pruneEventsSQL),
		"PruneDelete": `DELETE FROM matches WHERE topic_id = 't1' AND ` + undeliveredCond,
	} {
		joined := queryPlan(t, s.db, q)
		if strings.Contains(joined, "TEMP B-TREE") || strings.Contains(joined, "SCAN ") || !strings.Contains(joined, "INDEX") {
			t.Errorf("%s plan sorts or scans: %s", name, joined)
		}
	}
}

// openAtVersion creates a database with only the first version migrations
// applied, as an older build left it, for upgrade tests.
func openAtVersion(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(context.Background(), db, engineSQLite, sqliteMigrations[:version]); err != nil {
		t.Fatal(err)
	}
	return db
}
