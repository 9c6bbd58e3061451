package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

// contractStore is the method set every backend implements. The contract
// suite is written against it so that a PostgreSQL backend can run it too.
type contractStore interface {
	SourceState(ctx context.Context, sourceID string) (news.SourceState, error)
	SaveSourceState(ctx context.Context, st news.SourceState, events ...news.Delivery) error
	SourceStates(ctx context.Context) ([]news.SourceState, error)
	SourceActivity(ctx context.Context, sourceID string, since time.Time) (int, time.Time, error)
	UnseenItems(ctx context.Context, ids []string) ([]string, error)
	SavePoll(ctx context.Context, p news.PollResult) (int, error)
	TopicEntries(ctx context.Context, topicID string, limit int) ([]news.Entry, error)
	ClaimNext(ctx context.Context, webhookID string, ordered bool, now time.Time, lease time.Duration) (news.Alert, bool, error)
	MarkDelivered(ctx context.Context, deliveryID string, attempts int, at time.Time) error
	MarkRetry(ctx context.Context, deliveryID string, attempts int, next time.Time, lastErr string) error
	MarkFinal(ctx context.Context, deliveryID string, status news.DeliveryStatus, attempts int, lastErr string, at time.Time) error
	Deliveries(ctx context.Context, f DeliveryFilter) ([]news.Delivery, error)
	PendingDeliveries(ctx context.Context, webhookIDs ...string) (int, error)
	RetryDeliveries(ctx context.Context, f RetryFilter, now time.Time) (int, error)
	WebhookState(ctx context.Context, webhookID string) (news.WebhookState, error)
	WebhookStates(ctx context.Context) ([]news.WebhookState, error)
	DisableWebhook(ctx context.Context, webhookID, reason string, at time.Time) error
	EnableWebhook(ctx context.Context, webhookID string) error
	TopicFingerprint(ctx context.Context, topicID string) (string, error)
	ItemsSince(ctx context.Context, since time.Time, sourceIDs []string, limit int) ([]news.Item, error)
	Item(ctx context.Context, id string) (news.Item, string, error)
	Backfill(ctx context.Context, topicID, fingerprint string, rematched []string, matches []news.Match, now time.Time) error
	PruneTopics(ctx context.Context, keep []string) (int, error)
	Stats(ctx context.Context) (Stats, error)
	FindStory(ctx context.Context, topicID, canonicalURL, titleKey string, since time.Time) (string, bool, error)
	ItemTitles(ctx context.Context, ids []string) (map[string]string, error)
	AlertedTopics(ctx context.Context, itemIDs []string) (map[string][]string, error)
	FindItems(ctx context.Context, ref string, since time.Time) ([]string, error)
	ItemMatches(ctx context.Context, itemID string, topicIDs []string) ([]news.Match, error)
	Ping(ctx context.Context) error
	Close() error
}

var _ contractStore = (*SQLite)(nil)

// backend opens stores for the contract suite.
type backend struct {
	// open returns a new, empty store; it is closed when the test ends.
	open func(t *testing.T) contractStore
	// reopen closes st and opens the same database again, as a restart
	// would; the new store is closed when the test ends.
	reopen func(t *testing.T, st contractStore) contractStore
	// another opens a second store on st's database, as a second instance
	// would; it is closed when the test ends.
	another func(t *testing.T, st contractStore) contractStore
}

// t0 is a fixed instant with millisecond precision, so values round-trip
// exactly.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func testItem(src, key string, published time.Time) news.Item {
	return news.Item{
		ID:         news.ItemID(src, key),
		SourceID:   src,
		Key:        key,
		Title:      "Title of " + key,
		Link:       "https://example.org/" + key,
		Summary:    "Summary of " + key + " with ünïcode and \"quotes\"",
		Content:    "Content of " + key + "\nsecond line",
		Authors:    []string{"Ada", "Grace"},
		Categories: []string{"politics"},
		Published:  published,
		Updated:    published.Add(time.Minute),
		FetchedAt:  published.Add(2 * time.Minute),
	}
}

func testMatch(topic string, it news.Item, matchedAt time.Time, baseline bool) news.Match {
	return news.Match{
		TopicID:   topic,
		ItemID:    it.ID,
		Terms:     []string{"rights", "human rights"},
		Hits:      []news.Hit{{Term: "rights", Field: "title", Text: "Rights"}, {Term: "human rights", Field: "summary", Text: "human rights"}},
		Score:     1.75,
		Snippet:   "…the snippet…",
		Marks:     []news.Span{{Start: 3, End: 6}, {Start: 7, End: 14}}, // "the", "snippet"
		MatchedAt: matchedAt,
		Baseline:  baseline,
	}
}

func testDelivery(webhook string, m news.Match, created time.Time) news.Delivery {
	return news.Delivery{
		ID:          news.DeliveryID(news.EventMatchCreated, m.TopicID, m.ItemID, webhook),
		WebhookID:   webhook,
		EventType:   news.EventMatchCreated,
		TopicID:     m.TopicID,
		ItemID:      m.ItemID,
		Status:      news.DeliveryPending,
		NextAttempt: created,
		CreatedAt:   created,
	}
}

func testState(src string) news.SourceState {
	return news.SourceState{SourceID: src, URL: "https://example.org/" + src + ".xml", Title: "Source " + src, Baselined: true, LastPoll: t0}
}

func mustSave(t testing.TB, st contractStore, p news.PollResult) int {
	t.Helper()
	n, err := st.SavePoll(context.Background(), p)
	if err != nil {
		t.Fatalf("SavePoll: %v", err)
	}
	return n
}

func mustPending(t *testing.T, st contractStore, want int) {
	t.Helper()
	n, err := st.PendingDeliveries(context.Background())
	if err != nil {
		t.Fatalf("PendingDeliveries: %v", err)
	}
	if n != want {
		t.Fatalf("PendingDeliveries = %d, want %d", n, want)
	}
}

func entryTitles(es []news.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Item.Title
	}
	return out
}

// testStoreContract is the behaviour every backend must show.
func testStoreContract(t *testing.T, b backend) {
	ctx := context.Background()
	testTopicStateContract(t, b)
	testOutboxContract(t, b)
	testStoryContract(t, b)
	testStoryRaceContract(t, b)
	testNoiseContract(t, b)
	testSourceHealthContract(t, b)
	testOpsContract(t, b)
	testGroupCommitContract(t, b)
	testLegacyIDContract(t, b)
	testLookupContract(t, b)

	t.Run("Ping", func(t *testing.T) {
		if err := b.open(t).Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("SourceStateRoundTrip", func(t *testing.T) {
		st := b.open(t)
		got, err := st.SourceState(ctx, "unknown")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, news.SourceState{SourceID: "unknown"}) {
			t.Fatalf("unknown source = %+v, want zero state with id", got)
		}

		paris := time.FixedZone("CET", 3600)
		want := news.SourceState{
			SourceID: "s1", URL: "https://example.org/feed", Title: "Example",
			ETag: `W/"abc"`, LastModified: "Sat, 01 Mar 2025 12:00:00 GMT", Baselined: true,
			// A zoned time with sub-millisecond digits comes back in UTC at
			// millisecond precision.
			LastPoll:    time.Date(2025, 3, 1, 13, 0, 0, 123456789, paris),
			LastSuccess: at(-time.Hour),
			LastError:   "", Failures: 0,
		}
		if err := st.SaveSourceState(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err = st.SourceState(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		want.LastPoll = time.Date(2025, 3, 1, 12, 0, 0, 123000000, time.UTC)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
		}

		// Upsert: a failure overwrites, zero times become zero again.
		want.LastError, want.Failures, want.LastSuccess, want.Baselined = "dial tcp: timeout", 3, time.Time{}, false
		if err := st.SaveSourceState(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err = st.SourceState(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after upsert:\n got %+v\nwant %+v", got, want)
		}

		if err := st.SaveSourceState(ctx, news.SourceState{}); err == nil {
			t.Fatal("saving a state without source id succeeded")
		}
	})

	t.Run("SavePollThenUnseenItems", func(t *testing.T) {
		st := b.open(t)
		a, c := testItem("s1", "a", at(0)), testItem("s1", "c", at(time.Second))
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a, c}})
		x, y := news.ItemID("s1", "x"), news.ItemID("s1", "y")
		got, err := st.UnseenItems(ctx, []string{y, a.ID, x, c.ID, y})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{y, x, y}; !reflect.DeepEqual(got, want) {
			t.Fatalf("UnseenItems = %v, want %v", got, want)
		}
		got, err = st.UnseenItems(ctx, nil)
		if err != nil || len(got) != 0 {
			t.Fatalf("UnseenItems(nil) = %v, %v", got, err)
		}
		// More ids than one IN list holds.
		many := make([]string, 0, 1200)
		for i := range 1200 {
			many = append(many, fmt.Sprintf("id-%d", i))
		}
		many[700] = c.ID
		got, err = st.UnseenItems(ctx, many)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1199 || got[699] != "id-699" || got[700] != "id-701" {
			t.Fatalf("UnseenItems over chunks: len %d", len(got))
		}
	})

	t.Run("SavePollTwiceCreatesNothingTwice", func(t *testing.T) {
		st := b.open(t)
		a, c := testItem("s1", "a", at(0)), testItem("s1", "c", at(time.Second))
		ma, mc := testMatch("t1", a, at(time.Minute), false), testMatch("t1", c, at(time.Minute), false)
		p := news.PollResult{
			State: testState("s1"), Items: []news.Item{a, c}, Matches: []news.Match{ma, mc},
			Deliveries: []news.Delivery{testDelivery("w1", ma, at(time.Minute)), testDelivery("w1", mc, at(time.Minute))},
		}
		if n := mustSave(t, st, p); n != 2 {
			t.Fatalf("first SavePoll = %d new deliveries, want 2", n)
		}
		if n := mustSave(t, st, p); n != 0 {
			t.Fatalf("second SavePoll = %d new deliveries, want 0", n)
		}
		// A later poll proposing a new match and delivery for a stored item
		// adds nothing: matches belong to the poll that stored the item.
		m2 := testMatch("t2", a, at(time.Hour), false)
		p2 := news.PollResult{State: testState("s1"), Items: []news.Item{a}, Matches: []news.Match{m2},
			Deliveries: []news.Delivery{testDelivery("w1", m2, at(time.Hour))}}
		if n := mustSave(t, st, p2); n != 0 {
			t.Fatalf("SavePoll for a stored item = %d new deliveries, want 0", n)
		}
		mustPending(t, st, 2)
		es, err := st.TopicEntries(ctx, "t1", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 2 {
			t.Fatalf("t1 has %d entries, want 2", len(es))
		}
		if es, err := st.TopicEntries(ctx, "t2", 10); err != nil || len(es) != 0 {
			t.Fatalf("t2 entries = %d, %v; want none", len(es), err)
		}
		ds, err := st.Deliveries(ctx, DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 2 {
			t.Fatalf("%d deliveries, want 2", len(ds))
		}
	})

	t.Run("SavePollFailureSavesNothing", func(t *testing.T) {
		st := b.open(t)
		a := testItem("s1", "a", at(0))
		ma := testMatch("t1", a, at(time.Minute), false)
		orphan := testDelivery("w1", testMatch("t9", a, at(0), false), at(0))
		_, err := st.SavePoll(ctx, news.PollResult{State: testState("s1"), Items: []news.Item{a},
			Matches: []news.Match{ma}, Deliveries: []news.Delivery{orphan}})
		if err == nil {
			t.Fatal("a delivery without a match was accepted")
		}
		if !strings.Contains(err.Error(), `store: save poll for source "s1"`) {
			t.Fatalf("error %q lacks context", err)
		}
		if got, _ := st.UnseenItems(ctx, []string{a.ID}); len(got) != 1 {
			t.Fatal("the item of a failed SavePoll was stored")
		}
		if got, _ := st.SourceState(ctx, "s1"); got.URL != "" {
			t.Fatal("the state of a failed SavePoll was stored")
		}

		other := testItem("s2", "b", at(0))
		if _, err := st.SavePoll(ctx, news.PollResult{State: testState("s1"), Items: []news.Item{other}}); err == nil {
			t.Fatal("an item of another source was accepted")
		}
	})

	t.Run("BaselineEntriesRoundTrip", func(t *testing.T) {
		st := b.open(t)
		state := testState("s1")
		state.Baselined = false
		a := testItem("s1", "a", at(0))
		a.Authors, a.Categories = nil, []string{} // nil and empty stay distinct
		ma := testMatch("t1", a, at(time.Minute), true)
		ma.Hits = nil
		if n := mustSave(t, st, news.PollResult{State: state, Items: []news.Item{a}, Matches: []news.Match{ma}}); n != 0 {
			t.Fatalf("baseline poll = %d deliveries", n)
		}
		es, err := st.TopicEntries(ctx, "t1", 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []news.Entry{{Item: a, Match: ma, SourceTitle: "Source s1"}}
		if !reflect.DeepEqual(es, want) {
			t.Fatalf("entries:\n got %+v\nwant %+v", es, want)
		}
		if !es[0].Match.Baseline {
			t.Fatal("baseline flag lost")
		}
		mustPending(t, st, 0)
	})

	t.Run("NaNScore", func(t *testing.T) {
		st := b.open(t)
		a := testItem("s1", "a", at(0))
		ma := testMatch("t1", a, at(0), false)
		ma.Score = math.NaN()
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a}, Matches: []news.Match{ma}})
		es, err := st.TopicEntries(ctx, "t1", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || !math.IsNaN(es[0].Match.Score) {
			t.Fatalf("NaN score did not round-trip: %+v", es)
		}
	})

	t.Run("TopicEntriesOrderLimitSourceTitle", func(t *testing.T) {
		st := b.open(t)
		mk := func(src, key string, pub, matched time.Duration) (news.Item, news.Match) {
			it := testItem(src, key, at(max(pub, 0)))
			if pub < 0 {
				it.Published = time.Time{}
			}
			it.Title = key
			m := testMatch("t1", it, at(matched), false)
			return it, m
		}
		// Published desc (unknown last), then MatchedAt desc, then item id.
		i1, m1 := mk("s1", "newest", 3*time.Hour, 0)
		i2, m2 := mk("s1", "same-pub-later-match", 2*time.Hour, 2*time.Minute)
		i3, m3 := mk("s1", "same-pub-earlier-match", 2*time.Hour, time.Minute)
		i4, m4 := mk("s2", "tie-x", time.Hour, 0)
		i5, m5 := mk("s2", "tie-y", time.Hour, 0)
		i6, m6 := mk("s1", "no-date", -1, 0)
		// A different topic's match must not show.
		i7, _ := mk("s1", "other-topic", 4*time.Hour, 0)
		m7 := testMatch("t2", i7, at(0), false)

		untitled := testState("s2")
		untitled.Title = ""
		mustSave(t, st, news.PollResult{State: testState("s1"),
			Items: []news.Item{i6, i3, i1, i2, i7}, Matches: []news.Match{m6, m3, m1, m2, m7}})
		mustSave(t, st, news.PollResult{State: untitled, Items: []news.Item{i5, i4}, Matches: []news.Match{m5, m4}})

		tieFirst, tieSecond := "tie-x", "tie-y"
		if i5.ID < i4.ID {
			tieFirst, tieSecond = "tie-y", "tie-x"
		}
		es, err := st.TopicEntries(ctx, "t1", 0) // default limit
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"newest", "same-pub-later-match", "same-pub-earlier-match", tieFirst, tieSecond, "no-date"}
		if got := entryTitles(es); !reflect.DeepEqual(got, want) {
			t.Fatalf("order:\n got %v\nwant %v", got, want)
		}
		if es[0].SourceTitle != "Source s1" || es[3].SourceTitle != "s2" {
			t.Fatalf("source titles %q, %q; want the state title, else the source id", es[0].SourceTitle, es[3].SourceTitle)
		}
		if !es[5].Item.Published.IsZero() {
			t.Fatal("zero Published did not round-trip")
		}
		es, err = st.TopicEntries(ctx, "t1", 3)
		if err != nil {
			t.Fatal(err)
		}
		if got := entryTitles(es); !reflect.DeepEqual(got, want[:3]) {
			t.Fatalf("limit 3: got %v", got)
		}
		es, err = st.TopicEntries(ctx, "nope", 3)
		if err != nil || len(es) != 0 {
			t.Fatalf("unknown topic: %v, %v", es, err)
		}
	})

	t.Run("ClaimNextLeaseAndOrder", func(t *testing.T) {
		st := b.open(t)
		var items []news.Item
		var matches []news.Match
		var ds []news.Delivery
		for i, key := range []string{"a", "b", "c"} {
			it := testItem("s1", key, at(time.Duration(i)*time.Second))
			m := testMatch("t1", it, at(time.Minute), false)
			items, matches = append(items, it), append(matches, m)
			ds = append(ds, testDelivery("w1", m, at(time.Duration(i)*time.Second)))
		}
		ds[0].NextAttempt = time.Time{} // zero NextAttempt is due at once
		other := testDelivery("w2", matches[2], at(time.Hour))
		// Saved in reverse order: the queue order is CreatedAt, not insertion.
		if n := mustSave(t, st, news.PollResult{State: testState("s1"), Items: items, Matches: matches,
			Deliveries: []news.Delivery{other, ds[2], ds[1], ds[0]}}); n != 4 {
			t.Fatalf("SavePoll = %d deliveries, want 4", n)
		}
		mustPending(t, st, 4)

		now, lease := at(time.Hour), time.Minute
		claim := func(webhook string, now time.Time) (news.Alert, bool) {
			t.Helper()
			a, ok, err := st.ClaimNext(ctx, webhook, true, now, lease)
			if err != nil {
				t.Fatalf("ClaimNext: %v", err)
			}
			return a, ok
		}
		a, ok := claim("w1", now)
		if !ok {
			t.Fatal("nothing claimed")
		}
		want := news.Alert{Delivery: ds[0], Topic: news.Topic{ID: "t1"},
			Entry: news.Entry{Item: items[0], Match: matches[0], SourceTitle: "Source s1"}}
		if !reflect.DeepEqual(a, want) {
			t.Fatalf("claimed:\n got %+v\nwant %+v", a, want)
		}
		if _, ok := claim("w1", now.Add(lease-time.Millisecond)); ok {
			t.Fatal("a leased head was claimed again, or a later row skipped ahead")
		}
		if a, ok := claim("w2", now); !ok || a.Delivery.ID != other.ID {
			t.Fatal("another webhook's queue is blocked by w1's lease")
		}
		a, ok = claim("w1", now.Add(lease))
		if !ok || a.Delivery.ID != ds[0].ID {
			t.Fatalf("expired lease not reclaimable: ok=%v %s", ok, a.Delivery.ID)
		}

		// A retry in the future blocks the queue until it is due.
		now = now.Add(lease)
		if err := st.MarkRetry(ctx, ds[0].ID, 1, now.Add(5*time.Minute), "HTTP 503"); err != nil {
			t.Fatal(err)
		}
		if _, ok := claim("w1", now.Add(4*time.Minute)); ok {
			t.Fatal("a not-due head was skipped or claimed")
		}
		got, err := st.Deliveries(ctx, DeliveryFilter{WebhookID: "w1", Status: news.DeliveryPending, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		retried := ds[0]
		retried.Attempts, retried.NextAttempt, retried.LastError = 1, now.Add(5*time.Minute), "HTTP 503"
		if len(got) != 1 || got[0].ID != ds[2].ID {
			t.Fatalf("newest pending w1 delivery = %+v", got)
		}
		all, err := st.Deliveries(ctx, DeliveryFilter{WebhookID: "w1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 || !reflect.DeepEqual(all[2], retried) {
			t.Fatalf("retried delivery:\n got %+v\nwant %+v", all, retried)
		}

		now = now.Add(5 * time.Minute)
		a, ok = claim("w1", now)
		if !ok || a.Delivery.ID != ds[0].ID || a.Delivery.Attempts != 1 {
			t.Fatalf("retry not claimed when due: ok=%v %+v", ok, a.Delivery)
		}
		if err := st.MarkDelivered(ctx, ds[0].ID, 2, now); err != nil {
			t.Fatal(err)
		}
		a, ok = claim("w1", now)
		if !ok || a.Delivery.ID != ds[1].ID {
			t.Fatalf("after delivery, next = ok=%v %s; want %s", ok, a.Delivery.ID, ds[1].ID)
		}
		if err := st.MarkFinal(ctx, ds[1].ID, news.DeliveryDead, 8, "retries exhausted", now); err != nil {
			t.Fatal(err)
		}
		a, ok = claim("w1", now)
		if !ok || a.Delivery.ID != ds[2].ID {
			t.Fatalf("after dead, next = ok=%v %s; want %s", ok, a.Delivery.ID, ds[2].ID)
		}
		if err := st.MarkFinal(ctx, ds[2].ID, news.DeliveryFailed, 1, "HTTP 410", now); err != nil {
			t.Fatal(err)
		}
		if _, ok := claim("w1", now.Add(time.Hour)); ok {
			t.Fatal("claimed from an empty queue")
		}
		mustPending(t, st, 1) // w2's, still leased

		byID := map[string]news.Delivery{}
		all, err = st.Deliveries(ctx, DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range all {
			byID[d.ID] = d
		}
		delivered := byID[ds[0].ID]
		if delivered.Status != news.DeliveryDelivered || delivered.Attempts != 2 || !delivered.DeliveredAt.Equal(now) {
			t.Fatalf("delivered row = %+v", delivered)
		}
		dead := byID[ds[1].ID]
		if dead.Status != news.DeliveryDead || dead.Attempts != 8 || dead.LastError != "retries exhausted" || !dead.DeliveredAt.IsZero() {
			t.Fatalf("dead row = %+v", dead)
		}
		if f := byID[ds[2].ID]; f.Status != news.DeliveryFailed || f.LastError != "HTTP 410" {
			t.Fatalf("failed row = %+v", f)
		}

		// Marks apply to pending rows of known ids only.
		if err := st.MarkDelivered(ctx, "msg_unknown", 1, now); !errors.Is(err, news.ErrNotFound) {
			t.Fatalf("MarkDelivered(unknown) = %v, want ErrNotFound", err)
		}
		if err := st.MarkRetry(ctx, "msg_unknown", 1, now, "x"); !errors.Is(err, news.ErrNotFound) {
			t.Fatalf("MarkRetry(unknown) = %v, want ErrNotFound", err)
		}
		if err := st.MarkFinal(ctx, "msg_unknown", news.DeliveryDead, 1, "x", now); !errors.Is(err, news.ErrNotFound) {
			t.Fatalf("MarkFinal(unknown) = %v, want ErrNotFound", err)
		}
		if err := st.MarkRetry(ctx, ds[0].ID, 3, now, "late"); err == nil || errors.Is(err, news.ErrNotFound) {
			t.Fatalf("MarkRetry of a delivered row = %v, want a not-pending error", err)
		}
		if err := st.MarkFinal(ctx, other.ID, news.DeliveryPending, 1, "", now); err == nil {
			t.Fatal("MarkFinal accepted pending as final")
		}
		if _, _, err := st.ClaimNext(ctx, "w1", true, now, 0); err == nil {
			t.Fatal("ClaimNext accepted a zero lease")
		}
	})

	t.Run("DeliveriesFilter", func(t *testing.T) {
		st := b.open(t)
		var items []news.Item
		var matches []news.Match
		var ds []news.Delivery
		for i := range 4 {
			it := testItem("s1", fmt.Sprint(i), at(0))
			m := testMatch("t1", it, at(0), false)
			items, matches = append(items, it), append(matches, m)
			for _, w := range []string{"w1", "w2"} {
				ds = append(ds, testDelivery(w, m, at(time.Duration(i)*time.Second)))
			}
		}
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: items, Matches: matches, Deliveries: ds})
		// w1's oldest delivery fails for good.
		if err := st.MarkFinal(ctx, ds[0].ID, news.DeliveryFailed, 1, "HTTP 400", at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := st.Deliveries(ctx, DeliveryFilter{WebhookID: "w1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 {
			t.Fatalf("w1 has %d deliveries, want 4", len(got))
		}
		for i := 1; i < len(got); i++ {
			if got[i].WebhookID != "w1" || got[i].CreatedAt.After(got[i-1].CreatedAt) {
				t.Fatalf("not w1 newest first: %+v", got)
			}
		}
		got, err = st.Deliveries(ctx, DeliveryFilter{Status: news.DeliveryFailed})
		if err != nil || len(got) != 1 || got[0].ID != ds[0].ID {
			t.Fatalf("failed filter = %+v, %v", got, err)
		}
		got, err = st.Deliveries(ctx, DeliveryFilter{WebhookID: "w2", Status: news.DeliveryPending, Limit: 2})
		if err != nil || len(got) != 2 || got[0].ID != ds[7].ID || got[1].ID != ds[5].ID {
			t.Fatalf("w2 pending limit 2 = %+v, %v", got, err)
		}
		got, err = st.Deliveries(ctx, DeliveryFilter{WebhookID: "nobody"})
		if err != nil || len(got) != 0 {
			t.Fatalf("unknown webhook = %+v, %v", got, err)
		}
		mustPending(t, st, 7)
		for _, c := range []struct {
			hooks []string
			want  int
		}{{[]string{"w1"}, 3}, {[]string{"w2"}, 4}, {[]string{"w1", "w2"}, 7}, {[]string{"nobody"}, 0}} {
			if n, err := st.PendingDeliveries(ctx, c.hooks...); err != nil || n != c.want {
				t.Errorf("PendingDeliveries(%v) = %d, %v; want %d", c.hooks, n, err, c.want)
			}
		}
	})

	t.Run("RestartKeepsEverything", func(t *testing.T) {
		st := b.open(t)
		a, c := testItem("s1", "a", at(0)), testItem("s1", "c", at(time.Second))
		ma, mc := testMatch("t1", a, at(time.Minute), false), testMatch("t1", c, at(time.Minute), true)
		da := testDelivery("w1", ma, at(time.Minute))
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a, c},
			Matches: []news.Match{ma, mc}, Deliveries: []news.Delivery{da}})
		if _, ok, err := st.ClaimNext(ctx, "w1", true, at(time.Hour), time.Hour); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		state, _ := st.SourceState(ctx, "s1")
		entries, _ := st.TopicEntries(ctx, "t1", 10)
		deliveries, _ := st.Deliveries(ctx, DeliveryFilter{})

		st = b.reopen(t, st)
		if got, err := st.SourceState(ctx, "s1"); err != nil || !reflect.DeepEqual(got, state) {
			t.Fatalf("state after restart = %+v, %v", got, err)
		}
		if got, err := st.TopicEntries(ctx, "t1", 10); err != nil || len(got) != 2 || !reflect.DeepEqual(got, entries) {
			t.Fatalf("entries after restart = %+v, %v", got, err)
		}
		if got, err := st.Deliveries(ctx, DeliveryFilter{}); err != nil || len(got) != 1 || !reflect.DeepEqual(got, deliveries) {
			t.Fatalf("deliveries after restart = %+v, %v", got, err)
		}
		if got, err := st.UnseenItems(ctx, []string{a.ID, c.ID}); err != nil || len(got) != 0 {
			t.Fatalf("items forgotten after restart: %v, %v", got, err)
		}
		// The lease survives too: the claim is not handed out again early.
		if _, ok, err := st.ClaimNext(ctx, "w1", true, at(time.Hour+time.Minute), time.Hour); err != nil || ok {
			t.Fatalf("leased delivery claimed again after restart: %v %v", ok, err)
		}
		if n := mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a, c},
			Matches: []news.Match{ma, mc}, Deliveries: []news.Delivery{da}}); n != 0 {
			t.Fatalf("re-saving after restart created %d deliveries", n)
		}
	})

	t.Run("ConcurrentSaveAndClaim", func(t *testing.T) {
		st := b.open(t)
		const (
			writers  = 4
			claimers = 3
			polls    = 6
			perPoll  = 5
			distinct = 20 // items; writers overlap heavily
		)
		now := at(24 * time.Hour)
		poll := func(w, p int) news.PollResult {
			r := news.PollResult{State: testState("s1")}
			for k := range perPoll {
				it := testItem("s1", fmt.Sprint((w*7+p*perPoll+k)%distinct), at(time.Duration(k)*time.Second))
				m := testMatch("t1", it, at(0), false)
				r.Items, r.Matches = append(r.Items, it), append(r.Matches, m)
				r.Deliveries = append(r.Deliveries, testDelivery("w1", m, at(time.Duration(p)*time.Second)))
			}
			return r
		}

		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			inserted int
			claimed  = map[string]int{}
			errs     = make(chan error, writers+claimers)
			done     = make(chan struct{})
		)
		for w := range writers {
			wg.Go(func() {
				for p := range polls {
					n, err := st.SavePoll(ctx, poll(w, p))
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					inserted += n
					mu.Unlock()
				}
			})
		}
		var cwg sync.WaitGroup
		for range claimers {
			cwg.Go(func() {
				for {
					// The lease outlives the test: a second claim of any
					// row can only be a bug.
					a, ok, err := st.ClaimNext(ctx, "w1", true, now, 24*time.Hour)
					if err != nil {
						errs <- err
						return
					}
					if !ok {
						select {
						case <-done:
							// Writers finished; drain what is left.
							if n, err := st.PendingDeliveries(ctx); err != nil {
								errs <- err
								return
							} else if n == 0 {
								return
							}
						default:
						}
						time.Sleep(time.Millisecond)
						continue
					}
					mu.Lock()
					claimed[a.Delivery.ID]++
					mu.Unlock()
					if err := st.MarkDelivered(ctx, a.Delivery.ID, 1, now); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(done)
		cwg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent call failed: %v", err)
		}
		if t.Failed() {
			return
		}
		if inserted != distinct {
			t.Errorf("SavePoll reported %d new deliveries in total, want %d (one per distinct item)", inserted, distinct)
		}
		if len(claimed) != distinct {
			t.Errorf("%d distinct deliveries claimed, want %d", len(claimed), distinct)
		}
		for id, n := range claimed {
			if n != 1 {
				t.Errorf("delivery %s claimed %d times", id, n)
			}
		}
		ds, err := st.Deliveries(ctx, DeliveryFilter{Status: news.DeliveryDelivered})
		if err != nil || len(ds) != distinct {
			t.Errorf("%d delivered rows, %v; want %d", len(ds), err, distinct)
		}
		es, err := st.TopicEntries(ctx, "t1", 100)
		if err != nil || len(es) != distinct {
			t.Errorf("%d entries, %v; want %d", len(es), err, distinct)
		}
	})
}
