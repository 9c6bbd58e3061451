package main

import (
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

// TestExplainAnswersWhyDidntIGetThis runs the real binary as a desk editor
// would after "why didn't I get this?": with the link they were sent (or a
// guid, or the id a feed shows), 'match --explain' finds the stored item
// and says what became of it in each topic: alerted (and whether each
// webhook has it), a later sighting of a story already alerted, a new
// source's backlog, not matched, or matched only by the topic as changed
// since. An item no source carried is an error that says so.
func TestExplainAnswersWhyDidntIGetThis(t *testing.T) {
	wireA, wireB := &testFeed{}, &testFeed{}
	a := outlet{"a", "Outlet A", serveHTTP(t, wireA).URL}
	b := outlet{"b", "Outlet B", serveHTTP(t, wireB).URL}
	desk := newStoryDesk(t, a, b)
	desk.plain.fail = 1000 // the plain receiver refuses everything
	desk.plain.failStatus = 400

	explain := func(ref string) (string, int) {
		t.Helper()
		return runBin(t, nil, "match", "--config", desk.cfg, "--explain", ref)
	}
	run := func() {
		t.Helper()
		// Status 1 is allowed: alerts may still be pending at the deadline.
		if out, code := runBin(t, nil, "run", "--config", desk.cfg, "--wait", "2s"); code > 1 {
			t.Fatalf("run: exit %d\n%s", code, out)
		}
	}

	wireA.add("old", "Uyghur poets remembered at a London reading", "A backlog item.")
	run() // both sources' first fetch: a baseline
	const headline = "UN finds Uyghurs may have suffered crimes against humanity"
	wireA.add("s1", headline+" - Outlet A", "The report was published on Wednesday.")
	wireA.add("c1", "Cotton prices rise in the north-west", "A large harvest.")
	run()
	wireB.add("s2", headline+" - Outlet B", "The same wire story.")
	run()

	// The story, by the link as shared: tracking parameters and "www." do
	// not matter. Alerted; the plain receiver has not taken it.
	out, code := explain("http://www.wire.test/s1?utm_source=newsletter")
	t.Logf("explain s1:\n%s", out)
	if code != 0 {
		t.Fatalf("explain s1: exit %d", code)
	}
	for _, want := range []string{
		news.ItemID("a", "s1"), "from Outlet A", "verdict: matched", "and alerted:",
		`plain          refused by the receiver (answered 400 Bad Request: ""), not retried; replay: wirewatch deliveries retry --config ` + desk.cfg + ` msg_`,
		"updates        delivered ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain s1 lacks %q", want)
		}
	}

	// The second outlet's copy, by its guid: merged into the first.
	out, code = explain("s2")
	t.Logf("explain s2:\n%s", out)
	if code != 0 {
		t.Fatalf("explain s2: exit %d", code)
	}
	for _, want := range []string{
		"from Outlet B", "as a later sighting of a story", news.ItemID("a", "s1"), "not alerted on its own",
		"The first sighting's alert:", "The \"also reported\" update about this item:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain s2 lacks %q", want)
		}
	}
	if i := strings.Index(out, "update about this item:"); i < 0 || !strings.Contains(out[i:], "updates        delivered ") {
		t.Errorf("explain s2 does not show the update delivered to the updates webhook")
	}

	// The backlog item, by the id feeds show.
	out, code = explain(itemURN + news.ItemID("a", "old"))
	if code != 0 || !strings.Contains(out, "on its source's first fetch") || !strings.Contains(out, "never") {
		t.Errorf("explain old: exit %d, want a baseline match:\n%s", code, out)
	}

	// An item that does not match, by its link.
	out, code = explain("http://wire.test/c1")
	if code != 0 || !strings.Contains(out, "nothing: the item does not match this topic") || strings.Contains(out, "alerted") {
		t.Errorf("explain c1: exit %d, want no match:\n%s", code, out)
	}

	// The desk widens the topic: the item did not match when fetched, and
	// would now.
	cfg, err := os.ReadFile(desk.cfg)
	if err != nil {
		t.Fatal(err)
	}
	widened := strings.Replace(string(cfg), `query: 'Uyghur*'`, `query: 'Uyghur* OR cotton'`, 1)
	if err := os.WriteFile(desk.cfg, []byte(widened), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code = explain("http://wire.test/c1")
	if code != 0 || !strings.Contains(out, "did not match this topic when it was fetched, but the topic as configured now") {
		t.Errorf("explain c1 after the topic changed: exit %d:\n%s", code, out)
	}

	// An article no source carried.
	out, code = explain("https://elsewhere.test/story")
	if code != 2 || !strings.Contains(out, `no stored item has the id, guid or link "https://elsewhere.test/story"`) ||
		!strings.Contains(out, "none of the 2 sources carried it") {
		t.Errorf("explain unknown: exit %d, want 2 and why:\n%s", code, out)
	}

	// A reporter asks the same on the web page, which leaves out the
	// operator's commands and the config's path.
	srv := startServer(t, desk.cfg)
	status, page, _ := srv.get(t, "/why?item="+url.QueryEscape("http://www.wire.test/s1?utm_source=newsletter"))
	if status != 200 || !strings.Contains(page, "What wirewatch did:") || !strings.Contains(page, "and alerted:") ||
		!strings.Contains(page, "plain          refused by the receiver (answered 400 Bad Request: &#34;&#34;), not retried; it can be replayed") {
		t.Errorf("GET /why for s1: status %d:\n%s", status, page)
	}
	if strings.Contains(page, "wirewatch deliveries retry") || strings.Contains(page, desk.cfg) {
		t.Errorf("the web page shows operator commands or the config path:\n%s", page)
	}
	if status, page, _ := srv.get(t, "/why?item="+url.QueryEscape("https://elsewhere.test/story")); status != 404 ||
		!strings.Contains(page, "none of the 2 sources carried it") || strings.Contains(page, "FEED-URL") {
		t.Errorf("GET /why for an unknown link: status %d:\n%s", status, page)
	}
	if _, index, _ := srv.get(t, "/"); !strings.Contains(index, `/why" method="get"><input name="item"`) {
		t.Errorf("the index page does not offer the why form:\n%s", index)
	}
}

func TestBackfilledTellsABackfillFromAFirstFetch(t *testing.T) {
	fetched := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		matched time.Time
		want    bool
	}{
		{fetched.Add(2 * time.Second), false},          // the poll that fetched it
		{fetched.Add(backfillGap), false},              // still within reach of one poll
		{fetched.Add(backfillGap + time.Second), true}, // a later backfill
		{fetched.Add(72 * time.Hour), true},
	} {
		it := news.Item{FetchedAt: fetched}
		if got := backfilled(it, news.Match{MatchedAt: c.matched, Baseline: true}); got != c.want {
			t.Errorf("matched %v after the fetch: backfilled = %v, want %v", c.matched.Sub(fetched), got, c.want)
		}
	}
	if backfilled(news.Item{}, news.Match{MatchedAt: fetched, Baseline: true}) {
		t.Errorf("an item with no fetch time is not known to be backfilled")
	}
}
