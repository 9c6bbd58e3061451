package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

// Dedup and "also reported by" run on every poll and every feed request:
// each must find its rows through an index, never scan items or matches.
func TestStoryQueriesUseIndexes(t *testing.T) {
	s := openSQLiteAt(t, filepath.Join(t.TempDir(), "w.db"))
	for name, c := range map[string]struct {
		q     string
		args  []any
		index []string
		// sorts allows a sort of the few rows one story has.
		sorts bool
	}{
		"FindStoryBoth": {findStorySQL(true, true, true), []any{"t1", 1, "u", "k"},
			[]string{"matches_story_url", "matches_story_title"}, true},
		"FindStoryURL": {findStorySQL(false, true, false), []any{"t1", "u"},
			[]string{"matches_story_url"}, true},
		"FindStoryTitle": {findStorySQL(true, false, true), []any{"t1", 1, "k"},
			[]string{"matches_story_title"}, true},
		"Sightings": {sightingsSQL(sightingsBatch), append([]any{"t1", "a", "b"}, make([]any, sightingsBatch-2)...),
			[]string{"COVERING INDEX matches_duplicates"}, false},
		"TopicEntries":  {topicEntriesSQL, []any{"t1", 50}, []string{"matches_topic_order"}, false},
		"CorrectItem":   {correctItemSQL, []any{"a", "", "", "", "", nil, nil, nil, nil, nil}, []string{"sqlite_autoindex_items_1"}, false},
		"AlertedTopics": {`SELECT item_id, topic_id FROM matches WHERE item_id IN ($1, $2) AND NOT baseline AND duplicate_of IS NULL`, []any{"a", "b"}, []string{"matches_item"}, false},
		"PromoteOrphans": {`UPDATE matches SET duplicate_of = NULL
			WHERE topic_id = $1 AND duplicate_of IS NOT NULL AND NOT EXISTS (SELECT 1 FROM matches f
				WHERE f.topic_id = matches.topic_id AND f.item_id = matches.duplicate_of)`, []any{"t1"}, []string{"matches_duplicates"}, false},
	} {
		plan := queryPlan(t, s.db, c.q, c.args...)
		t.Logf("%s: %s", name, plan)
		if strings.Contains(plan, "SCAN i") || strings.Contains(plan, "SCAN m") || strings.Contains(plan, "SCAN items") ||
			strings.Contains(plan, "SCAN matches") || (!c.sorts && strings.Contains(plan, "TEMP B-TREE")) {
			t.Errorf("%s plan scans or sorts: %s", name, plan)
		}
		for _, idx := range c.index {
			if !strings.Contains(plan, idx) {
				t.Errorf("%s plan does not use %s: %s", name, idx, plan)
			}
		}
	}
}

// A database of the previous build (schema version 3, before dedup and
// corrections) opens with this one: its items get their story keys, so
// FindStory finds stories stored before the upgrade, and everything else
// reads as before.
func TestMigrationToStoryKeysFillsOldItems(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	const prev = 3
	db := openAtVersion(t, path, prev)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO sources (id, url, title, etag, last_modified, baselined, last_poll, last_success, last_error, failures)
		VALUES ('s1', 'https://example.org/s1.xml', 'Source s1', '', '', TRUE, $1, $1, '', 0)`, t0.UnixMilli())
	// More items than the fill reads at once, plus two without usable keys.
	const bulk = 2100
	a := storyItem("s1", "a", headline+" - BBC News", "https://www.example.com/world/xinjiang?utm_source=rss")
	short := storyItem("s1", "short", "Live updates", "urn:uuid:1234")
	items := []news.Item{a, short}
	for i := range bulk {
		items = append(items, storyItem("s1", fmt.Sprint("bulk-", i), fmt.Sprintf("Bulk story number %d of the day", i),
			fmt.Sprintf("https://example.org/bulk/%d", i)))
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		// Rows as the version-3 code wrote them, column for column.
		if _, err := tx.ExecContext(ctx, `INSERT INTO items (id, source_id, item_key, title, link, summary, content, authors, categories, published, updated, fetched_at)
			VALUES ($1, 's1', $2, $3, $4, $5, $6, '["Ada","Grace"]', '["politics"]', $7, $8, $9)`,
			it.ID, it.Key, it.Title, it.Link, it.Summary, it.Content, it.Published.UnixMilli(), it.Updated.UnixMilli(), it.FetchedAt.UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	exec(`INSERT INTO matches (topic_id, item_id, item_published, terms, hits, score, snippet, marks, matched_at, baseline)
		VALUES ('t1', $1, $2, '["rights"]', NULL, 1.5, 'old snippet', NULL, $3, FALSE)`, a.ID, a.Published.UnixMilli(), at(time.Minute).UnixMilli())
	exec(`INSERT INTO deliveries (id, webhook_id, event_type, topic_id, item_id, status, attempts, next_attempt,
			leased_until, last_error, created_at, delivered_at, finished_at, claimed_at)
		VALUES ('msg_old', 'w1', 'match.created', 't1', $1, 'pending', 0, NULL, NULL, '', $2, NULL, NULL, NULL)`, a.ID, at(time.Minute).UnixMilli())
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLiteAt(t, path)
	var newest int
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&newest); err != nil || newest != len(sqliteMigrations) {
		t.Fatalf("schema version = %d, %v; want %d", newest, err, len(sqliteMigrations))
	}
	// Every old item has the keys the insert path would have given it.
	rows, err := s.db.QueryContext(ctx, `SELECT id, title, link, canonical_url, title_key, previous_title FROM items`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var id, title, link, previous string
		var canon, key sql.NullString
		if err := rows.Scan(&id, &title, &link, &canon, &key, &previous); err != nil {
			t.Fatal(err)
		}
		if wc, wk := storyKeys(title, link); canon != wc || key != wk || previous != "" {
			t.Fatalf("item %s after migration: %v %v %q; want %v %v", id, canon, key, previous, wc, wk)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if n != len(items) {
		t.Fatalf("%d items after migration, want %d", n, len(items))
	}
	var nulls int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE id = $1 AND canonical_url IS NULL AND title_key IS NULL`, short.ID).Scan(&nulls); err != nil || nulls != 1 {
		t.Fatalf("an item without usable keys got keys (%d, %v)", nulls, err)
	}

	// The old story is found, by either key.
	for _, keys := range [][2]string{{news.CanonicalURL("https://example.com/world/xinjiang"), ""}, {"", news.TitleKey(headline)}} {
		if id, ok, err := s.FindStory(ctx, "t1", keys[0], keys[1], at(0)); err != nil || !ok || id != a.ID {
			t.Fatalf("FindStory%v after migration = %s, %v, %v", keys, id, ok, err)
		}
	}
	// Old rows read as before: no duplicates, no previous title, no update.
	es, err := s.TopicEntries(ctx, "t1", 10)
	want := news.Entry{Item: a, SourceTitle: "Source s1", Match: news.Match{TopicID: "t1", ItemID: a.ID,
		Terms: []string{"rights"}, Score: 1.5, Snippet: "old snippet", MatchedAt: at(time.Minute)}}
	if err != nil || len(es) != 1 || !reflect.DeepEqual(es[0], want) {
		t.Fatalf("entries after migration = %+v, %v", es, err)
	}
	al, ok, err := s.ClaimNext(ctx, "w1", true, at(time.Hour), time.Minute)
	if err != nil || !ok || al.Delivery.ID != "msg_old" || al.Delivery.Update != nil || !reflect.DeepEqual(al.Entry, want) {
		t.Fatalf("claim after migration = %+v, %v, %v", al, ok, err)
	}
	// A new sighting of the old story is recorded against it.
	b := storyItem("s2", "b", headline, "https://example.com/world/xinjiang")
	mb := dupMatch("t1", b, a, at(time.Hour))
	if _, err := s.SavePoll(ctx, news.PollResult{State: testState("s2"), Items: []news.Item{b}, Matches: []news.Match{mb}}); err != nil {
		t.Fatal(err)
	}
	if es, err := s.TopicEntries(ctx, "t1", 10); err != nil || len(es) != 1 || len(es[0].AlsoReportedBy) != 1 || es[0].AlsoReportedBy[0].ItemID != b.ID {
		t.Fatalf("entries after a new sighting = %+v, %v", es, err)
	}
}

// A stored update that cannot be read is an error naming the delivery,
// not a silently empty update.
func TestCorruptUpdateIsAnError(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteAt(t, filepath.Join(t.TempDir(), "w.db"))
	ds, _ := outbox(t, s, queued{"w1", "a", 0})
	if _, err := s.db.ExecContext(ctx, `UPDATE deliveries SET update_json = '{"kind":' WHERE id = $1`, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deliveries(ctx, DeliveryFilter{}); err == nil || !strings.Contains(err.Error(), ds[0].ID) {
		t.Fatalf("Deliveries with a corrupt update = %v", err)
	}
	if _, _, err := s.ClaimNext(ctx, "w1", true, at(time.Hour), time.Minute); err == nil {
		t.Fatal("ClaimNext of a corrupt update succeeded")
	}
}
