package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pgSchema makes a fresh schema in the WIREWATCH_TEST_POSTGRES database
// (with psql, the real client) and returns a DSN that uses it; the schema
// is dropped when the test ends. Without the variable the test is skipped,
// saying so.
func pgSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("WIREWATCH_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("WIREWATCH_TEST_POSTGRES is not set: PostgreSQL failover test skipped")
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql not found: PostgreSQL failover test skipped")
	}
	schema := fmt.Sprintf("ww_failover_%d_%d", os.Getpid(), rand.IntN(1e6))
	psql := func(sql string) {
		t.Helper()
		if out, err := exec.Command("psql", dsn, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql).CombinedOutput(); err != nil {
			t.Fatalf("psql %s: %v\n%s", sql, err, out)
		}
	}
	psql("CREATE SCHEMA " + schema)
	t.Cleanup(func() { psql("DROP SCHEMA " + schema + " CASCADE") })
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema + "&application_name=" + schema
}

// pgDropConnections ends every database connection of the test's schema
// (named by the DSN's application_name), as a database restart would.
func pgDropConnections(t *testing.T, dsn string) {
	t.Helper()
	app := dsn[strings.LastIndex(dsn, "application_name=")+len("application_name="):]
	out, err := exec.Command("psql", os.Getenv("WIREWATCH_TEST_POSTGRES"), "-X", "-q", "-t", "-c",
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '"+app+"'").CombinedOutput()
	if err != nil {
		t.Fatalf("terminate connections: %v\n%s", err, out)
	}
	t.Logf("dropped %s database connections", strings.TrimSpace(string(out)))
}

// feedFarm serves many feeds from one server and logs every request.
type feedFarm struct {
	mu    sync.Mutex
	feeds map[string]*testFeed
	hits  map[string][]time.Time
}

func (f *feedFarm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/")
	f.mu.Lock()
	feed := f.feeds[id]
	f.hits[id] = append(f.hits[id], time.Now())
	f.mu.Unlock()
	if feed == nil {
		http.NotFound(w, r)
		return
	}
	r.URL.Path = "/feed.xml"
	feed.ServeHTTP(w, r)
}

// Three instances share one PostgreSQL database; one is killed with SIGKILL
// mid-work, and later every database connection is dropped (as a database
// restart does). No alert is lost, none arrives under two ids, no source goes
// unpolled for longer than the lease, and no source is polled twice for one
// due time.
func TestFailoverThreeInstancesOnPostgres(t *testing.T) {
	dsn := pgSchema(t)
	const nSources, nItems = 8, 40
	farm := &feedFarm{feeds: map[string]*testFeed{}, hits: map[string][]time.Time{}}
	var srcYAML strings.Builder
	farmSrv := serveHTTP(t, farm)
	for i := range nSources {
		id := fmt.Sprintf("s%d", i)
		farm.feeds[id] = &testFeed{}
		farm.feeds[id].add(id+"-old", "Old story", "nothing")
		fmt.Fprintf(&srcYAML, "  - id: %s\n    url: %s/%s\n    every: 1s\n", id, farmSrv.URL, id)
	}
	desk := &receiver{}
	deskSrv := serveHTTP(t, desk)
	cfgPath := writeConfig(t, fmt.Sprintf(`
allow_private_networks: true
poll_lease: 5s
polling: {per_host: 8}
sources:
%stopics:
  - id: xj
    query: Xinjiang
webhooks:
  - id: desk
    url: %s/hook
    secret: %s
    timeout: 2s
    retry: [1s, 1s, 1s, 1s, 1s]
`, srcYAML.String(), deskSrv.URL, testSecret))
	env := "WIREWATCH_DATABASE=" + dsn
	var instances []*server
	for range 3 {
		instances = append(instances, startServer(t, cfgPath, env))
	}
	waitFor(t, "every source's baseline", 30*time.Second, func() bool {
		farm.mu.Lock()
		defer farm.mu.Unlock()
		for i := range nSources {
			if len(farm.hits[fmt.Sprintf("s%d", i)]) < 2 {
				return false
			}
		}
		return true
	})

	killAt := nItems / 3
	for n := range nItems {
		id := fmt.Sprintf("s%d", n%nSources)
		farm.feeds[id].add(fmt.Sprintf("x%d", n), fmt.Sprintf("Xinjiang story %d", n), "report")
		if n == killAt {
			victim := instances[1]
			victim.cmd.Process.Signal(syscall.SIGKILL)
			<-victim.done
		}
		if n == 2*killAt {
			pgDropConnections(t, dsn)
		}
		time.Sleep(150 * time.Millisecond)
	}

	idsByItem := map[string][]string{}
	collect := func() {
		clear(idsByItem)
		for _, r := range desk.snapshot() {
			var ev struct {
				Item struct{ Title string } `json:"item"`
			}
			if err := json.Unmarshal(r.body, &ev); err != nil {
				t.Fatalf("body %s: %v", r.body, err)
			}
			id := r.header.Get("webhook-id")
			if !slices.Contains(idsByItem[ev.Item.Title], id) {
				idsByItem[ev.Item.Title] = append(idsByItem[ev.Item.Title], id)
			}
		}
	}
	waitFor(t, "every alert", 90*time.Second, func() bool {
		collect()
		return len(idsByItem) >= nItems
	})
	time.Sleep(2 * time.Second) // let stray duplicates arrive, if any
	collect()
	if len(idsByItem) != nItems {
		t.Errorf("%d distinct alerts, want %d", len(idsByItem), nItems)
	}
	for title, ids := range idsByItem {
		if len(ids) != 1 {
			t.Errorf("%q arrived under %d ids: %v", title, len(ids), ids)
		}
	}
	// Polls: never two of one source less than half a period apart (one
	// poll per due time), and no gap longer than the lease plus a period
	// and some slack (the dead instance's lease runs out, then another
	// instance takes the source over).
	farm.mu.Lock()
	defer farm.mu.Unlock()
	for id, hits := range farm.hits {
		for i := 1; i < len(hits); i++ {
			gap := hits[i].Sub(hits[i-1])
			if gap < 400*time.Millisecond {
				t.Errorf("source %s polled twice %v apart (at %v)", id, gap, hits[i].Format("15:04:05.000"))
			}
			if gap > 5*time.Second+time.Second+3*time.Second {
				t.Errorf("source %s unpolled for %v (until %v)", id, gap, hits[i].Format("15:04:05.000"))
			}
		}
	}
	for _, s := range []*server{instances[0], instances[2]} {
		s.stop(t)
	}
}
