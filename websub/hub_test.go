package websub

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// memStore is an in-memory Store for these tests; the SQL one lives in the
// store package, which this package cannot import.
type memStore struct {
	mu   sync.Mutex
	subs map[string]Subscription
}

func newMemStore() *memStore { return &memStore{subs: map[string]Subscription{}} }

func (m *memStore) Subscription(_ context.Context, id string) (Subscription, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	return s, ok, nil
}

func (m *memStore) SaveSubscription(_ context.Context, s Subscription) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs[s.SourceID] = s
	return nil
}

func (m *memStore) Subscriptions(context.Context) ([]Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Subscription
	for _, s := range m.subs {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Subscription) int {
		if a.SourceID < b.SourceID {
			return -1
		}
		return 1
	})
	return out, nil
}

func (m *memStore) get(t *testing.T, id string) Subscription {
	t.Helper()
	s, ok, _ := m.Subscription(context.Background(), id)
	if !ok {
		t.Fatalf("no subscription stored for %q", id)
	}
	return s
}

// push is one body the Deliverer received.
type push struct {
	sourceID, contentType string
	body                  []byte
}

// recorder is a Deliverer that remembers what it was given.
type recorder struct {
	mu     sync.Mutex
	pushes []push
	err    error
}

func (d *recorder) Deliver(_ context.Context, sourceID, contentType string, body []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	d.pushes = append(d.pushes, push{sourceID, contentType, bytes.Clone(body)})
	return nil
}

func (d *recorder) all() []push {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.pushes)
}

// clock is an injected clock that moves only when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuf collects log output from the handler's goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// verification is what the test hub saw when it verified intent.
type verification struct {
	mode, callback, topic, challenge string
	status                           int
	body                             string
}

// echoed reports whether the subscriber confirmed the request as the spec
// says it must: 2xx and exactly the challenge as body.
func (v verification) echoed() bool { return v.status/100 == 2 && v.body == v.challenge }

// hubSub is a subscription the test hub holds after a verification.
type hubSub struct {
	topic, secret string
}

// testHub implements the subscriber-facing side of a WebSub hub: it takes
// subscription requests, verifies them asynchronously (or synchronously,
// before answering, as some hubs do) with a GET carrying a challenge, can
// deny them, and pushes signed content to verified callbacks.
type testHub struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	requests []url.Values
	subs     map[string]hubSub // by callback
	// grant is the lease the hub grants in seconds, "" for as requested.
	grant string
	// status answers subscription requests when not 0 (default 202).
	status int
	// deny answers with a hub.mode=denied callback carrying this reason.
	deny string
	// syncVerify verifies before answering the request.
	syncVerify bool
	// silent accepts requests and never verifies them.
	silent bool
	// hold, when set, keeps every answer back until it is closed.
	hold chan struct{}

	wg       sync.WaitGroup
	verified chan verification
}

func newTestHub(t *testing.T) *testHub {
	h := &testHub{t: t, subs: map[string]hubSub{}, verified: make(chan verification, 32)}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *testHub) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	form := r.PostForm
	h.mu.Lock()
	h.requests = append(h.requests, form)
	status, syncVerify, silent, hold := h.status, h.syncVerify, h.silent, h.hold
	h.mu.Unlock()
	if hold != nil {
		<-hold
	}
	if status != 0 && status != http.StatusAccepted {
		http.Error(w, "hub says no\x07 to "+form.Get("hub.topic"), status)
		return
	}
	switch {
	case silent:
	case syncVerify:
		h.callback(form)
	default:
		h.wg.Go(func() { h.callback(form) })
	}
	w.WriteHeader(http.StatusAccepted)
}

// callback verifies intent (or denies) like a hub does after a request.
func (h *testHub) callback(form url.Values) {
	mode, topic, cb := form.Get("hub.mode"), form.Get("hub.topic"), form.Get("hub.callback")
	h.mu.Lock()
	deny, grant := h.deny, h.grant
	h.mu.Unlock()
	q := url.Values{"hub.topic": {topic}}
	challenge := ""
	if deny != "" && mode == "subscribe" {
		q.Set("hub.mode", "denied")
		q.Set("hub.reason", deny)
	} else {
		challenge = rand.Text()
		q.Set("hub.mode", mode)
		q.Set("hub.challenge", challenge)
		if mode == "subscribe" {
			if grant == "" {
				grant = form.Get("hub.lease_seconds")
			}
			q.Set("hub.lease_seconds", grant)
		}
	}
	v := h.get(cb, q)
	v.mode, v.challenge = q.Get("hub.mode"), challenge
	if v.echoed() {
		h.mu.Lock()
		switch mode {
		case "subscribe":
			h.subs[cb] = hubSub{topic: topic, secret: form.Get("hub.secret")}
		case "unsubscribe":
			delete(h.subs, cb)
		}
		h.mu.Unlock()
	}
	h.verified <- v
}

// get sends a GET to callback with q appended, as hubs do.
func (h *testHub) get(callback string, q url.Values) verification {
	v := verification{callback: callback, topic: q.Get("hub.topic")}
	resp, err := http.Get(callback + "?" + q.Encode())
	if err != nil {
		h.t.Errorf("hub: verification GET: %v", err)
		return v
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	v.status, v.body = resp.StatusCode, string(b)
	return v
}

// waitVerified returns the next verification the hub made.
func (h *testHub) waitVerified(t *testing.T) verification {
	t.Helper()
	select {
	case v := <-h.verified:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("hub never verified")
		return verification{}
	}
}

func (h *testHub) requestCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.requests)
}

func (h *testHub) request(i int) url.Values {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests[i]
}

func (h *testHub) secret(callback string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subs[callback].secret
}

// publish POSTs body to callback as content distribution, signed with
// method and key (the hub's secret for that callback unless key is given).
func (h *testHub) publish(t *testing.T, callback, method, key string, body []byte) int {
	t.Helper()
	if key == "" {
		key = h.secret(callback)
	}
	req, _ := http.NewRequest(http.MethodPost, callback, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/atom+xml")
	req.Header.Add("Link", `<`+h.srv.URL+`>; rel="hub"`)
	if method != "" {
		req.Header.Set("X-Hub-Signature", method+"="+sign(method, key, body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("hub: publish: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func sign(method, key string, body []byte) string {
	h := map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New}[method]
	mac := hmac.New(h, []byte(key))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// fixture is a Subscriber served by an httptest server, with its store,
// deliverer, clock, log and a hub.
type fixture struct {
	sub   *Subscriber
	store *memStore
	dl    *recorder
	clk   *clock
	logs  *logBuf
	hub   *testHub
	srv   *httptest.Server
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, tweak func(*Config)) *fixture {
	t.Helper()
	f := &fixture{store: newMemStore(), dl: &recorder{}, clk: &clock{t: t0}, logs: &logBuf{}}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.hub = newTestHub(t)
	t.Cleanup(f.hub.wg.Wait) // runs before the servers close
	cfg := Config{
		CallbackBase: f.srv.URL + "/websub/",
		Store:        f.store,
		Deliverer:    f.dl,
		Policy:       loopbackPolicy,
		Logger:       slog.New(slog.NewTextHandler(f.logs, nil)),
		Now:          f.clk.now,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	sub, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.sub = sub
	mux.Handle("/websub/", sub.Handler())
	return f
}

// subscribe runs Ensure and waits for the hub's verification.
func (f *fixture) subscribe(t *testing.T, sourceID, topic string) verification {
	t.Helper()
	if err := f.sub.Ensure(context.Background(), sourceID, f.hub.srv.URL, topic); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	v := f.hub.waitVerified(t)
	if !v.echoed() {
		t.Fatalf("subscriber did not confirm the verification: %d %q (challenge %q)", v.status, v.body, v.challenge)
	}
	return v
}
