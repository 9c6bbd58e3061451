package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"wirewatch/alert"
)

// Noise control end to end, through the real binary and its SQLite outbox:
// a burst over the rate limit sends the first alerts one by one and the
// rest as one signed digest once the window has passed; nothing is lost,
// and the CLI shows where each alert went.
func TestRateLimitDigestEndToEnd(t *testing.T) {
	wire := &testFeed{}
	wire.add("old", "Xinjiang: earlier coverage", "Uyghur rights groups.")
	src := serveHTTP(t, wire)
	desk := &receiver{}
	deskSrv := serveHTTP(t, desk)
	cfgPath := writeConfig(t, fmt.Sprintf(`
database: ww.db
allow_private_networks: true
sources:
  - id: wire
    url: %s/feed.xml
    every: 1s
topics:
  - id: xj
    query: 'Uyghur*'
  - id: breaking
    query: 'Bachelet'
webhooks:
  - id: desk
    url: %s/hook
    secret: %s
    rate_limit: 2/3s
    urgent: {topics: [breaking]}
`, src.URL, deskSrv.URL, testSecret))
	srv := startServer(t, cfgPath)
	waitFor(t, "the baseline poll", 20*time.Second, func() bool {
		return strings.Contains(srv.logText(), "baseline")
	})

	for i := range 5 {
		wire.add(fmt.Sprintf("n%d", i), fmt.Sprintf("Uyghur story %d", i), "Detentions in the region.")
	}
	wire.add("urgent", "Bachelet responds", "The rights chief answered critics.")
	waitFor(t, "two alerts, the urgent one and a digest of three", 30*time.Second, func() bool {
		return len(desk.snapshot()) >= 4
	})
	time.Sleep(500 * time.Millisecond) // nothing more may come
	reqs := desk.snapshot()
	var singles, digests []string
	var digestAlerts []string
	for _, r := range reqs {
		if err := alert.Verify(testSecret, r.header, r.body, time.Now(), 0); err != nil {
			t.Errorf("signature: %v", err)
		}
		var v struct {
			Type  string `json:"type"`
			Topic struct {
				ID string `json:"id"`
			} `json:"topic"`
			Item struct {
				Title string `json:"title"`
			} `json:"item"`
			Digest *alert.EventDigest `json:"digest"`
		}
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Fatalf("body %s: %v", r.body, err)
		}
		switch v.Type {
		case "digest":
			digests = append(digests, r.header.Get("webhook-id"))
			if !slices.Equal(v.Digest.Reasons, []string{"rate_limit"}) || v.Digest.Count != len(v.Digest.Alerts) {
				t.Errorf("digest %+v", v.Digest)
			}
			for _, a := range v.Digest.Alerts {
				digestAlerts = append(digestAlerts, a.Item.Title)
			}
		default:
			singles = append(singles, v.Item.Title)
		}
	}
	all := append(append([]string(nil), singles...), digestAlerts...)
	slices.Sort(all)
	want := []string{"Bachelet responds", "Uyghur story 0", "Uyghur story 1", "Uyghur story 2", "Uyghur story 3", "Uyghur story 4"}
	if len(digests) != 1 || len(singles) != 3 || !slices.Contains(singles, "Bachelet responds") || !slices.Equal(all, want) {
		t.Fatalf("singles %q, digests %d with %q; every alert exactly once: %q", singles, len(digests), digestAlerts, all)
	}

	out, err := exec.Command(binPath, "deliveries", "--config", cfgPath, "--status", "digested", "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("deliveries: %v\n%s", err, out)
	}
	var listed struct {
		Deliveries []struct {
			Status, HoldReason, Digest string
		} `json:"deliveries"`
	}
	if err := json.Unmarshal(out, &listed); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(listed.Deliveries) != 3 {
		t.Fatalf("digested deliveries: %s", out)
	}
	for _, d := range listed.Deliveries {
		if d.Digest != digests[0] {
			t.Errorf("digested row in %q, the receiver got digest %q", d.Digest, digests[0])
		}
	}
	srv.stop(t)
}
