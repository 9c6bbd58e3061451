package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"wirewatch/news"
)

// The generator fills a store with the rows SavePoll would have stored for
// n items, in bulk: SavePoll stores a few thousand items a second, which
// makes a database of millions take hours. Every value is computed by the
// same helpers insertItem and insertMatch use (cleanItem, encodeItemLists,
// storyKeys, encodeMatch, ...), so the story keys are news.CanonicalURL and
// news.TitleKey of the generated link and title, and
// TestGeneratedRowsMatchSavePoll holds the rows to what SavePoll stores.
//
// Shape: item i comes from source i%genSources, is fetched genSpacing after
// item i-1 (10 million items span a year) and was published up to six
// minutes before it was fetched. Three topics: the busy one (t00) matches
// every tenth item, a quarter of those being a later sighting of the
// story of the busy item ten before (duplicate_of set: same headline from
// another outlet; half of them also carry the first sighting's link, as
// syndicated copies do); t01 matches 2% of the items, some of them busy
// duplicates that are first sightings for t01; t02 (quiet) matches 0.1%.
// The matches of the first genBaseline items are a baseline.
const (
	genSources  = 50
	genSpacing  = 3 * time.Second
	genBaseline = 200
	// genChunk is how many items one transaction (SQLite) or one COPY
	// (PostgreSQL) stores.
	genChunk = 50000
	// genRowsPerInsert is how many rows one SQLite INSERT carries.
	genRowsPerInsert = 64

	topicBusy  = "t00"
	topicMid   = "t01"
	topicQuiet = "t02"
)

var (
	largeSummary = strings.Repeat("A summary sentence of a news item about a story. ", 6)
	largeContent = strings.Repeat("A paragraph of an article's content, as feeds carry it in full. ", 16)
)

// The columns insertItemSQL and insertMatchSQL fill, in their order.
var (
	genItemCols  = []string{"id", "source_id", "item_key", "title", "link", "summary", "content", "authors", "categories", "published", "updated", "fetched_at", "canonical_url", "title_key"}
	genMatchCols = []string{"topic_id", "item_id", "item_published", "terms", "hits", "score", "snippet", "marks", "matched_at", "baseline", "duplicate_of", "story_url", "story_title"}
)

func genSourceID(k int) string { return fmt.Sprintf("source-%02d", k) }

func genID(i int) string { return news.ItemID(genSourceID(i%genSources), fmt.Sprintf("guid-%d", i)) }

func genFetched(i int) time.Time { return t0.Add(time.Duration(i) * genSpacing) }

// genDupOf returns the item whose story item i sights again in the busy
// topic, or -1.
func genDupOf(i int) int {
	if i%40 == 30 {
		return i - 10
	}
	return -1
}

// genTopicsOf lists the topics item i matches.
func genTopicsOf(i int) []string {
	var ts []string
	if i%10 == 0 {
		ts = append(ts, topicBusy)
	}
	if i%100 == 3 || i%100 == 50 {
		ts = append(ts, topicMid)
	}
	if i%1000 == 7 {
		ts = append(ts, topicQuiet)
	}
	return ts
}

// genInFeed reports whether item i is an entry of topic's feed (a match
// that is not a duplicate).
func genInFeed(topic string, i int) bool {
	return slices.Contains(genTopicsOf(i), topic) && !(topic == topicBusy && genDupOf(i) >= 0)
}

func genState(k int, at time.Time) news.SourceState {
	return news.SourceState{SourceID: genSourceID(k), URL: fmt.Sprintf("https://www.news%02d.example/feed.xml", k),
		Title: fmt.Sprintf("News %02d", k), Baselined: true, LastPoll: at}
}

func genItem(i int) news.Item {
	k := i % genSources
	story := i
	fetched := genFetched(i)
	pub := fetched.Add(-time.Duration(i%7) * time.Minute)
	link := fmt.Sprintf("https://www.news%02d.example/world/%d/story-%d.html?utm_source=rss&utm_medium=%s", k, i/100000, i, genSourceID(k))
	if d := genDupOf(i); d >= 0 {
		story = d
		if i%80 == 30 { // a syndicated copy: another spelling of the first sighting's link
			link = fmt.Sprintf("http://m.news%02d.example/world/%d/story-%d.html?utm_campaign=partner-%02d", d%genSources, d/100000, d, k)
		}
	}
	return news.Item{ID: genID(i), SourceID: genSourceID(k), Key: fmt.Sprintf("guid-%d", i),
		Title:   fmt.Sprintf("Officials announce new measures in story %d - News %02d", story, k),
		Link:    link,
		Summary: largeSummary, Content: largeContent, Authors: []string{"Desk"}, Categories: []string{"world"},
		Published: pub, Updated: pub, FetchedAt: fetched}
}

func genMatches(i int, it news.Item) []news.Match {
	var out []news.Match
	for _, topic := range genTopicsOf(i) {
		m := testMatch(topic, it, it.FetchedAt, i < genBaseline)
		if d := genDupOf(i); topic == topicBusy && d >= 0 {
			m.DuplicateOf = genID(d)
		}
		out = append(out, m)
	}
	return out
}

// plainValues turns the sql.Null* values the store binds into what they
// stand for (nil or the value), which both database/sql and pgx's COPY take.
func plainValues(vs ...any) []any {
	for k, v := range vs {
		if vr, ok := v.(driver.Valuer); ok {
			vs[k], _ = vr.Value() // sql.Null* never fail
		}
	}
	return vs
}

// genItemRow returns what insertItem binds for it.
func genItemRow(it news.Item) ([]any, error) {
	it = cleanItem(it)
	authors, categories, err := encodeItemLists(it)
	if err != nil {
		return nil, err
	}
	canon, key := storyKeys(it.Title, it.Link)
	return plainValues(it.ID, it.SourceID, it.Key, it.Title, it.Link, it.Summary, it.Content, authors, categories,
		msOf(it.Published), msOf(it.Updated), msOf(it.FetchedAt), canon, key), nil
}

// genMatchRow returns what insertMatch binds for m of item it.
func genMatchRow(m news.Match, it news.Item) ([]any, error) {
	enc, err := encodeMatch(m)
	if err != nil {
		return nil, err
	}
	canon, key := storyKeys(it.Title, it.Link)
	return plainValues(m.TopicID, m.ItemID, msOf(it.Published), enc.terms, enc.hits, scoreOf(m.Score), enc.snippet,
		enc.marks, msOf(m.MatchedAt), m.Baseline, nullIfEmpty(m.DuplicateOf), canon, key), nil
}

// genCounts is what a generated store holds.
type genCounts struct{ items, matches, duplicates int }

// generate fills an empty store with items 0..n-1 and their matches
// (sources through SaveSourceState, the rest in bulk). It logs its
// progress when progress is set.
func generate(tb testing.TB, s *Store, n int, progress bool) genCounts {
	tb.Helper()
	ctx := context.Background()
	for k := range genSources {
		if err := s.SaveSourceState(ctx, genState(k, genFetched(n-1))); err != nil {
			tb.Fatal(err)
		}
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	put := putSQLite
	if s.eng == enginePostgres {
		put = putPostgres
	} else {
		// While this connection loads: a bigger page cache, as the indexes
		// of millions of rows take random writes, and the statement
		// journals of the multi-row INSERTs in memory rather than in
		// temporary files. Neither changes a row; both are set back before
		// the connection returns to the pool.
		for _, p := range []string{`cache_size = -1000000`, `temp_store = MEMORY`} {
			if _, err := conn.ExecContext(ctx, `PRAGMA `+p); err != nil {
				tb.Fatal(err)
			}
		}
		defer func() {
			for _, p := range []string{`cache_size = -2000`, `temp_store = DEFAULT`} {
				if _, err := conn.ExecContext(ctx, `PRAGMA `+p); err != nil {
					tb.Error(err)
				}
			}
		}()
	}
	var c genCounts
	start, last := time.Now(), time.Now()
	for first := 0; first < n; first += genChunk {
		var items, matches [][]any
		for i := first; i < min(first+genChunk, n); i++ {
			it := genItem(i)
			row, err := genItemRow(it)
			if err != nil {
				tb.Fatal(err)
			}
			items = append(items, row)
			for _, m := range genMatches(i, it) {
				row, err := genMatchRow(m, it)
				if err != nil {
					tb.Fatal(err)
				}
				matches = append(matches, row)
				if m.DuplicateOf != "" {
					c.duplicates++
				}
			}
		}
		if err := put(ctx, conn, items, matches); err != nil {
			tb.Fatalf("generate items %d..: %v", first, err)
		}
		c.items += len(items)
		c.matches += len(matches)
		if progress && time.Since(last) > 30*time.Second {
			last = time.Now()
			tb.Logf("generated %d items in %v (%.0f items/s)", c.items, time.Since(start).Round(time.Second), float64(c.items)/time.Since(start).Seconds())
		}
	}
	if progress {
		tb.Logf("generated %d items, %d matches (%d duplicates) in %v (%.0f items/s)",
			c.items, c.matches, c.duplicates, time.Since(start).Round(time.Second), float64(n)/time.Since(start).Seconds())
	}
	return c
}

// analyze gives the planner statistics: ANALYZE on SQLite, VACUUM ANALYZE
// on PostgreSQL, i.e. the statistics and visibility map that autovacuum
// would have made by the time a database has grown this large.
func analyze(tb testing.TB, s *Store, progress bool) {
	tb.Helper()
	stats := `ANALYZE`
	if s.eng == enginePostgres {
		stats = `VACUUM (ANALYZE) items, matches, sources`
	}
	start := time.Now()
	if _, err := s.db.ExecContext(context.Background(), stats); err != nil {
		tb.Fatalf("%s: %v", stats, err)
	}
	if progress {
		tb.Logf("%s took %v", stats, time.Since(start).Round(time.Second))
	}
}

// putSQLite stores one chunk in one transaction, genRowsPerInsert rows per
// INSERT.
func putSQLite(ctx context.Context, conn *sql.Conn, items, matches [][]any) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op once committed
	if err := insertRows(ctx, tx, "items", genItemCols, items); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, "matches", genMatchCols, matches); err != nil {
		return err
	}
	return tx.Commit()
}

func insertRows(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	insert := func(k int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
		for r := range k {
			if r > 0 {
				b.WriteString(", ")
			}
			// "?", not "$n": the driver looks up the name of every "$n"
			// parameter, in time linear in their number.
			b.WriteString("(" + strings.Repeat("?, ", len(cols)-1) + "?)")
		}
		return b.String()
	}
	full, err := tx.PrepareContext(ctx, insert(genRowsPerInsert))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, genRowsPerInsert*len(cols))
	for len(rows) > 0 {
		k := min(genRowsPerInsert, len(rows))
		args = args[:0]
		for _, r := range rows[:k] {
			args = append(args, r...)
		}
		if k == genRowsPerInsert {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert(k), args...)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		rows = rows[k:]
	}
	return nil
}

// putPostgres stores one chunk with two COPYs in one transaction.
func putPostgres(ctx context.Context, conn *sql.Conn, items, matches [][]any) error {
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(ctx) }() // a no-op once committed
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"items"}, genItemCols, pgx.CopyFromRows(items)); err != nil {
			return fmt.Errorf("copy items: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"matches"}, genMatchCols, pgx.CopyFromRows(matches)); err != nil {
			return fmt.Errorf("copy matches: %w", err)
		}
		return tx.Commit(ctx)
	})
}

// genFeed returns the items of the first page (limit entries) of topic's
// feed in a store generated with n items, in TopicEntries' order.
func genFeed(topic string, n, limit int) []int {
	// An item published later than another was fetched at most 7 minutes
	// (140 items) before it: 200 items past the limit-th entry found
	// cannot hold a newer one.
	var got []int
	stop := -1
	for i := n - 1; i >= 0 && i >= stop; i-- {
		if genInFeed(topic, i) {
			got = append(got, i)
			if len(got) == limit {
				stop = i - 200
			}
		}
	}
	slices.SortFunc(got, func(a, b int) int {
		pa, pb := genItem(a).Published, genItem(b).Published
		if c := pb.Compare(pa); c != 0 {
			return c
		}
		if c := genFetched(b).Compare(genFetched(a)); c != 0 {
			return c
		}
		return strings.Compare(genID(a), genID(b))
	})
	return got[:min(limit, len(got))]
}

// verifyGenerated checks that a store generated with n items (c) answers
// as the generator says it should: counts, items read back, story keys,
// the first page of every topic with its sightings, FindStory and
// UnseenItems.
func verifyGenerated(tb testing.TB, s *Store, n int, c genCounts) {
	tb.Helper()
	ctx := context.Background()
	for _, q := range []struct {
		sql  string
		want int
	}{
		{`SELECT COUNT(*) FROM items`, c.items},
		{`SELECT COUNT(*) FROM matches`, c.matches},
		{`SELECT COUNT(*) FROM matches WHERE duplicate_of IS NOT NULL`, c.duplicates},
	} {
		var got int
		if err := s.db.QueryRowContext(ctx, q.sql).Scan(&got); err != nil || got != q.want {
			tb.Fatalf("%s = %d, %v; want %d", q.sql, got, err, q.want)
		}
	}
	for _, i := range []int{0, 1, 30, 70, n / 2, n - 2, n - 1} {
		want := genItem(i)
		got, title, err := s.Item(ctx, want.ID)
		if err != nil || title != fmt.Sprintf("News %02d", i%genSources) || got.Title != want.Title || got.Link != want.Link ||
			got.Key != want.Key || got.SourceID != want.SourceID || !got.Published.Equal(want.Published) ||
			!got.FetchedAt.Equal(want.FetchedAt) || got.Content != want.Content {
			tb.Fatalf("Item(%d) = %+v, %q, %v; want %+v", i, got, title, err, want)
		}
		var canon, key sql.NullString
		if err := s.db.QueryRowContext(ctx, `SELECT canonical_url, title_key FROM items WHERE id = $1`, want.ID).Scan(&canon, &key); err != nil {
			tb.Fatal(err)
		}
		if canon.String != news.CanonicalURL(want.Link) || key.String != news.TitleKey(want.Title) || canon.String == "" || key.String == "" {
			tb.Fatalf("item %d keys %q, %q; want %q, %q", i, canon.String, key.String, news.CanonicalURL(want.Link), news.TitleKey(want.Title))
		}
	}
	for _, topic := range []string{topicBusy, topicMid, topicQuiet} {
		want := genFeed(topic, n, 50)
		es, err := s.TopicEntries(ctx, topic, 50)
		if err != nil || len(es) != len(want) || len(want) == 0 {
			tb.Fatalf("TopicEntries(%s) = %d entries, %v; want %d", topic, len(es), err, len(want))
		}
		for k, e := range es {
			i := want[k]
			var sightings []string
			for _, sg := range e.AlsoReportedBy {
				sightings = append(sightings, sg.ItemID)
			}
			var wantSightings []string
			if topic == topicBusy && i%40 == 20 && i+10 < n {
				wantSightings = []string{genID(i + 10)}
			}
			if e.Item.ID != genID(i) || e.Match.TopicID != topic || e.Match.DuplicateOf != "" ||
				e.SourceTitle != fmt.Sprintf("News %02d", i%genSources) || !slices.Equal(sightings, wantSightings) {
				tb.Fatalf("TopicEntries(%s)[%d] = %s (%s) also reported by %v; want item %d %s also reported by %v",
					topic, k, e.Item.ID, e.Item.Title, sightings, i, genID(i), wantSightings)
			}
		}
	}
	findStory := func(topic string, i int) (string, bool) {
		it := genItem(i)
		id, ok, err := s.FindStory(ctx, topic, news.CanonicalURL(it.Link), news.TitleKey(it.Title), it.FetchedAt.Add(-48*time.Hour))
		if err != nil {
			tb.Fatal(err)
		}
		return id, ok
	}
	last := (n-31)/80*80 + 30 // the last syndicated duplicate
	for _, i := range []int{30, 70, last, last + 40} {
		if i >= n {
			continue
		}
		if id, ok := findStory(topicBusy, i); !ok || id != genID(i-10) {
			tb.Fatalf("FindStory(%s, item %d) = %s, %v; want item %d %s", topicBusy, i, id, ok, i-10, genID(i-10))
		}
	}
	// Item 150 is a later sighting in the busy topic and a first one in t01.
	if id, ok := findStory(topicMid, 150); !ok || id != genID(150) {
		tb.Fatalf("FindStory(%s, item 150) = %s, %v; want %s", topicMid, id, ok, genID(150))
	}
	if id, ok := findStory(topicQuiet, 150); ok {
		tb.Fatalf("FindStory(%s, item 150) = %s; want none", topicQuiet, id)
	}
	ids := []string{genID(n - 1), news.ItemID("source-00", "never stored"), genID(0), genID(n / 2)}
	if unseen, err := s.UnseenItems(ctx, ids); err != nil || !slices.Equal(unseen, ids[1:2]) {
		tb.Fatalf("UnseenItems = %v, %v; want %v", unseen, err, ids[1:2])
	}
}

// The generator stores what SavePoll stores: every column of every item
// and match row is the same, saved either way.
func TestGeneratedRowsMatchSavePoll(t *testing.T) {
	const n = 240 // a baseline, duplicates of both kinds, every topic
	check := func(t *testing.T, generated, polled *Store) {
		ctx := context.Background()
		c := generate(t, generated, n, false)
		analyze(t, generated, false)
		for i := range n {
			it := genItem(i)
			p := news.PollResult{State: genState(i%genSources, it.FetchedAt), Items: []news.Item{it}, Matches: genMatches(i, it)}
			if _, err := polled.SavePoll(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range []string{`SELECT * FROM items ORDER BY id`, `SELECT * FROM matches ORDER BY topic_id, item_id`} {
			got, want := dumpRows(t, generated, q), dumpRows(t, polled, q)
			if len(got) == 0 || !slices.Equal(got, want) {
				t.Fatalf("%s: generated\n%s\nSavePoll stored\n%s", q, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		verifyGenerated(t, generated, n, c)
	}
	t.Run("sqlite", func(t *testing.T) {
		check(t, openSQLiteAt(t, filepath.Join(t.TempDir(), "generated.db")), openSQLiteAt(t, filepath.Join(t.TempDir(), "polled.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		check(t, openPostgresAt(t, freshSchema(t)), openPostgresAt(t, freshSchema(t)))
	})
}

// dumpRows returns the rows of a query, one line each, columns named.
func dumpRows(tb testing.TB, s *Store, query string) []string {
	tb.Helper()
	rows, err := s.db.QueryContext(context.Background(), query)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for k := range vals {
			ptrs[k] = &vals[k]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		var b strings.Builder
		for k, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%#v ", cols[k], v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
