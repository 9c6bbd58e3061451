package watch

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wirewatch/news"
)

func TestDueTimeIsTheLatestTick(t *testing.T) {
	sched, err := Schedule{Every: 10 * time.Second}.compile("s")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tick := sched.Next(base)
	for _, now := range []time.Time{tick, tick.Add(3 * time.Millisecond), tick.Add(9 * time.Second)} {
		if got := dueTime(sched, now); !got.Equal(tick) {
			t.Errorf("dueTime(%v) = %v, want the tick %v", now, got, tick)
		}
	}
	cronSched, _ := Schedule{Cron: "0 8 * * 1"}.compile("s") // Mondays 08:00 (+ a spread)
	mon := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)       // a Monday
	if got := dueTime(cronSched, mon.Add(48*time.Hour)); got.Day() != 2 || got.Hour() != 8 {
		t.Errorf("weekly dueTime = %v, want Monday 08:00", got)
	}
}

// memLeaser gives each (source, due) to one claimer, like the store's.
type memLeaser struct {
	mu    sync.Mutex
	due   map[string]time.Time
	polls map[string]int // source@due -> claims granted
}

func (l *memLeaser) ClaimPoll(_ context.Context, id string, due time.Time, owner string, lease time.Duration, now time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, ok := l.due[id]; ok && !due.After(d) {
		return false, nil
	}
	l.due[id] = due
	l.polls[id+"@"+due.String()]++
	return true, nil
}

func (l *memLeaser) ReleasePoll(context.Context, string, string) error { return nil }

func TestSharedSchedulersPollEachDueTimeOnce(t *testing.T) {
	l := &memLeaser{due: map[string]time.Time{}, polls: map[string]int{}}
	var fetches atomic.Int32
	st := newMemStore()
	f := &scriptFetcher{fn: func(news.FetchRequest) (news.FetchResult, error) {
		fetches.Add(1)
		return news.FetchResult{ETag: "e"}, nil
	}}
	jobs := []Job{{Source: news.Source{ID: "a", URL: "https://a.example/f"}, Schedule: Schedule{Every: time.Second}},
		{Source: news.Source{ID: "b", URL: "https://b.example/f"}, Schedule: Schedule{Every: time.Second}}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, owner := range []string{"one", "two", "three"} {
		p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st})
		s, err := NewScheduler(p, jobs, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Share(l, owner, time.Minute)
		wg.Go(func() { s.Run(ctx) })
	}
	time.Sleep(4500 * time.Millisecond)
	cancel()
	wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, n := range l.polls {
		if n != 1 {
			t.Errorf("%s claimed %d times", k, n)
		}
	}
	if got, want := int(fetches.Load()), len(l.polls); got != want || got < 6 {
		t.Errorf("%d fetches for %d due times (want one each, and at least 6 in 4.5s)", got, want)
	}
}
