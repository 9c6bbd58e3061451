package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wirewatch/alert"
	"wirewatch/news"
)

// The crash tests hold the outbox to its promise from the outside: whatever
// happens to the process or the receiver, every alert arrives, under one
// webhook-id per alert, in the order the alerts were made. They run the
// real binary, so they see what a desk would see.

// hookLog is a webhook receiver that checks the Standard Webhooks signature
// of every request and records what arrived, in arrival order. While down
// is set it answers 503 (after recording the attempt).
type hookLog struct {
	secret string

	mu       sync.Mutex
	down     bool
	arrivals []arrival
	problems []string
	// killAt, when not 0, is the arrival number at which killFn runs,
	// before the request is answered: the sender dies with its request
	// processed by the receiver but unanswered.
	killAt int
	killFn func()
}

// arrival is one request as the receiver saw it.
type arrival struct {
	id     string // webhook-id header
	itemID string // the event's item.id
	status int    // what the receiver answered
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the sender died mid-request: nothing arrived
	}
	var problem string
	var ev alert.Event
	if err := alert.Verify(h.secret, r.Header, body, time.Now(), 0); err != nil {
		problem = fmt.Sprintf("request %q: signature: %v", r.Header.Get("webhook-id"), err)
	} else if err := json.Unmarshal(body, &ev); err != nil {
		problem = fmt.Sprintf("request %q: body: %v", r.Header.Get("webhook-id"), err)
	} else if ev.ID != r.Header.Get("webhook-id") {
		problem = fmt.Sprintf("request %q: body id %q differs from the header", r.Header.Get("webhook-id"), ev.ID)
	}
	h.mu.Lock()
	status := http.StatusOK
	switch {
	case problem != "":
		h.problems = append(h.problems, problem)
		status = http.StatusBadRequest
	case h.down:
		status = http.StatusServiceUnavailable
	}
	h.arrivals = append(h.arrivals, arrival{r.Header.Get("webhook-id"), ev.Item.ID, status})
	var kill func()
	if h.killAt > 0 && len(h.arrivals) >= h.killAt {
		kill, h.killAt, h.killFn = h.killFn, 0, nil
	}
	h.mu.Unlock()
	if kill != nil {
		kill()
	}
	w.WriteHeader(status)
}

// killOnArrival arms an in-flight kill: fn runs when the receiver has
// seen n more requests, before it answers the last of them.
func (h *hookLog) killOnArrival(n int, fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.killAt, h.killFn = len(h.arrivals)+n, fn
}

func (h *hookLog) setDown(down bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.down = down
}

func (h *hookLog) snapshot() (arrivals []arrival, problems []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.arrivals), slices.Clone(h.problems)
}

// deliveredItems counts the distinct items that were answered 200.
func (h *hookLog) deliveredItems() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	for _, a := range h.arrivals {
		if a.status == http.StatusOK {
			seen[a.itemID] = true
		}
	}
	return len(seen)
}

// checkEveryAlertOnce asserts what a receiver that drops repeated ids would
// rely on: every wanted item was delivered (answered 200), no other item
// was, each item arrived under exactly one webhook-id (a repeat carries an
// id already seen, never a fresh one) and each id under one item. It
// returns the number of repeated successful deliveries, which crashes may
// legitimately cause.
func checkEveryAlertOnce(t *testing.T, h *hookLog, want map[string]bool) (repeats int) {
	t.Helper()
	arrivals, problems := h.snapshot()
	for i, p := range problems {
		if i == 10 {
			t.Errorf("… and %d more problems", len(problems)-i)
			break
		}
		t.Error(p)
	}
	idsOfItem := map[string]map[string]bool{}
	itemOfID := map[string]string{}
	delivered := map[string]bool{}
	for _, a := range arrivals {
		if it, ok := itemOfID[a.id]; ok && it != a.itemID {
			t.Errorf("webhook-id %s carried item %s and item %s", a.id, it, a.itemID)
		}
		itemOfID[a.id] = a.itemID
		if idsOfItem[a.itemID] == nil {
			idsOfItem[a.itemID] = map[string]bool{}
		}
		idsOfItem[a.itemID][a.id] = true
		if a.status == http.StatusOK {
			if delivered[a.id] {
				repeats++
			}
			delivered[a.id] = true
		}
	}
	for item, ids := range idsOfItem {
		if !want[item] {
			t.Errorf("item %s was alerted but never published after the baseline", item)
		}
		if len(ids) != 1 {
			t.Errorf("item %s arrived under %d webhook-ids %v, want 1", item, len(ids), slices.Sorted(maps.Keys(ids)))
		}
	}
	missing := 0
	for item := range want {
		ok := false
		for id := range idsOfItem[item] {
			ok = ok || delivered[id]
		}
		if !ok {
			missing++
		}
	}
	if missing > 0 || len(delivered) != len(want) {
		t.Errorf("%d of %d alerts never delivered; %d distinct webhook-ids delivered", missing, len(want), len(delivered))
	}
	return repeats
}

// outboxRow is a delivery as /api/deliveries reports it.
type outboxRow struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
}

// outboxRows lists the webhook's deliveries in the order the outbox made them:
// by created_at, then id (the order an ordered webhook delivers in).
func outboxRows(t *testing.T, srv *server, webhook string) []outboxRow {
	t.Helper()
	_, body, _ := srv.get(t, "/api/deliveries?limit=1000&webhook="+webhook)
	var list struct {
		Deliveries []outboxRow `json:"deliveries"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("/api/deliveries: %v\n%.500s", err, body)
	}
	ds := list.Deliveries
	sort.Slice(ds, func(i, j int) bool {
		if !ds[i].CreatedAt.Equal(ds[j].CreatedAt) {
			return ds[i].CreatedAt.Before(ds[j].CreatedAt)
		}
		return ds[i].ID < ds[j].ID
	})
	return ds
}

// checkOrder asserts that every delivery in the outbox is delivered and
// that webhook-ids first arrived in the order the outbox made them: an
// ordered webhook never lets a later alert overtake an earlier one, across
// retries and restarts alike. Only successful arrivals count when okOnly.
func checkOrder(t *testing.T, rows []outboxRow, h *hookLog, okOnly bool) {
	t.Helper()
	var made []string
	for _, d := range rows {
		if d.Status != string(news.DeliveryDelivered) {
			t.Errorf("delivery %s is %s, want delivered", d.ID, d.Status)
		}
		made = append(made, d.ID)
	}
	arrivals, _ := h.snapshot()
	var first []string
	seen := map[string]bool{}
	for _, a := range arrivals {
		if (okOnly && a.status != http.StatusOK) || seen[a.id] {
			continue
		}
		seen[a.id] = true
		first = append(first, a.id)
	}
	if len(made) != len(first) {
		t.Errorf("outbox made %d deliveries, receiver first saw %d ids", len(made), len(first))
		return
	}
	for i := range made {
		if made[i] != first[i] {
			t.Errorf("arrival %d is %s, want %s (order of creation): only the first %d arrived in order",
				i, first[i], made[i], i)
			return
		}
	}
}

// waitUntil polls cond until it holds or timeout passes, and says which.
// Unlike waitFor it does not end the test: the checks that follow explain
// a shortfall better than "timed out".
func waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// crashSeed is the seed of the kill schedule: WIREWATCH_CRASH_SEED to
// replay a failure, else the clock.
func crashSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("WIREWATCH_CRASH_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("WIREWATCH_CRASH_SEED=%q: %v", s, err)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// crashConfig writes a serve config: one source polled every second, one
// topic, one json webhook with a short retry schedule.
func crashConfig(t *testing.T, feedURL, hookURL string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ww.yaml")
	cfg := fmt.Sprintf(`
database: ww.db
allow_private_networks: true
sources:
  - id: wire
    url: %s/feed.xml
    every: 1s
topics:
  - id: crash
    query: 'Uyghur*'
webhooks:
  - id: desk
    url: %s/hook
    format: json
    secret: %s
    retry: [200ms, 500ms, 1s, 2s, 5s]
    timeout: 2s
`, feedURL, hookURL, testSecret)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitBaselined waits until the source's first poll has committed, so the
// items published next are alerted rather than baselined.
func waitBaselined(t *testing.T, srv *server) {
	t.Helper()
	waitFor(t, "the source's baseline poll", 20*time.Second, func() bool {
		_, body, _ := srv.get(t, "/api/sources")
		return strings.Contains(body, `"last_success"`)
	})
}

// publishMatching adds n matching items to the feed and returns their item ids.
func publishMatching(wire *testFeed, prefix string, n int, want map[string]bool) {
	for i := range n {
		guid := fmt.Sprintf("%s-%04d", prefix, i)
		wire.add(guid, "Uyghur report "+guid, "Item "+guid+" of the crash test.")
		want[news.ItemID("wire", guid)] = true
	}
}

// sigkill ends the server with SIGKILL: no shutdown, no flush, no last mark.
func (s *server) sigkill(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not die on SIGKILL")
	}
}

// tailLog is the end of a server's log, for failure messages.
func (s *server) tailLog(n int) string {
	lines := strings.Split(strings.TrimRight(s.logText(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestCrashDuringDeliveryLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the real binary for up to a minute; skipped with -short")
	}
	seed := crashSeed(t)
	t.Logf("kill schedule seed %d (replay with WIREWATCH_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed>>32|1))

	wire := &testFeed{}
	wire.add("seed", "Weather", "Sunny.") // the baseline: not a match, never alerted
	src := httptest.NewServer(wire)
	defer src.Close()
	hook := &hookLog{secret: testSecret}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	cfgPath := crashConfig(t, src.URL, hookSrv.URL)

	srv := startServer(t, cfgPath)
	waitBaselined(t, srv)

	const total = 1000
	want := map[string]bool{}
	feedHits := func() int { wire.mu.Lock(); defer wire.mu.Unlock(); return wire.hits }
	hitsBefore := feedHits()
	publishMatching(wire, "crash", total, want)
	start := time.Now()

	// The kills, at random moments drawn from the seed:
	//  1. in the poll that stores the 1,000 items and their outbox rows (or
	//     just after it, in the first deliveries);
	//  2. in flight: when the receiver has processed a request but before it
	//     answers, so the alert must come again under the same id;
	//  3. up to three more, typically while the queue waits out the lease
	//     of that unanswered delivery (timeout + 30s): restarts must neither
	//     skip it nor send a later alert ahead of it.
	// A killed attempt's lease outlives the process, so an ordered webhook
	// stalls for ~32s after the in-flight kill. If kill 1 already left
	// such a lease behind (no progress after the restart), kill 2 is
	// skipped: a second stall would double the test's time.
	var schedule []string
	killed := func(what string, delay time.Duration) {
		schedule = append(schedule, fmt.Sprintf("%s at %v (+%v): %d/%d delivered", what,
			time.Since(start).Round(time.Millisecond), delay, hook.deliveredItems(), total))
	}
	if !waitUntil(20*time.Second, func() bool { return feedHits() > hitsBefore }) {
		t.Fatal("the server never fetched the new items")
	}
	// The poll that fetched them takes ~200ms here to parse, match and
	// commit 1,000 items; longer on a loaded machine.
	delay := time.Duration(rng.IntN(120)) * time.Millisecond
	time.Sleep(delay)
	srv.sigkill(t)
	before := hook.deliveredItems()
	if before == 0 {
		killed("kill 1 (in the poll, or before the first delivery)", delay)
	} else {
		killed("kill 1 (in the first deliveries)", delay)
	}
	srv = startServer(t, cfgPath)

	deadline := time.Now().Add(5 * time.Second)
	for hook.deliveredItems() == before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	inFlight := hook.deliveredItems() > before
	if inFlight {
		victim := srv
		n := 1 + rng.IntN(min(300, (total-hook.deliveredItems())/2))
		hook.killOnArrival(n, func() { victim.cmd.Process.Signal(syscall.SIGKILL) })
		select {
		case <-victim.done:
		case <-time.After(30 * time.Second):
			t.Fatalf("the in-flight kill at request +%d never happened; %d/%d delivered", n, hook.deliveredItems(), total)
		}
		killed(fmt.Sprintf("kill 2 (in flight, request +%d)", n), 0)
		srv = startServer(t, cfgPath)
	} else {
		killed("kill 2 skipped: kill 1 left a leased delivery", 0)
	}
	for k := range 3 {
		before := hook.deliveredItems()
		if before == total {
			break
		}
		delay := time.Duration(100+rng.IntN(1400)) * time.Millisecond
		time.Sleep(delay)
		srv.sigkill(t)
		what := "while the queue waits out a lease"
		if hook.deliveredItems() > before {
			what = "while delivering"
		}
		killed(fmt.Sprintf("kill %d (%s)", k+3, what), delay)
		srv = startServer(t, cfgPath)
	}
	t.Logf("kills:\n\t%s", strings.Join(schedule, "\n\t"))

	// ~40s is typical; the bound leaves room for a loaded machine.
	const drain = 90 * time.Second
	if !waitUntil(drain-time.Since(start), func() bool { return hook.deliveredItems() == total }) {
		t.Errorf("after %v only %d of %d alerts delivered; last server log:\n%s",
			drain, hook.deliveredItems(), total, srv.tailLog(30))
	} else {
		t.Logf("all %d alerts delivered %v after publishing", total, time.Since(start).Round(time.Millisecond))
	}
	time.Sleep(1500 * time.Millisecond) // room for a wrong extra delivery to show

	repeats := checkEveryAlertOnce(t, hook, want)
	if inFlight && repeats == 0 {
		t.Error("the alert whose answer the kill cut off was not sent again")
	}
	checkOrder(t, outboxRows(t, srv, "desk"), hook, true)
	arrivals, _ := hook.snapshot()
	t.Logf("%d requests, %d repeated an id already delivered", len(arrivals), repeats)
	srv.stop(t)
}

// flakyListener is a receiver's address that can refuse connections for a
// while: close it, and later listen again on the same port.
type flakyListener struct {
	addr string
	h    http.Handler
	srv  *http.Server
}

func newFlakyListener(t *testing.T, h http.Handler) *flakyListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyListener{addr: ln.Addr().String(), h: h}
	f.serve(ln)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

func (f *flakyListener) serve(ln net.Listener) {
	f.srv = &http.Server{Handler: f.h, ReadHeaderTimeout: 5 * time.Second}
	go f.srv.Serve(ln)
}

// refuse closes the listener and every connection: attempts now get
// "connection refused".
func (f *flakyListener) refuse(t *testing.T) {
	t.Helper()
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
}

// accept listens again on the same port.
func (f *flakyListener) accept(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port was ours a moment ago; retry briefly if the OS lags
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listening again on %s: %v", f.addr, err)
	}
	f.serve(ln)
}

func TestReceiverDownThenBackLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("takes ~15s of real time with the real binary; skipped with -short")
	}
	wire := &testFeed{}
	wire.add("seed", "Weather", "Sunny.")
	src := httptest.NewServer(wire)
	defer src.Close()
	hook := &hookLog{secret: testSecret}
	fl := newFlakyListener(t, hook)
	cfgPath := crashConfig(t, src.URL, "http://"+fl.addr)

	srv := startServer(t, cfgPath)
	waitBaselined(t, srv)

	// Down in two ways, 503 then connection refused, while alerts are made
	// in three polls (three creation times). The head's retries (200ms,
	// 500ms, 1s, 2s, 5s: about 8.7s in all before it is declared dead)
	// outlast the outage of about 5s, so nothing may be dead-lettered.
	want := map[string]bool{}
	hook.setDown(true)
	publishMatching(wire, "down-a", 20, want)
	waitFor(t, "a 503 while the receiver is down", 20*time.Second, func() bool {
		a, _ := hook.snapshot()
		return len(a) > 0
	})
	start := time.Now()
	publishMatching(wire, "down-b", 20, want)
	time.Sleep(1500 * time.Millisecond)
	fl.refuse(t)
	publishMatching(wire, "down-c", 20, want)
	time.Sleep(1500 * time.Millisecond)
	hook.setDown(false)
	refusedFor := 2 * time.Second
	time.Sleep(refusedFor)
	fl.accept(t)
	t.Logf("receiver back after %v down", time.Since(start).Round(time.Millisecond))

	if !waitUntil(30*time.Second, func() bool { return hook.deliveredItems() == len(want) }) {
		t.Errorf("30s after the receiver came back only %d of %d alerts were delivered", hook.deliveredItems(), len(want))
	} else {
		t.Logf("all %d alerts delivered %v after the outage began", len(want), time.Since(start).Round(time.Millisecond))
	}
	time.Sleep(1500 * time.Millisecond)

	if repeats := checkEveryAlertOnce(t, hook, want); repeats != 0 {
		t.Errorf("%d alerts were delivered twice without any crash", repeats)
	}
	rows := outboxRows(t, srv, "desk")
	checkOrder(t, rows, hook, false)
	refused := false
	for _, r := range rows {
		refused = refused || strings.Contains(r.LastError, "refused")
	}
	if !refused {
		t.Error("no delivery recorded a refused connection: the closed listener was not exercised")
	}
	arrivals, _ := hook.snapshot()
	var unavailable int
	for _, a := range arrivals {
		if a.status == http.StatusServiceUnavailable {
			unavailable++
		}
	}
	if unavailable == 0 {
		t.Error("the receiver never answered 503: the outage was not exercised")
	}
	t.Logf("%d requests, %d answered 503", len(arrivals), unavailable)
	srv.stop(t)
}
