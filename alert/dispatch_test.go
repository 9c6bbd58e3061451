package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"wirewatch/netguard"
	"wirewatch/news"
)

// memQueue is an in-memory outbox standing in for store's: oldest pending
// row first, per-webhook order kept when asked, leases honoured, webhook
// states recorded.
type memQueue struct {
	mu           sync.Mutex
	rows         []*memRow
	claims       int
	stateReads   int
	states       map[string]news.WebhookState
	disables     []memDisable
	sawUnordered bool // set when any claim asked for ordered=false
}

type memDisable struct {
	webhookID, reason string
	at                time.Time
}

type memRow struct {
	alert    news.Alert
	status   news.DeliveryStatus
	attempts int
	next     time.Time
	lease    time.Time
	lastErr  string
	retries  []memRetry
	at       time.Time
	// noise control
	admitted time.Time
	heldAt   time.Time
	reason   string
	digestID string
}

type memRetry struct {
	attempts int
	next     time.Time
	marked   time.Time
	lastErr  string
}

func (q *memQueue) add(a news.Alert) {
	q.mu.Lock()
	defer q.mu.Unlock()
	a.Delivery.Status = news.DeliveryPending
	q.rows = append(q.rows, &memRow{alert: a, status: news.DeliveryPending})
}

func (q *memQueue) find(id string) *memRow {
	for _, r := range q.rows {
		if r.alert.Delivery.ID == id {
			return r
		}
	}
	return nil
}

// row returns a copy of a row's state, safe to read after the lock.
func (q *memQueue) row(id string) memRow {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := q.find(id)
	if r == nil {
		return memRow{}
	}
	c := *r
	c.retries = append([]memRetry(nil), r.retries...)
	return c
}

func (q *memQueue) ClaimNext(ctx context.Context, webhookID string, ordered bool, now time.Time, lease time.Duration) (news.Alert, bool, error) {
	if err := ctx.Err(); err != nil {
		return news.Alert{}, false, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claims++
	if !ordered {
		q.sawUnordered = true
	}
	for _, r := range q.rows {
		if r.alert.Delivery.WebhookID != webhookID || r.status != news.DeliveryPending {
			continue
		}
		if r.next.After(now) || r.lease.After(now) {
			if ordered {
				return news.Alert{}, false, nil // oldest pending not due: keep order
			}
			continue
		}
		r.lease = now.Add(lease)
		a := r.alert
		a.Delivery.Attempts = r.attempts
		a.Delivery.NextAttempt = r.next
		return a, true, nil
	}
	return news.Alert{}, false, nil
}

func (q *memQueue) DisableWebhook(_ context.Context, webhookID, reason string, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.states == nil {
		q.states = map[string]news.WebhookState{}
	}
	st := q.states[webhookID]
	st.WebhookID, st.DisabledAt, st.DisabledReason = webhookID, at, reason
	q.states[webhookID] = st
	q.disables = append(q.disables, memDisable{webhookID, reason, at})
	return nil
}

// enable is what "wirewatch webhooks enable" does to the store.
func (q *memQueue) enable(webhookID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.states[webhookID]
	st.DisabledAt, st.DisabledReason = time.Time{}, ""
	q.states[webhookID] = st
}

func (q *memQueue) WebhookState(ctx context.Context, webhookID string) (news.WebhookState, error) {
	if err := ctx.Err(); err != nil {
		return news.WebhookState{}, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stateReads++
	st, ok := q.states[webhookID]
	if !ok {
		return news.WebhookState{}, news.ErrNotFound
	}
	return st, nil
}

func (q *memQueue) counts() (claims, stateReads int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.claims, q.stateReads
}

func (q *memQueue) disabled() []memDisable {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]memDisable(nil), q.disables...)
}

func (q *memQueue) MarkDelivered(_ context.Context, id string, attempts int, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := q.find(id)
	if r == nil {
		return news.ErrNotFound
	}
	r.status, r.attempts, r.at, r.lease = news.DeliveryDelivered, attempts, at, time.Time{}
	return nil
}

func (q *memQueue) MarkRetry(_ context.Context, id string, attempts int, next time.Time, lastErr string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := q.find(id)
	if r == nil {
		return news.ErrNotFound
	}
	r.attempts, r.next, r.lastErr, r.lease = attempts, next, lastErr, time.Time{}
	r.retries = append(r.retries, memRetry{attempts, next, time.Now(), lastErr})
	return nil
}

func (q *memQueue) MarkFinal(_ context.Context, id string, status news.DeliveryStatus, attempts int, lastErr string, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := q.find(id)
	if r == nil {
		return news.ErrNotFound
	}
	r.status, r.attempts, r.lastErr, r.at, r.lease = status, attempts, lastErr, at, time.Time{}
	return nil
}

func (q *memQueue) claimCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.claims
}

// request is what the receiver saw of one delivery attempt.
type request struct {
	header    http.Header
	body      []byte
	arrived   time.Time
	verifyErr error
}

// receiver is a real HTTP server that answers a scripted list of statuses
// (the last one repeats) and verifies every signature as it arrives.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []request
	respond func(n int, w http.ResponseWriter, r *http.Request) // n counts from 1
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{header: r.Header.Clone(), body: body, arrived: time.Now()}
		req.verifyErr = Verify(testSecret, r.Header, body, time.Now(), 0)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, req)
		n := len(rc.reqs)
		rc.mu.Unlock()
		rc.respond(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// statuses answers the scripted codes in order, repeating the last.
func statuses(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		code := codes[min(n, len(codes))-1]
		w.WriteHeader(code)
		fmt.Fprintf(w, "status %d for attempt %d", code, n)
	}
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

func testAlert(id, webhookID string) news.Alert {
	a := goldenAlert()
	a.Delivery.ID = id
	a.Delivery.WebhookID = webhookID
	a.Topic = news.Topic{ID: "xinjiang"} // the queue carries only the id
	return a
}

func testWebhook(id, url string) news.Webhook {
	return news.Webhook{
		ID: id, URL: url, Format: "json",
		Secrets: []string{testSecret},
		Retry:   []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond},
		Timeout: 2 * time.Second,
	}
}

var testTopics = []news.Topic{{ID: "xinjiang", Title: "Xinjiang & Uyghurs"}}

func testOptions() Options {
	return Options{
		Policy:       netguard.Policy{AllowPrivate: true},
		UserAgent:    "wirewatch-test/1",
		PollInterval: 5 * time.Millisecond,
		Jitter:       func(d time.Duration) time.Duration { return d },
	}
}

// run starts d.Run and registers a cleanup that cancels it and fails the
// test unless Run returns promptly: no worker may outlive Run.
func run(t *testing.T, d *Dispatcher) (cancel func(), done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	returned := make(chan struct{})
	go func() {
		ch <- d.Run(ctx)
		close(returned)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-returned:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return cancel, ch
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func waitStatus(t *testing.T, q *memQueue, id string, want news.DeliveryStatus) memRow {
	t.Helper()
	waitFor(t, fmt.Sprintf("delivery %s to be %s", id, want), 10*time.Second, func() bool {
		return q.row(id).status == want
	})
	return q.row(id)
}

func TestDispatcherRetriesUntilDelivered(t *testing.T) {
	rc := newReceiver(t, statuses(500, 500, 200))
	q := &memQueue{}
	q.add(testAlert("msg_retry", "hook"))
	d := NewDispatcher(q, []news.Webhook{testWebhook("hook", rc.URL)}, testTopics, testOptions())
	run(t, d)

	row := waitStatus(t, q, "msg_retry", news.DeliveryDelivered)
	if row.attempts != 3 {
		t.Errorf("attempts = %d, want 3", row.attempts)
	}
	if len(row.retries) != 2 || row.retries[0].attempts != 1 || row.retries[1].attempts != 2 {
		t.Errorf("retries = %+v, want attempts 1 and 2", row.retries)
	}
	if !strings.Contains(row.retries[0].lastErr, "500") {
		t.Errorf("lastErr = %q, want the status", row.retries[0].lastErr)
	}
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver saw %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if got := r.header.Get("webhook-id"); got != "msg_retry" {
			t.Errorf("attempt %d: webhook-id = %q", i+1, got)
		}
		if r.verifyErr != nil {
			t.Errorf("attempt %d: signature does not verify: %v", i+1, r.verifyErr)
		}
		if string(r.body) != string(reqs[0].body) {
			t.Errorf("attempt %d: body differs from attempt 1", i+1)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		if ua := r.header.Get("User-Agent"); ua != "wirewatch-test/1" {
			t.Errorf("User-Agent = %q", ua)
		}
	}
	var ev Event
	if err := json.Unmarshal(reqs[0].body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID != "msg_retry" || ev.Topic.Title != "Xinjiang & Uyghurs" {
		t.Errorf("event id %q, topic title %q: want the delivery id and the configured title", ev.ID, ev.Topic.Title)
	}
}

func TestDispatcherPermanentFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
	}{
		{"bad request", http.StatusBadRequest},
		{"gone", http.StatusGone},
		{"not found", http.StatusNotFound},
		{"redirect", http.StatusFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A redirect points back at the receiver itself, so following
			// it would show up as a second request.
			rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if tc.code/100 == 3 {
					http.Redirect(w, r, "/elsewhere", tc.code)
					return
				}
				w.WriteHeader(tc.code)
				io.WriteString(w, `{"error":"no such channel"}`)
			})
			q := &memQueue{}
			q.add(testAlert("msg_perm", "hook"))
			d := NewDispatcher(q, []news.Webhook{testWebhook("hook", rc.URL)}, testTopics, testOptions())
			run(t, d)

			row := waitStatus(t, q, "msg_perm", news.DeliveryFailed)
			if row.attempts != 1 || len(row.retries) != 0 {
				t.Errorf("attempts = %d, retries = %d; want one attempt, no retry", row.attempts, len(row.retries))
			}
			if !strings.Contains(row.lastErr, fmt.Sprint(tc.code)) {
				t.Errorf("lastErr %q lacks the status", row.lastErr)
			}
			if tc.code/100 == 4 && !strings.Contains(row.lastErr, "no such channel") {
				t.Errorf("lastErr %q lacks the response body", row.lastErr)
			}
			time.Sleep(50 * time.Millisecond) // several poll intervals
			if n := len(rc.requests()); n != 1 {
				t.Errorf("receiver saw %d requests, want 1 (redirects and 4xx are not retried)", n)
			}
		})
	}
}

func TestDispatcherRedirectNotFollowed(t *testing.T) {
	target := make(chan struct{}, 10)
	dst := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { target <- struct{}{} }))
	defer dst.Close()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, dst.URL, http.StatusTemporaryRedirect)
	})
	d := NewDispatcher(&memQueue{}, nil, testTopics, testOptions())
	o := d.Deliver(context.Background(), testWebhook("hook", rc.URL), testAlert("msg_redir", "hook"), 1)
	if o.Status != http.StatusTemporaryRedirect || o.Err == nil || o.Retryable {
		t.Errorf("outcome = %+v, want a permanent 307 failure", o)
	}
	select {
	case <-target:
		t.Error("redirect was followed")
	case <-time.After(50 * time.Millisecond):
	}
}

func TestDispatcherHonoursRetryAfter(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	q := &memQueue{}
	q.add(testAlert("msg_429", "hook"))
	d := NewDispatcher(q, []news.Webhook{testWebhook("hook", rc.URL)}, testTopics, testOptions())
	run(t, d)

	row := waitStatus(t, q, "msg_429", news.DeliveryDelivered)
	reqs := rc.requests()
	if len(reqs) != 2 || row.attempts != 2 {
		t.Fatalf("requests = %d, attempts = %d; want 2", len(reqs), row.attempts)
	}
	if gap := reqs[1].arrived.Sub(reqs[0].arrived); gap < time.Second {
		t.Errorf("second attempt came %v after the first; Retry-After asked for 1s (the 10ms schedule must not win)", gap)
	}
	if r := row.retries[0]; r.next.Sub(r.marked) < 900*time.Millisecond {
		t.Errorf("retry scheduled %v ahead, want about 1s", r.next.Sub(r.marked))
	}
}

func TestDispatcherDeadAfterRetries(t *testing.T) {
	rc := newReceiver(t, statuses(503))
	q := &memQueue{}
	q.add(testAlert("msg_dead", "hook"))
	w := testWebhook("hook", rc.URL)
	w.Retry = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}
	d := NewDispatcher(q, []news.Webhook{w}, testTopics, testOptions())
	run(t, d)

	row := waitStatus(t, q, "msg_dead", news.DeliveryDead)
	if row.attempts != 3 || len(row.retries) != 2 {
		t.Errorf("attempts = %d, retries = %d; want 3 attempts (len(Retry)+1), 2 retries", row.attempts, len(row.retries))
	}
	if n := len(rc.requests()); n != 3 {
		t.Errorf("receiver saw %d requests, want 3", n)
	}
	if !strings.Contains(row.lastErr, "503") {
		t.Errorf("lastErr = %q", row.lastErr)
	}
	// The schedule is followed: the second wait is the second entry.
	if got := row.retries[1].next.Sub(row.retries[1].marked); got < 15*time.Millisecond {
		t.Errorf("second retry wait = %v, want about 20ms", got)
	}
}

func TestDispatcherTimeoutIsRetried(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			select { // hang until the sender gives up
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	q := &memQueue{}
	q.add(testAlert("msg_slow", "hook"))
	w := testWebhook("hook", rc.URL)
	w.Timeout = 100 * time.Millisecond
	d := NewDispatcher(q, []news.Webhook{w}, testTopics, testOptions())
	run(t, d)

	row := waitStatus(t, q, "msg_slow", news.DeliveryDelivered)
	if row.attempts != 2 || len(row.retries) != 1 {
		t.Fatalf("attempts = %d, retries = %d; want delivery on attempt 2", row.attempts, len(row.retries))
	}
	if e := row.retries[0].lastErr; !strings.Contains(e, "deadline exceeded") {
		t.Errorf("first attempt's error = %q, want a timeout", e)
	}
	reqs := rc.requests()
	if reqs[0].header.Get("webhook-id") != reqs[1].header.Get("webhook-id") {
		t.Error("webhook-id changed between attempts")
	}
}

func TestDispatcherKeepsOrderPerWebhook(t *testing.T) {
	rc := newReceiver(t, statuses(500, 200)) // the first alert needs a retry
	q := &memQueue{}
	for _, id := range []string{"msg_1", "msg_2", "msg_3"} {
		q.add(testAlert(id, "hook"))
	}
	d := NewDispatcher(q, []news.Webhook{testWebhook("hook", rc.URL)}, testTopics, testOptions())
	run(t, d)

	waitStatus(t, q, "msg_3", news.DeliveryDelivered)
	var got []string
	for _, r := range rc.requests() {
		got = append(got, r.header.Get("webhook-id"))
	}
	if want := "msg_1 msg_1 msg_2 msg_3"; strings.Join(got, " ") != want {
		t.Errorf("arrival order = %v, want %s", got, want)
	}
}

func TestDispatcherWebhooksAreIndependent(t *testing.T) {
	slow := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	})
	fast := newReceiver(t, statuses(200))
	q := &memQueue{}
	q.add(testAlert("msg_slow", "slow"))
	q.add(testAlert("msg_fast", "fast"))
	ws := testWebhook("slow", slow.URL)
	ws.Timeout = time.Second
	d := NewDispatcher(q, []news.Webhook{ws, testWebhook("fast", fast.URL)}, testTopics, testOptions())
	run(t, d)
	waitFor(t, "fast webhook delivered while the slow one hangs", 900*time.Millisecond, func() bool {
		return q.row("msg_fast").status == news.DeliveryDelivered
	})
	if r := q.row("msg_slow"); r.attempts != 0 {
		t.Errorf("slow delivery already finished (%d attempts): the test proves nothing", r.attempts)
	}
}

func TestNotifyWakesIdleWorkers(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	q := &memQueue{}
	opts := testOptions()
	opts.PollInterval = time.Hour // only Notify can wake the worker in time
	d := NewDispatcher(q, []news.Webhook{testWebhook("hook", rc.URL)}, testTopics, opts)
	run(t, d)
	waitFor(t, "the worker's first claim", 5*time.Second, func() bool { return q.claimCount() > 0 })

	q.add(testAlert("msg_new", "hook"))
	d.Notify()
	d.Notify() // never blocks, even when a wake-up is already pending
	waitStatus(t, q, "msg_new", news.DeliveryDelivered)
}

func TestRunStopsOnCancel(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		q := &memQueue{}
		d := NewDispatcher(q, []news.Webhook{testWebhook("a", "http://127.0.0.1:1/"), testWebhook("b", "http://127.0.0.1:1/")}, nil, testOptions())
		cancel, done := run(t, d)
		waitFor(t, "workers polling", 5*time.Second, func() bool { return q.claimCount() >= 2 })
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
		claims := q.claimCount()
		time.Sleep(30 * time.Millisecond)
		if q.claimCount() != claims {
			t.Error("a worker kept claiming after Run returned")
		}
	})

	t.Run("in flight", func(t *testing.T) {
		arrived := make(chan struct{})
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			close(arrived)
			<-r.Context().Done()
		})
		q := &memQueue{}
		q.add(testAlert("msg_inflight", "hook"))
		w := testWebhook("hook", rc.URL)
		w.Timeout = 300 * time.Millisecond
		d := NewDispatcher(q, []news.Webhook{w}, testTopics, testOptions())
		cancel, done := run(t, d)
		<-arrived
		start := time.Now()
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return")
		}
		// Run waited for the attempt (it has its own timeout) and recorded
		// it, so the row is scheduled for a retry rather than left leased.
		if time.Since(start) < 100*time.Millisecond {
			t.Error("Run returned before the in-flight attempt finished")
		}
		row := q.row("msg_inflight")
		if row.status != news.DeliveryPending || row.attempts != 1 || len(row.retries) != 1 {
			t.Errorf("row = %+v, want pending with one recorded attempt", row)
		}
	})

	t.Run("twice", func(t *testing.T) {
		d := NewDispatcher(&memQueue{}, []news.Webhook{testWebhook("a", "http://127.0.0.1:1/")}, nil, testOptions())
		run(t, d)
		time.Sleep(10 * time.Millisecond)
		if err := d.Run(context.Background()); err == nil {
			t.Error("a second concurrent Run was accepted")
		}
	})
}

func TestDeliverOutcomes(t *testing.T) {
	d := NewDispatcher(&memQueue{}, nil, testTopics, testOptions())
	a := testAlert("msg_o", "hook")
	for _, tc := range []struct {
		code       int
		retryAfter string
		ok, retry  bool
		wantAfter  time.Duration
	}{
		{200, "", true, false, 0},
		{204, "", true, false, 0},
		{408, "", false, true, 0},
		{429, "7", false, true, 7 * time.Second},
		{500, "", false, true, 0},
		{502, "", false, true, 0},
		{503, "120", false, true, 2 * time.Minute},
		{301, "", false, false, 0},
		{401, "", false, false, 0},
		{410, "", false, false, 0},
		{422, "5", false, false, 0},
	} {
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			if tc.retryAfter != "" {
				w.Header().Set("Retry-After", tc.retryAfter)
			}
			w.WriteHeader(tc.code)
		})
		o := d.Deliver(context.Background(), testWebhook("hook", rc.URL), a, 1)
		if o.Status != tc.code || (o.Err == nil) != tc.ok || o.Retryable != tc.retry || o.RetryAfter != tc.wantAfter {
			t.Errorf("%d: outcome = %+v, want ok=%v retryable=%v retryAfter=%v", tc.code, o, tc.ok, tc.retry, tc.wantAfter)
		}
	}
}

func TestDeliverReadsAtMost64KiB(t *testing.T) {
	sent := make(chan int64, 1)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		chunk := []byte(strings.Repeat("x", 1024))
		var n int64
		for i := 0; i < 10*1024; i++ { // 10 MiB if the client kept reading
			m, err := w.Write(chunk)
			n += int64(m)
			if err != nil {
				break
			}
		}
		sent <- n
	})
	d := NewDispatcher(&memQueue{}, nil, testTopics, testOptions())
	o := d.Deliver(context.Background(), testWebhook("hook", rc.URL), testAlert("msg_big", "hook"), 1)
	if o.Status != 400 || o.Retryable {
		t.Fatalf("outcome = %+v", o)
	}
	if !strings.Contains(o.Err.Error(), strings.Repeat("x", 200)) || strings.Contains(o.Err.Error(), strings.Repeat("x", 201)) {
		t.Errorf("error should quote exactly the first 200 bytes of the body: %.300s", o.Err)
	}
	select {
	case n := <-sent:
		if n >= 10<<20 {
			t.Errorf("the whole 10 MiB body was consumed")
		}
	case <-time.After(5 * time.Second):
		t.Error("receiver still writing: the client kept reading or never closed")
	}
}

func TestDeliverRefusesBlockedAddresses(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	opts := testOptions()
	opts.Policy = netguard.Policy{} // production default: loopback refused
	d := NewDispatcher(&memQueue{}, nil, testTopics, opts)
	o := d.Deliver(context.Background(), testWebhook("hook", rc.URL), testAlert("msg_ssrf", "hook"), 1)
	if !errors.Is(o.Err, netguard.ErrBlocked) || o.Retryable {
		t.Errorf("outcome = %+v, want a permanent ErrBlocked", o)
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("receiver saw %d requests", n)
	}
}

func TestDeliverKeepsWebhookURLOutOfErrors(t *testing.T) {
	// Slack and Discord URLs are credentials; errors reach logs and the
	// outbox, so the URL must not be in them.
	d := NewDispatcher(&memQueue{}, nil, testTopics, testOptions())
	for _, u := range []string{
		"http://127.0.0.1:1/services/T000/B000/SECRETTOKEN", // connection refused
		"ftp://example.com/SECRETTOKEN",
		"http://[::1/SECRETTOKEN",
	} {
		o := d.Deliver(context.Background(), testWebhook("hook", u), testAlert("msg_url", "hook"), 1)
		if o.Err == nil {
			t.Fatalf("%s: no error", u)
		}
		if strings.Contains(o.Err.Error(), "SECRETTOKEN") {
			t.Errorf("error leaks the URL: %v", o.Err)
		}
	}
	refused := d.Deliver(context.Background(), testWebhook("hook", "http://127.0.0.1:1/x"), testAlert("msg_url", "hook"), 1)
	if !refused.Retryable {
		t.Errorf("connection refused should be retried: %+v", refused)
	}
	// The error says what failed once: it is shown to operators as is.
	if msg := refused.Err.Error(); !strings.HasPrefix(msg, `alert: webhook "hook": post: `) || strings.Count(msg, "post") != 1 {
		t.Errorf("error = %q, want one `post:` after the webhook", msg)
	}
	bad := d.Deliver(context.Background(), testWebhook("hook", "ftp://example.com/x"), testAlert("msg_url", "hook"), 1)
	if bad.Retryable {
		t.Errorf("a non-http URL cannot succeed later: %+v", bad)
	}
}

func TestDeliverUnknownFormatIsPermanent(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	d := NewDispatcher(&memQueue{}, nil, testTopics, testOptions())
	w := testWebhook("hook", rc.URL)
	w.Format = "xml"
	if o := d.Deliver(context.Background(), w, testAlert("msg_fmt", "hook"), 1); o.Err == nil || o.Retryable {
		t.Errorf("outcome = %+v, want a permanent error", o)
	}
	if len(rc.requests()) != 0 {
		t.Error("an unrenderable alert was sent")
	}
}

func TestDeliverWithoutSecretsStillSendsIDs(t *testing.T) {
	rc := newReceiver(t, statuses(204))
	d := NewDispatcher(&memQueue{}, nil, testTopics, testOptions())
	w := testWebhook("hook", rc.URL)
	w.Secrets = nil
	w.Format = "slack"
	if o := d.Deliver(context.Background(), w, testAlert("msg_slack", "hook"), 1); o.Err != nil {
		t.Fatal(o.Err)
	}
	h := rc.requests()[0].header
	if h.Get("webhook-id") != "msg_slack" || h.Get("webhook-timestamp") == "" || h.Get("webhook-signature") != "" {
		t.Errorf("headers = %v", h)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"1", time.Second},
		{" 30 ", 30 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"1.2", 2 * time.Second},
		{"NaN", 0},
		{"soon", 0},
		{"99999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(30 * 24 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestDefaultJitter(t *testing.T) {
	d := 10 * time.Second
	seen := map[time.Duration]bool{}
	for i := 0; i < 200; i++ {
		j := defaultJitter(d)
		if j < 9*time.Second || j > 11*time.Second {
			t.Fatalf("jitter(%v) = %v, want within ±10%%", d, j)
		}
		seen[j] = true
	}
	if len(seen) < 2 {
		t.Error("jitter never varies")
	}
	if got := defaultJitter(0); got != 0 {
		t.Errorf("jitter(0) = %v", got)
	}
}

func TestNewDispatcherDefaults(t *testing.T) {
	d := NewDispatcher(&memQueue{}, []news.Webhook{{ID: "a"}, {ID: "a", URL: "dup"}}, nil, Options{})
	if len(d.hooks) != 1 || d.hooks[0].workers != 1 {
		t.Fatalf("%d webhooks for one distinct webhook id, want 1 with one worker", len(d.hooks))
	}
	w := d.hooks[0].cfg
	if w.Timeout != 15*time.Second || len(w.Retry) != len(news.DefaultRetry) {
		t.Errorf("defaults: timeout %v, retry %v", w.Timeout, w.Retry)
	}
	w.Retry[0] = time.Hour
	if news.DefaultRetry[0] == time.Hour {
		t.Error("the dispatcher shares news.DefaultRetry's backing array")
	}
	if d.poll != time.Second || d.ua != "wirewatch" {
		t.Errorf("poll %v, ua %q", d.poll, d.ua)
	}
}
