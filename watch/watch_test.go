package watch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

func TestPhasedEverySpreadsAndKeepsPhase(t *testing.T) {
	a, err := Schedule{Every: 10 * time.Minute}.compile("un-news")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Schedule{Every: 10 * time.Minute}.compile("bbc-asia")
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	na, nb := a.Next(now), b.Next(now)
	if na.Equal(nb) {
		t.Errorf("two sources fire at the same instant %v; want spread", na)
	}
	for _, n := range []time.Time{na, nb} {
		if !n.After(now) || n.Sub(now) > 10*time.Minute {
			t.Errorf("next %v not within (now, now+10m]", n)
		}
	}
	// Successive runs are exactly one period apart, and the phase is stable.
	if got := a.Next(na).Sub(na); got != 10*time.Minute {
		t.Errorf("period = %v, want 10m", got)
	}
	a2, _ := Schedule{Every: 10 * time.Minute}.compile("un-news")
	if !a2.Next(now).Equal(na) {
		t.Error("phase differs between compiles; want stable across restarts")
	}
}

func TestCronScheduleOffsetStaysWithinWindow(t *testing.T) {
	s, err := Schedule{Cron: "*/15 * * * *"}.compile("ohchr")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 10, 1, 0, 0, time.UTC)
	next := s.Next(now)
	mark := time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)
	if next.Before(mark) || next.Sub(mark) >= 30*time.Second {
		t.Errorf("next = %v, want within 30s after %v", next, mark)
	}
}

func TestScheduleValidation(t *testing.T) {
	bad := []Schedule{
		{Every: 500 * time.Millisecond},
		{Cron: "every tuesday"},
		{Cron: "* * * *"},
		{Every: time.Minute, Cron: "* * * * *"},
	}
	for _, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v: want error", s)
		}
	}
	for _, s := range []Schedule{{}, {Every: time.Second}, {Cron: "@hourly"}, {Cron: "CRON_TZ=Europe/London 0 8 * * *"}} {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	_, err := NewScheduler(NewPoller(PollerConfig{}), []Job{{Source: news.Source{ID: "x"}, Schedule: Schedule{Cron: "nope"}}}, nil)
	if err == nil || !strings.Contains(err.Error(), `source "x"`) {
		t.Errorf("NewScheduler error = %v, want it to name the source", err)
	}
}

// memStore is an in-memory Store: enough to test the poll logic in isolation
// (the real SQLite store is exercised end to end in cmd/wirewatch).
type memStore struct {
	mu      sync.Mutex
	states  map[string]news.SourceState
	items   map[string]news.Item
	matches []news.Match
	polls   []news.PollResult
	events  []news.Delivery
}

func newMemStore() *memStore {
	return &memStore{states: map[string]news.SourceState{}, items: map[string]news.Item{}}
}

func (m *memStore) SourceState(_ context.Context, id string) (news.SourceState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.states[id]
	st.SourceID = id
	return st, nil
}

func (m *memStore) SourceActivity(_ context.Context, sourceID string, since time.Time) (int, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, last := 0, time.Time{}
	for _, it := range m.items {
		if it.SourceID != sourceID {
			continue
		}
		if !it.FetchedAt.Before(since) {
			n++
		}
		if it.FetchedAt.After(last) {
			last = it.FetchedAt
		}
	}
	return n, last, nil
}

func (m *memStore) SaveSourceState(_ context.Context, st news.SourceState, events ...news.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, events...)
	m.states[st.SourceID] = st
	return nil
}

// LegacyItemIDs: a memStore holds no items from an older wirewatch (the
// real store's upgrade is tested in cmd/wirewatch).
func (m *memStore) LegacyItemIDs(context.Context, []news.Item) (map[string]string, error) {
	return nil, nil
}

func (m *memStore) UnseenItems(_ context.Context, ids []string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, id := range ids {
		if _, ok := m.items[id]; !ok {
			out = append(out, id)
		}
	}
	return out, nil
}

func (m *memStore) SavePoll(_ context.Context, p news.PollResult) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[p.State.SourceID] = p.State
	for _, it := range p.Items {
		m.items[it.ID] = it
	}
	for _, it := range p.Corrected {
		m.items[it.ID] = it
	}
	for _, mt := range p.Matches {
		m.matches = append(m.matches, mt)
	}
	m.polls = append(m.polls, p)
	m.events = append(m.events, p.Events...)
	return len(p.Deliveries) + len(p.Events), nil
}

// FindStory scans the stored matches like the real store's query does.
func (m *memStore) FindStory(_ context.Context, topicID, canon, key string, since time.Time) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mt := range m.matches {
		it := m.items[mt.ItemID]
		if mt.TopicID != topicID || mt.DuplicateOf != "" || mt.MatchedAt.Before(since) {
			continue
		}
		if (canon != "" && news.CanonicalURL(it.Link) == canon) || (key != "" && news.TitleKey(it.Title) == key) {
			return it.ID, true, nil
		}
	}
	return "", false, nil
}

func (m *memStore) ItemTitles(_ context.Context, ids []string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for _, id := range ids {
		if it, ok := m.items[id]; ok {
			out[id] = it.Title
		}
	}
	return out, nil
}

func (m *memStore) AlertedTopics(_ context.Context, ids []string) (map[string][]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]string{}
	for _, mt := range m.matches {
		for _, id := range ids {
			if mt.ItemID == id && !mt.Baseline && mt.DuplicateOf == "" {
				out[id] = append(out[id], mt.TopicID)
			}
		}
	}
	return out, nil
}

type feedFetcher struct {
	mu    sync.Mutex
	items []news.Item
	err   error
	reqs  []news.FetchRequest
	block chan struct{}
}

func (f *feedFetcher) Fetch(_ context.Context, req news.FetchRequest) (news.FetchResult, error) {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	if f.err != nil {
		return news.FetchResult{}, f.err
	}
	if req.ETag == "v1" && len(f.items) == 1 {
		return news.FetchResult{NotModified: true, ETag: "v1"}, nil
	}
	return news.FetchResult{ETag: "v1", FeedTitle: "Wire", Items: append([]news.Item(nil), f.items...)}, nil
}

// wordMatcher matches items whose title contains "Xinjiang".
type wordMatcher struct{}

func (wordMatcher) Match(it news.Item, now time.Time) []news.Match {
	if strings.Contains(it.Title, "Xinjiang") {
		return []news.Match{{TopicID: "xj", ItemID: it.ID, Terms: []string{"Xinjiang"}, MatchedAt: now}}
	}
	return nil
}

type countNotifier struct{ n int }

func (c *countNotifier) Notify() { c.n++ }

func item(src, key, title string) news.Item {
	return news.Item{ID: news.ItemID(src, key), SourceID: src, Key: key, Title: title}
}

func TestPollBaselineThenAlerts(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	f := &feedFetcher{items: []news.Item{item("wire", "1", "Xinjiang report delayed")}}
	notes := &countNotifier{}
	hooks := []news.Webhook{{ID: "desk"}, {ID: "sports", Topics: []string{"football"}}}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st, Notifier: notes, Webhooks: hooks})
	src := news.Source{ID: "wire", URL: "http://wire.example/feed"}

	rep, err := p.Poll(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Baseline || rep.Matches != 1 || rep.Deliveries != 0 {
		t.Fatalf("first poll = %+v, want baseline with 1 match and 0 deliveries", rep)
	}
	if !st.polls[0].Matches[0].Baseline {
		t.Error("baseline match not flagged Baseline")
	}

	// Second poll: 304 thanks to the stored ETag.
	rep, err = p.Poll(ctx, src)
	if err != nil || !rep.NotModified {
		t.Fatalf("second poll = %+v, %v; want not modified", rep, err)
	}
	if got := f.reqs[1].ETag; got != "v1" {
		t.Errorf("conditional GET sent ETag %q, want v1", got)
	}

	// Third poll: a new matching item and a non-matching one.
	f.items = append(f.items, item("wire", "2", "Xinjiang: UN rights office responds"), item("wire", "3", "Football results"))
	rep, err = p.Poll(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Baseline || rep.New != 2 || rep.Matches != 1 || rep.Deliveries != 1 {
		t.Fatalf("third poll = %+v, want 2 new, 1 match, 1 delivery (desk only)", rep)
	}
	d := st.polls[len(st.polls)-1].Deliveries[0]
	if d.WebhookID != "desk" || d.ID != news.DeliveryID(news.EventMatchCreated, "xj", d.ItemID, "desk") {
		t.Errorf("delivery = %+v", d)
	}
	if notes.n != 1 {
		t.Errorf("notified %d times, want 1", notes.n)
	}
}

func TestPollFailureIsRecordedAndReturned(t *testing.T) {
	st := newMemStore()
	f := &feedFetcher{err: errors.New("http 503")}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st})
	for i := 1; i <= 2; i++ {
		if _, err := p.Poll(context.Background(), news.Source{ID: "s", URL: "http://x"}); err == nil {
			t.Fatal("want error")
		}
		if got := st.states["s"]; got.Failures != i || got.LastError != "http 503" || got.Baselined {
			t.Errorf("after %d failures state = %+v", i, got)
		}
	}
}

func TestPollRefusesConcurrentPollOfSameSource(t *testing.T) {
	f := &feedFetcher{block: make(chan struct{})}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: newMemStore()})
	src := news.Source{ID: "s", URL: "http://x"}
	done := make(chan error)
	go func() { _, err := p.Poll(context.Background(), src); done <- err }()
	// Wait until the first poll holds the source.
	for !func() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.running["s"] }() {
		time.Sleep(time.Millisecond)
	}
	if _, err := p.Poll(context.Background(), src); !errors.Is(err, ErrBusy) {
		t.Errorf("concurrent poll err = %v, want ErrBusy", err)
	}
	close(f.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type panicMatcher struct{}

func (panicMatcher) Match(news.Item, time.Time) []news.Match { panic("matcher bug") }

func TestPollRecoversFromPanic(t *testing.T) {
	f := &feedFetcher{items: []news.Item{item("s", "1", "x")}}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: panicMatcher{}, Store: newMemStore()})
	_, err := p.Poll(context.Background(), news.Source{ID: "s", URL: "http://x"})
	if err == nil || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("err = %v, want recovered panic", err)
	}
	// The source is released: a later poll is not refused as busy.
	if _, err := p.Poll(context.Background(), news.Source{ID: "s", URL: "http://x"}); errors.Is(err, ErrBusy) {
		t.Fatal("source stayed locked after panic")
	}
}

func TestSchedulerPollsOverdueSourceSoonAndStops(t *testing.T) {
	st := newMemStore()
	f := &feedFetcher{items: []news.Item{item("s", "1", "Xinjiang")}}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st})
	s, err := NewScheduler(p, []Job{{Source: news.Source{ID: "s", URL: "http://x"}, Schedule: Schedule{Every: time.Hour}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st.mu.Lock()
		n := len(st.polls)
		st.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a never-polled source was not polled soon after start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("scheduler did not stop")
	}
}

func TestPollMergesLaterSightingsOfAStory(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	st := newMemStore()
	hooks := []news.Webhook{{ID: "desk"}, {ID: "wants-updates", Updates: true}}
	wire := &feedFetcher{}
	p := NewPoller(PollerConfig{Fetcher: wire, Matcher: wordMatcher{}, Store: st, Webhooks: hooks,
		DedupWindow: 48 * time.Hour, Now: func() time.Time { return now }})
	src := news.Source{ID: "wire", URL: "http://wire.example/feed"}
	if _, err := p.Poll(ctx, src); err != nil { // baseline, empty
		t.Fatal(err)
	}
	story := item("wire", "a", "UN report on Xinjiang finds possible crimes against humanity")
	story.Link = "https://news.example/2022/08/31/xinjiang-report?utm_source=rss"
	// The same story twice in one batch under another URL variant, and again under another headline.
	copy1 := item("wire", "b", "UN report on Xinjiang finds possible crimes against humanity - Example News")
	copy2 := item("wire", "c", "Xinjiang: what the UN found")
	copy2.Link = "https://m.news.example/2022/08/31/xinjiang-report"
	wire.items = []news.Item{story, copy1, copy2}
	rep, err := p.Poll(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Matches != 3 || rep.Duplicates != 2 {
		t.Fatalf("report = %+v, want 3 matches of which 2 duplicates", rep)
	}
	last := st.polls[len(st.polls)-1]
	created, updates := 0, 0
	for _, d := range last.Deliveries {
		switch d.EventType {
		case news.EventMatchCreated:
			created++
		case news.EventMatchUpdated:
			updates++
			if d.WebhookID != "wants-updates" || d.ItemID != story.ID || d.Update.Kind != news.UpdateAlsoReported {
				t.Errorf("update delivery = %+v", d)
			}
		}
	}
	if created != 2 || updates != 2 {
		t.Errorf("%d created (want 2: one story x two webhooks), %d updates (want 2: two sightings x the opted-in webhook)", created, updates)
	}

	// A later poll from another source: merged with the stored story.
	other := &feedFetcher{items: []news.Item{item("bbc", "x", "BBC"), func() news.Item {
		it := item("bbc", "y", "UN report on Xinjiang finds possible crimes against humanity | BBC")
		return it
	}()}}
	p2 := NewPoller(PollerConfig{Fetcher: other, Matcher: wordMatcher{}, Store: st, Webhooks: hooks,
		DedupWindow: 48 * time.Hour, Now: func() time.Time { return now.Add(time.Hour) }})
	st.states["bbc"] = news.SourceState{SourceID: "bbc", Baselined: true}
	rep, err = p2.Poll(ctx, news.Source{ID: "bbc", URL: "http://bbc.example/feed"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Duplicates != 1 || rep.Deliveries != 1 {
		t.Errorf("cross-source sighting: %+v, want 1 duplicate and 1 update delivery (no new alert)", rep)
	}
	// Outside the window it is a new story.
	p3 := NewPoller(PollerConfig{Fetcher: &feedFetcher{items: []news.Item{item("ap", "z", "UN report on Xinjiang finds possible crimes against humanity")}},
		Matcher: wordMatcher{}, Store: st, Webhooks: hooks, DedupWindow: 48 * time.Hour, Now: func() time.Time { return now.Add(72 * time.Hour) }})
	st.states["ap"] = news.SourceState{SourceID: "ap", Baselined: true}
	if rep, _ := p3.Poll(ctx, news.Source{ID: "ap", URL: "http://ap.example/feed"}); rep.Duplicates != 0 {
		t.Errorf("sighting after the window merged: %+v", rep)
	}
}

func TestPollCorrectionsUpdateTheItemAndTellOptedInWebhooks(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	hooks := []news.Webhook{{ID: "desk"}, {ID: "wants-updates", Updates: true}}
	f := &feedFetcher{}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st, Webhooks: hooks, DedupWindow: 48 * time.Hour})
	src := news.Source{ID: "wire", URL: "http://wire.example/feed"}
	p.Poll(ctx, src) // baseline
	f.items = []news.Item{item("wire", "1", "Xinjiang report: 1 million detained"), item("wire", "2", "Football")}
	p.Poll(ctx, src)
	f.items = []news.Item{item("wire", "1", "Xinjiang report: more than 1 million detained"), item("wire", "2", "Football (corrected)")}
	rep, err := p.Poll(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	last := st.polls[len(st.polls)-1]
	if rep.Corrected != 2 || len(last.Corrected) != 2 {
		t.Errorf("corrected = %d, want 2 (both stored items changed title)", rep.Corrected)
	}
	if len(last.Deliveries) != 1 {
		t.Fatalf("deliveries = %+v, want one update (only the alerted item, only the opted-in webhook)", last.Deliveries)
	}
	d := last.Deliveries[0]
	if d.WebhookID != "wants-updates" || d.Update.Kind != news.UpdateCorrected ||
		d.Update.PreviousTitle != "Xinjiang report: 1 million detained" || d.Update.Title != "Xinjiang report: more than 1 million detained" {
		t.Errorf("update = %+v %+v", d, d.Update)
	}
	// The same correction seen again changes nothing.
	rep, _ = p.Poll(ctx, src)
	if rep.Corrected != 0 {
		t.Errorf("unchanged titles reported as corrected: %+v", rep)
	}
}
