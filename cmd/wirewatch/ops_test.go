package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestOperationsGoneReceiverDisableEnableReplay walks the operator's path
// through the real binary: a receiver that answers 410 Gone disables its
// webhook (alerts wait, none is lost), the operator sees it, enables the
// webhook, replays the refused delivery, and everything arrives.
func TestOperationsGoneReceiverDisableEnableReplay(t *testing.T) {
	wire := &testFeed{}
	wire.add("o1", "Baseline item about Uyghur rights", "x")
	src := serveHTTP(t, wire)
	var status atomic.Int32
	status.Store(http.StatusGone)
	desk := &receiver{}
	deskSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := int(status.Load()); code != http.StatusOK {
			w.WriteHeader(code)
			return
		}
		desk.ServeHTTP(w, r)
	}))
	defer deskSrv.Close()

	cfg := writeConfig(t, fmt.Sprintf(`
database: ww.db
allow_private_networks: true
sources:
  - id: wire
    url: %s/feed.xml
topics:
  - id: t
    query: 'Uyghur*'
webhooks:
  - id: desk
    url: %s/hook
    secret: %s
    retry: [100ms]
`, src.URL, deskSrv.URL, testSecret))

	if out, code := runBin(t, nil, "run", "--config", cfg); code != 0 {
		t.Fatalf("baseline run: exit %d\n%s", code, out)
	}
	wire.add("o2", "Uyghur exiles testify", "first alert")
	wire.add("o3", "Uyghur imams detained", "second alert")
	out, code := runBin(t, nil, "run", "--config", cfg, "--wait", "2s")
	if code != 1 || !strings.Contains(out, "1 alert(s) still pending") {
		t.Fatalf("run against a 410 receiver: exit %d, want 1 with one alert pending\n%s", code, out)
	}

	out, _ = runBin(t, nil, "webhooks", "--config", cfg, "--json")
	var hooks struct {
		Webhooks []webhookView `json:"webhooks"`
	}
	if err := json.Unmarshal([]byte(out), &hooks); err != nil {
		t.Fatalf("webhooks --json: %v\n%s", err, out)
	}
	if len(hooks.Webhooks) != 1 || hooks.Webhooks[0].State != "disabled" || !strings.Contains(hooks.Webhooks[0].DisabledReason, "410") {
		t.Fatalf("webhook health = %+v, want disabled for 410", hooks.Webhooks)
	}
	out, _ = runBin(t, nil, "deliveries", "--config", cfg, "--status", "failed")
	if !strings.Contains(out, "failed") || strings.Count(out, "msg_") != 1 {
		t.Fatalf("deliveries --status failed:\n%s", out)
	}

	status.Store(http.StatusOK)
	if out, code := runBin(t, nil, "webhooks", "enable", "--config", cfg, "desk"); code != 0 {
		t.Fatalf("webhooks enable: exit %d\n%s", code, out)
	}
	if out, code := runBin(t, nil, "deliveries", "retry", "--config", cfg, "--failed"); code != 0 || !strings.Contains(out, "1 delivery queued again") {
		t.Fatalf("deliveries retry --failed: exit %d\n%s", code, out)
	}
	if out, code := runBin(t, nil, "run", "--config", cfg, "--wait", "5s"); code != 0 {
		t.Fatalf("run after enabling: exit %d\n%s", code, out)
	}
	got := desk.snapshot()
	if len(got) != 2 {
		t.Fatalf("receiver got %d alerts, want 2", len(got))
	}
	// Order is kept: the replayed (older) alert arrives first.
	var first struct {
		Item struct{ Title string } `json:"item"`
	}
	json.Unmarshal(got[0].body, &first)
	if first.Item.Title != "Uyghur exiles testify" {
		t.Errorf("first alert after replay = %q, want the older one", first.Item.Title)
	}
	out, _ = runBin(t, nil, "deliveries", "--config", cfg, "--status", "delivered", "--json")
	if strings.Count(out, `"status": "delivered"`) != 2 {
		t.Errorf("deliveries --status delivered:\n%s", out)
	}
	if out, code := runBin(t, nil, "deliveries", "retry", "--config", cfg); code != 2 {
		t.Errorf("retry with no selection: exit %d, want 2\n%s", code, out)
	}
}
