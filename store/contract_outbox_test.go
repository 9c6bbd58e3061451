package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

// queued is one delivery for the outbox fixtures: a webhook, the key of its
// item (matched by topic t1) and its creation time, as an offset from t0.
type queued struct {
	webhook, key string
	created      time.Duration
}

// outbox saves the deliveries qs describe (items and matches included) in
// one poll, and returns them in the order of qs, with the alert each would
// be claimed as.
func outbox(t *testing.T, st contractStore, qs ...queued) ([]news.Delivery, []news.Alert) {
	t.Helper()
	p := news.PollResult{State: testState("s1")}
	stored := map[string]bool{}
	var ds []news.Delivery
	var alerts []news.Alert
	for _, q := range qs {
		it := testItem("s1", q.key, at(0))
		m := testMatch("t1", it, at(0), false)
		if !stored[q.key] {
			stored[q.key] = true
			p.Items, p.Matches = append(p.Items, it), append(p.Matches, m)
		}
		d := testDelivery(q.webhook, m, at(q.created))
		ds = append(ds, d)
		alerts = append(alerts, news.Alert{Delivery: d, Topic: news.Topic{ID: "t1"},
			Entry: news.Entry{Item: it, Match: m, SourceTitle: "Source s1"}})
	}
	p.Deliveries = ds
	if n := mustSave(t, st, p); n != len(ds) {
		t.Fatalf("SavePoll = %d deliveries, want %d", n, len(ds))
	}
	return ds, alerts
}

func mustState(t *testing.T, st contractStore, webhook string) news.WebhookState {
	t.Helper()
	s, err := st.WebhookState(context.Background(), webhook)
	if err != nil {
		t.Fatalf("WebhookState(%q): %v", webhook, err)
	}
	return s
}

// deliveryByID reads one delivery back through Deliveries.
func deliveryByID(t *testing.T, st contractStore, id string) news.Delivery {
	t.Helper()
	all, err := st.Deliveries(context.Background(), DeliveryFilter{Limit: maxLimit})
	if err != nil {
		t.Fatalf("Deliveries: %v", err)
	}
	for _, d := range all {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("delivery %s not found", id)
	return news.Delivery{}
}

func deliveryIDs(ds []news.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// testOutboxContract covers unordered claims, webhook health, disabling
// webhooks, replaying deliveries and the delivery filters.
func testOutboxContract(t *testing.T, b backend) {
	ctx := context.Background()

	t.Run("ClaimUnorderedSkipsLeasedAndNotDue", func(t *testing.T) {
		st := b.open(t)
		ds, alerts := outbox(t, st,
			queued{"w1", "a", 0}, queued{"w1", "b", time.Second}, queued{"w1", "c", 2 * time.Second},
			queued{"w1", "d", 3 * time.Second}, queued{"w2", "e", 0})
		now, lease := at(time.Hour), time.Minute
		claim := func(ordered bool, now time.Time) (news.Alert, bool) {
			t.Helper()
			a, ok, err := st.ClaimNext(ctx, "w1", ordered, now, lease)
			if err != nil {
				t.Fatalf("ClaimNext(ordered=%v): %v", ordered, err)
			}
			return a, ok
		}

		a, ok := claim(false, now)
		if !ok || !reflect.DeepEqual(a, alerts[0]) {
			t.Fatalf("first unordered claim:\n got %+v (ok=%v)\nwant %+v", a, ok, alerts[0])
		}
		// The head is leased: ordered claimers wait, unordered ones move on.
		if _, ok := claim(true, now); ok {
			t.Fatal("ordered claim skipped a leased head")
		}
		if a, ok := claim(false, now); !ok || a.Delivery.ID != ds[1].ID {
			t.Fatalf("unordered claim behind a leased head = %s (ok=%v), want b", a.Delivery.ID, ok)
		}
		// b fails and waits for its retry: the next unordered claim skips both
		// the leased a and the not-yet-due b.
		if err := st.MarkRetry(ctx, ds[1].ID, 1, now.Add(10*time.Minute), "HTTP 503"); err != nil {
			t.Fatal(err)
		}
		if a, ok := claim(false, now); !ok || a.Delivery.ID != ds[2].ID {
			t.Fatalf("unordered claim = %s (ok=%v), want c", a.Delivery.ID, ok)
		}
		if a, ok := claim(false, now); !ok || !reflect.DeepEqual(a, alerts[3]) {
			t.Fatalf("unordered claim:\n got %+v (ok=%v)\nwant %+v", a, ok, alerts[3])
		}
		if _, ok := claim(false, now.Add(lease-time.Millisecond)); ok {
			t.Fatal("claimed while every row is leased or not due")
		}
		// Another webhook's queue is its own.
		if a, ok, err := st.ClaimNext(ctx, "w2", false, now, lease); err != nil || !ok || a.Delivery.ID != ds[4].ID {
			t.Fatalf("w2 claim = %s, %v, %v", a.Delivery.ID, ok, err)
		}
		// Leases expire oldest first: a comes back first, then c and d; b
		// is still not due.
		later := now.Add(lease)
		var got []string
		for {
			a, ok := claim(false, later)
			if !ok {
				break
			}
			got = append(got, a.Delivery.ID)
		}
		if want := []string{ds[0].ID, ds[2].ID, ds[3].ID}; !reflect.DeepEqual(got, want) {
			t.Fatalf("after the leases expired, claimed %v, want %v", got, want)
		}
		// Once due, b is claimable, with its attempt count.
		for _, d := range []news.Delivery{ds[0], ds[2], ds[3]} {
			if err := st.MarkDelivered(ctx, d.ID, 1, later); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := claim(false, now.Add(10*time.Minute-time.Millisecond)); ok {
			t.Fatal("claimed b before it was due")
		}
		if a, ok := claim(false, now.Add(10*time.Minute)); !ok || a.Delivery.ID != ds[1].ID || a.Delivery.Attempts != 1 {
			t.Fatalf("due retry = %+v (ok=%v)", a.Delivery, ok)
		}
		if _, _, err := st.ClaimNext(ctx, "w1", false, now, 0); err == nil {
			t.Fatal("unordered ClaimNext accepted a zero lease")
		}
	})

	t.Run("ClaimOrderedWaitsForHead", func(t *testing.T) {
		st := b.open(t)
		ds, _ := outbox(t, st, queued{"w1", "a", 0}, queued{"w1", "b", time.Second})
		now, lease := at(time.Hour), time.Minute
		if a, ok, err := st.ClaimNext(ctx, "w1", true, now, lease); err != nil || !ok || a.Delivery.ID != ds[0].ID {
			t.Fatalf("ordered claim = %s, %v, %v", a.Delivery.ID, ok, err)
		}
		if err := st.MarkRetry(ctx, ds[0].ID, 1, now.Add(time.Minute), "timeout"); err != nil {
			t.Fatal(err)
		}
		// The head is not due: ordered waits although b is due...
		if _, ok, err := st.ClaimNext(ctx, "w1", true, now, lease); err != nil || ok {
			t.Fatalf("ordered claim passed a not-due head: %v, %v", ok, err)
		}
		// ...and an unordered claim of b does not unblock the head either.
		if a, ok, err := st.ClaimNext(ctx, "w1", false, now, lease); err != nil || !ok || a.Delivery.ID != ds[1].ID {
			t.Fatalf("unordered claim = %s, %v, %v", a.Delivery.ID, ok, err)
		}
		if a, ok, err := st.ClaimNext(ctx, "w1", true, now.Add(time.Minute), lease); err != nil || !ok || a.Delivery.ID != ds[0].ID {
			t.Fatalf("ordered claim of the due head = %s, %v, %v", a.Delivery.ID, ok, err)
		}
	})

	t.Run("ConcurrentUnorderedClaimers", func(t *testing.T) {
		st := b.open(t)
		const rows, claimers = 60, 6
		var qs []queued
		for i := range rows {
			// Two rows per millisecond: order within a tie is by id.
			qs = append(qs, queued{"w1", fmt.Sprint(i), time.Duration(i/2) * time.Millisecond})
		}
		ds, _ := outbox(t, st, qs...)
		now := at(time.Hour)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			claimed = map[string]int{}
			total   int
			errs    = make(chan error, claimers)
		)
		for range claimers {
			wg.Go(func() {
				for {
					// The lease outlives the test and nothing is marked
					// until every claimer is done: a second claim of any
					// row can only be a bug.
					a, ok, err := st.ClaimNext(ctx, "w1", false, now, 24*time.Hour)
					if err != nil {
						errs <- err
						return
					}
					if !ok {
						return
					}
					mu.Lock()
					claimed[a.Delivery.ID]++
					total++
					enough := total >= 2*rows // duplicates: stop rather than spin
					mu.Unlock()
					if enough {
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent claim: %v", err)
		}
		if len(claimed) != rows {
			t.Fatalf("%d distinct rows claimed, want %d", len(claimed), rows)
		}
		for id, n := range claimed {
			if n != 1 {
				t.Errorf("delivery %s claimed %d times", id, n)
			}
		}
		mustPending(t, st, rows)

		// The claimers mark concurrently too; the health count adds up.
		var mwg sync.WaitGroup
		merrs := make(chan error, rows)
		for i, d := range ds {
			mwg.Go(func() {
				var err error
				if i%2 == 0 {
					err = st.MarkDelivered(ctx, d.ID, 1, now.Add(time.Second))
				} else {
					err = st.MarkRetry(ctx, d.ID, 1, now.Add(time.Hour), "HTTP 500")
				}
				if err != nil {
					merrs <- err
				}
			})
		}
		mwg.Wait()
		close(merrs)
		for err := range merrs {
			t.Fatalf("concurrent mark: %v", err)
		}
		mustPending(t, st, rows/2)
		h := mustState(t, st, "w1")
		if !h.LastSuccess.Equal(now.Add(time.Second)) || !h.LastFailure.Equal(now) || h.LastError != "HTTP 500" ||
			h.ConsecutiveFailures < 0 || h.ConsecutiveFailures > rows/2 {
			t.Fatalf("health after concurrent marks = %+v", h)
		}
	})

	t.Run("HealthFromMarks", func(t *testing.T) {
		st := b.open(t)
		ds, _ := outbox(t, st, queued{"w1", "a", 0}, queued{"w1", "b", time.Second},
			queued{"w1", "c", 2 * time.Second}, queued{"w1", "d", 3 * time.Second}, queued{"w2", "e", 0})
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, news.WebhookState{WebhookID: "w1"}) {
			t.Fatalf("state before any mark = %+v, want zero with id", got)
		}
		if got, err := st.WebhookStates(ctx); err != nil || len(got) != 0 {
			t.Fatalf("WebhookStates before any mark = %+v, %v", got, err)
		}

		// A retry dates its failure by the claim of the failed attempt.
		claimedAt := at(time.Hour)
		if _, ok, err := st.ClaimNext(ctx, "w1", false, claimedAt, time.Minute); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if err := st.MarkRetry(ctx, ds[0].ID, 1, claimedAt.Add(5*time.Minute), "HTTP 503"); err != nil {
			t.Fatal(err)
		}
		want := news.WebhookState{WebhookID: "w1", LastFailure: claimedAt, LastError: "HTTP 503", ConsecutiveFailures: 1}
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("after retry:\n got %+v\nwant %+v", got, want)
		}
		// A final failure counts too, at its own time.
		if err := st.MarkFinal(ctx, ds[1].ID, news.DeliveryFailed, 1, "HTTP 400", at(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		want.LastFailure, want.LastError, want.ConsecutiveFailures = at(2*time.Hour), "HTTP 400", 2
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("after final failure:\n got %+v\nwant %+v", got, want)
		}

		// A failed mark changes nothing, health included.
		for name, err := range map[string]error{
			"retry of a failed row":   st.MarkRetry(ctx, ds[1].ID, 2, at(3*time.Hour), "late"),
			"final of a failed row":   st.MarkFinal(ctx, ds[1].ID, news.DeliveryDead, 2, "late", at(3*time.Hour)),
			"delivered of failed row": st.MarkDelivered(ctx, ds[1].ID, 2, at(3*time.Hour)),
			"not final":               st.MarkFinal(ctx, ds[2].ID, news.DeliveryPending, 2, "late", at(3*time.Hour)),
		} {
			if err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
		if err := st.MarkDelivered(ctx, "msg_unknown", 1, at(3*time.Hour)); !errors.Is(err, news.ErrNotFound) {
			t.Fatalf("MarkDelivered(unknown) = %v", err)
		}
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("failed marks changed health:\n got %+v\nwant %+v", got, want)
		}
		if got := deliveryByID(t, st, ds[2].ID); got.Status != news.DeliveryPending || got.Attempts != 0 {
			t.Fatalf("a refused mark changed the row: %+v", got)
		}

		// Success: LastSuccess set, the count reset, the last failure kept.
		if err := st.MarkDelivered(ctx, ds[2].ID, 1, at(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		want.LastSuccess, want.ConsecutiveFailures = at(4*time.Hour), 0
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("after success:\n got %+v\nwant %+v", got, want)
		}
		if err := st.MarkFinal(ctx, ds[3].ID, news.DeliveryDead, 8, "retries exhausted", at(5*time.Hour)); err != nil {
			t.Fatal(err)
		}
		want.LastFailure, want.LastError, want.ConsecutiveFailures = at(5*time.Hour), "retries exhausted", 1
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("after dead:\n got %+v\nwant %+v", got, want)
		}
		// MarkFinal(delivered) is a success.
		if err := st.MarkFinal(ctx, ds[0].ID, news.DeliveryDelivered, 2, "HTTP 503", at(6*time.Hour)); err != nil {
			t.Fatal(err)
		}
		want.LastSuccess, want.ConsecutiveFailures = at(6*time.Hour), 0
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("after final delivered:\n got %+v\nwant %+v", got, want)
		}

		// w2 is untouched until its own marks.
		if got := mustState(t, st, "w2"); !reflect.DeepEqual(got, news.WebhookState{WebhookID: "w2"}) {
			t.Fatalf("w2 = %+v", got)
		}
		if err := st.MarkDelivered(ctx, ds[4].ID, 1, at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		all, err := st.WebhookStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w2 := news.WebhookState{WebhookID: "w2", LastSuccess: at(time.Hour)}
		if !reflect.DeepEqual(all, []news.WebhookState{want, w2}) {
			t.Fatalf("WebhookStates:\n got %+v\nwant %+v", all, []news.WebhookState{want, w2})
		}

		// Health survives a restart.
		st = b.reopen(t, st)
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("after restart:\n got %+v\nwant %+v", got, want)
		}
	})

	t.Run("DisableEnable", func(t *testing.T) {
		st := b.open(t)
		ds, _ := outbox(t, st, queued{"w1", "a", 0})
		if err := st.DisableWebhook(ctx, "w1", "HTTP 410 Gone", at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		want := news.WebhookState{WebhookID: "w1", DisabledAt: at(time.Hour), DisabledReason: "HTTP 410 Gone"}
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("disabled:\n got %+v\nwant %+v", got, want)
		}
		// A second disable keeps the first time and reason.
		if err := st.DisableWebhook(ctx, "w1", "again", at(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("disabled twice:\n got %+v\nwant %+v", got, want)
		}
		// Marks update health and leave the disabled mark alone.
		if err := st.MarkFinal(ctx, ds[0].ID, news.DeliveryFailed, 1, "HTTP 410", at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		want.LastFailure, want.LastError, want.ConsecutiveFailures = at(time.Hour), "HTTP 410", 1
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("disabled then failed:\n got %+v\nwant %+v", got, want)
		}
		// Enable clears the mark only.
		if err := st.EnableWebhook(ctx, "w1"); err != nil {
			t.Fatal(err)
		}
		want.DisabledAt, want.DisabledReason = time.Time{}, ""
		if got := mustState(t, st, "w1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("enabled:\n got %+v\nwant %+v", got, want)
		}
		if err := st.EnableWebhook(ctx, "w1"); err != nil {
			t.Fatalf("enabling an enabled webhook: %v", err)
		}
		// Disabled again after enabling: the new time and reason.
		if err := st.DisableWebhook(ctx, "w1", "HTTP 410 again", at(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := mustState(t, st, "w1"); !got.DisabledAt.Equal(at(3*time.Hour)) || got.DisabledReason != "HTTP 410 again" {
			t.Fatalf("re-disabled = %+v", got)
		}
		// Enabling an unknown webhook is a no-op, and records nothing.
		if err := st.EnableWebhook(ctx, "nobody"); err != nil {
			t.Fatal(err)
		}
		if all, err := st.WebhookStates(ctx); err != nil || len(all) != 1 || all[0].WebhookID != "w1" {
			t.Fatalf("WebhookStates = %+v, %v", all, err)
		}
		if err := st.DisableWebhook(ctx, "", "x", at(0)); err == nil {
			t.Fatal("disabled a webhook without id")
		}
		if err := st.DisableWebhook(ctx, "w3", "x", time.Time{}); err == nil {
			t.Fatal("disabled a webhook at the zero time")
		}
		if got := mustState(t, st, "w3"); !reflect.DeepEqual(got, news.WebhookState{WebhookID: "w3"}) {
			t.Fatalf("refused disable recorded something: %+v", got)
		}
		st = b.reopen(t, st)
		if got := mustState(t, st, "w1"); !got.DisabledAt.Equal(at(3 * time.Hour)) {
			t.Fatalf("disabled mark lost on restart: %+v", got)
		}
	})

	t.Run("RetryDeliveries", func(t *testing.T) {
		st := b.open(t)
		ds, _ := outbox(t, st,
			queued{"w1", "dead", 0}, queued{"w1", "failed", time.Second}, queued{"w1", "delivered", 2 * time.Second},
			queued{"w1", "pending", 3 * time.Second}, queued{"w1", "leased", 4 * time.Second},
			queued{"w2", "dead", 0}, queued{"w2", "failed", 5 * time.Second})
		dead1, failed1, delivered1, pending1, leased1, dead2, failed2 := ds[0], ds[1], ds[2], ds[3], ds[4], ds[5], ds[6]
		now := at(time.Hour)
		for _, m := range []struct {
			d      news.Delivery
			status news.DeliveryStatus
		}{{dead1, news.DeliveryDead}, {failed1, news.DeliveryFailed}, {delivered1, news.DeliveryDelivered},
			{dead2, news.DeliveryDead}, {failed2, news.DeliveryFailed}} {
			if err := st.MarkFinal(ctx, m.d.ID, m.status, 3, "was "+string(m.status), now); err != nil {
				t.Fatal(err)
			}
		}
		// pending1 waits for a retry, leased1 is being sent.
		for _, want := range []string{pending1.ID, leased1.ID} {
			if a, ok, err := st.ClaimNext(ctx, "w1", false, now, time.Hour); err != nil || !ok || a.Delivery.ID != want {
				t.Fatalf("claim = %s, %v, %v; want %s", a.Delivery.ID, ok, err, want)
			}
		}
		if err := st.MarkRetry(ctx, pending1.ID, 2, now.Add(time.Hour), "HTTP 502"); err != nil {
			t.Fatal(err)
		}
		mustPending(t, st, 2)

		retry := func(f RetryFilter, at time.Time) int {
			t.Helper()
			n, err := st.RetryDeliveries(ctx, f, at)
			if err != nil {
				t.Fatalf("RetryDeliveries(%+v): %v", f, err)
			}
			return n
		}
		for name, f := range map[string]RetryFilter{
			"nothing":                  {},
			"webhook only":             {WebhookID: "w1"},
			"delivered without ids":    {Statuses: []news.DeliveryStatus{news.DeliveryDelivered}},
			"pending without ids":      {Statuses: []news.DeliveryStatus{news.DeliveryPending}, Since: at(0)},
			"unknown status":           {Statuses: []news.DeliveryStatus{"bogus"}},
			"unknown status with ids":  {IDs: []string{dead1.ID}, Statuses: []news.DeliveryStatus{"bogus"}},
			"dead and delivered by st": {Statuses: []news.DeliveryStatus{news.DeliveryDead, news.DeliveryDelivered}},
		} {
			if n, err := st.RetryDeliveries(ctx, f, now); err == nil {
				t.Errorf("%s: accepted (%d)", name, n)
			}
		}
		mustPending(t, st, 2) // the refused calls changed nothing

		// By status and webhook: w1's dead row only.
		if n := retry(RetryFilter{Statuses: []news.DeliveryStatus{news.DeliveryDead}, WebhookID: "w1"}, now); n != 1 {
			t.Fatalf("dead of w1: %d, want 1", n)
		}
		replayed := dead1
		replayed.Attempts, replayed.NextAttempt, replayed.LastError = 0, now, "was dead"
		if got := deliveryByID(t, st, dead1.ID); !reflect.DeepEqual(got, replayed) {
			t.Fatalf("replayed row:\n got %+v\nwant %+v", got, replayed)
		}
		mustPending(t, st, 3)
		// It is the head of w1's ordered queue again, due now.
		if a, ok, err := st.ClaimNext(ctx, "w1", true, now, time.Minute); err != nil || !ok || a.Delivery.ID != dead1.ID {
			t.Fatalf("ordered claim after replay = %s, %v, %v", a.Delivery.ID, ok, err)
		}
		if err := st.MarkDelivered(ctx, dead1.ID, 1, now); err != nil {
			t.Fatal(err)
		}

		// By since: failed and dead rows created at or after 1s, whatever
		// the webhook; delivered (dead1 now, delivered1) are never swept up.
		if n := retry(RetryFilter{Since: at(time.Second)}, now); n != 2 {
			t.Fatalf("since 1s: %d, want 2 (failed1, failed2)", n)
		}
		for _, d := range []news.Delivery{failed1, failed2} {
			if got := deliveryByID(t, st, d.ID); got.Status != news.DeliveryPending || got.Attempts != 0 || !got.NextAttempt.Equal(now) {
				t.Fatalf("%s after replay = %+v", d.ItemID, got)
			}
		}
		if got := deliveryByID(t, st, dead2.ID); got.Status != news.DeliveryDead {
			t.Fatalf("dead2 (created before since) = %+v", got)
		}
		if got := deliveryByID(t, st, delivered1.ID); got.Status != news.DeliveryDelivered {
			t.Fatalf("a delivered row was replayed by since: %+v", got)
		}
		// Default statuses without since: failed and dead, all webhooks.
		if n := retry(RetryFilter{Statuses: []news.DeliveryStatus{news.DeliveryFailed, news.DeliveryDead}}, now); n != 1 {
			t.Fatalf("failed+dead: %d, want 1 (dead2)", n)
		}
		if n := retry(RetryFilter{Statuses: []news.DeliveryStatus{news.DeliveryDead}}, now); n != 0 {
			t.Fatalf("dead again: %d, want 0", n)
		}

		// By id: a delivered row is resent, with its id (webhook-id) kept.
		if n := retry(RetryFilter{IDs: []string{delivered1.ID}, Statuses: []news.DeliveryStatus{news.DeliveryDead}}, now); n != 0 {
			t.Fatalf("delivered row replayed as dead: %d", n)
		}
		if n := retry(RetryFilter{IDs: []string{delivered1.ID}, WebhookID: "w2"}, now); n != 0 {
			t.Fatalf("w1 row replayed for w2: %d", n)
		}
		if n := retry(RetryFilter{IDs: []string{delivered1.ID}, Since: at(3 * time.Second)}, now); n != 0 {
			t.Fatalf("row created before since replayed: %d", n)
		}
		if n := retry(RetryFilter{IDs: []string{delivered1.ID, delivered1.ID, "msg_unknown"}}, now.Add(time.Second)); n != 1 {
			t.Fatalf("delivered by id: %d, want 1", n)
		}
		resent := delivered1
		resent.Attempts, resent.NextAttempt, resent.LastError = 0, now.Add(time.Second), "was delivered"
		if got := deliveryByID(t, st, delivered1.ID); !reflect.DeepEqual(got, resent) {
			t.Fatalf("resent row:\n got %+v\nwant %+v", got, resent)
		}
		// A pending row named by id is made due now; a leased one (in
		// flight) is left alone.
		if n := retry(RetryFilter{IDs: []string{pending1.ID, leased1.ID}}, now); n != 1 {
			t.Fatalf("pending by id: %d, want 1 (the leased row is in flight)", n)
		}
		if got := deliveryByID(t, st, pending1.ID); got.Attempts != 0 || !got.NextAttempt.Equal(now) || got.LastError != "HTTP 502" {
			t.Fatalf("pending row after replay = %+v", got)
		}
		// Due now on w1: failed1 and pending1 (delivered1 is due a second
		// later, leased1 is in flight).
		var claimed []string
		for {
			a, ok, err := st.ClaimNext(ctx, "w1", false, now, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			claimed = append(claimed, a.Delivery.ID)
		}
		if want := []string{failed1.ID, pending1.ID}; !slices.Equal(claimed, want) {
			t.Fatalf("claimable after replays = %v, want %v", claimed, want)
		}
		// Once its lease has expired, the leased row can be replayed too.
		if n := retry(RetryFilter{IDs: []string{leased1.ID}}, now.Add(time.Hour)); n != 1 {
			t.Fatalf("expired lease by id: %d, want 1", n)
		}
		mustPending(t, st, 6) // everything but dead1, delivered again

		// More ids than one IN list holds, in one transaction.
		if err := st.MarkFinal(ctx, failed2.ID, news.DeliveryDead, 1, "x", now); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkFinal(ctx, dead2.ID, news.DeliveryDead, 1, "x", now); err != nil {
			t.Fatal(err)
		}
		many := make([]string, 1200)
		for i := range many {
			many[i] = fmt.Sprintf("msg_%d", i)
		}
		many[3], many[1100] = failed2.ID, dead2.ID
		if n := retry(RetryFilter{IDs: many}, now); n != 2 {
			t.Fatalf("1200 ids: %d, want 2", n)
		}
		mustPending(t, st, 6)
	})

	t.Run("DeliveriesFilterSinceTopic", func(t *testing.T) {
		st := b.open(t)
		a, c := testItem("s1", "a", at(0)), testItem("s1", "c", at(0))
		var matches []news.Match
		var ds []news.Delivery
		for i, m := range []news.Match{testMatch("t1", a, at(0), false), testMatch("t2", a, at(0), false),
			testMatch("t1", c, at(0), false), testMatch("t2", c, at(0), false)} {
			matches = append(matches, m)
			for _, w := range []string{"w1", "w2"} {
				ds = append(ds, testDelivery(w, m, at(time.Duration(i/2)*time.Second)))
			}
		}
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a, c}, Matches: matches, Deliveries: ds})
		if err := st.MarkFinal(ctx, ds[6].ID, news.DeliveryDead, 1, "x", at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// newest first: by created_at, then id, both descending.
		want := func(keep func(news.Delivery) bool) []string {
			var sel []news.Delivery
			for _, d := range ds {
				if keep(d) {
					sel = append(sel, d)
				}
			}
			slices.SortFunc(sel, func(x, y news.Delivery) int {
				if c := y.CreatedAt.Compare(x.CreatedAt); c != 0 {
					return c
				}
				if x.ID > y.ID {
					return -1
				}
				return 1
			})
			return deliveryIDs(sel)
		}
		for name, c := range map[string]struct {
			f    DeliveryFilter
			keep func(news.Delivery) bool
		}{
			"all":            {DeliveryFilter{}, func(news.Delivery) bool { return true }},
			"topic":          {DeliveryFilter{TopicID: "t2"}, func(d news.Delivery) bool { return d.TopicID == "t2" }},
			"since":          {DeliveryFilter{Since: at(time.Second)}, func(d news.Delivery) bool { return !d.CreatedAt.Before(at(time.Second)) }},
			"since exact ms": {DeliveryFilter{Since: at(time.Second + time.Millisecond)}, func(d news.Delivery) bool { return false }},
			"topic webhook": {DeliveryFilter{TopicID: "t1", WebhookID: "w2"}, func(d news.Delivery) bool {
				return d.TopicID == "t1" && d.WebhookID == "w2"
			}},
			"topic since status": {DeliveryFilter{TopicID: "t2", Since: at(time.Second), Status: news.DeliveryPending}, func(d news.Delivery) bool {
				return d.TopicID == "t2" && !d.CreatedAt.Before(at(time.Second)) && d.ID != ds[6].ID
			}},
			"unknown topic": {DeliveryFilter{TopicID: "t9"}, func(news.Delivery) bool { return false }},
		} {
			got, err := st.Deliveries(ctx, c.f)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if w := want(c.keep); !slices.Equal(deliveryIDs(got), w) {
				t.Errorf("%s:\n got %v\nwant %v", name, deliveryIDs(got), w)
			}
		}
		got, err := st.Deliveries(ctx, DeliveryFilter{Since: at(0), Limit: 3})
		if err != nil || !slices.Equal(deliveryIDs(got), want(func(news.Delivery) bool { return true })[:3]) {
			t.Fatalf("since with limit = %v, %v", deliveryIDs(got), err)
		}
	})
}
