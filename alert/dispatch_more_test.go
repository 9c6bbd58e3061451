package alert

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wirewatch/news"
)

// logBuffer collects a dispatcher's log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func loggedOptions() (Options, *logBuffer) {
	lb := &logBuffer{}
	opts := testOptions()
	opts.Logger = slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return opts, lb
}

func TestGoneDisablesWebhook(t *testing.T) {
	var gone atomic.Bool
	gone.Store(true)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if gone.Load() {
			w.WriteHeader(http.StatusGone)
			io.WriteString(w, "channel deleted")
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	q := &memQueue{}
	for _, id := range []string{"msg_1", "msg_2", "msg_3"} {
		q.add(testAlert(id, "hook"))
	}
	q.add(testAlert("msg_other", "other"))
	other := newReceiver(t, statuses(200))
	opts, logs := loggedOptions()
	d := NewDispatcher(q, []news.Webhook{testWebhook("hook", rc.URL), testWebhook("other", other.URL)}, testTopics, opts)
	run(t, d)

	row := waitStatus(t, q, "msg_1", news.DeliveryFailed)
	if row.attempts != 1 || !strings.Contains(row.lastErr, "410") {
		t.Errorf("410'd row = %+v, want failed after one attempt", row)
	}
	waitFor(t, "the webhook to be disabled", 5*time.Second, func() bool { return len(q.disabled()) > 0 })
	ds := q.disabled()
	if len(ds) != 1 || ds[0].webhookID != "hook" || !strings.Contains(ds[0].reason, "410 Gone") || ds[0].at.IsZero() {
		t.Errorf("disables = %+v, want one for hook saying 410 Gone", ds)
	}
	want := "webhook hook disabled: receiver answered 410 Gone; re-enable with `wirewatch webhooks enable hook`"
	waitFor(t, "the ERROR log line", 5*time.Second, func() bool { return strings.Contains(logs.String(), want) })
	if !strings.Contains(logs.String(), "level=ERROR msg=\""+want) {
		t.Errorf("the disable is not logged at ERROR:\n%s", logs.String())
	}

	// Disabled: nothing more is sent (the queue is kept), however often
	// the workers poll or are woken; other webhooks go on.
	waitStatus(t, q, "msg_other", news.DeliveryDelivered)
	for range 5 {
		d.Notify()
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver saw %d requests while disabled, want 1", n)
	}
	for _, id := range []string{"msg_2", "msg_3"} {
		if r := q.row(id); r.status != news.DeliveryPending || r.attempts != 0 {
			t.Errorf("%s = %s after %d attempts, want pending and untouched", id, r.status, r.attempts)
		}
	}

	// An operator enables it again (from another process): the next state
	// read, one poll interval later, resumes delivery in order.
	gone.Store(false)
	q.enable("hook")
	waitStatus(t, q, "msg_3", news.DeliveryDelivered)
	var got []string
	for _, r := range rc.requests() {
		got = append(got, r.header.Get("webhook-id"))
	}
	if strings.Join(got, " ") != "msg_1 msg_2 msg_3" {
		t.Errorf("arrivals = %v", got)
	}
	if !strings.Contains(logs.String(), "webhook enabled again") {
		t.Error("re-enabling is not logged")
	}
}

func TestDisabledWebhookClaimsNothing(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	q := &memQueue{states: map[string]news.WebhookState{
		"hook": {WebhookID: "hook", DisabledAt: time.Now(), DisabledReason: "receiver answered 410 Gone"},
	}}
	q.add(testAlert("msg_1", "hook"))
	opts, logs := loggedOptions()
	d := NewDispatcher(q, []news.Webhook{testWebhook("hook", rc.URL)}, testTopics, opts)
	run(t, d)
	waitFor(t, "the state read", 5*time.Second, func() bool { _, reads := q.counts(); return reads > 0 })
	for range 5 {
		d.Notify()
		time.Sleep(10 * time.Millisecond)
	}
	if claims, _ := q.counts(); claims != 0 || len(rc.requests()) != 0 {
		t.Errorf("claims = %d, requests = %d; a disabled webhook must claim nothing", claims, len(rc.requests()))
	}
	if !strings.Contains(logs.String(), "webhook hook is disabled") || !strings.Contains(logs.String(), "410 Gone") {
		t.Errorf("the disabled state is not logged with its reason:\n%s", logs.String())
	}
}

// TestWebhookStateReadIsCheap: the state is read once per poll interval,
// not once per delivery.
func TestWebhookStateReadIsCheap(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	q := &memQueue{}
	for i := range 30 {
		q.add(testAlert(fmt.Sprintf("msg_%02d", i), "hook"))
	}
	opts := testOptions()
	opts.PollInterval = time.Hour
	d := NewDispatcher(q, []news.Webhook{testWebhook("hook", rc.URL)}, testTopics, opts)
	run(t, d)
	waitStatus(t, q, "msg_29", news.DeliveryDelivered)
	if _, reads := q.counts(); reads != 1 {
		t.Errorf("%d state reads for 30 deliveries within one poll interval, want 1", reads)
	}
}

// inflight is a receiver that holds each request for hold and records the
// most requests it had at once.
type inflight struct {
	cur, peak atomic.Int64
}

func (f *inflight) respond(hold time.Duration) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		n := f.cur.Add(1)
		for {
			p := f.peak.Load()
			if n <= p || f.peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(hold)
		f.cur.Add(-1)
		w.WriteHeader(http.StatusOK)
	}
}

func TestConcurrencyPerWebhook(t *testing.T) {
	for _, tc := range []struct {
		name        string
		unordered   bool
		concurrency int
		want        int
	}{
		{"ordered ignores concurrency", false, 8, 1},
		{"unordered default", true, 0, DefaultConcurrency},
		{"unordered 3", true, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f inflight
			rc := newReceiver(t, f.respond(30*time.Millisecond))
			q := &memQueue{}
			for i := range 12 {
				q.add(testAlert(fmt.Sprintf("msg_%02d", i), "hook"))
			}
			w := testWebhook("hook", rc.URL)
			w.Unordered, w.Concurrency = tc.unordered, tc.concurrency
			d := NewDispatcher(q, []news.Webhook{w}, testTopics, testOptions())
			if n := d.hooks[0].workers; n != tc.want {
				t.Errorf("%d workers, want %d", n, tc.want)
			}
			run(t, d)
			waitFor(t, "all delivered", 10*time.Second, func() bool {
				for i := range 12 {
					if q.row(fmt.Sprintf("msg_%02d", i)).status != news.DeliveryDelivered {
						return false
					}
				}
				return true
			})
			if p := f.peak.Load(); p != int64(tc.want) {
				t.Errorf("peak requests in flight = %d, want %d", p, tc.want)
			}
			q.mu.Lock()
			unordered := q.sawUnordered
			q.mu.Unlock()
			if unordered != tc.unordered {
				t.Errorf("claimed with ordered=%v, want %v", !unordered, !tc.unordered)
			}
		})
	}
}

func TestUnorderedOvertakesARetry(t *testing.T) {
	var first atomic.Bool
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("webhook-id") == "msg_1" && first.CompareAndSwap(false, true) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	q := &memQueue{}
	for _, id := range []string{"msg_1", "msg_2", "msg_3"} {
		q.add(testAlert(id, "hook"))
	}
	w := testWebhook("hook", rc.URL)
	w.Unordered, w.Concurrency = true, 1 // one worker: the order of arrival is the claim order
	w.Retry = []time.Duration{300 * time.Millisecond}
	d := NewDispatcher(q, []news.Webhook{w}, testTopics, testOptions())
	run(t, d)
	waitStatus(t, q, "msg_1", news.DeliveryDelivered)
	var got []string
	for _, r := range rc.requests() {
		got = append(got, r.header.Get("webhook-id"))
	}
	if strings.Join(got, " ") != "msg_1 msg_2 msg_3 msg_1" {
		t.Errorf("arrivals = %v: later alerts should not wait for msg_1's retry", got)
	}
}

// TestHostileReceivers runs the dispatcher against receivers that misbehave
// on the first attempt (and answer 200 after), through the real HTTP stack.
func TestHostileReceivers(t *testing.T) {
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	flood := func(w http.ResponseWriter, code int) int64 {
		w.WriteHeader(code)
		var n int64
		for n < 10<<20 {
			m, err := w.Write(chunk)
			n += int64(m)
			if err != nil {
				break
			}
		}
		return n
	}
	for _, tc := range []struct {
		name     string
		hostile  func(w http.ResponseWriter, r *http.Request)
		status   news.DeliveryStatus
		attempts int
		errWant  string // in the first attempt's error
		logWant  string
	}{
		{"hang", func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, news.DeliveryDelivered, 2, "deadline exceeded", "will be retried"},
		{"huge 2xx body", func(w http.ResponseWriter, _ *http.Request) { flood(w, http.StatusOK) },
			news.DeliveryDelivered, 1, "", "webhook delivered"},
		{"huge 5xx body", func(w http.ResponseWriter, _ *http.Request) { flood(w, http.StatusBadGateway) },
			news.DeliveryDelivered, 2, "502", "will be retried"},
		{"2xx body that never ends", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			for r.Context().Err() == nil {
				w.Write([]byte("."))
				w.(http.Flusher).Flush()
				time.Sleep(5 * time.Millisecond)
			}
		}, news.DeliveryDelivered, 1, "", "webhook delivered"},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
		}, news.DeliveryFailed, 1, "302", "failed permanently"},
		{"connection reset", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(err)
			}
			if tcp, ok := conn.(*net.TCPConn); ok {
				tcp.SetLinger(0) // RST, not FIN
			}
			conn.Close()
		}, news.DeliveryDelivered, 2, "post:", "will be retried"},
		{"200 with garbage", func(w http.ResponseWriter, _ *http.Request) {
			garbage := make([]byte, 4096)
			rand.Read(garbage)
			w.Header().Set("Content-Type", "application/x-garbage")
			w.WriteHeader(http.StatusOK)
			w.Write(garbage)
		}, news.DeliveryDelivered, 1, "", "webhook delivered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 || tc.status != news.DeliveryDelivered {
					tc.hostile(w, r)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			q := &memQueue{}
			q.add(testAlert("msg_hostile", "hook"))
			w := testWebhook("hook", rc.URL)
			w.Timeout = 300 * time.Millisecond
			opts, logs := loggedOptions()
			d := NewDispatcher(q, []news.Webhook{w}, testTopics, opts)
			start := time.Now()
			run(t, d)
			row := waitStatus(t, q, "msg_hostile", tc.status)
			if row.attempts != tc.attempts {
				t.Errorf("attempts = %d, want %d (last error %q)", row.attempts, tc.attempts, row.lastErr)
			}
			if tc.errWant != "" {
				first := row.lastErr
				if len(row.retries) > 0 {
					first = row.retries[0].lastErr
				}
				if !strings.Contains(first, tc.errWant) {
					t.Errorf("first error = %q, want %q in it", first, tc.errWant)
				}
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v: a hostile receiver held the worker too long", time.Since(start))
			}
			if tc.status == news.DeliveryFailed {
				time.Sleep(30 * time.Millisecond)
				if n := len(rc.requests()); n != 1 {
					t.Errorf("receiver saw %d requests, want 1 (not followed, not retried)", n)
				}
			}
			waitFor(t, "the log line", 2*time.Second, func() bool { return strings.Contains(logs.String(), tc.logWant) })
		})
	}
}

// TestMemoryBoundedAgainstHugeBodies delivers 200 alerts to a receiver
// answering each with 10 MiB: what is read, and kept, stays small.
func TestMemoryBoundedAgainstHugeBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 200 deliveries")
	}
	chunk := bytes.Repeat([]byte("y"), 64<<10)
	var served atomic.Int64
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		for i := 0; i < 160; i++ { // 10 MiB
			m, err := w.Write(chunk)
			served.Add(int64(m))
			if err != nil {
				return
			}
		}
	})
	const n = 200
	q := &memQueue{}
	for i := range n {
		q.add(testAlert(fmt.Sprintf("msg_%03d", i), "hook"))
	}
	w := testWebhook("hook", rc.URL)
	w.Unordered, w.Concurrency = true, 4

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d := NewDispatcher(q, []news.Webhook{w}, testTopics, testOptions())
	cancel, done := run(t, d)
	waitFor(t, "200 deliveries", 60*time.Second, func() bool {
		for i := range n {
			if q.row(fmt.Sprintf("msg_%03d", i)).status != news.DeliveryDelivered {
				return false
			}
		}
		return true
	})
	cancel()
	<-done
	runtime.GC()
	runtime.ReadMemStats(&after)

	perDelivery := (after.TotalAlloc - before.TotalAlloc) / n
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("allocated %d KiB per delivery, %d KiB retained, receiver wrote %d MiB in all",
		perDelivery>>10, retained>>10, served.Load()>>20)
	if perDelivery > 1<<20 {
		t.Errorf("allocated %d KiB per delivery: the 10 MiB bodies are being read", perDelivery>>10)
	}
	if retained > 16<<20 {
		t.Errorf("heap grew by %d MiB over 200 deliveries", retained>>20)
	}
	if served.Load() >= n*(10<<20) {
		t.Error("every body was sent in full: the client read them")
	}
}

// TestNotifyWakesOnlyWhatIsNeeded: one new row for a webhook with eight
// workers costs a few claims, not one per worker: each empty claim is a
// write transaction in the store.
func TestNotifyWakesOnlyWhatIsNeeded(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	q := &memQueue{}
	w := testWebhook("hook", rc.URL)
	w.Unordered, w.Concurrency = true, 8
	opts := testOptions()
	opts.PollInterval = time.Hour // only Notify wakes anyone
	d := NewDispatcher(q, []news.Webhook{w}, testTopics, opts)
	run(t, d)
	waitFor(t, "all eight workers idle", 5*time.Second, func() bool { return d.hooks[0].idle.Load() == 8 })
	before, _ := q.counts()

	q.add(testAlert("msg_one", "hook"))
	d.Notify()
	waitStatus(t, q, "msg_one", news.DeliveryDelivered)
	waitFor(t, "the workers to settle", 5*time.Second, func() bool { return d.hooks[0].idle.Load() == 8 })
	if after, _ := q.counts(); after-before > 3 {
		t.Errorf("%d claims for one row, want at most 3", after-before)
	}

	// A burst still gets every worker going.
	var f inflight
	rc2 := newReceiver(t, f.respond(20*time.Millisecond))
	w2 := testWebhook("burst", rc2.URL)
	w2.Unordered, w2.Concurrency = true, 8
	d2 := NewDispatcher(q, []news.Webhook{w2}, testTopics, opts)
	run(t, d2)
	waitFor(t, "all eight workers idle", 5*time.Second, func() bool { return d2.hooks[0].idle.Load() == 8 })
	for i := range 16 {
		q.add(testAlert(fmt.Sprintf("msg_b%02d", i), "burst"))
	}
	d2.Notify()
	waitStatus(t, q, "msg_b15", news.DeliveryDelivered)
	if p := f.peak.Load(); p != 8 {
		t.Errorf("peak in flight = %d for a burst of 16, want 8", p)
	}
}
