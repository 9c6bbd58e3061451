package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

func entriesByItem(t *testing.T, st contractStore, topic string) map[string]news.Entry {
	t.Helper()
	es, err := st.TopicEntries(context.Background(), topic, 1000)
	if err != nil {
		t.Fatalf("TopicEntries(%q): %v", topic, err)
	}
	out := make(map[string]news.Entry, len(es))
	for _, e := range es {
		out[e.Item.ID] = e
	}
	return out
}

func itemKeys(items []news.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Key
	}
	return out
}

func mustFingerprint(t *testing.T, st contractStore, topic, want string) {
	t.Helper()
	got, err := st.TopicFingerprint(context.Background(), topic)
	if err != nil {
		t.Fatalf("TopicFingerprint(%q): %v", topic, err)
	}
	if got != want {
		t.Fatalf("TopicFingerprint(%q) = %q, want %q", topic, got, want)
	}
}

// testTopicStateContract covers match marks, item reads for backfills, topic
// state (Backfill, PruneTopics) and Stats.
func testTopicStateContract(t *testing.T, b backend) {
	ctx := context.Background()

	t.Run("MarksRoundTrip", func(t *testing.T) {
		st := b.open(t)
		a, c, d := testItem("s1", "a", at(0)), testItem("s1", "c", at(time.Second)), testItem("s1", "d", at(2*time.Second))
		ma := testMatch("t1", a, at(time.Minute), false) // two marks
		mc := testMatch("t1", c, at(time.Minute), false)
		mc.Marks = nil
		md := testMatch("t1", d, at(time.Minute), false)
		md.Marks = []news.Span{}
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a, c, d},
			Matches: []news.Match{ma, mc, md}, Deliveries: []news.Delivery{testDelivery("w1", ma, at(time.Minute))}})

		got := entriesByItem(t, st, "t1")
		for _, want := range []news.Match{ma, mc, md} {
			if m := got[want.ItemID].Match; !reflect.DeepEqual(m.Marks, want.Marks) {
				t.Errorf("marks of %s = %#v, want %#v", want.ItemID, m.Marks, want.Marks)
			}
		}
		alert, ok, err := st.ClaimNext(ctx, "w1", true, at(time.Hour), time.Minute)
		if err != nil || !ok {
			t.Fatalf("ClaimNext = %v, %v", ok, err)
		}
		if !reflect.DeepEqual(alert.Entry.Match, ma) {
			t.Fatalf("claimed match:\n got %+v\nwant %+v", alert.Entry.Match, ma)
		}
	})

	t.Run("ItemsSince", func(t *testing.T) {
		st := b.open(t)
		mk := func(src, key string, fetched time.Time) news.Item {
			it := testItem(src, key, at(-time.Hour))
			it.FetchedAt = fetched
			return it
		}
		a := mk("s1", "a", at(0))
		bb := mk("s1", "b", at(time.Hour))
		c := mk("s2", "c", at(2*time.Hour))
		d := mk("s2", "d", at(2*time.Hour))
		e := mk("s3", "e", at(3*time.Hour))
		z := mk("s1", "z", time.Time{}) // fetch time unknown
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{z, bb, a}})
		mustSave(t, st, news.PollResult{State: testState("s2"), Items: []news.Item{d, c}})
		mustSave(t, st, news.PollResult{State: testState("s3"), Items: []news.Item{e}})
		// Equal fetch times: higher id first.
		tie := []string{"c", "d"}
		if d.ID > c.ID {
			tie = []string{"d", "c"}
		}

		since := func(from time.Time, sources []string, limit int) []string {
			t.Helper()
			got, err := st.ItemsSince(ctx, from, sources, limit)
			if err != nil {
				t.Fatalf("ItemsSince(%v, %v, %d): %v", from, sources, limit, err)
			}
			return itemKeys(got)
		}
		check := func(name string, got, want []string) {
			t.Helper()
			if len(got) == 0 && len(want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n got %v\nwant %v", name, got, want)
			}
		}
		check("since 1h (boundary included)", since(at(time.Hour), nil, 0), []string{"e", tie[0], tie[1], "b"})
		check("since 1h+1ms (boundary excluded)", since(at(time.Hour+time.Millisecond), nil, 0), []string{"e", tie[0], tie[1]})
		check("limit 2", since(at(0), nil, 2), []string{"e", tie[0]})
		check("sources s1, s3", since(at(0), []string{"s3", "s1"}, 0), []string{"e", "b", "a"})
		check("one source", since(at(0), []string{"s2"}, 0), tie)
		check("empty source list means all", since(at(time.Hour), []string{}, 0), []string{"e", tie[0], tie[1], "b"})
		check("unknown source", since(time.Time{}, []string{"nope"}, 0), nil)
		check("future", since(at(4*time.Hour), nil, 0), nil)
		check("zero since: everything, unknown fetch time last", since(time.Time{}, nil, -1),
			[]string{"e", tie[0], tie[1], "b", "a", "z"})

		got, err := st.ItemsSince(ctx, at(3*time.Hour), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, []news.Item{e}) {
			t.Fatalf("item round trip:\n got %+v\nwant %+v", got, []news.Item{e})
		}
	})

	t.Run("Item", func(t *testing.T) {
		st := b.open(t)
		a, c := testItem("s1", "a", at(0)), testItem("s2", "c", at(0))
		c.Published, c.Authors = time.Time{}, nil
		untitled := testState("s2")
		untitled.Title = ""
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a}})
		mustSave(t, st, news.PollResult{State: untitled, Items: []news.Item{c}})

		for _, tc := range []struct {
			want  news.Item
			title string
		}{{a, "Source s1"}, {c, "s2"}} {
			got, title, err := st.Item(ctx, tc.want.ID)
			if err != nil {
				t.Fatalf("Item(%s): %v", tc.want.Key, err)
			}
			if !reflect.DeepEqual(got, tc.want) || title != tc.title {
				t.Fatalf("Item(%s):\n got %+v, %q\nwant %+v, %q", tc.want.Key, got, title, tc.want, tc.title)
			}
		}
		_, _, err := st.Item(ctx, "nope")
		if !errors.Is(err, news.ErrNotFound) {
			t.Fatalf("Item(unknown) = %v, want ErrNotFound", err)
		}
		if !strings.Contains(err.Error(), `"nope"`) {
			t.Fatalf("error %q does not name the id", err)
		}
	})

	t.Run("Backfill", func(t *testing.T) {
		st := b.open(t)
		var items []news.Item
		byKey := map[string]news.Item{}
		for i, key := range []string{"a", "b", "c", "d", "e", "f", "g"} {
			it := testItem("s1", key, at(time.Duration(i)*time.Second))
			items = append(items, it)
			byKey[key] = it
		}
		it := func(key string) news.Item { return byKey[key] }
		// Before: a and g were alerted, b and f were matched without alert,
		// c was a baseline match; t2 also matched b.
		ma := testMatch("t1", it("a"), at(time.Minute), false)
		mb := testMatch("t1", it("b"), at(time.Minute), false)
		mc := testMatch("t1", it("c"), at(2*time.Minute), true)
		mf := testMatch("t1", it("f"), at(time.Minute), false)
		mg := testMatch("t1", it("g"), at(time.Minute), false)
		m2b := testMatch("t2", it("b"), at(time.Minute), false)
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: items,
			Matches:    []news.Match{ma, mb, mc, mf, mg, m2b},
			Deliveries: []news.Delivery{testDelivery("w1", ma, at(time.Minute)), testDelivery("w1", mg, at(2*time.Minute))}})
		deliveriesBefore, err := st.Deliveries(ctx, DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		t2Before := entriesByItem(t, st, "t2")
		mustFingerprint(t, st, "t1", "")

		changed := func(m news.Match, snippet string) news.Match {
			m.Terms, m.Hits, m.Score, m.Snippet = []string{"rights"}, nil, 3.5, snippet
			m.Marks = []news.Span{{Start: 0, End: 3}}
			m.MatchedAt, m.Baseline = at(10*time.Hour), false
			return m
		}
		na := changed(ma, "new a")
		nc := changed(mc, "new c")
		nd := testMatch("t1", it("d"), at(11*time.Hour), false)
		ne := testMatch("", it("e"), time.Time{}, false) // topic and time filled in by Backfill
		ne.Marks = nil
		now := at(48 * time.Hour)
		fp1 := news.Topic{ID: "t1", Query: "rights"}.Fingerprint()
		rematched := []string{it("a").ID, it("b").ID, it("c").ID, it("d").ID, it("e").ID, it("g").ID}
		if err := st.Backfill(ctx, "t1", fp1, rematched, []news.Match{na, nc, nd, ne}, now); err != nil {
			t.Fatal(err)
		}

		// Updated rows keep Baseline and MatchedAt; new rows are baseline.
		wantA, wantC := na, nc
		wantA.MatchedAt, wantA.Baseline = ma.MatchedAt, false
		wantC.MatchedAt, wantC.Baseline = mc.MatchedAt, true
		wantD := nd
		wantD.Baseline = true
		wantE := ne
		wantE.TopicID, wantE.MatchedAt, wantE.Baseline = "t1", now, true
		want := map[string]news.Match{
			it("a").ID: wantA, it("c").ID: wantC, it("d").ID: wantD, it("e").ID: wantE,
			it("f").ID: mf, // not re-evaluated: untouched
			it("g").ID: mg, // no longer matches but was alerted: kept
		}
		got := entriesByItem(t, st, "t1")
		if len(got) != len(want) {
			t.Errorf("t1 has %d entries, want %d (b deleted, d and e added)", len(got), len(want))
		}
		for id, w := range want {
			if g, ok := got[id]; !ok {
				t.Errorf("t1 lost the match of %s", id)
			} else if !reflect.DeepEqual(g.Match, w) {
				t.Errorf("t1 match of %s:\n got %+v\nwant %+v", id, g.Match, w)
			}
		}
		if _, ok := got[it("b").ID]; ok {
			t.Error("the unalerted match of b, which no longer matches, was kept")
		}
		if g := entriesByItem(t, st, "t2"); !reflect.DeepEqual(g, t2Before) {
			t.Errorf("another topic's matches changed:\n got %+v\nwant %+v", g, t2Before)
		}
		if ds, err := st.Deliveries(ctx, DeliveryFilter{}); err != nil || !reflect.DeepEqual(ds, deliveriesBefore) {
			t.Errorf("deliveries changed by a backfill: %+v, %v", ds, err)
		}
		mustFingerprint(t, st, "t1", fp1)

		// The same backfill again changes nothing.
		entries1, _ := st.TopicEntries(ctx, "t1", 100)
		if err := st.Backfill(ctx, "t1", fp1, rematched, []news.Match{na, nc, nd, ne}, now); err != nil {
			t.Fatal(err)
		}
		if entries2, err := st.TopicEntries(ctx, "t1", 100); err != nil || !reflect.DeepEqual(entries2, entries1) {
			t.Fatalf("second identical backfill changed the feed:\n got %+v\nwant %+v", entries2, entries1)
		}
		mustPending(t, st, 2)

		// The outbox hands out the alerted match with its updated text.
		alert, ok, err := st.ClaimNext(ctx, "w1", true, now, time.Minute)
		if err != nil || !ok {
			t.Fatalf("ClaimNext = %v, %v", ok, err)
		}
		if !reflect.DeepEqual(alert.Entry.Match, wantA) {
			t.Fatalf("claimed match:\n got %+v\nwant %+v", alert.Entry.Match, wantA)
		}

		// Failures change nothing, not even part of the work.
		unstored := testItem("s1", "never-saved", at(0))
		for name, call := range map[string]func() error{
			"unstored item": func() error {
				return st.Backfill(ctx, "t1", "fp-x", []string{it("c").ID},
					[]news.Match{changed(mc, "partial"), testMatch("t1", unstored, at(0), false)}, now)
			},
			"other topic": func() error {
				return st.Backfill(ctx, "t1", "fp-x", []string{it("c").ID}, []news.Match{testMatch("t2", it("c"), at(0), false)}, now)
			},
			"empty topic":       func() error { return st.Backfill(ctx, "", "fp-x", nil, nil, now) },
			"empty fingerprint": func() error { return st.Backfill(ctx, "t1", "", nil, nil, now) },
		} {
			if err := call(); err == nil {
				t.Errorf("Backfill with %s succeeded", name)
			} else if !strings.Contains(err.Error(), "store: backfill topic") {
				t.Errorf("Backfill with %s: error %q lacks context", name, err)
			}
		}
		mustFingerprint(t, st, "t1", fp1)
		if entries3, err := st.TopicEntries(ctx, "t1", 100); err != nil || !reflect.DeepEqual(entries3, entries1) {
			t.Fatalf("a failed backfill changed the feed:\n got %+v\nwant %+v", entries3, entries1)
		}

		// The topic changes to match nothing: only alerted matches stay,
		// and duplicate ids in rematched are harmless.
		fp2 := news.Topic{ID: "t1", Query: "nothing"}.Fingerprint()
		all := append(append([]string{}, rematched...), it("f").ID, it("c").ID)
		if err := st.Backfill(ctx, "t1", fp2, all, nil, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got = entriesByItem(t, st, "t1")
		if len(got) != 2 || !reflect.DeepEqual(got[it("a").ID].Match, wantA) || !reflect.DeepEqual(got[it("g").ID].Match, mg) {
			t.Fatalf("after an empty backfill t1 = %+v, want the alerted a and g only", got)
		}
		mustFingerprint(t, st, "t1", fp2)
		mustFingerprint(t, st, "t2", "")
	})

	t.Run("PruneTopics", func(t *testing.T) {
		st := b.open(t)
		a, c, d := testItem("s1", "a", at(0)), testItem("s1", "c", at(time.Second)), testItem("s1", "d", at(2*time.Second))
		m1a := testMatch("t1", a, at(time.Minute), false)
		m2a := testMatch("t2", a, at(time.Minute), false)
		m2c := testMatch("t2", c, at(time.Minute), false)
		m2d := testMatch("t2", d, at(time.Minute), true)
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a, c, d},
			Matches: []news.Match{m1a, m2a, m2c, m2d}, Deliveries: []news.Delivery{testDelivery("w1", m2a, at(time.Minute))}})
		// t1 and t3 have topic rows; t3 never matched anything.
		if err := st.Backfill(ctx, "t1", "fp1", []string{a.ID}, []news.Match{m1a}, at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.Backfill(ctx, "t3", "fp3", []string{a.ID, c.ID}, nil, at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		t1Before := entriesByItem(t, st, "t1")

		prune := func(keep []string, want int) {
			t.Helper()
			n, err := st.PruneTopics(ctx, keep)
			if err != nil {
				t.Fatalf("PruneTopics(%v): %v", keep, err)
			}
			if n != want {
				t.Fatalf("PruneTopics(%v) deleted %d rows, want %d", keep, n, want)
			}
		}
		// t2 loses c and d (a was alerted), t3 loses its topic row.
		prune([]string{"t1", "configured-but-unmatched"}, 3)
		if got := entriesByItem(t, st, "t2"); len(got) != 1 || !reflect.DeepEqual(got[a.ID].Match, m2a) {
			t.Fatalf("t2 after prune = %+v, want only the alerted match of a", got)
		}
		if got := entriesByItem(t, st, "t1"); !reflect.DeepEqual(got, t1Before) {
			t.Fatalf("a kept topic changed: %+v", got)
		}
		mustFingerprint(t, st, "t1", "fp1")
		mustFingerprint(t, st, "t3", "")
		mustPending(t, st, 1)
		prune([]string{"t1"}, 0)

		// No topics configured: everything unalerted goes.
		prune(nil, 2) // t1's match and topic row
		mustFingerprint(t, st, "t1", "")
		if got := entriesByItem(t, st, "t1"); len(got) != 0 {
			t.Fatalf("t1 after prune = %+v", got)
		}
		if got := entriesByItem(t, st, "t2"); len(got) != 1 {
			t.Fatalf("alerted match of t2 pruned: %+v", got)
		}
		// Items stay: they are not topic state.
		if unseen, err := st.UnseenItems(ctx, []string{a.ID, c.ID, d.ID}); err != nil || len(unseen) != 0 {
			t.Fatalf("items pruned with their topics: %v, %v", unseen, err)
		}
		mustPending(t, st, 1)
	})

	t.Run("Stats", func(t *testing.T) {
		st := b.open(t)
		stats := func() Stats {
			t.Helper()
			s, err := st.Stats(ctx)
			if err != nil {
				t.Fatalf("Stats: %v", err)
			}
			return s
		}
		zero := Stats{Deliveries: map[news.DeliveryStatus]int{
			news.DeliveryPending: 0, news.DeliveryDelivered: 0, news.DeliveryFailed: 0, news.DeliveryDead: 0}}
		if got := stats(); !reflect.DeepEqual(got, zero) {
			t.Fatalf("empty store stats = %+v", got)
		}

		a, c, d := testItem("s1", "a", at(0)), testItem("s1", "c", at(0)), testItem("s2", "d", at(0))
		ma, mc := testMatch("t1", a, at(0), false), testMatch("t1", c, at(0), false)
		m2a := testMatch("t2", a, at(0), false)
		md := testMatch("t1", d, at(0), true)
		da, dc, d2a := testDelivery("w1", ma, at(0)), testDelivery("w1", mc, at(0)), testDelivery("w2", m2a, at(0))
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a, c},
			Matches: []news.Match{ma, mc, m2a}, Deliveries: []news.Delivery{da, dc, d2a}})
		mustSave(t, st, news.PollResult{State: testState("s2"), Items: []news.Item{d}, Matches: []news.Match{md}})
		if err := st.MarkDelivered(ctx, da.ID, 1, at(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkFinal(ctx, dc.ID, news.DeliveryDead, 8, "gone", at(time.Minute)); err != nil {
			t.Fatal(err)
		}
		want := Stats{Sources: 2, Items: 3, Matches: 4, BaselineMatches: 1, Deliveries: map[news.DeliveryStatus]int{
			news.DeliveryPending: 1, news.DeliveryDelivered: 1, news.DeliveryFailed: 0, news.DeliveryDead: 1}}
		if got := stats(); !reflect.DeepEqual(got, want) {
			t.Fatalf("stats:\n got %+v\nwant %+v", got, want)
		}
	})
}
