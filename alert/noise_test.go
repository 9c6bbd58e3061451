package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

// The memQueue's noise control mirrors the store's (whose contract suite
// tests the real thing): admissions counted in a sliding window, held rows
// out of the queue, digests made of the held rows oldest first.

func (q *memQueue) AdmitDelivery(_ context.Context, id string, now time.Time, limit int, per time.Duration) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := q.find(id)
	if r == nil || r.status != news.DeliveryPending {
		return false, news.ErrNotFound
	}
	if !r.admitted.IsZero() {
		return true, nil
	}
	if limit > 0 {
		n := 0
		for _, o := range q.rows {
			if o != r && o.alert.Delivery.WebhookID == r.alert.Delivery.WebhookID && !o.admitted.IsZero() && o.admitted.After(now.Add(-per)) {
				n++
			}
		}
		if n >= limit {
			r.status, r.heldAt, r.reason, r.lease = news.DeliveryHeld, now, news.HoldRateLimit, time.Time{}
			return false, nil
		}
	}
	r.admitted = now
	return true, nil
}

func (q *memQueue) HoldDelivery(_ context.Context, id, reason string, now time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := q.find(id)
	if r == nil || r.status != news.DeliveryPending {
		return news.ErrNotFound
	}
	r.status, r.heldAt, r.reason, r.lease = news.DeliveryHeld, now, reason, time.Time{}
	return nil
}

func (q *memQueue) Held(_ context.Context, webhookID string) (int, time.Time, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n, oldest := 0, time.Time{}
	for _, r := range q.rows {
		if r.alert.Delivery.WebhookID == webhookID && r.status == news.DeliveryHeld {
			n++
			if oldest.IsZero() || r.heldAt.Before(oldest) {
				oldest = r.heldAt
			}
		}
	}
	return n, oldest, nil
}

func (q *memQueue) CreateDigest(_ context.Context, webhookID string, now time.Time) (news.Delivery, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var members []news.Alert
	var reasons []string
	for _, r := range q.rows {
		if r.alert.Delivery.WebhookID == webhookID && r.status == news.DeliveryHeld {
			m := r.alert
			m.Delivery.Status, m.Delivery.HeldAt, m.Delivery.HoldReason = news.DeliveryDigested, r.heldAt, r.reason
			members = append(members, m)
			if !slices.Contains(reasons, r.reason) {
				reasons = append(reasons, r.reason)
			}
		}
	}
	if len(members) == 0 {
		return news.Delivery{}, false, nil
	}
	d := news.Delivery{ID: "digest_" + members[0].Delivery.ID, WebhookID: webhookID, EventType: news.EventDigest,
		Status: news.DeliveryPending, CreatedAt: now, HoldReason: strings.Join(reasons, ",")}
	for _, m := range members {
		q.find(m.Delivery.ID).status = news.DeliveryDigested
		q.find(m.Delivery.ID).digestID = d.ID
	}
	q.rows = append(q.rows, &memRow{alert: news.Alert{Delivery: d, Digest: members}, status: news.DeliveryPending})
	return d, true, nil
}

// testClock is a settable clock for the dispatcher.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// noiseAlert is an alert of the topic with the score, made at created.
func noiseAlert(id, webhookID, topic string, score float64) news.Alert {
	a := testAlert(id, webhookID)
	a.Topic.ID, a.Delivery.TopicID, a.Entry.Match.TopicID = topic, topic, topic
	a.Entry.Match.Score = score
	return a
}

// receivedBodies decodes what the receiver got (signatures are not checked
// here: they are dated by the test clock): each body's type, and for digests
// the ids of the alerts inside.
type received struct {
	typ    string
	id     string
	digest []string
}

func receivedBodies(t *testing.T, rc *receiver) []received {
	t.Helper()
	var out []received
	for _, r := range rc.requests() {
		var v struct {
			Type   string `json:"type"`
			ID     string `json:"id"`
			Digest struct {
				Count  int `json:"count"`
				Alerts []struct {
					ID string `json:"id"`
				} `json:"alerts"`
			} `json:"digest"`
		}
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Fatalf("body %q: %v", r.body, err)
		}
		got := received{typ: v.Type, id: v.ID}
		for _, a := range v.Digest.Alerts {
			got.digest = append(got.digest, a.ID)
		}
		if v.Type == news.EventDigest && v.Digest.Count != len(got.digest) {
			t.Errorf("digest count %d, %d alerts", v.Digest.Count, len(got.digest))
		}
		out = append(out, got)
	}
	return out
}

func TestRateLimitOverflowGoesIntoOneDigest(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	q := &memQueue{}
	for i := range 6 {
		q.add(noiseAlert(fmt.Sprintf("msg_%d", i), "hook", "xinjiang", 1))
	}
	clk := &testClock{t: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}
	w := testWebhook("hook", rc.URL)
	w.Noise = news.Noise{RateCount: 2, RatePer: 10 * time.Minute}
	opts := testOptions()
	opts.Now = clk.now
	run(t, NewDispatcher(q, []news.Webhook{w}, testTopics, opts))

	waitFor(t, "two alerts and four held", 10*time.Second, func() bool {
		n, _, _ := q.Held(context.Background(), "hook")
		return len(rc.requests()) == 2 && n == 4
	})
	// Nothing more within the window, however long the workers poll.
	time.Sleep(50 * time.Millisecond)
	if n := len(rc.requests()); n != 2 {
		t.Fatalf("%d requests inside the window, want 2", n)
	}
	clk.set(clk.now().Add(10*time.Minute + time.Second))
	waitFor(t, "the digest", 10*time.Second, func() bool { return len(rc.requests()) == 3 })
	got := receivedBodies(t, rc)
	if got[0].id != "msg_0" || got[1].id != "msg_1" || got[2].typ != news.EventDigest ||
		!slices.Equal(got[2].digest, []string{"msg_2", "msg_3", "msg_4", "msg_5"}) {
		t.Fatalf("received %+v", got)
	}
	for i := 2; i < 6; i++ {
		if r := q.row(fmt.Sprintf("msg_%d", i)); r.status != news.DeliveryDigested || r.reason != news.HoldRateLimit {
			t.Errorf("msg_%d: %s (%s)", i, r.status, r.reason)
		}
	}
}

func TestQuietHoursHoldThenCatchUpButUrgentGoesThrough(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	q := &memQueue{}
	q.add(noiseAlert("msg_night", "hook", "xinjiang", 1))
	q.add(noiseAlert("msg_urgent_topic", "hook", "breaking", 1))
	q.add(noiseAlert("msg_urgent_score", "hook", "xinjiang", 9))
	q.add(noiseAlert("msg_night2", "hook", "xinjiang", 1))
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	// 23:30 in Berlin, quiet 22:00–07:00.
	clk := &testClock{t: time.Date(2026, 3, 2, 23, 30, 0, 0, berlin)}
	w := testWebhook("hook", rc.URL)
	w.Noise = news.Noise{QuietFrom: 22 * time.Hour, QuietTo: 7 * time.Hour, Location: berlin,
		UrgentScore: 5, UrgentTopics: []string{"breaking"}}
	opts := testOptions()
	opts.Now = clk.now
	run(t, NewDispatcher(q, []news.Webhook{w}, testTopics, opts))

	waitFor(t, "the urgent alerts", 10*time.Second, func() bool { return len(rc.requests()) == 2 })
	time.Sleep(50 * time.Millisecond)
	if n, _, _ := q.Held(context.Background(), "hook"); n != 2 {
		t.Fatalf("held = %d, want 2", n)
	}
	// 06:59: still quiet. 07:00: the catch-up digest.
	clk.set(time.Date(2026, 3, 3, 6, 59, 0, 0, berlin))
	time.Sleep(50 * time.Millisecond)
	if n := len(rc.requests()); n != 2 {
		t.Fatalf("%d requests before quiet hours ended", n)
	}
	clk.set(time.Date(2026, 3, 3, 7, 0, 0, 0, berlin))
	waitFor(t, "the catch-up digest", 10*time.Second, func() bool { return len(rc.requests()) == 3 })
	got := receivedBodies(t, rc)
	if got[0].id != "msg_urgent_topic" || got[1].id != "msg_urgent_score" ||
		!slices.Equal(got[2].digest, []string{"msg_night", "msg_night2"}) {
		t.Fatalf("received %+v", got)
	}
}

func TestDigestScheduleSendsOneMessageAtEachTime(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	q := &memQueue{}
	q.add(noiseAlert("msg_a", "hook", "xinjiang", 1))
	q.add(noiseAlert("msg_b", "hook", "xinjiang", 1))
	clk := &testClock{t: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}
	w := testWebhook("hook", rc.URL)
	// Every day at 08:00 UTC (what watch.CronNext would return).
	w.Noise = news.Noise{Digest: "0 8 * * *", DigestNext: func(after time.Time) time.Time {
		d := time.Date(after.Year(), after.Month(), after.Day(), 8, 0, 0, 0, time.UTC)
		if !d.After(after) {
			d = d.AddDate(0, 0, 1)
		}
		return d
	}}
	opts := testOptions()
	opts.Now = clk.now
	run(t, NewDispatcher(q, []news.Webhook{w}, testTopics, opts))

	waitFor(t, "both held", 10*time.Second, func() bool {
		n, _, _ := q.Held(context.Background(), "hook")
		return n == 2
	})
	clk.set(time.Date(2026, 3, 3, 7, 59, 59, 0, time.UTC))
	time.Sleep(50 * time.Millisecond)
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("%d requests before the digest time", n)
	}
	clk.set(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC))
	waitFor(t, "the digest", 10*time.Second, func() bool { return len(rc.requests()) == 1 })
	// A later alert waits for the next day's digest.
	q.add(noiseAlert("msg_c", "hook", "xinjiang", 1))
	waitFor(t, "c held", 10*time.Second, func() bool { return q.row("msg_c").status == news.DeliveryHeld })
	clk.set(time.Date(2026, 3, 3, 20, 0, 0, 0, time.UTC))
	time.Sleep(50 * time.Millisecond)
	if n := len(rc.requests()); n != 1 {
		t.Fatalf("%d requests before the next digest", n)
	}
	clk.set(time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC))
	waitFor(t, "the second digest", 10*time.Second, func() bool { return len(rc.requests()) == 2 })
	got := receivedBodies(t, rc)
	if !slices.Equal(got[0].digest, []string{"msg_a", "msg_b"}) || !slices.Equal(got[1].digest, []string{"msg_c"}) {
		t.Fatalf("received %+v", got)
	}
}

func TestQuietHoursArithmetic(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	p := newNoisePolicy(news.Noise{QuietFrom: 22 * time.Hour, QuietTo: 6*time.Hour + 30*time.Minute, Location: ny})
	day := newNoisePolicy(news.Noise{QuietFrom: 12 * time.Hour, QuietTo: 13 * time.Hour})
	for _, c := range []struct {
		p     *noisePolicy
		at    time.Time
		quiet bool
		end   time.Time
	}{
		{p, time.Date(2026, 3, 2, 21, 59, 0, 0, ny), false, time.Date(2026, 3, 2, 21, 59, 0, 0, ny)},
		{p, time.Date(2026, 3, 2, 22, 0, 0, 0, ny), true, time.Date(2026, 3, 3, 6, 30, 0, 0, ny)},
		{p, time.Date(2026, 3, 3, 3, 0, 0, 0, ny), true, time.Date(2026, 3, 3, 6, 30, 0, 0, ny)},
		{p, time.Date(2026, 3, 3, 6, 30, 0, 0, ny), false, time.Date(2026, 3, 3, 6, 30, 0, 0, ny)},
		// The night clocks spring forward (8 March 2026): still 06:30 local.
		{p, time.Date(2026, 3, 7, 23, 0, 0, 0, ny), true, time.Date(2026, 3, 8, 6, 30, 0, 0, ny)},
		{day, time.Date(2026, 3, 2, 12, 30, 0, 0, time.UTC), true, time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)},
		{day, time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC), false, time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)},
	} {
		if got := c.p.quiet(c.at); got != c.quiet {
			t.Errorf("quiet(%v) = %v", c.at, got)
		}
		if got := c.p.quietEnd(c.at); !got.Equal(c.end) {
			t.Errorf("quietEnd(%v) = %v, want %v", c.at, got, c.end)
		}
	}
	if newNoisePolicy(news.Noise{QuietFrom: time.Hour, QuietTo: time.Hour}) != nil {
		t.Error("equal quiet bounds count as noise control")
	}
	// A rate-limit digest is due a window after the oldest held row, but
	// not in quiet hours.
	both := newNoisePolicy(news.Noise{RateCount: 1, RatePer: time.Hour, QuietFrom: 22 * time.Hour, QuietTo: 7 * time.Hour})
	if got, want := both.digestDue(time.Date(2026, 3, 2, 21, 30, 0, 0, time.UTC)), time.Date(2026, 3, 3, 7, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("digestDue = %v, want %v", got, want)
	}
	if got, want := both.digestDue(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)), time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("digestDue = %v, want %v", got, want)
	}
}
