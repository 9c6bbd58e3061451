package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresEnv names the variable holding the DSN of a PostgreSQL database
// the tests may use (they create and drop schemas in it).
const postgresEnv = "WIREWATCH_TEST_POSTGRES"

// postgresDSN returns the test database's DSN, or skips the test.
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(postgresEnv)
	if dsn == "" {
		t.Skip(postgresEnv + " is not set: PostgreSQL contract suite skipped")
	}
	return dsn
}

// openAdmin opens a plain connection pool on dsn, closed when the test ends.
func openAdmin(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", postgresEnv, err)
	}
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// freshSchema creates a schema of its own for one test in the test
// database, dropped when the test ends, and returns a DSN whose
// connections use it (search_path): every test starts from an empty
// database however many run, and leaves nothing behind.
func freshSchema(t testing.TB) string {
	t.Helper()
	dsn := postgresDSN(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "wirewatch_test_" + hex.EncodeToString(b[:])
	admin := openAdmin(t, dsn)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withParam(t, dsn, "search_path", schema)
}

// withParam sets a query parameter of a DSN.
func withParam(t testing.TB, dsn, key, value string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// openPostgresAt opens the store at dsn and closes it when the test ends.
func openPostgresAt(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func postgresBackend() backend {
	dsns := map[contractStore]string{}
	var mu sync.Mutex
	remember := func(s contractStore, dsn string) contractStore {
		mu.Lock()
		defer mu.Unlock()
		dsns[s] = dsn
		return s
	}
	dsnOf := func(s contractStore) string {
		mu.Lock()
		defer mu.Unlock()
		return dsns[s]
	}
	return backend{
		open: func(t *testing.T) contractStore {
			dsn := freshSchema(t)
			return remember(openPostgresAt(t, dsn), dsn)
		},
		reopen: func(t *testing.T, st contractStore) contractStore {
			dsn := dsnOf(st)
			if err := st.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return remember(openPostgresAt(t, dsn), dsn)
		},
		another: func(t *testing.T, st contractStore) contractStore {
			dsn := dsnOf(st)
			return remember(openPostgresAt(t, dsn), dsn)
		},
	}
}

func TestPostgresContract(t *testing.T) {
	postgresDSN(t)
	testStoreContract(t, postgresBackend())
}

// Several instances starting together on an empty database migrate it
// once: every Open succeeds and each migration is recorded once.
func TestPostgresConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := freshSchema(t)
	const n = 5
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn)
			if err != nil {
				errs <- err
				return
			}
			errs <- s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
	s := openPostgresAt(t, dsn)
	var rows, newest int
	if err := s.db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&rows, &newest); err != nil {
		t.Fatal(err)
	}
	if rows != len(postgresMigrations) || newest != len(postgresMigrations) {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d", rows, newest, len(postgresMigrations))
	}
}

// PostgreSQL's DDL is transactional: a migration that fails half-way
// leaves no table, no column and no version behind.
func TestPostgresFailedMigrationLeavesSchemaAsItWas(t *testing.T) {
	ctx := context.Background()
	db := openAdmin(t, freshSchema(t))
	ms := []migration{
		{version: 1, name: "good", stmts: []string{`CREATE TABLE a (x TEXT)`}},
		{version: 2, name: "bad", stmts: []string{`CREATE TABLE b (x TEXT)`, `ALTER TABLE a ADD COLUMN y TEXT`, `NOT SQL`}},
	}
	if err := migrate(ctx, db, enginePostgres, ms); err == nil || !strings.Contains(err.Error(), "2 (bad)") {
		t.Fatalf("migrate = %v, want an error naming migration 2", err)
	}
	var b sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('b')::text`).Scan(&b); err != nil || b.Valid {
		t.Fatalf("table of the failed migration exists (%v, %v)", b, err)
	}
	if _, err := db.ExecContext(ctx, `SELECT y FROM a`); err == nil {
		t.Fatal("column added by the failed migration exists")
	}
	var newest int
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&newest); err != nil || newest != 1 {
		t.Fatalf("recorded version = %d, %v; want 1", newest, err)
	}
	ms[1].stmts = ms[1].stmts[:2]
	if err := migrate(ctx, db, enginePostgres, ms); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `SELECT y FROM a`); err != nil {
		t.Fatalf("fixed migration not applied: %v", err)
	}
	// A database migrated by a newer build is refused.
	if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (3, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, enginePostgres, ms); err == nil || !strings.Contains(err.Error(), "version 3") {
		t.Fatalf("migrate of a newer database = %v", err)
	}
}

// An unordered claim passes over a row another instance is claiming (its
// transaction holds the row lock) instead of waiting for it.
func TestPostgresUnorderedClaimSkipsLockedRows(t *testing.T) {
	ctx := context.Background()
	st := postgresBackend().open(t)
	ds, _ := outbox(t, st, queued{"w1", "a", 0}, queued{"w1", "b", time.Second})
	s := st.(*Store)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	var id string
	if err := tx.QueryRowContext(ctx, `SELECT id FROM deliveries WHERE id = $1 FOR UPDATE`, ds[0].ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	a, ok, err := s.ClaimNext(cctx, "w1", false, at(time.Hour), time.Minute)
	if err != nil || !ok || a.Delivery.ID != ds[1].ID {
		t.Fatalf("claim beside a locked row = %s, %v, %v; want %s", a.Delivery.ID, ok, err, ds[1].ID)
	}
}

// The hot queries' ORDER BY comes from an index on PostgreSQL too, NULL
// ordering included: with sorts disabled, a plan that still sorts has no
// index to read the order from.
func TestPostgresHotQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	s := postgresBackend().open(t).(*Store)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, set := range []string{`SET enable_seqscan = off`, `SET enable_sort = off`, `SET plan_cache_mode = force_generic_plan`} {
		if _, err := conn.ExecContext(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		_, _ = conn.ExecContext(ctx, `RESET ALL`)
	}()
	for name, c := range map[string]struct {
		q     string
		args  []any
		index string
		// sorts allows a sort of the few rows one story has.
		sorts bool
	}{
		"FindStoryURL":   {findStorySQL(true, true, false), []any{"t1", 1, "u"}, "matches_story_url", true},
		"FindStoryTitle": {findStorySQL(true, false, true), []any{"t1", 1, "k"}, "matches_story_title", true},
		"TopicEntries":   {topicEntriesSQL, []any{"t1", 50}, "matches_topic_order", false},
		"ClaimOrdered":   {claimOrderedSQL, []any{"w1", 1, 2}, "deliveries_", false},
		"ClaimUnordered": {claimUnorderedPostgresSQL, []any{"w1", 1, 2}, "deliveries_pending", false},
		"Deliveries":     {`SELECT ` + deliveryColumns + ` FROM deliveries d ORDER BY d.created_at DESC, d.id DESC LIMIT 100`, nil, "deliveries_created", false},
		"ItemsSince": {`SELECT ` + itemColumns + ` FROM items i WHERE i.fetched_at >= $1
			ORDER BY i.fetched_at DESC NULLS LAST, i.id DESC LIMIT 100`, []any{5}, "items_fetched", false},
		"PruneCandidates": {`SELECT id, fetched_at FROM items WHERE fetched_at < $1 AND fetched_at <= $3 AND (fetched_at < $3 OR id < $4)
			ORDER BY fetched_at DESC NULLS LAST, id DESC LIMIT $2`, []any{1, 500, 1, "x"}, "items_fetched", false},
		"PruneEvents": {pruneEventsSQL, []any{9, 500, 1, "x"}, "deliveries_events", false},
		"ItemsSinceSources": {`SELECT ` + itemColumns + ` FROM items i WHERE i.source_id IN ($1)
			ORDER BY i.fetched_at DESC NULLS LAST, i.id DESC LIMIT 100`, []any{"s1"}, "items_source_fetched", false},
		"FeedCutoff": {`SELECT item_published, matched_at, item_id FROM matches
			WHERE topic_id = $1 AND duplicate_of IS NULL
			ORDER BY item_published DESC NULLS LAST, matched_at DESC NULLS LAST, item_id
			LIMIT 1 OFFSET $2`, []any{"t1", 49}, "matches_topic_order", false},
	} {
		rows, err := conn.QueryContext(ctx, `EXPLAIN `+c.q, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, strings.TrimSpace(line))
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		if (!c.sorts && strings.Contains(joined, "Sort")) || strings.Contains(joined, "Seq Scan") || !strings.Contains(joined, c.index) {
			t.Errorf("%s plan sorts, scans, or misses %s: %s", name, c.index, joined)
		}
	}
}

func TestPostgresBackupIsRefused(t *testing.T) {
	s := postgresBackend().open(t).(*Store)
	err := s.Backup(context.Background(), filepath.Join(t.TempDir(), "b.db"))
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("Backup on PostgreSQL = %v, want an unsupported error naming pg_dump", err)
	}
}

// The pool size comes from the DSN (pool_max_conns), which pgx itself
// would send to the server as an unknown setting.
func TestPostgresPoolSize(t *testing.T) {
	dsn := freshSchema(t)
	s := openPostgresAt(t, withParam(t, dsn, "pool_max_conns", "3"))
	if got := s.db.Stats().MaxOpenConnections; got != 3 {
		t.Fatalf("MaxOpenConnections = %d, want 3", got)
	}
	s = openPostgresAt(t, dsn)
	if got := s.db.Stats().MaxOpenConnections; got != defaultPostgresConns {
		t.Fatalf("default MaxOpenConnections = %d, want %d", got, defaultPostgresConns)
	}
}
