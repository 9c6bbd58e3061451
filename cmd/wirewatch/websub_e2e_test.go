package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testHub is a WebSub hub: it accepts subscriptions, verifies the
// subscriber's intent by calling its callback back with a challenge, and
// pushes content signed with the subscriber's secret.
type testHub struct {
	mu       sync.Mutex
	callback string
	secret   string
	topic    string
	verified bool
	err      error
}

func (h *testHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Form.Get("hub.mode") != "subscribe" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.callback, h.secret, h.topic = r.Form.Get("hub.callback"), r.Form.Get("hub.secret"), r.Form.Get("hub.topic")
	h.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	go h.verify() // as real hubs do, after answering
}

func (h *testHub) verify() {
	h.mu.Lock()
	cb, topic := h.callback, h.topic
	h.mu.Unlock()
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {"ch4ll3nge"}, "hub.lease_seconds": {"864000"}}
	resp, err := http.Get(cb + "?" + q.Encode())
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.err = err
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	h.verified = resp.StatusCode == 200 && string(body) == "ch4ll3nge"
	if !h.verified {
		h.err = fmt.Errorf("verification answered %d %q", resp.StatusCode, body)
	}
}

func (h *testHub) push(t *testing.T, body string, secret string) int {
	t.Helper()
	h.mu.Lock()
	cb := h.callback
	h.mu.Unlock()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	req, _ := http.NewRequest(http.MethodPost, cb, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/rss+xml")
	req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A feed that advertises a hub is subscribed to; content the hub pushes is
// alerted at once, long before the next poll; a push with a bad signature
// is dropped.
func TestWebSubPushEndToEnd(t *testing.T) {
	hub := &testHub{}
	hubSrv := serveHTTP(t, hub)
	wire := &testFeed{}
	wire.add("a1", "Old news", "nothing here")
	var feedURL string
	feedSrv := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Link", fmt.Sprintf(`<%s/>; rel="hub", <%s>; rel="self"`, hubSrv.URL, feedURL))
		wire.ServeHTTP(w, r)
	}))
	feedURL = feedSrv.URL + "/feed.xml"
	desk := &receiver{}
	deskSrv := serveHTTP(t, desk)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfgPath := writeConfig(t, fmt.Sprintf(`
database: ww.db
allow_private_networks: true
base_url: http://%s
websub: {enabled: true}
sources:
  - id: wire
    url: %s
    every: 1h
topics:
  - id: xj
    query: Xinjiang
webhooks:
  - id: desk
    url: %s/hook
    secret: %s
`, addr, feedURL, deskSrv.URL, testSecret))
	srv := startServerAt(t, cfgPath, addr)
	waitFor(t, "the hub to verify the subscription", 30*time.Second, func() bool {
		hub.mu.Lock()
		defer hub.mu.Unlock()
		if hub.err != nil {
			t.Fatalf("hub: %v", hub.err)
		}
		return hub.verified
	})
	if hub.topic != feedURL {
		t.Errorf("subscribed to topic %q, want the feed's self link %q", hub.topic, feedURL)
	}

	pushed := `<?xml version="1.0"?><rss version="2.0"><channel><title>Test Wire</title><link>http://wire.test/</link><description>t</description>` +
		`<item><title>Xinjiang camps: UN report published</title><link>http://wire.test/p1</link><guid>p1</guid><description>pushed</description></item></channel></rss>`
	if code := hub.push(t, strings.Replace(pushed, "p1", "forged", -1), "not-the-secret"); code/100 != 2 {
		t.Errorf("forged push answered %d, want 2xx (and dropped)", code)
	}
	if code := hub.push(t, pushed, hub.secret); code/100 != 2 {
		t.Fatalf("push answered %d", code)
	}
	waitFor(t, "the pushed item's alert", 10*time.Second, func() bool { return len(desk.snapshot()) >= 1 })
	time.Sleep(300 * time.Millisecond)
	reqs := desk.snapshot()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].body), "UN report published") {
		t.Fatalf("desk got %d alerts: %s", len(reqs), reqs[0].body)
	}
	if strings.Contains(srv.logText(), "forged") && !strings.Contains(srv.logText(), "signature") {
		t.Errorf("forged push not reported in the log")
	}
	srv.stop(t)
}
