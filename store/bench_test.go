package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

// benchPoll is poll number n of source s1: batch new items, each matching
// two topics, with one delivery per non-baseline match.
func benchPoll(n, batch int) news.PollResult {
	p := news.PollResult{State: testState("s1")}
	for k := range batch {
		it := testItem("s1", fmt.Sprintf("item-%d-%d", n, k), at(time.Duration(n*batch+k)*time.Second))
		p.Items = append(p.Items, it)
		for _, topic := range []string{"t1", "t2"} {
			m := testMatch(topic, it, it.FetchedAt, false)
			p.Matches = append(p.Matches, m)
			p.Deliveries = append(p.Deliveries, testDelivery("w1", m, it.FetchedAt))
		}
	}
	return p
}

func BenchmarkSavePoll(b *testing.B) {
	ctx := context.Background()
	s := openSQLiteAt(b, filepath.Join(b.TempDir(), "w.db"))
	polls := make([]news.PollResult, b.N)
	for i := range polls {
		polls[i] = benchPoll(i, 20)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if n, err := s.SavePoll(ctx, polls[i]); err != nil || n != 40 {
			b.Fatalf("SavePoll = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*20), "µs/item")
}

func BenchmarkTopicEntries(b *testing.B) {
	ctx := context.Background()
	s := openSQLiteAt(b, filepath.Join(b.TempDir(), "w.db"))
	const stored, batch = 10000, 500
	for n := range stored / batch {
		p := benchPoll(n, batch)
		p.Deliveries = nil
		if _, err := s.SavePoll(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		es, err := s.TopicEntries(ctx, "t1", 50)
		if err != nil || len(es) != 50 {
			b.Fatalf("TopicEntries = %d, %v", len(es), err)
		}
	}
}

// BenchmarkClaimAndMark is what one delivery costs the outbox: a claim and a
// mark, against a queue of b.N pending deliveries of one webhook. The
// dispatcher's target of 1,000 deliveries/s leaves 1ms for both.
func BenchmarkClaimAndMark(b *testing.B) {
	benchClaimAndMark(b, func(b *testing.B) *Store { return openSQLiteAt(b, filepath.Join(b.TempDir(), "w.db")) })
}

// BenchmarkClaimAndMarkPostgres is BenchmarkClaimAndMark on PostgreSQL
// (WIREWATCH_TEST_POSTGRES).
func BenchmarkClaimAndMarkPostgres(b *testing.B) {
	benchClaimAndMark(b, func(b *testing.B) *Store { return openPostgresAt(b, freshSchema(b)) })
}

func benchClaimAndMark(b *testing.B, open func(b *testing.B) *Store) {
	for _, ordered := range []bool{true, false} {
		name := "ordered"
		if !ordered {
			name = "unordered"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b)
			const batch = 20 // 40 deliveries a poll
			for n := 0; n*2*batch < b.N; n++ {
				if _, err := s.SavePoll(ctx, benchPoll(n, batch)); err != nil {
					b.Fatal(err)
				}
			}
			now := at(24 * time.Hour)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				a, ok, err := s.ClaimNext(ctx, "w1", ordered, now, time.Minute)
				if err != nil || !ok {
					b.Fatalf("ClaimNext = %v, %v", ok, err)
				}
				if err := s.MarkDelivered(ctx, a.Delivery.ID, 1, now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkClaimUnorderedBehindBacklog is an unordered claim's worst case: a
// receiver that was down left 10,000 older deliveries waiting for their
// retry, and every claim walks past them to the first due one.
func BenchmarkClaimUnorderedBehindBacklog(b *testing.B) {
	ctx := context.Background()
	s := openSQLiteAt(b, filepath.Join(b.TempDir(), "w.db"))
	const batch, backlog = 20, 10000
	n := 0
	for ; n*2*batch < backlog; n++ {
		if _, err := s.SavePoll(ctx, benchPoll(n, batch)); err != nil {
			b.Fatal(err)
		}
	}
	now := at(24 * time.Hour)
	if _, err := s.db.ExecContext(ctx, `UPDATE deliveries SET next_attempt = $1`, now.Add(time.Hour).UnixMilli()); err != nil {
		b.Fatal(err)
	}
	for start := n; (n-start)*2*batch < b.N; n++ {
		if _, err := s.SavePoll(ctx, benchPoll(n, batch)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		a, ok, err := s.ClaimNext(ctx, "w1", false, now, time.Minute)
		if err != nil || !ok {
			b.Fatalf("ClaimNext = %v, %v", ok, err)
		}
		if err := s.MarkDelivered(ctx, a.Delivery.ID, 1, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSavePollGroupCommit is what group commit buys a cold start, when
// many polls finish at once: polls of 20 new items saved one after the
// other (the baseline: a transaction each) against the same polls saved
// by 32 goroutines at once (they share transactions). µs/item is wall
// time per item saved.
func BenchmarkSavePollGroupCommit(b *testing.B) {
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ctx := context.Background()
			s := openSQLiteAt(b, filepath.Join(b.TempDir(), "w.db"))
			polls := make([]news.PollResult, b.N)
			for i := range polls {
				polls[i] = benchPoll(i, 20)
				// Each poll its own source, as at a cold start.
				src := fmt.Sprintf("s%d", i)
				polls[i].State.SourceID = src
				for k := range polls[i].Items {
					polls[i].Items[k].SourceID = src
				}
			}
			next := make(chan int, b.N)
			for i := range b.N {
				next <- i
			}
			close(next)
			b.ResetTimer()
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					for i := range next {
						if n, err := s.SavePoll(ctx, polls[i]); err != nil || n != 40 {
							b.Errorf("SavePoll = %d, %v", n, err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*20), "µs/item")
		})
	}
}

// BenchmarkFindStorySyndicated is the dedup lookup of a story that many
// outlets carried: one first sighting and outlets-1 duplicates share the
// headline. The lookup reads the topic's first sightings by key, so its
// cost must not grow with the number of outlets.
func BenchmarkFindStorySyndicated(b *testing.B) {
	for _, outlets := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("outlets=%d", outlets), func(b *testing.B) {
			ctx := context.Background()
			s := openSQLiteAt(b, filepath.Join(b.TempDir(), "w.db"))
			const headline = "UN report finds serious rights violations in Xinjiang"
			var first news.Item
			for k := range outlets {
				src := fmt.Sprintf("outlet-%d", k)
				it := storyItem(src, "story", headline, fmt.Sprintf("https://outlet-%d.example/xinjiang", k))
				m := testMatch("t1", it, at(time.Duration(k)*time.Second), false)
				if k == 0 {
					first = it
				} else {
					m = dupMatch("t1", it, first, at(time.Duration(k)*time.Second))
				}
				mustSave(b, s, news.PollResult{State: testState(src), Items: []news.Item{it}, Matches: []news.Match{m}})
			}
			key := news.TitleKey(headline)
			b.ResetTimer()
			for range b.N {
				id, ok, err := s.FindStory(ctx, "t1", "https://elsewhere.example/xinjiang", key, at(-time.Hour))
				if err != nil || !ok || id != first.ID {
					b.Fatalf("FindStory = %s, %v, %v; want %s", id, ok, err, first.ID)
				}
			}
		})
	}
}
