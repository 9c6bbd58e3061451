package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"wirewatch/news"
)

func testSourceHealthContract(t *testing.T, b backend) {
	ctx := context.Background()

	t.Run("SourceStatePolitenessFields", func(t *testing.T) {
		st := b.open(t)
		want := news.SourceState{
			SourceID: "s1", URL: "https://example.org/feed", Title: "Example", Failures: 4,
			LastError: "dial tcp: connection refused", ErrorReason: "connect",
			NextPoll: at(2 * time.Hour), MinInterval: 15 * time.Minute,
			MovedTo: "https://example.org/new-feed", Health: news.HealthFailing, LastPoll: at(time.Hour),
		}
		if err := st.SaveSourceState(ctx, want); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveSourceState(ctx, news.SourceState{SourceID: "s0", URL: "https://a.example/", Health: news.HealthOK}); err != nil {
			t.Fatal(err)
		}
		st = b.reopen(t, st)
		got, err := st.SourceState(ctx, "s1")
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %+v (%v)\nwant %+v", got, err, want)
		}
		all, err := st.SourceStates(ctx)
		if err != nil || len(all) != 2 || all[0].SourceID != "s0" || !reflect.DeepEqual(all[1], want) {
			t.Fatalf("SourceStates = %+v, %v", all, err)
		}
	})

	t.Run("SourceActivity", func(t *testing.T) {
		st := b.open(t)
		if n, last, err := st.SourceActivity(ctx, "s1", at(0)); err != nil || n != 0 || !last.IsZero() {
			t.Fatalf("no items: %d, %v, %v", n, last, err)
		}
		p := news.PollResult{State: testState("s1")}
		for i, key := range []string{"a", "b", "c"} {
			it := testItem("s1", key, at(0))
			it.FetchedAt = at(time.Duration(i) * 24 * time.Hour)
			p.Items = append(p.Items, it)
		}
		mustSave(t, st, p)
		if n, last, err := st.SourceActivity(ctx, "s1", at(24*time.Hour)); err != nil || n != 2 || !last.Equal(at(48*time.Hour)) {
			t.Fatalf("activity = %d, %v, %v", n, last, err)
		}
	})

	t.Run("HealthEventsAreQueuedAndClaimed", func(t *testing.T) {
		st := b.open(t)
		h := &news.SourceHealth{SourceID: "s1", Title: "Example", URL: "https://example.org/feed", State: news.HealthFailed,
			Previous: news.HealthFailing, Reason: "dns", LastError: "no such host", LastSuccess: at(-48 * time.Hour),
			Failures: 9, At: at(time.Hour)}
		ev := news.Delivery{ID: "msg_health_1", WebhookID: "w1", EventType: news.EventSourceHealth, Health: h, CreatedAt: at(time.Hour)}
		state := news.SourceState{SourceID: "s1", URL: h.URL, Health: news.HealthFailed, Failures: 9}
		if err := st.SaveSourceState(ctx, state, ev); err != nil {
			t.Fatal(err)
		}
		// Saving the same event again adds nothing.
		if err := st.SaveSourceState(ctx, state, ev); err != nil {
			t.Fatal(err)
		}
		if n, err := st.PendingDeliveries(ctx, "w1"); err != nil || n != 1 {
			t.Fatalf("pending = %d, %v", n, err)
		}
		a, ok, err := st.ClaimNext(ctx, "w1", true, at(2*time.Hour), time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim: %v, %v", ok, err)
		}
		if a.Delivery.ID != ev.ID || a.Delivery.EventType != news.EventSourceHealth || !reflect.DeepEqual(a.Delivery.Health, h) {
			t.Fatalf("claimed %+v (health %+v)", a.Delivery, a.Delivery.Health)
		}
		if err := st.MarkDelivered(ctx, ev.ID, 1, at(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		// A bad event is refused and nothing of the call is saved.
		bad := news.Delivery{ID: "msg_bad", WebhookID: "w1", EventType: news.EventSourceHealth}
		if err := st.SaveSourceState(ctx, news.SourceState{SourceID: "s2", URL: "https://b.example/"}, bad); err == nil {
			t.Fatal("event without a report saved")
		}
		if got, _ := st.SourceState(ctx, "s2"); got.URL != "" {
			t.Fatalf("state saved with a refused event: %+v", got)
		}
		// Events may come with a poll too.
		p := news.PollResult{State: testState("s1")}
		ev2 := ev
		ev2.ID, ev2.Health = "msg_health_2", &news.SourceHealth{SourceID: "s1", State: news.HealthOK, Previous: news.HealthFailed}
		p.Events = []news.Delivery{ev2}
		if n := mustSave(t, st, p); n != 1 {
			t.Fatalf("SavePoll with an event = %d new deliveries", n)
		}
	})
}
