package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wirewatch/alert"
)

// A source that keeps failing is backed off, never given up, shown as
// failed by `wirewatch sources`, and reported once to the webhook that
// opted in to source health; when it comes back, that is reported too.
func TestSourceHealthEndToEnd(t *testing.T) {
	good := &testFeed{}
	good.add("g1", "Xinjiang", "Uyghur")
	goodSrv := serveHTTP(t, good)
	var broken atomic.Bool
	broken.Store(true)
	flaky := &testFeed{}
	flaky.add("f1", "Other news", "nothing")
	flakySrv := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			http.Error(w, "upstream down", http.StatusServiceUnavailable)
			return
		}
		flaky.ServeHTTP(w, r)
	}))
	ops := &receiver{}
	opsSrv := serveHTTP(t, ops)
	cfgPath := writeConfig(t, fmt.Sprintf(`
database: ww.db
allow_private_networks: true
polling: {min_backoff: 1s, max_backoff: 2s, failed_after: 3}
sources:
  - id: good
    url: %s/feed.xml
    every: 1s
  - id: flaky
    url: %s/feed.xml
    every: 1s
topics:
  - id: xj
    query: Xinjiang
webhooks:
  - id: ops
    url: %s/hook
    secret: %s
    topics: [xj]
    source_health: true
`, goodSrv.URL, flakySrv.URL, opsSrv.URL, testSecret))
	srv := startServer(t, cfgPath)

	type healthBody struct {
		Type   string `json:"type"`
		Health struct {
			Source struct{ ID string } `json:"source"`
			State  string              `json:"state"`
			Reason string              `json:"reason"`
		} `json:"health"`
	}
	events := func() []healthBody {
		var out []healthBody
		for _, r := range ops.snapshot() {
			if err := alert.Verify(testSecret, r.header, r.body, time.Now(), 0); err != nil {
				t.Errorf("signature: %v", err)
			}
			var b healthBody
			if json.Unmarshal(r.body, &b) == nil && b.Type == "source.health" {
				out = append(out, b)
			}
		}
		return out
	}
	waitFor(t, "a failed event for the flaky source", 30*time.Second, func() bool { return len(events()) >= 1 })
	ev := events()[0]
	if ev.Health.Source.ID != "flaky" || ev.Health.State != "failed" || ev.Health.Reason != "http-5xx" {
		t.Fatalf("event %+v", ev)
	}

	list := func() map[string]sourceView {
		out, err := exec.Command(binPath, "sources", "--config", cfgPath, "--json").CombinedOutput()
		if err != nil {
			t.Fatalf("sources: %v\n%s", err, out)
		}
		var v struct{ Sources []sourceView }
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		m := map[string]sourceView{}
		for _, s := range v.Sources {
			m[s.ID] = s
		}
		return m
	}
	m := list()
	if f := m["flaky"]; f.State != "failed" || f.Reason != "http-5xx" || f.Failures < 3 || f.NextPoll.IsZero() || !strings.Contains(f.LastError, "503") {
		t.Errorf("flaky = %+v", f)
	}
	if g := m["good"]; g.State != "ok" || g.LastSuccess.IsZero() {
		t.Errorf("good = %+v", g)
	}
	out, _ := exec.Command(binPath, "sources", "--config", cfgPath).CombinedOutput()
	if !strings.Contains(string(out), "failed (http-5xx)") {
		t.Errorf("sources table:\n%s", out)
	}

	broken.Store(false)
	waitFor(t, "the recovery event", 30*time.Second, func() bool { return len(events()) >= 2 })
	if ev := events()[1]; ev.Health.State != "ok" || ev.Health.Source.ID != "flaky" {
		t.Fatalf("recovery event %+v", ev)
	}
	if n := len(events()); n != 2 {
		t.Errorf("%d health events, want 2 (failed once, recovered once)", n)
	}
	srv.stop(t)
}
