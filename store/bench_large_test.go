package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

// benchItemsEnv sets how many items BenchmarkLargeStore stores before it
// measures (default 20,000, which takes seconds; 1,000,000 takes minutes).
const benchItemsEnv = "WIREWATCH_BENCH_ITEMS"

// Shape of the generated database: items arrive in polls of largePoll from
// largeSources sources; two by two they match one of largeTopics topics,
// and every third one also the busy topic t00; every tenth is a later
// sighting (same headline) of the item before it, matched by the same
// topic.
const (
	largePoll    = 1000
	largeSources = 50
	largeTopics  = 20
)

var (
	largeSummary = strings.Repeat("A summary sentence of a news item about a story. ", 6)
	largeContent = strings.Repeat("A paragraph of an article's content, as feeds carry it in full. ", 16)
)

func largeItem(i int) news.Item {
	src := fmt.Sprintf("source-%02d", (i/largePoll)%largeSources)
	pub := t0.Add(time.Duration(i) * 30 * time.Second)
	story := i
	if i%10 == 5 {
		story = i - 1 // a later sighting of that story
	}
	title := fmt.Sprintf("Story %d: officials announce measures on topic %d", story, largeTopic(i))
	key := fmt.Sprintf("guid-%d", i)
	return news.Item{ID: news.ItemID(src, key), SourceID: src, Key: key, Title: title,
		Link:    fmt.Sprintf("https://news%d.example/%d/story-%d.html?utm_source=rss", i%largeSources, i/1000, i),
		Summary: largeSummary, Content: largeContent, Authors: []string{"Desk"}, Categories: []string{"world"},
		Published: pub, Updated: pub, FetchedAt: pub.Add(time.Minute)}
}

func largeTopic(i int) int { return (i / 2) % largeTopics }

func largeMatches(it news.Item, i int) []news.Match {
	topics := []string{fmt.Sprintf("t%02d", largeTopic(i))}
	if i%3 == 0 && topics[0] != "t00" {
		topics = append(topics, "t00")
	}
	var out []news.Match
	for _, topic := range topics {
		m := testMatch(topic, it, it.FetchedAt, false)
		if i%10 == 5 && topic == topics[0] {
			m.DuplicateOf = largeItem(i - 1).ID
		}
		out = append(out, m)
	}
	return out
}

// fillLarge stores n generated items through SavePoll.
func fillLarge(b *testing.B, s *Store, n int) {
	ctx := context.Background()
	start := time.Now()
	for first := 0; first < n; first += largePoll {
		var p news.PollResult
		for i := first; i < min(first+largePoll, n); i++ {
			it := largeItem(i)
			p.State = news.SourceState{SourceID: it.SourceID, Title: "Source " + it.SourceID, Baselined: true, LastPoll: it.FetchedAt}
			p.Items = append(p.Items, it)
			p.Matches = append(p.Matches, largeMatches(it, i)...)
		}
		if _, err := s.SavePoll(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("stored %d items in %v (%.0f items/s)", n, time.Since(start).Round(time.Second), float64(n)/time.Since(start).Seconds())
}

// BenchmarkLargeStore measures the feed page and the dedup lookup against a
// generated database of WIREWATCH_BENCH_ITEMS items (default 20,000), on
// SQLite and, when WIREWATCH_TEST_POSTGRES is set, on PostgreSQL:
//
//	WIREWATCH_BENCH_ITEMS=1000000 go test -run '^$' -bench LargeStore -benchtime 2000x ./store/
func BenchmarkLargeStore(b *testing.B) {
	n := 20000
	if v := os.Getenv(benchItemsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 2*largeTopics {
			b.Fatalf("%s=%q: want a number of items, at least %d", benchItemsEnv, v, 2*largeTopics)
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		s := openSQLiteAt(b, filepath.Join(b.TempDir(), "large.db"))
		fillLarge(b, s, n)
		benchLarge(b, s, n)
	})
	b.Run("postgres", func(b *testing.B) {
		s := openPostgresAt(b, freshSchema(b))
		fillLarge(b, s, n)
		if _, err := s.db.Exec(`ANALYZE`); err != nil { // as autovacuum would have by now
			b.Fatal(err)
		}
		benchLarge(b, s, n)
	})
}

func benchLarge(b *testing.B, s *Store, n int) {
	ctx := context.Background()
	for _, topic := range []string{"t00", "t07"} {
		b.Run("TopicEntries/"+topic, func(b *testing.B) {
			for range b.N {
				es, err := s.TopicEntries(ctx, topic, 50)
				if err != nil || len(es) != 50 {
					b.Fatalf("TopicEntries = %d, %v", len(es), err)
				}
			}
		})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.Run("FindStory/hit", func(b *testing.B) {
		for range b.N {
			i := rng.IntN(n/10)*10 + 5 // a later sighting: its story is stored
			if i >= n {
				i = 5
			}
			it := largeItem(i)
			id, ok, err := s.FindStory(ctx, fmt.Sprintf("t%02d", largeTopic(i)), news.CanonicalURL(it.Link), news.TitleKey(it.Title),
				it.FetchedAt.Add(-48*time.Hour))
			if err != nil || !ok || id != largeItem(i-1).ID {
				b.Fatalf("FindStory(%d) = %s, %v, %v", i, id, ok, err)
			}
		}
	})
	b.Run("FindStory/miss", func(b *testing.B) {
		for k := range b.N {
			title := fmt.Sprintf("Unheard-of story number %d", k)
			_, ok, err := s.FindStory(ctx, "t07", fmt.Sprintf("https://elsewhere.example/%d", k), news.TitleKey(title), time.Time{})
			if err != nil || ok {
				b.Fatalf("FindStory(miss) = %v, %v", ok, err)
			}
		}
	})
}
