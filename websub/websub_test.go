package websub

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"wirewatch/netguard"
)

// loopbackPolicy lets the Subscriber reach httptest servers on 127.0.0.1.
var loopbackPolicy = netguard.Policy{AllowPrivate: true}

const topic = "https://news.example.org/feed.atom"

// TestFlow walks one subscription through the protocol: request,
// asynchronous verification, signed pushes in every method, forged and
// unsigned pushes dropped, unknown sources refused.
func TestFlow(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	v := f.subscribe(t, "desk", topic)

	req := f.hub.request(0)
	cb := f.sub.CallbackURL("desk")
	if cb != f.srv.URL+"/websub/desk" {
		t.Errorf("callback = %q", cb)
	}
	for k, want := range map[string]string{
		"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": cb, "hub.lease_seconds": "864000",
	} {
		if got := req.Get(k); got != want {
			t.Errorf("request %s = %q, want %q", k, got, want)
		}
	}
	if s := req.Get("hub.secret"); len(s) != 64 {
		t.Errorf("hub.secret = %q, want 64 hex chars", s)
	}
	if v.mode != "subscribe" || v.callback != cb {
		t.Errorf("verification = %+v", v)
	}

	got := f.store.get(t, "desk")
	want := Subscription{SourceID: "desk", Hub: f.hub.srv.URL, Topic: topic, Secret: req.Get("hub.secret"),
		LeaseUntil: t0.Add(10 * 24 * time.Hour), VerifiedAt: t0, RequestedAt: t0, State: StateActive}
	if got != want {
		t.Errorf("stored\n got %+v\nwant %+v", got, want)
	}

	// Nothing to do: Ensure only reads.
	f.clk.advance(time.Hour)
	if err := f.sub.Ensure(ctx, "desk", f.hub.srv.URL, topic); err != nil {
		t.Fatal(err)
	}
	if n := f.hub.requestCount(); n != 1 {
		t.Errorf("hub got %d requests after a no-op Ensure, want 1", n)
	}

	body := []byte(`<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>`)
	for _, m := range []string{"sha1", "sha256", "sha384", "sha512"} {
		if code := f.hub.publish(t, cb, m, "", body); code != http.StatusOK {
			t.Errorf("%s push answered %d", m, code)
		}
	}
	pushes := f.dl.all()
	if len(pushes) != 4 {
		t.Fatalf("delivered %d pushes, want 4", len(pushes))
	}
	if p := pushes[0]; p.sourceID != "desk" || p.contentType != "application/atom+xml" || !bytes.Equal(p.body, body) {
		t.Errorf("delivered %+v", p)
	}

	// Forged (wrong key), unsigned and tampered pushes: 2xx, dropped, logged.
	if code := f.hub.publish(t, cb, "sha256", "not-the-secret", body); code/100 != 2 {
		t.Errorf("forged push answered %d, want 2xx", code)
	}
	if code := f.hub.publish(t, cb, "", "", body); code/100 != 2 {
		t.Errorf("unsigned push answered %d, want 2xx", code)
	}
	r, _ := http.NewRequest(http.MethodPost, cb, strings.NewReader("tampered"))
	r.Header.Set("X-Hub-Signature", "sha256="+sign("sha256", f.hub.secret(cb), body))
	if resp, err := http.DefaultClient.Do(r); err != nil || resp.StatusCode/100 != 2 {
		t.Errorf("tampered push: %v %v", resp, err)
	}
	if n := len(f.dl.all()); n != 4 {
		t.Errorf("delivered %d pushes after bad ones, want still 4", n)
	}
	if logs := f.logs.String(); strings.Count(logs, "dropped pushed content") != 3 {
		t.Errorf("want 3 drop warnings, log:\n%s", logs)
	}

	// Unknown source: push and verification both 404.
	if code := f.hub.publish(t, f.sub.CallbackURL("nobody"), "sha256", "k", body); code != http.StatusNotFound {
		t.Errorf("push to unknown source answered %d, want 404", code)
	}
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {"c"}, "hub.lease_seconds": {"60"}}
	if v := f.hub.get(f.sub.CallbackURL("nobody"), q); v.status != http.StatusNotFound {
		t.Errorf("verification for unknown source answered %d, want 404", v.status)
	}
}

// TestVerificationRefused checks the challenge is echoed only for a request
// wirewatch made, for the topic it asked for.
func TestVerificationRefused(t *testing.T) {
	f := newFixture(t, nil)
	f.subscribe(t, "desk", topic)
	cb := f.sub.CallbackURL("desk")
	before := f.store.get(t, "desk")
	for name, q := range map[string]url.Values{
		"other topic":         {"hub.mode": {"subscribe"}, "hub.topic": {"https://evil.example/feed"}, "hub.challenge": {"c"}, "hub.lease_seconds": {"60"}},
		"no topic":            {"hub.mode": {"subscribe"}, "hub.challenge": {"c"}, "hub.lease_seconds": {"60"}},
		"no challenge":        {"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.lease_seconds": {"60"}},
		"bad lease":           {"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {"c"}, "hub.lease_seconds": {"-5"}},
		"unasked unsubscribe": {"hub.mode": {"unsubscribe"}, "hub.topic": {topic}, "hub.challenge": {"c"}},
		"unknown mode":        {"hub.mode": {"publish"}, "hub.topic": {topic}, "hub.challenge": {"c"}},
		"denial other topic":  {"hub.mode": {"denied"}, "hub.topic": {"https://evil.example/feed"}},
	} {
		if v := f.hub.get(cb, q); v.status != http.StatusNotFound || v.body == "c" {
			t.Errorf("%s: answered %d %q, want 404", name, v.status, v.body)
		}
	}
	if after := f.store.get(t, "desk"); after != before {
		t.Errorf("refused verifications changed the subscription:\n%+v\n%+v", before, after)
	}
	// Wrong paths and methods.
	for _, p := range []string{"/websub/", "/websub/a/b", "/elsewhere/desk"} {
		resp, err := http.Get(f.srv.URL + p + "?hub.mode=subscribe&hub.topic=" + url.QueryEscape(topic) + "&hub.challenge=c")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s answered %d, want 404", p, resp.StatusCode)
		}
	}
	r, _ := http.NewRequest(http.MethodPut, cb, nil)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT answered %d, want 405", resp.StatusCode)
	}
}

// TestSyncVerification: a hub that verifies before answering the request
// must find the request already stored.
func TestSyncVerification(t *testing.T) {
	f := newFixture(t, nil)
	f.hub.syncVerify = true
	f.subscribe(t, "desk", topic)
	if s := f.store.get(t, "desk"); s.State != StateActive {
		t.Errorf("state = %q, want active", s.State)
	}
}

// TestEscapedSourceID: ids with slashes and spaces round-trip through the
// callback path.
func TestEscapedSourceID(t *testing.T) {
	f := newFixture(t, nil)
	id := "wire/ap news"
	v := f.subscribe(t, id, topic)
	if want := f.srv.URL + "/websub/wire%2Fap%20news"; v.callback != want {
		t.Errorf("callback = %q, want %q", v.callback, want)
	}
	if code := f.hub.publish(t, v.callback, "sha512", "", []byte("x")); code != http.StatusOK {
		t.Errorf("push answered %d", code)
	}
	if p := f.dl.all(); len(p) != 1 || p[0].sourceID != id {
		t.Errorf("delivered %+v", p)
	}
}

// TestDenied covers both ways a hub says no: an error answer to the
// request, and a hub.mode=denied callback. Either is recorded, and the
// request is repeated only after Retry.
func TestDenied(t *testing.T) {
	t.Run("callback", func(t *testing.T) {
		f := newFixture(t, nil)
		f.hub.deny = "topic not \x1b[31mallowed"
		if err := f.sub.Ensure(context.Background(), "desk", f.hub.srv.URL, topic); err != nil {
			t.Fatal(err)
		}
		v := f.hub.waitVerified(t)
		if v.mode != "denied" || v.status != http.StatusOK {
			t.Errorf("denial answered %d", v.status)
		}
		s := f.store.get(t, "desk")
		if s.State != StateDenied || s.Reason != "topic not [31mallowed" || !s.LeaseUntil.IsZero() {
			t.Errorf("stored %+v", s)
		}
		if code := f.hub.publish(t, v.callback, "sha256", s.Secret, []byte("x")); code != http.StatusNotFound {
			t.Errorf("push to a denied subscription answered %d, want 404", code)
		}
		if len(f.dl.all()) != 0 {
			t.Error("push to a denied subscription was delivered")
		}
	})
	t.Run("answer", func(t *testing.T) {
		f := newFixture(t, nil)
		f.hub.status = http.StatusForbidden
		err := f.sub.Ensure(context.Background(), "desk", f.hub.srv.URL, topic)
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("Ensure = %v, want a 403 error", err)
		}
		s := f.store.get(t, "desk")
		if s.State != StateDenied || !strings.Contains(s.Reason, "403 Forbidden: hub says no to "+topic) {
			t.Errorf("stored %+v", s)
		}
		// Within Retry: nothing is sent. After: asked again, and accepted.
		f.clk.advance(59 * time.Minute)
		if err := f.sub.Ensure(context.Background(), "desk", f.hub.srv.URL, topic); err != nil || f.hub.requestCount() != 1 {
			t.Errorf("Ensure within Retry: %v, %d requests", err, f.hub.requestCount())
		}
		f.hub.status = 0
		f.clk.advance(time.Minute)
		f.subscribe(t, "desk", topic)
		if n := f.hub.requestCount(); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
		if s2 := f.store.get(t, "desk"); s2.State != StateActive || s2.Reason != "" || s2.Secret != s.Secret {
			t.Errorf("after retry: %+v", s2)
		}
	})
}

// TestRenewal: a lease is renewed within RenewBefore of its end, keeping
// the secret and accepting pushes while the renewal is pending.
func TestRenewal(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.subscribe(t, "desk", topic)
	first := f.store.get(t, "desk")

	f.clk.advance(8 * 24 * time.Hour) // 2 days left, RenewBefore is 1 day
	if err := f.sub.renewDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.hub.requestCount(); n != 1 {
		t.Fatalf("renewed with 2 days left: %d requests", n)
	}

	f.hub.silent = true // the renewal stays pending for now
	f.clk.advance(36 * time.Hour)
	if err := f.sub.renewDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.hub.requestCount(); n != 2 {
		t.Fatalf("%d requests after the renewal pass, want 2", n)
	}
	renewal := f.hub.request(1)
	if renewal.Get("hub.secret") != first.Secret || renewal.Get("hub.mode") != "subscribe" {
		t.Errorf("renewal request %v", renewal)
	}
	pending := f.store.get(t, "desk")
	if pending.State != StateActive || pending.LeaseUntil != first.LeaseUntil || !pending.RequestedAt.Equal(f.clk.now()) {
		t.Errorf("pending renewal stored as %+v", pending)
	}
	if code := f.hub.publish(t, f.sub.CallbackURL("desk"), "sha256", first.Secret, []byte("x")); code != http.StatusOK || len(f.dl.all()) != 1 {
		t.Errorf("push during pending renewal: %d, %d delivered", code, len(f.dl.all()))
	}
	// The pending renewal is not re-sent on every pass.
	f.clk.advance(30 * time.Minute)
	if err := f.sub.renewDue(ctx); err != nil || f.hub.requestCount() != 2 {
		t.Errorf("second pass: %v, %d requests", err, f.hub.requestCount())
	}
	// After Retry without verification it is.
	f.hub.silent = false
	f.clk.advance(30 * time.Minute)
	if err := f.sub.renewDue(ctx); err != nil {
		t.Fatal(err)
	}
	f.hub.waitVerified(t)
	now := f.clk.now()
	s := f.store.get(t, "desk")
	if s.State != StateActive || !s.VerifiedAt.Equal(now) || !s.LeaseUntil.Equal(now.Add(10*24*time.Hour)) || s.Secret != first.Secret {
		t.Errorf("after renewal: %+v", s)
	}
	if n := f.hub.requestCount(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// TestLeaseHonoured: the hub's grant, not the request, decides the lease,
// and a short grant is renewed at its half-life.
func TestLeaseHonoured(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.hub.grant = "7200" // 2h, shorter than the 1-day RenewBefore
	f.subscribe(t, "desk", topic)
	if s := f.store.get(t, "desk"); !s.LeaseUntil.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("LeaseUntil = %v, want %v", s.LeaseUntil, t0.Add(2*time.Hour))
	}
	f.clk.advance(59 * time.Minute)
	if err := f.sub.renewDue(ctx); err != nil || f.hub.requestCount() != 1 {
		t.Fatalf("renewed before half-life: %v, %d requests", err, f.hub.requestCount())
	}
	f.clk.advance(time.Minute)
	if err := f.sub.renewDue(ctx); err != nil {
		t.Fatal(err)
	}
	f.hub.waitVerified(t)
	if s := f.store.get(t, "desk"); !s.LeaseUntil.Equal(f.clk.now().Add(2 * time.Hour)) {
		t.Errorf("renewed LeaseUntil = %v", s.LeaseUntil)
	}
	// A missing hub.lease_seconds is taken as the lease asked for.
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {"abc"}}
	if v := f.hub.get(f.sub.CallbackURL("desk"), q); v.status != http.StatusOK || v.body != "abc" {
		t.Errorf("verification without lease: %d %q", v.status, v.body)
	}
	if s := f.store.get(t, "desk"); !s.LeaseUntil.Equal(f.clk.now().Add(DefaultLease)) {
		t.Errorf("LeaseUntil without hub.lease_seconds = %v", s.LeaseUntil)
	}
}

// TestUnverifiedRetried: a request the hub never verifies is sent again
// after Retry by the renewal pass.
func TestUnverifiedRetried(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.hub.silent = true
	if err := f.sub.Ensure(ctx, "desk", f.hub.srv.URL, topic); err != nil {
		t.Fatal(err)
	}
	if s := f.store.get(t, "desk"); s.State != StateRequested {
		t.Fatalf("state = %q", s.State)
	}
	f.clk.advance(59 * time.Minute)
	_ = f.sub.renewDue(ctx)
	if err := f.sub.Ensure(ctx, "desk", f.hub.srv.URL, topic); err != nil || f.hub.requestCount() != 1 {
		t.Fatalf("re-sent before Retry: %v, %d requests", err, f.hub.requestCount())
	}
	f.clk.advance(time.Minute)
	if err := f.sub.renewDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.hub.requestCount(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if f.hub.request(0).Get("hub.secret") != f.hub.request(1).Get("hub.secret") {
		t.Error("re-sent request changed the secret")
	}
}

// TestNewHubNewSecret: a feed that moves to another hub gets a new
// subscription with a new secret; the old secret no longer verifies.
func TestNewHubNewSecret(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.subscribe(t, "desk", topic)
	old := f.store.get(t, "desk")
	hub2 := newTestHub(t)
	t.Cleanup(hub2.wg.Wait)
	if err := f.sub.Ensure(ctx, "desk", hub2.srv.URL, topic); err != nil {
		t.Fatal(err)
	}
	if v := hub2.waitVerified(t); !v.echoed() {
		t.Fatalf("hub2 verification: %+v", v)
	}
	s := f.store.get(t, "desk")
	if s.Hub != hub2.srv.URL || s.Secret == old.Secret || s.State != StateActive {
		t.Errorf("after hub change: %+v", s)
	}
	cb := f.sub.CallbackURL("desk")
	f.hub.publish(t, cb, "sha256", old.Secret, []byte("old"))
	hub2.publish(t, cb, "sha256", "", []byte("new"))
	if p := f.dl.all(); len(p) != 1 || string(p[0].body) != "new" {
		t.Errorf("delivered %+v", p)
	}
}

// TestBodyCap: a push beyond MaxBody is refused with 413 and not delivered.
func TestBodyCap(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxBody = 1024 })
	f.subscribe(t, "desk", topic)
	cb := f.sub.CallbackURL("desk")
	if code := f.hub.publish(t, cb, "sha256", "", bytes.Repeat([]byte("a"), 1025)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized push answered %d, want 413", code)
	}
	if code := f.hub.publish(t, cb, "sha256", "", bytes.Repeat([]byte("a"), 1024)); code != http.StatusOK {
		t.Errorf("push at the cap answered %d, want 200", code)
	}
	if p := f.dl.all(); len(p) != 1 || len(p[0].body) != 1024 {
		t.Errorf("delivered %d pushes", len(p))
	}
}

// TestDeliverFailure: a Deliverer error is answered 500 so the hub retries.
func TestDeliverFailure(t *testing.T) {
	f := newFixture(t, nil)
	f.subscribe(t, "desk", topic)
	f.dl.err = errors.New("database is locked")
	if code := f.hub.publish(t, f.sub.CallbackURL("desk"), "sha256", "", []byte("x")); code != http.StatusInternalServerError {
		t.Errorf("push answered %d, want 500", code)
	}
}

// TestSSRF: with the default policy a hub on a private address is never
// contacted, and the refusal is recorded.
func TestSSRF(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Policy = netguard.Policy{} })
	err := f.sub.Ensure(context.Background(), "desk", f.hub.srv.URL, topic)
	if !errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("Ensure = %v, want netguard.ErrBlocked", err)
	}
	if n := f.hub.requestCount(); n != 0 {
		t.Errorf("blocked hub got %d requests", n)
	}
	if s := f.store.get(t, "desk"); s.State != StateDenied || !strings.Contains(s.Reason, "not allowed") {
		t.Errorf("stored %+v", s)
	}
}

// TestUnsubscribe: the request is verified by the hub, and pushes after it
// are answered 410 so the hub drops the subscription.
func TestUnsubscribe(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.subscribe(t, "desk", topic)
	secret := f.store.get(t, "desk").Secret
	f.clk.advance(time.Hour)
	if err := f.sub.Unsubscribe(ctx, "desk"); err != nil {
		t.Fatal(err)
	}
	v := f.hub.waitVerified(t)
	if v.mode != "unsubscribe" || !v.echoed() {
		t.Errorf("unsubscribe verification: %+v", v)
	}
	req := f.hub.request(1)
	if req.Get("hub.mode") != "unsubscribe" || req.Get("hub.topic") != topic || req.Get("hub.secret") != "" {
		t.Errorf("unsubscribe request %v", req)
	}
	s := f.store.get(t, "desk")
	if s.State != StateUnsubscribed || !s.VerifiedAt.Equal(f.clk.now()) || !s.LeaseUntil.IsZero() {
		t.Errorf("stored %+v", s)
	}
	if code := f.hub.publish(t, f.sub.CallbackURL("desk"), "sha256", secret, []byte("x")); code != http.StatusGone {
		t.Errorf("push after unsubscribe answered %d, want 410", code)
	}
	// A subscribe verification for it is refused now.
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {"c"}, "hub.lease_seconds": {"60"}}
	if v := f.hub.get(f.sub.CallbackURL("desk"), q); v.status != http.StatusNotFound {
		t.Errorf("subscribe verification after unsubscribe answered %d", v.status)
	}
	// Idempotent, and nothing is sent for unknown sources.
	if err := f.sub.Unsubscribe(ctx, "desk"); err != nil {
		t.Fatal(err)
	}
	if err := f.sub.Unsubscribe(ctx, "nobody"); err != nil {
		t.Fatal(err)
	}
	if n := f.hub.requestCount(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	// The source comes back: Ensure subscribes again.
	f.subscribe(t, "desk", topic)
	if s := f.store.get(t, "desk"); s.State != StateActive {
		t.Errorf("resubscribed: %+v", s)
	}
}

// TestRun: Run makes a pass at start and returns nil when cancelled.
func TestRun(t *testing.T) {
	f := newFixture(t, nil)
	f.hub.silent = true
	if err := f.sub.Ensure(context.Background(), "desk", f.hub.srv.URL, topic); err != nil {
		t.Fatal(err)
	}
	f.clk.advance(2 * time.Hour) // the request went unverified
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = f.sub.Run(ctx) })
	deadline := time.Now().Add(10 * time.Second)
	for f.hub.requestCount() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if runErr != nil {
		t.Errorf("Run = %v", runErr)
	}
	if n := f.hub.requestCount(); n != 2 {
		t.Errorf("%d requests, want 2 (the start-up pass re-sends)", n)
	}
}

// TestConcurrentEnsure: the poller and the renewal loop racing send one
// request, not two.
func TestConcurrentEnsure(t *testing.T) {
	f := newFixture(t, nil)
	f.hub.silent = true
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := f.sub.Ensure(context.Background(), "desk", f.hub.srv.URL, topic); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.hub.requestCount(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestInflight: a request still on the wire when Retry has passed (a slow
// hub) is not sent a second time.
func TestInflight(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Retry = time.Minute })
	f.hub.silent = true
	f.hub.hold = make(chan struct{})
	errc := make(chan error, 1)
	go func() { errc <- f.sub.Ensure(context.Background(), "desk", f.hub.srv.URL, topic) }()
	deadline := time.Now().Add(10 * time.Second)
	for f.hub.requestCount() < 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	f.clk.advance(time.Hour)
	// Bounded: were it sent, the held hub would not answer it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := f.sub.Ensure(ctx, "desk", f.hub.srv.URL, topic); err != nil {
		t.Error(err)
	}
	close(f.hub.hold)
	if err := <-errc; err != nil {
		t.Error(err)
	}
	if n := f.hub.requestCount(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestCheckSignature(t *testing.T) {
	body := []byte("payload")
	good := "sha256=" + sign("sha256", "k", body)
	for _, tc := range []struct {
		header, secret string
		ok             bool
	}{
		{good, "k", true},
		{"SHA256=" + strings.ToUpper(sign("sha256", "k", body)), "k", true},
		{"sha1=" + sign("sha1", "k", body), "k", true},
		{"sha384=" + sign("sha384", "k", body), "k", true},
		{"sha512=" + sign("sha512", "k", body), "k", true},
		{good, "other", false},
		{good, "", false},
		{"", "k", false},
		{"sha256", "k", false},
		{"md5=" + sign("sha1", "k", body), "k", false},
		{"sha256=zz", "k", false},
		{"sha256=" + sign("sha256", "k", body)[:10], "k", false},
		{"sha1=" + sign("sha256", "k", body), "k", false},
	} {
		if err := checkSignature(tc.header, body, tc.secret); (err == nil) != tc.ok {
			t.Errorf("checkSignature(%q, secret %q) = %v, want ok=%v", tc.header, tc.secret, err, tc.ok)
		}
	}
}

func TestNewConfig(t *testing.T) {
	base := func() Config {
		return Config{CallbackBase: "https://alerts.example.org/websub", Store: newMemStore(), Deliverer: &recorder{}}
	}
	s, err := New(base())
	if err != nil {
		t.Fatal(err)
	}
	if s.lease != DefaultLease || s.renewBefore != DefaultLease/10 || s.tick != time.Hour || s.retry != time.Hour || s.mount != "/websub/" {
		t.Errorf("defaults: lease %v renew %v tick %v retry %v mount %q", s.lease, s.renewBefore, s.tick, s.retry, s.mount)
	}
	if got := s.CallbackURL("a/b c"); got != "https://alerts.example.org/websub/a%2Fb%20c" {
		t.Errorf("CallbackURL = %q", got)
	}
	c := base()
	c.Lease = 5 * time.Hour
	if s, err := New(c); err != nil || s.renewBefore != time.Hour || s.tick != 30*time.Minute {
		t.Errorf("short lease: %v, renew %v tick %v", err, s.renewBefore, s.tick)
	}
	c = base()
	c.MountPath = "/hooks/websub"
	if s, err := New(c); err != nil || s.mount != "/hooks/websub/" {
		t.Errorf("mount path: %v %q", err, s.mount)
	}
	for name, bad := range map[string]func(*Config){
		"no store":         func(c *Config) { c.Store = nil },
		"no deliverer":     func(c *Config) { c.Deliverer = nil },
		"relative base":    func(c *Config) { c.CallbackBase = "/websub/" },
		"ftp base":         func(c *Config) { c.CallbackBase = "ftp://x/websub/" },
		"query base":       func(c *Config) { c.CallbackBase = "https://x/websub/?a=b" },
		"renew >= lease":   func(c *Config) { c.Lease = time.Hour; c.RenewBefore = time.Hour },
		"relative mount":   func(c *Config) { c.MountPath = "websub/" },
		"negative retry":   func(c *Config) { c.Retry = -time.Second },
		"lease too long":   func(c *Config) { c.Lease = 400 * 24 * time.Hour },
		"negative maxbody": func(c *Config) { c.MaxBody = -1 },
	} {
		c := base()
		bad(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// TestEnsureRefusesBadTargets: nothing is stored or sent for a hub that is
// not an http(s) URL.
func TestEnsureRefusesBadTargets(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for _, tc := range [][3]string{
		{"", f.hub.srv.URL, topic},
		{"desk", "file:///etc/passwd", topic},
		{"desk", "hub.example.org/", topic},
		{"desk", f.hub.srv.URL, ""},
	} {
		if err := f.sub.Ensure(ctx, tc[0], tc[1], tc[2]); err == nil {
			t.Errorf("Ensure%q accepted", tc)
		}
	}
	if subs, _ := f.store.Subscriptions(ctx); len(subs) != 0 {
		t.Errorf("stored %+v", subs)
	}
}

// TestBadSecret: a NewSecret that breaks the spec's limit is refused
// before anything is sent.
func TestBadSecret(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.NewSecret = func() (string, error) { return strings.Repeat("x", 200), nil }
	})
	if err := f.sub.Ensure(context.Background(), "desk", f.hub.srv.URL, topic); err == nil {
		t.Error("Ensure accepted a 200-byte secret")
	}
	if f.hub.requestCount() != 0 {
		t.Error("request sent")
	}
}
