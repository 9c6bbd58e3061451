package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

func queryPlan(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}

// A delivery costs a claim and a mark, so both must find their rows through
// indexes: the claim walks the pending rows of one webhook in queue order
// (never delivered ones, never a sort), the marks go by primary key (as
// the health upserts do, by construction: INSERT ... ON CONFLICT (id)).
func TestClaimAndMarkPlans(t *testing.T) {
	s := openSQLiteAt(t, filepath.Join(t.TempDir(), "w.db"))
	for name, c := range map[string]struct {
		q     string
		args  []any
		index string
	}{
		// The head needs only the id: either queue index covers it.
		"ClaimOrdered":   {claimOrderedSQL, []any{"w1", 1, 2}, "COVERING INDEX deliveries_"},
		"ClaimUnordered": {claimUnorderedSQL, []any{"w1", 1, 2}, "COVERING INDEX deliveries_pending"},
		"MarkDelivered": {`UPDATE deliveries SET status = 'delivered', attempts = $2, delivered_at = $3, finished_at = $3, leased_until = NULL
			WHERE id = $1 AND status = 'pending' RETURNING webhook_id, claimed_at`, []any{"x", 1, 2}, "sqlite_autoindex_deliveries_1"},
		"RetryByStatus": {`UPDATE deliveries SET status = 'pending' WHERE status IN ('failed', 'dead') AND created_at >= $1`,
			[]any{1}, "deliveries_status"},
		"DeliveriesSince": {`SELECT ` + deliveryColumns + ` FROM deliveries d WHERE d.created_at >= $1
			ORDER BY d.created_at DESC, d.id DESC LIMIT 100`, []any{1}, "deliveries_created"},
	} {
		plan := queryPlan(t, s.db, c.q, c.args...)
		t.Logf("%s: %s", name, plan)
		if strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "SCAN deliveries") && !strings.Contains(plan, "INDEX") {
			t.Errorf("%s plan sorts or scans: %s", name, plan)
		}
		if c.index != "" && !strings.Contains(plan, c.index) {
			t.Errorf("%s plan does not use %s: %s", name, c.index, plan)
		}
	}
}

// The health update is part of the mark's transaction: when it fails, the
// delivery is not marked either, and the row is still in the queue.
func TestMarkHealthFailureRollsBackMark(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteAt(t, filepath.Join(t.TempDir(), "w.db"))
	ds, _ := outbox(t, s, queued{"w1", "a", 0})
	for _, trig := range []string{
		`CREATE TRIGGER no_insert BEFORE INSERT ON webhooks BEGIN SELECT RAISE(ABORT, 'health refused'); END`,
		`CREATE TRIGGER no_update BEFORE UPDATE ON webhooks BEGIN SELECT RAISE(ABORT, 'health refused'); END`,
	} {
		if _, err := s.db.ExecContext(ctx, trig); err != nil {
			t.Fatal(err)
		}
	}
	now := at(time.Hour)
	if _, ok, err := s.ClaimNext(ctx, "w1", true, now, time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	for name, err := range map[string]error{
		"delivered": s.MarkDelivered(ctx, ds[0].ID, 1, now),
		"retry":     s.MarkRetry(ctx, ds[0].ID, 1, now.Add(time.Minute), "HTTP 500"),
		"final":     s.MarkFinal(ctx, ds[0].ID, news.DeliveryDead, 1, "dead", now),
	} {
		if err == nil || !strings.Contains(err.Error(), "health refused") {
			t.Errorf("%s with failing health = %v, want the trigger's error", name, err)
		}
	}
	got := deliveryByID(t, s, ds[0].ID)
	if got.Status != news.DeliveryPending || got.Attempts != 0 || got.LastError != "" || !got.NextAttempt.Equal(ds[0].NextAttempt) {
		t.Fatalf("delivery changed by failed marks: %+v", got)
	}
	// Still leased by the claim: the failed marks did not end the lease.
	if _, ok, err := s.ClaimNext(ctx, "w1", false, now, time.Minute); err != nil || ok {
		t.Fatalf("lease ended by a failed mark: %v %v", ok, err)
	}
	if _, err := s.db.ExecContext(ctx, `DROP TRIGGER no_insert`); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(ctx, ds[0].ID, 1, now); err != nil {
		t.Fatal(err)
	}
	if h := mustState(t, s, "w1"); !h.LastSuccess.Equal(now) {
		t.Fatalf("health after the trigger went = %+v", h)
	}
}

// A retry of a row nobody claimed (no claim time to date the failure by)
// is stamped with the store's clock.
func TestMarkRetryWithoutClaimUsesClock(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteAt(t, filepath.Join(t.TempDir(), "w.db"))
	clock := at(42 * time.Minute)
	s.now = func() time.Time { return clock }
	ds, _ := outbox(t, s, queued{"w1", "a", 0})
	if err := s.MarkRetry(ctx, ds[0].ID, 1, at(time.Hour), "HTTP 500"); err != nil {
		t.Fatal(err)
	}
	want := news.WebhookState{WebhookID: "w1", LastFailure: clock, LastError: "HTTP 500", ConsecutiveFailures: 1}
	if h := mustState(t, s, "w1"); !reflect.DeepEqual(h, want) {
		t.Fatalf("health = %+v, want %+v", h, want)
	}
}

// A database of the previous build (schema version 2, before webhook health)
// opens with this one: its rows are all there, claims and marks work on
// them, and webhook health starts from the outbox's history.
func TestMigrationToWebhookHealthKeepsRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	const prev = 2
	db := openAtVersion(t, path, prev)
	var items []news.Item
	for _, key := range []string{"a", "b", "c", "d", "e", "f"} {
		items = append(items, testItem("s1", key, at(0)))
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Rows as the version-2 code wrote them, column for column.
	exec(`INSERT INTO sources (id, url, title, etag, last_modified, baselined, last_poll, last_success, last_error, failures)
		VALUES ('s1', 'https://example.org/s1.xml', 'Source s1', '', '', TRUE, $1, $1, '', 0)`, t0.UnixMilli())
	for _, it := range items {
		exec(`INSERT INTO items (id, source_id, item_key, title, link, summary, content, authors, categories, published, updated, fetched_at)
			VALUES ($1, 's1', $2, $3, $4, $5, $6, '["Ada","Grace"]', '["politics"]', $7, $8, $9)`,
			it.ID, it.Key, it.Title, it.Link, it.Summary, it.Content, it.Published.UnixMilli(), it.Updated.UnixMilli(), it.FetchedAt.UnixMilli())
		exec(`INSERT INTO matches (topic_id, item_id, item_published, terms, hits, score, snippet, marks, matched_at, baseline)
			VALUES ('t1', $1, $2, '["rights"]', NULL, 1.5, 'old snippet', '[{"start":0,"end":3}]', $3, FALSE)`,
			it.ID, it.Published.UnixMilli(), at(time.Minute).UnixMilli())
	}
	ms := func(d time.Duration) int64 { return at(d).UnixMilli() }
	for _, d := range []struct {
		id, webhook, item, status, lastErr string
		created                            time.Duration
		deliveredAt, finishedAt, leased    any
	}{
		{"msg_delivered", "w1", items[0].ID, "delivered", "", 0, ms(time.Hour), ms(time.Hour), nil},
		{"msg_dead_old", "w1", items[1].ID, "dead", "HTTP 500 old", time.Second, nil, ms(2 * time.Hour), nil},
		{"msg_dead_new", "w1", items[2].ID, "dead", "HTTP 500 new", 2 * time.Second, nil, ms(3 * time.Hour), nil},
		{"msg_leased", "w1", items[3].ID, "pending", "timeout", 3 * time.Second, nil, nil, ms(48 * time.Hour)},
		{"msg_pending", "w1", items[4].ID, "pending", "", 4 * time.Second, nil, nil, nil},
		{"msg_failed", "w2", items[5].ID, "failed", "HTTP 404", 0, nil, ms(time.Hour), nil},
	} {
		exec(`INSERT INTO deliveries (id, webhook_id, event_type, topic_id, item_id, status, attempts, next_attempt,
				leased_until, last_error, created_at, delivered_at, finished_at)
			VALUES ($1, $2, 'match.created', 't1', $3, $4, 1, NULL, $5, $6, $7, $8, $9)`,
			d.id, d.webhook, d.item, d.status, d.leased, d.lastErr, ms(d.created), d.deliveredAt, d.finishedAt)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLiteAt(t, path)
	var newest int
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&newest); err != nil || newest != len(sqliteMigrations) {
		t.Fatalf("schema version = %d, %v; want %d", newest, err, len(sqliteMigrations))
	}
	states, err := s.WebhookStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []news.WebhookState{
		{WebhookID: "w1", LastSuccess: at(time.Hour), LastFailure: at(3 * time.Hour), LastError: "HTTP 500 new"},
		{WebhookID: "w2", LastFailure: at(time.Hour), LastError: "HTTP 404"},
	}
	if !reflect.DeepEqual(states, want) {
		t.Fatalf("health from history:\n got %+v\nwant %+v", states, want)
	}
	if n, err := s.PendingDeliveries(ctx); err != nil || n != 2 {
		t.Fatalf("PendingDeliveries = %d, %v; want 2", n, err)
	}
	es, err := s.TopicEntries(ctx, "t1", 10)
	if err != nil || len(es) != len(items) || !reflect.DeepEqual(es[0].Match.Marks, []news.Span{{Start: 0, End: 3}}) {
		t.Fatalf("entries after migration = %d, %v", len(es), err)
	}

	// The lease taken before the upgrade holds: ordered waits behind it,
	// unordered takes the next row.
	now := at(24 * time.Hour)
	if _, ok, err := s.ClaimNext(ctx, "w1", true, now, time.Minute); err != nil || ok {
		t.Fatalf("ordered claim past an old lease: %v, %v", ok, err)
	}
	a, ok, err := s.ClaimNext(ctx, "w1", false, now, time.Minute)
	if err != nil || !ok || a.Delivery.ID != "msg_pending" || a.Entry.Item.ID != items[4].ID || a.Entry.SourceTitle != "Source s1" {
		t.Fatalf("unordered claim after migration = %+v, %v, %v", a, ok, err)
	}
	if err := s.MarkRetry(ctx, "msg_pending", 2, now.Add(time.Hour), "HTTP 503"); err != nil {
		t.Fatal(err)
	}
	// The old leased row, claimed before claim times were kept, is dated
	// by the store's clock.
	clock := at(25 * time.Hour)
	s.now = func() time.Time { return clock }
	if err := s.MarkRetry(ctx, "msg_leased", 2, now.Add(time.Hour), "timeout again"); err != nil {
		t.Fatal(err)
	}
	want[0].LastFailure, want[0].LastError, want[0].ConsecutiveFailures = clock, "timeout again", 2
	if h := mustState(t, s, "w1"); !reflect.DeepEqual(h, want[0]) {
		t.Fatalf("w1 after marks:\n got %+v\nwant %+v", h, want[0])
	}
	// Old dead rows replay.
	if n, err := s.RetryDeliveries(ctx, RetryFilter{Statuses: []news.DeliveryStatus{news.DeliveryDead}}, now); err != nil || n != 2 {
		t.Fatalf("replay of old dead rows = %d, %v", n, err)
	}
}
