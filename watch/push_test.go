package watch

import (
	"context"
	"strings"
	"testing"

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
