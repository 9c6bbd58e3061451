package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

// benchItemsEnv sets how many items BenchmarkLargeStore generates before it
// measures (default 20,000, which takes seconds); benchRoundsEnv how many
// times it then measures each operation on that one database (default 1):
// generating 10 million items takes many minutes, so -count, which would
// generate anew for each count, is the wrong knob for repeated runs.
const (
	benchItemsEnv  = "WIREWATCH_BENCH_ITEMS"
	benchRoundsEnv = "WIREWATCH_BENCH_ROUNDS"
)

// BenchmarkLargeStore measures what every feed request, every poll and
// every new match costs against a generated database of
// WIREWATCH_BENCH_ITEMS items (see generate for its shape), on SQLite and,
// when WIREWATCH_TEST_POSTGRES is set, on PostgreSQL. It logs how long
// generating took, the database's size and the query plans of the hot
// queries (shown with -v). For instance:
//
//	WIREWATCH_BENCH_ITEMS=10000000 WIREWATCH_BENCH_ROUNDS=3 \
//		go test -v -run '^$' -bench 'LargeStore/sqlite' -benchtime 2000x -timeout 0 ./store/
func BenchmarkLargeStore(b *testing.B) {
	n, rounds := 20000, 1
	for _, v := range []struct {
		env      string
		dst      *int
		smallest int
	}{{benchItemsEnv, &n, 1000}, {benchRoundsEnv, &rounds, 1}} {
		if s := os.Getenv(v.env); s != "" {
			var err error
			if *v.dst, err = strconv.Atoi(s); err != nil || *v.dst < v.smallest {
				b.Fatalf("%s=%q: want a number, at least %d", v.env, s, v.smallest)
			}
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "large.db")
		s := openSQLiteAt(b, path)
		c := generate(b, s, n, true)
		verifyGenerated(b, s, n, c)
		logSQLiteSize(b, s, path)
		// The store never runs ANALYZE on SQLite: the plans must hold
		// without statistics too.
		logPlans(b, s, n, "no statistics")
		analyze(b, s, true)
		logPlans(b, s, n, "ANALYZE")
		for range rounds {
			benchLarge(b, s, n)
		}
	})
	b.Run("postgres", func(b *testing.B) {
		s := openPostgresAt(b, freshSchema(b))
		c := generate(b, s, n, true)
		analyze(b, s, true)
		verifyGenerated(b, s, n, c)
		logPostgresSize(b, s)
		logPlans(b, s, n, "VACUUM ANALYZE")
		for range rounds {
			benchLarge(b, s, n)
		}
	})
}

// benchLarge measures one round of the operations. Their arguments are
// made before the timer starts.
func benchLarge(b *testing.B, s *Store, n int) {
	ctx := context.Background()
	for _, c := range []struct{ name, topic string }{{"busy", topicBusy}, {"mid", topicMid}, {"quiet", topicQuiet}} {
		want := len(genFeed(c.topic, n, 50))
		b.Run("TopicEntries/"+c.name, func(b *testing.B) {
			for range b.N {
				es, err := s.TopicEntries(ctx, c.topic, 50)
				if err != nil || len(es) != want {
					b.Fatalf("TopicEntries(%s) = %d, %v; want %d", c.topic, len(es), err, want)
				}
			}
		})
	}
	const ring = 1024
	rng := rand.New(rand.NewPCG(1, 2))
	type lookup struct {
		canon, key, want string
		since            time.Time
	}
	hits := make([]lookup, ring)
	for k := range hits {
		i := rng.IntN((n-30)/40)*40 + 30 // a later sighting, anywhere in the history
		it := genItem(i)
		hits[k] = lookup{news.CanonicalURL(it.Link), news.TitleKey(it.Title), genID(i - 10), it.FetchedAt.Add(-48 * time.Hour)}
	}
	b.Run("FindStory/hit", func(b *testing.B) {
		for k := range b.N {
			l := hits[k%ring]
			id, ok, err := s.FindStory(ctx, topicBusy, l.canon, l.key, l.since)
			if err != nil || !ok || id != l.want {
				b.Fatalf("FindStory(%q) = %s, %v, %v; want %s", l.key, id, ok, err, l.want)
			}
		}
	})
	misses := make([]lookup, ring)
	for k := range misses {
		misses[k] = lookup{canon: fmt.Sprintf("https://elsewhere.example/world/story-%d.html", k),
			key: news.TitleKey(fmt.Sprintf("An unheard-of story number %d", k)), since: genFetched(n - 1).Add(-48 * time.Hour)}
	}
	b.Run("FindStory/miss", func(b *testing.B) {
		for k := range b.N {
			l := misses[k%ring]
			if id, ok, err := s.FindStory(ctx, topicBusy, l.canon, l.key, l.since); err != nil || ok {
				b.Fatalf("FindStory(miss) = %s, %v, %v", id, ok, err)
			}
		}
	})
	// What a poll asks first: which of the 50 items of a source's feed are
	// new. Most were stored by the polls before; 5 are new.
	batches := make([][]string, ring)
	for k := range batches {
		src := rng.IntN(genSources)
		newest := n - 1 - (n-1-src)%genSources - rng.IntN(n/genSources/2)*genSources
		var ids []string
		for j := range 45 {
			ids = append(ids, genID(max(newest-j*genSources, src)))
		}
		for j := range 5 {
			ids = append(ids, news.ItemID(genSourceID(src), fmt.Sprintf("guid-new-%d-%d", k, j)))
		}
		batches[k] = ids
	}
	b.Run("UnseenItems/50", func(b *testing.B) {
		for k := range b.N {
			if unseen, err := s.UnseenItems(ctx, batches[k%ring]); err != nil || len(unseen) != 5 {
				b.Fatalf("UnseenItems = %d, %v; want 5", len(unseen), err)
			}
		}
	})
	// What 'match --explain LINK' and the "Why didn't I get this?" page ask
	// when the link is no source's key: every item of the last week is
	// read (201,600 at one item every 3 s) and compared as canonical URLs.
	week := genFetched(n - 1).Add(-7 * 24 * time.Hour)
	b.Run("FindItems/week", func(b *testing.B) {
		for k := range b.N {
			i := n - 1 - (k*7919)%min(n, 200000)
			// The link as a reader shares it: another scheme, no "www.".
			shared := strings.Replace(genItem(i).Link, "https://www.", "http://", 1)
			ids, err := s.FindItems(ctx, shared, week)
			if err != nil || !slices.Contains(ids, genID(i)) {
				b.Fatalf("FindItems(%q) = %v, %v; want %s among them", shared, ids, err, genID(i))
			}
		}
	})
	since := genFetched(n - 1).Add(-24 * time.Hour)
	for _, c := range []struct {
		name    string
		sources []string
	}{{"all", nil}, {"one", []string{genSourceID(7)}}} {
		b.Run("ItemsSince/"+c.name+"/100", func(b *testing.B) {
			for range b.N {
				if its, err := s.ItemsSince(ctx, since, c.sources, 100); err != nil || len(its) != 100 {
					b.Fatalf("ItemsSince = %d, %v; want 100", len(its), err)
				}
			}
		})
	}
}

// logPlans logs how each engine runs the hot queries at this size, with
// the statistics named: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN
// ANALYZE.
func logPlans(b *testing.B, s *Store, n int, stats string) {
	b.Helper()
	ctx := context.Background()
	es, err := s.TopicEntries(ctx, topicBusy, 50)
	if err != nil {
		b.Fatal(err)
	}
	sightings := []any{topicBusy}
	for _, e := range es {
		sightings = append(sightings, e.Item.ID)
	}
	sightings = append(sightings, make([]any, sightingsBatch+1-len(sightings))...)
	dup := genItem((n-31)/40*40 + 30)
	var unseen []any
	for j := range 50 {
		unseen = append(unseen, genID(n-1-j))
	}
	plans := []struct {
		name, query string
		args        []any
	}{
		{"TopicEntries", topicEntriesSQL, []any{topicBusy, 50}},
		{"Sightings", sightingsSQL(sightingsBatch), sightings},
		{"FindStory", findStorySQL(true, true, true), []any{topicBusy, dup.FetchedAt.Add(-48 * time.Hour).UnixMilli(),
			news.CanonicalURL(dup.Link), news.TitleKey(dup.Title)}},
		// As UnseenItems and ItemsSince build them.
		{"UnseenItems", `SELECT id FROM items WHERE id IN (` + placeholders(1, len(unseen)) + `)`, unseen},
		{"ItemsSince", `SELECT ` + itemColumns + ` FROM items i WHERE i.fetched_at >= $1 AND i.source_id IN ($2)
			ORDER BY i.fetched_at DESC NULLS LAST, i.id DESC LIMIT $3`,
			[]any{genFetched(n - 1).Add(-24 * time.Hour).UnixMilli(), genSourceID(7), 100}},
	}
	if s.eng == engineSQLite {
		for _, p := range plans {
			b.Logf("plan %s (%s): %s", p.name, stats, sqlitePlan(b, s.db, p.query, p.args...))
		}
		return
	}
	for _, p := range plans {
		rows, err := s.db.QueryContext(ctx, `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) `+p.query, p.args...)
		if err != nil {
			b.Fatalf("explain %s: %v", p.name, err)
		}
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				b.Fatal(err)
			}
			if len(line) > 160 { // the lists of ids
				line = line[:160] + "…"
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		b.Logf("plan %s (%s):\n%s", p.name, stats, strings.Join(lines, "\n"))
	}
}

// sqlitePlan returns SQLite's query plan of q, a step a line.
func sqlitePlan(tb testing.TB, db *sql.DB, q string, args ...any) string {
	tb.Helper()
	rows, err := db.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		tb.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	depth := map[int]int{}
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			tb.Fatal(err)
		}
		depth[id] = depth[parent] + 1
		plan = append(plan, strings.Repeat("  ", depth[id])+detail)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return "\n" + strings.Join(plan, "\n")
}

// logSQLiteSize logs the database file's size once the WAL is checkpointed
// into it, and what each table and index takes.
func logSQLiteSize(b *testing.B, s *Store, path string) {
	b.Helper()
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("SQLite file: %.2f GiB", float64(fi.Size())/(1<<30))
	logSizes(b, s, `SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC`)
}

// logPostgresSize logs what the schema's tables take with their indexes
// and TOAST (pg_total_relation_size), and each table and index alone.
func logPostgresSize(b *testing.B, s *Store) {
	b.Helper()
	var total int64
	if err := s.db.QueryRowContext(context.Background(), `SELECT SUM(pg_total_relation_size(c.oid))::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r'`).Scan(&total); err != nil {
		b.Fatal(err)
	}
	b.Logf("PostgreSQL schema tables, total: %.2f GiB", float64(total)/(1<<30))
	logSizes(b, s, `SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i') ORDER BY 2 DESC`)
}

func logSizes(b *testing.B, s *Store, query string) {
	b.Helper()
	rows, err := s.db.QueryContext(context.Background(), query)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var name string
		var size int64
		if err := rows.Scan(&name, &size); err != nil {
			b.Fatal(err)
		}
		if size >= 1<<20 {
			lines = append(lines, fmt.Sprintf("  %-32s %8.1f MiB", name, float64(size)/(1<<20)))
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	b.Logf("relations of 1 MiB or more:\n%s", strings.Join(lines, "\n"))
}
