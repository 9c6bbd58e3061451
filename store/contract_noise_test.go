package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

// noiseStore is what noise control needs of a backend, beyond the outbox.
type noiseStore interface {
	contractStore
	AdmitDelivery(ctx context.Context, deliveryID string, now time.Time, limit int, per time.Duration) (bool, error)
	HoldDelivery(ctx context.Context, deliveryID, reason string, now time.Time) error
	Held(ctx context.Context, webhookID string) (int, time.Time, error)
	CreateDigest(ctx context.Context, webhookID string, now time.Time) (news.Delivery, bool, error)
}

var _ noiseStore = (*SQLite)(nil)

func testNoiseContract(t *testing.T, b backend) {
	ctx := context.Background()
	lease := time.Minute

	claim := func(t *testing.T, st noiseStore, webhook string, now time.Time) news.Alert {
		t.Helper()
		a, ok, err := st.ClaimNext(ctx, webhook, true, now, lease)
		if err != nil || !ok {
			t.Fatalf("ClaimNext(%s) = ok %v, err %v", webhook, ok, err)
		}
		return a
	}

	t.Run("RateLimitAdmitsThenHolds", func(t *testing.T) {
		st := b.open(t).(noiseStore)
		ds, _ := outbox(t, st, queued{"w1", "a", 0}, queued{"w1", "b", time.Second},
			queued{"w1", "c", 2 * time.Second}, queued{"w2", "d", 0})
		now := at(time.Hour)
		// Two per ten minutes: a and b pass, c is held.
		for i, want := range []bool{true, true, false} {
			a := claim(t, st, "w1", now.Add(time.Duration(i)*time.Second))
			if a.Delivery.ID != ds[i].ID {
				t.Fatalf("claim %d = %s, want %s", i, a.Delivery.ID, ds[i].ID)
			}
			ok, err := st.AdmitDelivery(ctx, a.Delivery.ID, now.Add(time.Duration(i)*time.Second), 2, 10*time.Minute)
			if err != nil || ok != want {
				t.Fatalf("AdmitDelivery(%d) = %v, %v; want %v", i, ok, err, want)
			}
			if ok {
				if err := st.MarkDelivered(ctx, a.Delivery.ID, 1, now); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Admitting again (a crash between admission and delivery) passes
		// without counting twice; the other webhook has its own window.
		if ok, err := st.AdmitDelivery(ctx, ds[3].ID, now, 2, 10*time.Minute); err != nil || !ok {
			t.Fatalf("other webhook: %v, %v", ok, err)
		}
		if ok, err := st.AdmitDelivery(ctx, ds[3].ID, now, 1, 10*time.Minute); err != nil || !ok {
			t.Fatalf("re-admission: %v, %v", ok, err)
		}
		c := deliveryByID(t, st, ds[2].ID)
		if c.Status != news.DeliveryHeld || c.HoldReason != news.HoldRateLimit || !c.HeldAt.Equal(now.Add(2*time.Second)) {
			t.Fatalf("held row = %+v", c)
		}
		// Held rows leave the queue: nothing more to claim.
		if _, ok, _ := st.ClaimNext(ctx, "w1", true, now.Add(time.Hour), lease); ok {
			t.Fatal("claimed a held delivery")
		}
		if n, _ := st.PendingDeliveries(ctx, "w1"); n != 0 {
			t.Fatalf("pending = %d, want 0", n)
		}
		// What is held is summarised for the next digest.
		if n, oldest, err := st.Held(ctx, "w1"); err != nil || n != 1 || !oldest.Equal(now.Add(2*time.Second)) {
			t.Fatalf("Held = %d, %v, %v", n, oldest, err)
		}
	})

	t.Run("DigestTakesHeldRowsOnce", func(t *testing.T) {
		st := b.open(t).(noiseStore)
		ds, alerts := outbox(t, st, queued{"w1", "a", 0}, queued{"w1", "b", time.Second},
			queued{"w1", "c", 2 * time.Second}, queued{"w2", "d", 0})
		now := at(time.Hour)
		if _, ok, err := st.CreateDigest(ctx, "w1", now); err != nil || ok {
			t.Fatalf("digest of nothing: ok %v, err %v", ok, err)
		}
		reasons := []string{news.HoldQuietHours, news.HoldRateLimit, news.HoldQuietHours}
		for i := range 3 {
			a := claim(t, st, "w1", now)
			if err := st.HoldDelivery(ctx, a.Delivery.ID, reasons[i], now.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.HoldDelivery(ctx, ds[0].ID, news.HoldDigest, now); err == nil || !strings.Contains(err.Error(), "held, not pending") {
			t.Fatalf("holding a held row: %v", err)
		}
		d, ok, err := st.CreateDigest(ctx, "w1", now.Add(time.Hour))
		if err != nil || !ok {
			t.Fatalf("CreateDigest: ok %v, err %v", ok, err)
		}
		if d.EventType != news.EventDigest || d.Status != news.DeliveryPending || d.HoldReason != "quiet_hours,rate_limit" ||
			d.TopicID != "" || d.ItemID != "" || !d.CreatedAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("digest = %+v", d)
		}
		if got := deliveryByID(t, st, d.ID); got.EventType != news.EventDigest || got.Status != news.DeliveryPending {
			t.Fatalf("stored digest = %+v", got)
		}
		// The members are digested, nothing is held, and a second digest
		// has nothing to take.
		for _, m := range ds[:3] {
			if got := deliveryByID(t, st, m.ID); got.Status != news.DeliveryDigested || got.DigestID != d.ID {
				t.Fatalf("member %s = %s in %q", m.ID, got.Status, got.DigestID)
			}
		}
		if _, ok, err := st.CreateDigest(ctx, "w1", now.Add(2*time.Hour)); err != nil || ok {
			t.Fatalf("second digest: ok %v, err %v", ok, err)
		}
		// The digest is claimed like any delivery, with its members' entries
		// in the order they were held.
		got := claim(t, st, "w1", now.Add(time.Hour))
		if got.Delivery.ID != d.ID || len(got.Digest) != 3 {
			t.Fatalf("claimed %s with %d members, want %s with 3", got.Delivery.ID, len(got.Digest), d.ID)
		}
		for i, m := range got.Digest {
			want := alerts[i]
			if m.Delivery.ID != want.Delivery.ID || !reflect.DeepEqual(m.Entry, want.Entry) || m.Topic.ID != "t1" ||
				m.Delivery.HoldReason != reasons[i] {
				t.Fatalf("member %d:\n got %+v\nwant %+v", i, m, want)
			}
		}
		if err := st.MarkDelivered(ctx, d.ID, 1, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// Survives a restart: the digest and its members stay as they are.
		st = b.reopen(t, st).(noiseStore)
		if got := deliveryByID(t, st, ds[1].ID); got.DigestID != d.ID {
			t.Fatalf("after reopen member = %+v", got)
		}
		if dead, err := st.Deliveries(ctx, DeliveryFilter{Status: news.DeliveryDigested}); err != nil || len(dead) != 3 {
			t.Fatalf("digested filter = %d rows, %v", len(dead), err)
		}
	})

	t.Run("DigestIsCapped", func(t *testing.T) {
		st := b.open(t).(noiseStore)
		qs := make([]queued, MaxDigest+5)
		for i := range qs {
			qs[i] = queued{"w1", "k" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String(), time.Duration(i) * time.Millisecond}
		}
		ds, _ := outbox(t, st, qs...)
		now := at(time.Hour)
		for range ds {
			a := claim(t, st, "w1", now)
			if err := st.HoldDelivery(ctx, a.Delivery.ID, news.HoldDigest, now); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok, err := st.CreateDigest(ctx, "w1", now); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if n, _, _ := st.Held(ctx, "w1"); n != 5 {
			t.Fatalf("left held = %d, want 5", n)
		}
		if _, ok, err := st.CreateDigest(ctx, "w1", now); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if n, _, _ := st.Held(ctx, "w1"); n != 0 {
			t.Fatalf("left held = %d, want 0", n)
		}
	})
}
