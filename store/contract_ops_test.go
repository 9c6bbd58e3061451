package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

// opsStore is what running several instances and keeping the database
// tidy needs of a backend: poll leases, WebSub subscriptions, retention.
type opsStore interface {
	noiseStore
	ClaimPoll(ctx context.Context, sourceID string, due time.Time, owner string, lease time.Duration, now time.Time) (bool, error)
	ReleasePoll(ctx context.Context, sourceID, owner string) error
	WebSubSubscription(ctx context.Context, sourceID string) (WebSubSubscription, bool, error)
	SaveWebSubSubscription(ctx context.Context, w WebSubSubscription) error
	WebSubSubscriptions(ctx context.Context) ([]WebSubSubscription, error)
	PruneItems(ctx context.Context, before time.Time, keepPerTopic int) (int, error)
}

var _ opsStore = (*Store)(nil)

// instances opens n stores on st's database, st first, as n instances of
// wirewatch sharing it would.
func instances(t *testing.T, b backend, st contractStore, n int) []opsStore {
	out := []opsStore{st.(opsStore)}
	for len(out) < n {
		out = append(out, b.another(t, st).(opsStore))
	}
	return out
}

func testOpsContract(t *testing.T, b backend) {
	ctx := context.Background()

	t.Run("PollLeaseOnePerDue", func(t *testing.T) {
		st := b.open(t).(opsStore)
		claim := func(src string, due time.Time, owner string, now time.Time) bool {
			t.Helper()
			ok, err := st.ClaimPoll(ctx, src, due, owner, time.Minute, now)
			if err != nil {
				t.Fatalf("ClaimPoll(%s, %v, %s): %v", src, due, owner, err)
			}
			return ok
		}
		release := func(src, owner string) {
			t.Helper()
			if err := st.ReleasePoll(ctx, src, owner); err != nil {
				t.Fatal(err)
			}
		}
		d1, d2, now := at(0), at(time.Hour), at(0)
		if !claim("s1", d1, "A", now) {
			t.Fatal("first claim of a due time refused")
		}
		for _, owner := range []string{"B", "A"} {
			if claim("s1", d1, owner, now.Add(time.Second)) {
				t.Fatalf("%s claimed a due time already claimed", owner)
			}
		}
		if !claim("s2", d1, "B", now) {
			t.Fatal("another source's claim refused")
		}
		// A later due time waits while the earlier poll runs...
		if claim("s1", d2, "B", now.Add(30*time.Second)) {
			t.Fatal("a later due time claimed while a poll of the source runs")
		}
		// ...and not after it was released; the released due time stays done.
		release("s1", "B") // not B's lease: nothing happens
		if claim("s1", d2, "B", now.Add(31*time.Second)) {
			t.Fatal("a non-owner released the lease")
		}
		release("s1", "A")
		if claim("s1", d1, "B", now.Add(32*time.Second)) {
			t.Fatal("a released (polled) due time was claimed again")
		}
		if !claim("s1", d2, "B", now.Add(33*time.Second)) {
			t.Fatal("the next due time was refused after the release")
		}
		if claim("s1", d1, "C", d2.Add(time.Hour)) {
			t.Fatal("a due time older than the last claimed one was claimed")
		}

		// The owner dies mid-poll: its due time is up for grabs once its
		// lease is over (not at its last instant), and the late owner's
		// release no longer counts.
		d3 := at(2 * time.Hour)
		if !claim("s3", d3, "A", d3) {
			t.Fatal("claim refused")
		}
		if claim("s3", d3, "B", d3.Add(time.Minute)) {
			t.Fatal("taken over at the lease's last instant")
		}
		if !claim("s3", d3, "B", d3.Add(time.Minute+time.Millisecond)) {
			t.Fatal("an expired lease was not taken over")
		}
		release("s3", "A")
		if claim("s3", at(3*time.Hour), "C", d3.Add(2*time.Minute)) {
			t.Fatal("the dead owner's late release ended the new owner's lease")
		}
		// An expired lease does not block the next due time either.
		if !claim("s3", at(3*time.Hour), "C", d3.Add(time.Hour)) {
			t.Fatal("next due time refused after the lease expired")
		}

		// Leases survive a restart.
		st = b.reopen(t, st).(opsStore)
		if claim("s3", at(3*time.Hour), "D", d3.Add(time.Hour)) {
			t.Fatal("lease lost on restart")
		}
		if _, err := st.ClaimPoll(ctx, "s1", d1, "A", 0, now); err == nil {
			t.Fatal("zero lease accepted")
		}
		if _, err := st.ClaimPoll(ctx, "s1", d1, "", time.Minute, now); err == nil {
			t.Fatal("empty owner accepted")
		}
	})

	t.Run("PollLeaseExactlyOneAcrossInstances", func(t *testing.T) {
		stores := instances(t, b, b.open(t), 3)
		const perStore, rounds = 4, 12
		for r := range rounds {
			due := at(time.Duration(r) * time.Minute)
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				winners []string
				start   = make(chan struct{})
			)
			for i, st := range stores {
				for g := range perStore {
					owner := fmt.Sprintf("instance-%d/%d", i, g)
					wg.Go(func() {
						<-start
						ok, err := st.ClaimPoll(ctx, "s1", due, owner, time.Hour, due)
						if err != nil {
							t.Errorf("ClaimPoll: %v", err)
							return
						}
						if ok {
							mu.Lock()
							winners = append(winners, owner)
							mu.Unlock()
						}
					})
				}
			}
			close(start)
			wg.Wait()
			if len(winners) != 1 {
				t.Fatalf("round %d: %d winners %v, want exactly 1", r, len(winners), winners)
			}
			if err := stores[r%len(stores)].ReleasePoll(ctx, "s1", winners[0]); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("InstancesClaimEachDeliveryOnce", func(t *testing.T) {
		st := b.open(t)
		var qs []queued
		for i := range 30 {
			qs = append(qs, queued{"w1", fmt.Sprint("k", i), time.Duration(i) * time.Millisecond})
		}
		ds, _ := outbox(t, st, qs...)
		stores := instances(t, b, st, 3)
		now := at(time.Hour)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			claimed = map[string]int{}
		)
		for _, s := range stores {
			for range 2 {
				wg.Go(func() {
					for {
						a, ok, err := s.ClaimNext(ctx, "w1", false, now, time.Hour)
						if err != nil {
							t.Errorf("ClaimNext: %v", err)
							return
						}
						if !ok {
							return // every row is leased: the queue is drained
						}
						mu.Lock()
						claimed[a.Delivery.ID]++
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		if len(claimed) != len(ds) {
			t.Fatalf("%d deliveries claimed, want %d", len(claimed), len(ds))
		}
		for id, n := range claimed {
			if n != 1 {
				t.Errorf("delivery %s claimed %d times", id, n)
			}
		}
	})

	t.Run("InstancesAdmitWithinTheLimit", func(t *testing.T) {
		st := b.open(t)
		var qs []queued
		for i := range 12 {
			qs = append(qs, queued{"w1", fmt.Sprint("k", i), time.Duration(i) * time.Millisecond})
		}
		outbox(t, st, qs...)
		now := at(time.Hour)
		var claimed []string
		for {
			a, ok, err := st.ClaimNext(ctx, "w1", false, now, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			claimed = append(claimed, a.Delivery.ID)
		}
		stores := instances(t, b, st, 3)
		const limit = 5
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			admitted int
		)
		for i, id := range claimed {
			s := stores[i%len(stores)]
			wg.Go(func() {
				ok, err := s.AdmitDelivery(ctx, id, now, limit, time.Hour)
				if err != nil {
					t.Errorf("AdmitDelivery: %v", err)
					return
				}
				if ok {
					mu.Lock()
					admitted++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if admitted != limit {
			t.Fatalf("%d of %d deliveries admitted, want the limit %d", admitted, len(claimed), limit)
		}
		if n, _, err := st.(opsStore).Held(ctx, "w1"); err != nil || n != len(claimed)-limit {
			t.Fatalf("held = %d, %v; want %d", n, err, len(claimed)-limit)
		}
	})

	t.Run("InstancesDigestOnce", func(t *testing.T) {
		st := b.open(t)
		var qs []queued
		for i := range 10 {
			qs = append(qs, queued{"w1", fmt.Sprint("k", i), time.Duration(i) * time.Millisecond})
		}
		outbox(t, st, qs...)
		now := at(time.Hour)
		ns := st.(opsStore)
		for {
			a, ok, err := ns.ClaimNext(ctx, "w1", false, now, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if err := ns.HoldDelivery(ctx, a.Delivery.ID, news.HoldQuietHours, now); err != nil {
				t.Fatal(err)
			}
		}
		stores := instances(t, b, st, 3)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			digests []news.Delivery
		)
		for _, s := range stores {
			for range 2 {
				wg.Go(func() {
					d, ok, err := s.CreateDigest(ctx, "w1", now)
					if err != nil {
						t.Errorf("CreateDigest: %v", err)
						return
					}
					if ok {
						mu.Lock()
						digests = append(digests, d)
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		if len(digests) != 1 {
			t.Fatalf("%d digests made, want 1", len(digests))
		}
		members, err := st.Deliveries(ctx, DeliveryFilter{Status: news.DeliveryDigested})
		if err != nil || len(members) != len(qs) {
			t.Fatalf("%d digested rows, %v; want %d", len(members), err, len(qs))
		}
		for _, m := range members {
			if m.DigestID != digests[0].ID {
				t.Fatalf("member %s in digest %q, want %q", m.ID, m.DigestID, digests[0].ID)
			}
		}
	})

	t.Run("WebSubSubscriptions", func(t *testing.T) {
		st := b.open(t).(opsStore)
		if _, ok, err := st.WebSubSubscription(ctx, "s1"); err != nil || ok {
			t.Fatalf("unknown subscription: ok %v, err %v", ok, err)
		}
		if all, err := st.WebSubSubscriptions(ctx); err != nil || len(all) != 0 {
			t.Fatalf("no subscriptions = %v, %v", all, err)
		}
		paris := time.FixedZone("CET", 3600)
		w := WebSubSubscription{SourceID: "s2", Hub: "https://hub.example/", Topic: "https://example.org/feed",
			Secret: "s3cr3t", State: "requested", RequestedAt: time.Date(2025, 3, 1, 13, 0, 0, 123456789, paris)}
		if err := st.SaveWebSubSubscription(ctx, w); err != nil {
			t.Fatal(err)
		}
		other := WebSubSubscription{SourceID: "s1", Hub: "https://hub2.example/", Topic: "https://example.org/a",
			Secret: "x", State: "denied", Reason: "topic not found"}
		if err := st.SaveWebSubSubscription(ctx, other); err != nil {
			t.Fatal(err)
		}
		// Millisecond precision, in UTC; zero times stay zero.
		w.RequestedAt = time.Date(2025, 3, 1, 12, 0, 0, 123000000, time.UTC)
		if got, ok, err := st.WebSubSubscription(ctx, "s2"); err != nil || !ok || !reflect.DeepEqual(got, w) {
			t.Fatalf("round trip:\n got %+v (%v, %v)\nwant %+v", got, ok, err, w)
		}
		// Saving again replaces every field.
		w.State, w.Reason, w.VerifiedAt, w.LeaseUntil = "verified", "", at(time.Hour), at(240*time.Hour)
		w.Secret = "rotated"
		if err := st.SaveWebSubSubscription(ctx, w); err != nil {
			t.Fatal(err)
		}
		st = b.reopen(t, st).(opsStore)
		all, err := st.WebSubSubscriptions(ctx)
		if err != nil || !reflect.DeepEqual(all, []WebSubSubscription{other, w}) {
			t.Fatalf("WebSubSubscriptions:\n got %+v (%v)\nwant %+v", all, err, []WebSubSubscription{other, w})
		}
		if err := st.SaveWebSubSubscription(ctx, WebSubSubscription{Hub: "https://hub.example/"}); err == nil {
			t.Fatal("a subscription without source id was saved")
		}
	})

	t.Run("BadTextIsStoredCleaned", func(t *testing.T) {
		st := b.open(t).(opsStore)
		bad := "Bad \x00 title \xff\xfe end"
		clean := "Bad \uFFFD title \uFFFD\uFFFD end"
		it := testItem("s1", "a\x00key", at(0))
		it.Title, it.Summary, it.Content, it.Link = bad, bad, bad, "https://example.org/\xff"
		it.Authors = []string{"Ada\x00", "\xffGrace"}
		m := testMatch("t1", it, at(time.Minute), false)
		// The marks cover "title" and "end", past the bad bytes.
		m.Snippet = bad
		m.Marks = []news.Span{{Start: 6, End: 11}, {Start: 15, End: 18}}
		state := testState("s1")
		state.LastError, state.Title = "HTTP 500: \x00\xc3", "Feed \xe2\x82"
		mustSave(t, st, news.PollResult{State: state, Items: []news.Item{it}, Matches: []news.Match{m},
			Deliveries: []news.Delivery{testDelivery("w1", m, at(time.Minute))}})
		got, title, err := st.Item(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != clean || got.Summary != clean || got.Content != clean || got.Key != "a\uFFFDkey" ||
			got.Link != "https://example.org/\uFFFD" || title != "Feed \uFFFD\uFFFD" {
			t.Fatalf("stored item = %+v (source %q)", got, title)
		}
		// Lists are JSON, which carries any string.
		if !reflect.DeepEqual(got.Authors, []string{"Ada\x00", "\uFFFDGrace"}) {
			t.Fatalf("authors = %q", got.Authors)
		}
		es, err := st.TopicEntries(ctx, "t1", 1)
		if err != nil || len(es) != 1 {
			t.Fatalf("entries = %v, %v", es, err)
		}
		sn := es[0].Match.Snippet
		if sn != clean {
			t.Fatalf("snippet = %q", sn)
		}
		var marked []string
		for _, mk := range es[0].Match.Marks {
			marked = append(marked, sn[mk.Start:mk.End])
		}
		if !reflect.DeepEqual(marked, []string{"title", "end"}) {
			t.Fatalf("marks cover %q, want title and end", marked)
		}
		if s, err := st.SourceState(ctx, "s1"); err != nil || s.LastError != "HTTP 500: \uFFFD\uFFFD" {
			t.Fatalf("source state = %+v, %v", s, err)
		}
		// Errors from receivers, and webhook and subscription text, too.
		a, ok, err := st.ClaimNext(ctx, "w1", true, at(time.Hour), time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim: %v, %v", ok, err)
		}
		if err := st.MarkRetry(ctx, a.Delivery.ID, 1, at(2*time.Hour), "HTTP 400: \xff\x00"); err != nil {
			t.Fatal(err)
		}
		if d := deliveryByID(t, st, a.Delivery.ID); d.LastError != "HTTP 400: \uFFFD\uFFFD" {
			t.Fatalf("last error = %q", d.LastError)
		}
		if ws := mustState(t, st, "w1"); ws.LastError != "HTTP 400: \uFFFD\uFFFD" {
			t.Fatalf("webhook last error = %q", ws.LastError)
		}
		if err := st.DisableWebhook(ctx, "w1", "410 \xff", at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveWebSubSubscription(ctx, WebSubSubscription{SourceID: "s1", Reason: "\x00"}); err != nil {
			t.Fatal(err)
		}
		// Looking up a story by bad keys finds the cleaned ones.
		if id, ok, err := st.FindStory(ctx, "t1", "", "\xff", time.Time{}); err != nil || ok {
			t.Fatalf("FindStory by a bad key = %q, %v, %v", id, ok, err)
		}
	})

	t.Run("LongStoryKeys", func(t *testing.T) {
		st := b.open(t)
		// Keys longer than an index entry may be (PostgreSQL: ~2.7 kB,
		// after compression: so they do not repeat themselves).
		var words []string
		for i := range 1500 {
			words = append(words, news.ItemID("w", fmt.Sprint(i))[:7])
		}
		long := strings.Join(words, "-")
		a := storyItem("s1", "a", "Headline "+strings.Join(words, " "), "https://example.org/"+long)
		c := storyItem("s1", "c", "Other", "https://example.org/"+long+"?utm_source=rss")
		ma, mc := testMatch("t1", a, at(time.Minute), false), testMatch("t1", c, at(2*time.Minute), false)
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a, c}, Matches: []news.Match{ma, mc}})
		if got, _, err := st.Item(ctx, a.ID); err != nil || got.Link != a.Link || got.Title != a.Title {
			t.Fatalf("long item = %v; link kept: %v", err, got.Link == a.Link)
		}
		for _, keys := range [][2]string{{news.CanonicalURL(c.Link), ""}, {"", news.TitleKey(a.Title)}} {
			id, ok, err := st.FindStory(ctx, "t1", keys[0], keys[1], time.Time{})
			if err != nil || !ok || id != a.ID {
				t.Fatalf("FindStory by a long key = %s, %v, %v; want %s", id, ok, err, a.ID)
			}
		}
	})

	testPruneContract(t, b)
}

// testPruneContract covers PruneItems.
func testPruneContract(t *testing.T, b backend) {
	ctx := context.Background()

	t.Run("PruneItemsKeepsWhatIsStillUsed", func(t *testing.T) {
		st := b.open(t).(opsStore)
		// Items by age: fetched two minutes after they were published.
		// "before" separates the recent (r, f) from the old (the rest).
		before := at(24 * time.Hour)
		old := func(key string, hours int) news.Item {
			it := testItem("s1", key, at(time.Duration(hours)*time.Hour))
			it.Title = key
			return it
		}
		recent := func(key string, hours int) news.Item {
			it := old(key, hours)
			it.FetchedAt = before.Add(time.Hour)
			return it
		}
		items := map[string]news.Item{}
		for _, it := range []news.Item{
			recent("r", 30), // t1's newest entry
			old("a", 20),    // t1's second entry: kept (keep 2)
			old("b", 19),    // delivered: goes, with its delivery
			old("m", 18),    // a duplicate of b: goes with it
			old("c", 17),    // pending delivery: stays
			old("d", 16),    // a duplicate of a: shows under a, stays
			old("e", 15),    // first sighting of f, which is recent: stays
			recent("f", 31), // duplicate of e
			old("g", 14),    // held delivery: stays
			old("h", 13),    // in a pending digest: stays
			old("k", 12),    // failed and dead deliveries: goes, with them
			old("i", 11),    // no match: goes
			old("j", 10),    // t2's only entry: kept
			old("n", 9),     // unknown fetch time: stays
		} {
			items[it.Title] = it
		}
		n := items["n"]
		n.FetchedAt = time.Time{}
		items["n"] = n
		match := func(topic, key string) news.Match {
			return testMatch(topic, items[key], items[key].FetchedAt, false)
		}
		dup := func(key, first string) news.Match {
			return dupMatch("t1", items[key], items[first], items[key].FetchedAt)
		}
		ms := []news.Match{match("t1", "r"), match("t1", "a"), match("t1", "b"), dup("m", "b"), match("t1", "c"),
			dup("d", "a"), match("t1", "e"), dup("f", "e"), match("t1", "g"), match("t1", "h"), match("t1", "k"),
			match("t2", "j"), match("t1", "n")}
		var ds []news.Delivery
		for _, key := range []string{"b", "c", "g", "h", "k"} {
			ds = append(ds, testDelivery("w-"+key, match("t1", key), at(time.Hour)))
		}
		k2 := testDelivery("w-k2", match("t1", "k"), at(time.Hour))
		ds = append(ds, k2)
		p := news.PollResult{State: testState("s1"), Matches: ms, Deliveries: ds}
		for _, it := range items {
			p.Items = append(p.Items, it)
		}
		mustSave(t, st, p)
		// Old events: a delivered one goes, a pending one stays.
		health := &news.SourceHealth{SourceID: "s1", State: news.HealthFailing}
		evDone := news.Delivery{ID: "msg_ev_done", WebhookID: "w-ev", EventType: news.EventSourceHealth, Health: health, CreatedAt: at(0)}
		evNew := news.Delivery{ID: "msg_ev_pending", WebhookID: "w-ev2", EventType: news.EventSourceHealth, Health: health, CreatedAt: at(0)}
		if err := st.SaveSourceState(ctx, testState("s1"), evDone, evNew); err != nil {
			t.Fatal(err)
		}

		now := at(25 * time.Hour)
		claim := func(webhook string) news.Alert {
			t.Helper()
			a, ok, err := st.ClaimNext(ctx, webhook, true, now, time.Minute)
			if err != nil || !ok {
				t.Fatalf("claim %s: %v, %v", webhook, ok, err)
			}
			return a
		}
		for _, step := range []func() error{
			func() error { return st.MarkDelivered(ctx, claim("w-b").Delivery.ID, 1, now) },
			func() error { return st.HoldDelivery(ctx, claim("w-g").Delivery.ID, news.HoldQuietHours, now) },
			func() error { return st.HoldDelivery(ctx, claim("w-h").Delivery.ID, news.HoldDigest, now) },
			func() error { _, _, err := st.CreateDigest(ctx, "w-h", now); return err },
			func() error {
				return st.MarkFinal(ctx, claim("w-k").Delivery.ID, news.DeliveryFailed, 1, "HTTP 400", now)
			},
			func() error { return st.MarkFinal(ctx, claim("w-k2").Delivery.ID, news.DeliveryDead, 8, "gone", now) },
			func() error { return st.MarkDelivered(ctx, claim("w-ev").Delivery.ID, 1, now) },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		feed, err := st.TopicEntries(ctx, "t1", 2)
		if err != nil || len(feed) != 2 {
			t.Fatalf("feed before = %d entries, %v", len(feed), err)
		}

		got, err := st.PruneItems(ctx, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		goneKeys := []string{"b", "m", "k", "i"}
		if got != len(goneKeys) {
			t.Errorf("PruneItems = %d, want %d", got, len(goneKeys))
		}
		gone := map[string]bool{}
		for _, k := range goneKeys {
			gone[k] = true
		}
		for key, it := range items {
			_, _, err := st.Item(ctx, it.ID)
			switch {
			case gone[key] && !errors.Is(err, news.ErrNotFound):
				t.Errorf("item %s: %v, want it deleted", key, err)
			case !gone[key] && err != nil:
				t.Errorf("item %s: %v, want it kept", key, err)
			}
		}
		// The feed's page is as it was, "also reported by" included.
		after, err := st.TopicEntries(ctx, "t1", 2)
		if err != nil || !reflect.DeepEqual(after, feed) {
			t.Fatalf("feed after prune:\n got %+v (%v)\nwant %+v", after, err, feed)
		}
		if len(after[1].AlsoReportedBy) != 1 || after[1].AlsoReportedBy[0].ItemID != items["d"].ID {
			t.Fatalf("a's sightings = %+v, want d", after[1].AlsoReportedBy)
		}
		if es, err := st.TopicEntries(ctx, "t2", 10); err != nil || len(es) != 1 {
			t.Fatalf("t2 = %d entries, %v; want its one", len(es), err)
		}
		// The deleted items' deliveries went with them; the rest stay.
		all, err := st.Deliveries(ctx, DeliveryFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, d := range all {
			left = append(left, d.WebhookID+":"+string(d.Status))
		}
		slices.Sort(left)
		// w-h has the digest and its member.
		want := []string{"w-c:pending", "w-ev2:pending", "w-g:held", "w-h:digested", "w-h:pending"}
		if !reflect.DeepEqual(left, want) {
			t.Fatalf("deliveries left = %v, want %v", left, want)
		}
		// The digest still loads its member.
		if a := claim("w-h"); len(a.Digest) != 1 || a.Digest[0].Entry.Item.ID != items["h"].ID {
			t.Fatalf("digest after prune = %+v", a.Digest)
		}
		// Nothing more to do.
		if again, err := st.PruneItems(ctx, before, 2); err != nil || again != 0 {
			t.Fatalf("second PruneItems = %d, %v", again, err)
		}
		// Keeping nothing lets the old top entries go too, except those a
		// duplicate or the outbox still needs.
		if n, err := st.PruneItems(ctx, before, 0); err != nil || n != 3 { // a and d, j
			t.Fatalf("PruneItems(keep 0) = %d, %v; want 3", n, err)
		}
		if _, err := st.PruneItems(ctx, before, -1); err == nil {
			t.Fatal("negative keepPerTopic accepted")
		}
	})

	t.Run("PruneItemsInBatches", func(t *testing.T) {
		st := b.open(t).(opsStore)
		const total = 2*pruneBatch + 37
		p := news.PollResult{State: testState("s1")}
		for i := range total {
			it := testItem("s1", fmt.Sprint("old-", i), at(0))
			it.FetchedAt = at(time.Duration(i%3) * time.Millisecond) // many share a millisecond
			p.Items = append(p.Items, it)
			if i%10 == 0 {
				p.Matches = append(p.Matches, testMatch("t1", it, at(0), false))
			}
		}
		fresh := testItem("s1", "fresh", at(time.Hour))
		p.Items = append(p.Items, fresh)
		mustSave(t, st, p)
		n, err := st.PruneItems(ctx, at(time.Minute), 5)
		if err != nil {
			t.Fatal(err)
		}
		if n != total-5 {
			t.Fatalf("PruneItems = %d, want %d", n, total-5)
		}
		stats, err := st.Stats(ctx)
		if err != nil || stats.Items != 6 || stats.Matches != 5 {
			t.Fatalf("left %+v, %v; want 6 items, 5 matches", stats, err)
		}
	})
}
