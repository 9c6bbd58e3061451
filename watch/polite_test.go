package watch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wirewatch/news"
)

// failure is a fetch error with a reason code, like sources.FetchError.
type failure struct {
	reason     string
	retryAfter time.Duration
}

func (f failure) Error() string                 { return "fetch failed: " + f.reason }
func (f failure) FailureReason() string         { return f.reason }
func (f failure) RetryAfterHint() time.Duration { return f.retryAfter }

// scriptFetcher answers from a function of the request.
type scriptFetcher struct {
	mu   sync.Mutex
	reqs []news.FetchRequest
	fn   func(req news.FetchRequest) (news.FetchResult, error)
}

func (f *scriptFetcher) Fetch(_ context.Context, req news.FetchRequest) (news.FetchResult, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	return f.fn(req)
}

func (f *scriptFetcher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

var (
	healthHook = news.Webhook{ID: "ops", SourceHealth: true}
	plainHook  = news.Webhook{ID: "desk"}
)

func scheduled(p *Poller, src news.Source) (Report, error) {
	return p.pollWith(context.Background(), src, pollOptions{honourNextPoll: true})
}

func TestFailuresBackOffNeverGiveUpAndReportHealth(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	st := newMemStore()
	var failing atomic.Bool
	failing.Store(true)
	f := &scriptFetcher{fn: func(news.FetchRequest) (news.FetchResult, error) {
		if failing.Load() {
			return news.FetchResult{}, failure{reason: "http-5xx"}
		}
		return news.FetchResult{ETag: "e"}, nil
	}}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st, Now: clk.now,
		Webhooks: []news.Webhook{healthHook, plainHook}})
	src := news.Source{ID: "s", URL: "https://a.example/feed"}

	var waits []time.Duration
	for i := 1; i <= 12; i++ {
		rep, err := scheduled(p, src)
		if err == nil || rep.Skipped {
			t.Fatalf("poll %d: skipped %v, err %v", i, rep.Skipped, err)
		}
		wait := rep.NextPoll.Sub(clk.now())
		waits = append(waits, wait)
		// Not due before the backoff ends.
		clk.advance(wait / 2)
		if rep, _ := scheduled(p, src); !rep.Skipped {
			t.Fatalf("poll %d: polled during its backoff", i)
		}
		clk.advance(wait - wait/2)
	}
	// Exponential from about a minute, capped at about 6h (±10% jitter).
	if w := waits[0]; w < 54*time.Second || w > 66*time.Second {
		t.Errorf("first backoff %v, want about 1m", w)
	}
	if w := waits[3]; w < 7*time.Minute || w > 9*time.Minute {
		t.Errorf("fourth backoff %v, want about 8m", w)
	}
	for _, w := range waits[10:] {
		if w < 324*time.Minute || w > 396*time.Minute {
			t.Errorf("late backoff %v, want about 6h (capped)", w)
		}
	}
	if n := f.count(); n != 12 {
		t.Errorf("fetched %d times, want 12 (once per backoff)", n)
	}
	s, _ := st.SourceState(context.Background(), "s")
	if s.Health != news.HealthFailed || s.Failures != 12 || s.ErrorReason != "http-5xx" {
		t.Errorf("state = %+v", s)
	}
	// One failed event, to the webhook that opted in, however many polls.
	if len(st.events) != 1 || st.events[0].WebhookID != "ops" || st.events[0].Health.State != news.HealthFailed ||
		st.events[0].Health.Previous != news.HealthFailing || st.events[0].Health.Reason != "http-5xx" {
		t.Fatalf("events = %+v", st.events)
	}

	failing.Store(false)
	rep, err := scheduled(p, src)
	if err != nil || rep.Health != news.HealthOK || !rep.NextPoll.IsZero() {
		t.Fatalf("recovery poll: %+v, %v", rep, err)
	}
	if len(st.events) != 2 || st.events[1].Health.State != news.HealthOK || st.events[1].Health.Previous != news.HealthFailed {
		t.Fatalf("recovery event: %+v", st.events)
	}
}

func TestRetryAfterAndPublisherIntervalAreHonoured(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	st := newMemStore()
	var res news.FetchResult
	var err error
	f := &scriptFetcher{fn: func(news.FetchRequest) (news.FetchResult, error) { return res, err }}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st, Now: clk.now})
	src := news.Source{ID: "s", URL: "https://a.example/feed"}

	err = failure{reason: "http-4xx", retryAfter: 2 * time.Hour} // 429 with Retry-After
	rep, _ := scheduled(p, src)
	if got := rep.NextPoll.Sub(clk.now()); got != 2*time.Hour {
		t.Errorf("after Retry-After 2h: next poll in %v", got)
	}
	clk.advance(2 * time.Hour)

	err, res = nil, news.FetchResult{ETag: "e", MinInterval: 45 * time.Minute} // <ttl>45</ttl>
	rep, _ = scheduled(p, src)
	if got := rep.NextPoll.Sub(clk.now()); got != 45*time.Minute {
		t.Errorf("ttl 45m: next poll in %v", got)
	}
	clk.advance(44 * time.Minute)
	if rep, _ := scheduled(p, src); !rep.Skipped {
		t.Error("polled before the publisher's interval")
	}
	clk.advance(time.Minute)
	res = news.FetchResult{ETag: "e", MinInterval: 30 * 24 * time.Hour} // absurd max-age: capped at 24h
	rep, _ = scheduled(p, src)
	if got := rep.NextPoll.Sub(clk.now()); got != 24*time.Hour {
		t.Errorf("max-age of 30 days: next poll in %v, want the 24h cap", got)
	}
	// A manual poll (wirewatch run) is not held back.
	if rep, err := p.Poll(context.Background(), src); err != nil || rep.Skipped {
		t.Errorf("manual poll: %+v, %v", rep, err)
	}
}

func TestNetworkOutageIsNotHeldAgainstSources(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	st := newMemStore()
	var down atomic.Bool
	down.Store(true)
	f := &scriptFetcher{fn: func(req news.FetchRequest) (news.FetchResult, error) {
		if down.Load() {
			return news.FetchResult{}, failure{reason: "dns"}
		}
		return news.FetchResult{ETag: "e"}, nil
	}}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st, Now: clk.now})
	var outages int
	for range 3 {
		for i := range 5 {
			src := news.Source{ID: fmt.Sprintf("s%d", i), URL: fmt.Sprintf("https://host%d.example/feed", i)}
			rep, _ := p.Poll(context.Background(), src)
			if rep.Outage {
				outages++
			}
		}
		clk.advance(30 * time.Second)
	}
	// The first two hosts' first failures count (no outage yet); from the
	// third host on, wirewatch knows it is cut off.
	if outages != 13 {
		t.Errorf("%d polls put down to an outage, want 13", outages)
	}
	for i := range 5 {
		s, _ := st.SourceState(context.Background(), fmt.Sprintf("s%d", i))
		if s.Failures > 1 || s.Health == news.HealthFailed {
			t.Errorf("s%d penalised for the outage: %+v", i, s)
		}
	}
	// Back online: a success ends it, and a lone failing host counts again.
	down.Store(false)
	p.Poll(context.Background(), news.Source{ID: "s0", URL: "https://host0.example/feed"})
	clk.advance(3 * time.Minute)
	f.fn = func(req news.FetchRequest) (news.FetchResult, error) {
		return news.FetchResult{}, failure{reason: "connect"}
	}
	rep, _ := p.Poll(context.Background(), news.Source{ID: "s1", URL: "https://host1.example/feed"})
	if rep.Outage {
		t.Error("one failing host after recovery was taken for an outage")
	}
}

func TestPermanentRedirectMovesTheSource(t *testing.T) {
	st := newMemStore()
	f := &scriptFetcher{fn: func(req news.FetchRequest) (news.FetchResult, error) {
		if req.URL == "https://old.example/feed" {
			return news.FetchResult{ETag: "e", PermanentURL: "https://new.example/feed"}, nil
		}
		return news.FetchResult{ETag: "e2"}, nil
	}}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st})
	src := news.Source{ID: "s", URL: "https://old.example/feed"}
	rep, err := p.Poll(context.Background(), src)
	if err != nil || rep.MovedTo != "https://new.example/feed" {
		t.Fatalf("first poll: %+v, %v", rep, err)
	}
	p.Poll(context.Background(), src)
	if got := f.reqs[1].URL; got != "https://new.example/feed" {
		t.Errorf("second fetch went to %s, want the new URL", got)
	}
	// Editing the configured URL starts afresh.
	p.Poll(context.Background(), news.Source{ID: "s", URL: "https://other.example/feed"})
	if got := f.reqs[2].URL; got != "https://other.example/feed" {
		t.Errorf("after a config change fetched %s", got)
	}
}

func TestPerHostConcurrencyLimit(t *testing.T) {
	st := newMemStore()
	g := &gauge{release: make(chan struct{})}
	f := &scriptFetcher{fn: g.fetch}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			p.Poll(context.Background(), news.Source{ID: fmt.Sprintf("s%d", i), URL: fmt.Sprintf("https://one.example/feed%d", i)})
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for g.inFlight.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if n := g.inFlight.Load(); n != 2 {
		t.Errorf("%d fetches in flight to one host, want 2", n)
	}
	close(g.release)
	wg.Wait()
	if g.peak.Load() != 2 || f.count() != 6 {
		t.Errorf("peak %d, fetches %d", g.peak.Load(), f.count())
	}
}

func TestSilentSourceIsReported(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)}
	st := newMemStore()
	// Two items a day for six days, then nothing for a week: 13 items in
	// the 14-day window, a rhythm of about a day, and silent for seven.
	for i := range 13 {
		it := item("s", fmt.Sprintf("k%d", i), "story")
		it.FetchedAt = clk.now().Add(-13*24*time.Hour + time.Duration(i)*12*time.Hour)
		st.items[it.ID] = it
	}
	st.states["s"] = news.SourceState{SourceID: "s", URL: "https://a.example/feed", Baselined: true, Health: news.HealthOK, ETag: "e"}
	f := &scriptFetcher{fn: func(news.FetchRequest) (news.FetchResult, error) {
		return news.FetchResult{NotModified: true, ETag: "e"}, nil
	}}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st, Now: clk.now, Webhooks: []news.Webhook{healthHook}})
	rep, err := p.Poll(context.Background(), news.Source{ID: "s", URL: "https://a.example/feed"})
	if err != nil || rep.Health != news.HealthSilent {
		t.Fatalf("poll: %+v, %v", rep, err)
	}
	if len(st.events) != 1 || st.events[0].Health.State != news.HealthSilent || st.events[0].Health.LastItem.IsZero() {
		t.Fatalf("events %+v", st.events)
	}
	// Staying silent reports nothing more.
	clk.advance(2 * time.Hour)
	p.Poll(context.Background(), news.Source{ID: "s", URL: "https://a.example/feed"})
	if len(st.events) != 1 {
		t.Fatalf("silence reported twice: %+v", st.events)
	}
}

func TestAdaptiveIntervalAndSilenceRules(t *testing.T) {
	for _, c := range []struct {
		items  int
		lo, hi time.Duration
		want   time.Duration
	}{
		{0, time.Minute, time.Hour, time.Hour},
		{7 * 24 * 6, time.Minute, time.Hour, 5 * time.Minute}, // 6 an hour: every 5m
		{7 * 24 * 600, time.Minute, time.Hour, time.Minute},   // floor
		{3, 2 * time.Minute, 2 * time.Hour, 2 * time.Hour},    // quiet: ceiling
	} {
		if got := adaptiveInterval(c.items, c.lo, c.hi); got != c.want {
			t.Errorf("adaptiveInterval(%d) = %v, want %v", c.items, got, c.want)
		}
	}
	now := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	if isSilent(3, now.Add(-10*24*time.Hour), now) {
		t.Error("a source too sparse to have a rhythm was called silent")
	}
	if isSilent(140, now.Add(-11*time.Hour), now) {
		t.Error("silent within the 12h floor")
	}
	if isSilent(140, now.Add(-14*time.Hour), now) {
		t.Error("a source of 10 items a day (a 2.4h rhythm) called silent within six gaps")
	}
	if !isSilent(140, now.Add(-15*time.Hour), now) {
		t.Error("a source of 10 items a day, quiet for 15h, is not silent")
	}
}

func TestMaxConcurrentPolls(t *testing.T) {
	st := newMemStore()
	g := &gauge{release: make(chan struct{})}
	f := &scriptFetcher{fn: g.fetch}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st, Politeness: Politeness{MaxConcurrent: 3}})
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			p.Poll(context.Background(), news.Source{ID: fmt.Sprintf("s%d", i), URL: fmt.Sprintf("https://h%d.example/f", i)})
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for g.inFlight.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(g.release)
	wg.Wait()
	if g.peak.Load() != 3 || f.count() != 10 {
		t.Errorf("peak %d polls in flight (want 3), %d fetches", g.peak.Load(), f.count())
	}
}

// gauge is a fetcher body that blocks until release is closed and records
// how many fetches were in flight at once.
type gauge struct {
	inFlight, peak atomic.Int32
	release        chan struct{}
}

func (g *gauge) fetch(news.FetchRequest) (news.FetchResult, error) {
	n := g.inFlight.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	<-g.release
	g.inFlight.Add(-1)
	return news.FetchResult{ETag: "e"}, nil
}
