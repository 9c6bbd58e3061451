package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"wirewatch/news"
	"wirewatch/watch"
)

// Where a cycle's time goes, without a profiler: the poller reaches its
// collaborators only through watch's interfaces, so thin wrappers can
// clock each call. The sums are wall time inside the calls, added over
// all workers: fetch (the HTTP exchange, gunzip, parse and normalise),
// match, store reads, and store writes.
//
// Writes are clocked differently: the store saves concurrent polls
// together (group commit), so a write's own duration includes waiting for
// the group ahead of it, and summing them would count the same seconds
// many times. The write figure is instead the wall time during which at
// least one write was in flight, and busy/wall says how close writing is
// to being the bottleneck. The wrapper must not serialise the writes
// itself: that would turn group commit off.

// stageTimes accumulates nanoseconds per stage.
type stageTimes struct {
	fetch, match, read, write atomic.Int64
	writes                    atomic.Int64
}

// stageSeconds is a snapshot of stageTimes, or the difference of two.
type stageSeconds struct {
	Fetch  float64 `json:"fetch"`
	Match  float64 `json:"match"`
	Read   float64 `json:"store_read"`
	Write  float64 `json:"store_write"`
	Writes int64   `json:"store_writes"` // SavePoll and SaveSourceState calls
}

func (s *stageTimes) snapshot() stageSeconds {
	return stageSeconds{
		Fetch: time.Duration(s.fetch.Load()).Seconds(), Match: time.Duration(s.match.Load()).Seconds(),
		Read: time.Duration(s.read.Load()).Seconds(), Write: time.Duration(s.write.Load()).Seconds(),
		Writes: s.writes.Load(),
	}
}

func (a stageSeconds) minus(b stageSeconds) stageSeconds {
	return stageSeconds{Fetch: a.Fetch - b.Fetch, Match: a.Match - b.Match, Read: a.Read - b.Read,
		Write: a.Write - b.Write, Writes: a.Writes - b.Writes}
}

func since(t0 time.Time) int64 { return int64(time.Since(t0)) }

type timedFetcher struct {
	next watch.Fetcher
	t    *stageTimes
}

func (f timedFetcher) Fetch(ctx context.Context, req news.FetchRequest) (news.FetchResult, error) {
	t0 := time.Now()
	defer func() { f.t.fetch.Add(since(t0)) }()
	return f.next.Fetch(ctx, req)
}

type timedMatcher struct {
	next watch.Matcher
	t    *stageTimes
}

func (m timedMatcher) Match(item news.Item, now time.Time) []news.Match {
	t0 := time.Now()
	defer func() { m.t.match.Add(since(t0)) }()
	return m.next.Match(item, now)
}

// timedStore clocks every watch.Store method; the rest of loadStore
// passes through untimed.
type timedStore struct {
	loadStore
	t *stageTimes

	mu        sync.Mutex
	inFlight  int       // writes in progress
	busySince time.Time // when inFlight last went from 0 to 1
}

func (s *timedStore) reading(t0 time.Time) { s.t.read.Add(since(t0)) }

// writing counts a write in and returns the function that counts it out.
func (s *timedStore) writing() func() {
	s.mu.Lock()
	if s.inFlight == 0 {
		s.busySince = time.Now()
	}
	s.inFlight++
	s.mu.Unlock()
	return func() {
		s.t.writes.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.inFlight--; s.inFlight == 0 {
			s.t.write.Add(since(s.busySince))
		}
	}
}

func (s *timedStore) SourceState(ctx context.Context, sourceID string) (news.SourceState, error) {
	defer s.reading(time.Now())
	return s.loadStore.SourceState(ctx, sourceID)
}

func (s *timedStore) SourceActivity(ctx context.Context, sourceID string, since time.Time) (int, time.Time, error) {
	defer s.reading(time.Now())
	return s.loadStore.SourceActivity(ctx, sourceID, since)
}

func (s *timedStore) UnseenItems(ctx context.Context, ids []string) ([]string, error) {
	defer s.reading(time.Now())
	return s.loadStore.UnseenItems(ctx, ids)
}

func (s *timedStore) LegacyItemIDs(ctx context.Context, items []news.Item) (map[string]string, error) {
	defer s.reading(time.Now())
	return s.loadStore.LegacyItemIDs(ctx, items)
}

func (s *timedStore) FindStory(ctx context.Context, topicID, canonicalURL, titleKey string, since time.Time) (string, bool, error) {
	defer s.reading(time.Now())
	return s.loadStore.FindStory(ctx, topicID, canonicalURL, titleKey, since)
}

func (s *timedStore) ItemTitles(ctx context.Context, ids []string) (map[string]string, error) {
	defer s.reading(time.Now())
	return s.loadStore.ItemTitles(ctx, ids)
}

func (s *timedStore) AlertedTopics(ctx context.Context, itemIDs []string) (map[string][]string, error) {
	defer s.reading(time.Now())
	return s.loadStore.AlertedTopics(ctx, itemIDs)
}

func (s *timedStore) SaveSourceState(ctx context.Context, st news.SourceState, events ...news.Delivery) error {
	defer s.writing()()
	return s.loadStore.SaveSourceState(ctx, st, events...)
}

func (s *timedStore) SavePoll(ctx context.Context, p news.PollResult) (int, error) {
	defer s.writing()()
	return s.loadStore.SavePoll(ctx, p)
}
