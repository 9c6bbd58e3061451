package watch

import (
	"context"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

func TestPushIngestsLikeAPollWithoutFetching(t *testing.T) {
	st := newMemStore()
	f := &feedFetcher{items: []news.Item{item("s", "old", "Xinjiang before")}}
	hook := news.Webhook{ID: "desk"}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st, Webhooks: []news.Webhook{hook}})
	src := news.Source{ID: "s", URL: "https://a.example/feed"}

	if _, err := p.Push(context.Background(), src, news.FetchResult{Items: []news.Item{item("s", "x", "Xinjiang pushed")}}); err == nil ||
		!strings.Contains(err.Error(), "not been polled") {
		t.Fatalf("push before the baseline: %v", err)
	}
	if _, err := p.Poll(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	before, _ := st.SourceState(context.Background(), "s")
	rep, err := p.Push(context.Background(), src, news.FetchResult{Items: []news.Item{item("s", "new", "Xinjiang pushed story")}})
	if err != nil || rep.New != 1 || rep.Matches != 1 || rep.Deliveries != 1 || rep.Baseline {
		t.Fatalf("push: %+v, %v", rep, err)
	}
	after, _ := st.SourceState(context.Background(), "s")
	if after.ETag != before.ETag || len(f.reqs) != 1 {
		t.Errorf("push touched the validators (%q → %q) or fetched (%d requests)", before.ETag, after.ETag, len(f.reqs))
	}
	// The same push again adds nothing.
	if rep, err := p.Push(context.Background(), src, news.FetchResult{Items: []news.Item{item("s", "new", "Xinjiang pushed story")}}); err != nil || rep.New != 0 {
		t.Fatalf("repeated push: %+v, %v", rep, err)
	}
}

type hubRecorder struct {
	ensured []string
	active  bool
}

func (h *hubRecorder) Ensure(_ context.Context, sourceID, hub, topic string) error {
	h.ensured = append(h.ensured, sourceID+" "+hub+" "+topic)
	return nil
}
func (h *hubRecorder) Active(context.Context, string) bool { return h.active }

func TestHubAdvertisedSubscribesAndSlowsPolling(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	st := newMemStore()
	f := &scriptFetcher{fn: func(req news.FetchRequest) (news.FetchResult, error) {
		return news.FetchResult{ETag: "e", Hub: "https://hub.example/", Self: "https://a.example/self"}, nil
	}}
	hubs := &hubRecorder{}
	p := NewPoller(PollerConfig{Fetcher: f, Matcher: wordMatcher{}, Store: st, Now: clk.now, Hubs: hubs, HubFallback: 2 * time.Hour})
	src := news.Source{ID: "s", URL: "https://a.example/feed"}
	rep, err := scheduled(p, src)
	if err != nil || len(hubs.ensured) != 1 || hubs.ensured[0] != "s https://hub.example/ https://a.example/self" || !rep.NextPoll.IsZero() {
		t.Fatalf("first poll: %+v, %v, ensured %q", rep, err, hubs.ensured)
	}
	hubs.active = true
	rep, _ = scheduled(p, src)
	if got := rep.NextPoll.Sub(clk.now()); got != 2*time.Hour {
		t.Errorf("with an active subscription the next poll is in %v, want the 2h fallback", got)
	}
}
