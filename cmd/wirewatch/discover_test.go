package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// A source configured with a newsroom's web page rather than its feed is
// polled through the feed the page announces.
func TestSourcePageDiscoversItsFeed(t *testing.T) {
	wire := &testFeed{}
	wire.add("a1", "Xinjiang report", "Uyghur")
	mux := http.NewServeMux()
	mux.Handle("/feed.xml", wire)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><title>Wire</title>
<link rel="alternate" type="application/rss+xml" title="Wire RSS" href="/feed.xml"></head><body>news</body></html>`)
	})
	site := serveHTTP(t, mux)
	cfgPath := writeConfig(t, fmt.Sprintf(`
database: ww.db
allow_private_networks: true
sources:
  - id: wire
    url: %s/
topics:
  - id: xj
    query: Xinjiang
`, site.URL))
	for range 2 {
		if out, err := exec.Command(binPath, "run", "--config", cfgPath, "--wait", "5s").CombinedOutput(); err != nil {
			t.Fatalf("run: %v\n%s", err, out)
		}
	}
	out, err := exec.Command(binPath, "sources", "--config", cfgPath, "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("sources: %v\n%s", err, out)
	}
	var v struct{ Sources []sourceView }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	s := v.Sources[0]
	if s.State != "ok" || s.MovedTo != site.URL+"/feed.xml" || s.LastSuccess.IsZero() || time.Since(s.LastSuccess) > time.Minute {
		t.Fatalf("source = %+v", s)
	}
	wire.mu.Lock()
	defer wire.mu.Unlock()
	if wire.hits != 2 {
		t.Errorf("feed fetched %d times, want 2 (discovered once, then fetched directly)", wire.hits)
	}
}
