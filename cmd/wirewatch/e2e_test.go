package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wirewatch/alert"
)

// binPath is the real wirewatch binary, built once by TestMain.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wirewatch-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "wirewatch")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building wirewatch:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testFeed is a mutable RSS source served over real HTTP, with ETags.
type testFeed struct {
	mu      sync.Mutex
	items   []feedItem
	hits    int
	version int
}

type feedItem struct{ guid, title, desc string }

func (f *testFeed) add(guid, title, desc string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = append(f.items, feedItem{guid, title, desc})
	f.version++
}

// retitle changes an item's headline, as a publisher's correction does.
func (f *testFeed) retitle(guid, title string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.items {
		if f.items[i].guid == guid {
			f.items[i].title = title
		}
	}
	f.version++
}

func (f *testFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/feed.xml" {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits++
	etag := fmt.Sprintf(`"v%d"`, f.version)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test Wire</title><link>http://wire.test/</link><description>t</description>`)
	for i := len(f.items) - 1; i >= 0; i-- {
		it := f.items[i]
		fmt.Fprintf(&b, `<item><title>%s</title><link>http://wire.test/%s</link><guid>%s</guid><description>%s</description><pubDate>%s</pubDate></item>`,
			it.title, it.guid, it.guid, it.desc, time.Date(2026, 11, 1, 0, i, 0, 0, time.UTC).Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	w.Header().Set("ETag", etag)
	io.WriteString(w, b.String())
}

// serveHTTP starts a local HTTP server for the test and stops it after.
func serveHTTP(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// writeConfig writes a config file into a fresh temporary directory (its
// relative database path lands there too) and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ww.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// receiver records every webhook request; fail makes the first N answer
// failStatus (500 when unset).
type receiver struct {
	mu         sync.Mutex
	reqs       []received
	fail       int
	failStatus int
}

type received struct {
	header http.Header
	body   []byte
	status int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	status := http.StatusOK
	if rc.fail > 0 {
		rc.fail--
		status = cmp.Or(rc.failStatus, http.StatusInternalServerError)
	}
	rc.reqs = append(rc.reqs, received{r.Header.Clone(), body, status})
	rc.mu.Unlock()
	w.WriteHeader(status)
}

func (rc *receiver) snapshot() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// server is a running wirewatch subprocess.
type server struct {
	cmd    *exec.Cmd
	addr   string
	logs   *bytes.Buffer
	logsMu *sync.Mutex
	done   chan error
}

var listenRE = regexp.MustCompile(`wirewatch serving.*listen=(\S+)`)

func startServer(t *testing.T, cfgPath string, extraEnv ...string) *server {
	t.Helper()
	return startServerAt(t, cfgPath, "127.0.0.1:0", extraEnv...)
}

// startServerAt starts the server listening on listen, for tests whose
// config must know the address (base_url).
func startServerAt(t *testing.T, cfgPath, listen string, extraEnv ...string) *server {
	t.Helper()
	cmd := exec.Command(binPath, "serve", "--config", cfgPath, "--listen", listen)
	cmd.Env = append(os.Environ(), extraEnv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &bytes.Buffer{}, logsMu: &sync.Mutex{}, done: make(chan error, 1)}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.logsMu.Lock()
			s.logs.WriteString(line + "\n")
			s.logsMu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				addrCh <- m[1]
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case s.addr = <-addrCh:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start; logs:\n%s", s.logText())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

func (s *server) logText() string {
	s.logsMu.Lock()
	defer s.logsMu.Unlock()
	return s.logs.String()
}

// stop sends SIGTERM and expects a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("server exited with %v after SIGTERM; logs:\n%s", err, s.logText())
		}
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("server did not stop on SIGTERM; logs:\n%s", s.logText())
	}
}

func (s *server) get(t *testing.T, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestEndToEnd(t *testing.T) {
	wire := &testFeed{}
	wire.add("a1", "Bachelet visit to Xinjiang draws criticism", "Uyghur groups say the human rights chief was shown a staged tour.")
	wire.add("a2", "Cotton prices rise", "Xinjiang cotton harvest is large this year.")
	src := serveHTTP(t, wire)

	desk := &receiver{}
	deskSrv := serveHTTP(t, desk)
	flaky := &receiver{fail: 2}
	flakySrv := serveHTTP(t, flaky)

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ww.yaml")
	cfg := fmt.Sprintf(`
database: ww.db
base_url: http://feeds.test
allow_private_networks: true
sources:
  - id: wire
    url: %s/feed.xml
    every: 1s
topics:
  - id: xinjiang-report
    title: UN report on human rights in Xinjiang
    query: '(Xinjiang OR Uyghur* OR Uighur*) AND ("human rights" OR "crimes against humanity" OR Bachelet)'
webhooks:
  - id: desk
    url: %s/hook
    format: json
    secret: ${DESK_SECRET}
  - id: flaky
    url: %s/hook
    format: json
    secret: ${DESK_SECRET}
    retry: [300ms, 300ms, 300ms]
`, src.URL, deskSrv.URL, flakySrv.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	envSecret := "DESK_SECRET=" + testSecret

	srv := startServer(t, cfgPath, envSecret)

	// 1. The first fetch is a baseline: the matching item fills the feed,
	// nothing is alerted.
	waitFor(t, "baseline item in the RSS feed", 20*time.Second, func() bool {
		_, body, _ := srv.get(t, "/feeds/xinjiang-report.rss")
		return strings.Contains(body, "Bachelet visit to Xinjiang")
	})
	if n := len(desk.snapshot()) + len(flaky.snapshot()); n != 0 {
		t.Fatalf("baseline sent %d webhooks, want 0", n)
	}

	// 2. A new matching item and a new non-matching one.
	wire.add("a3", "UN says abuses against Uyghurs may be crimes against humanity", "The OHCHR assessment of Xinjiang was published late on Wednesday.")
	wire.add("a4", "Xinjiang earthquake", "A magnitude 5 earthquake struck near Kashgar; no casualties.")
	waitFor(t, "alert at desk", 20*time.Second, func() bool { return len(desk.snapshot()) >= 1 })
	waitFor(t, "alert at flaky receiver after two 500s", 20*time.Second, func() bool {
		rs := flaky.snapshot()
		return len(rs) >= 3 && rs[len(rs)-1].status == http.StatusOK
	})

	for _, path := range []string{"/feeds/xinjiang-report.rss", "/feeds/xinjiang-report.atom", "/feeds/xinjiang-report.json"} {
		code, body, hdr := srv.get(t, path)
		if code != 200 {
			t.Fatalf("%s: status %d", path, code)
		}
		if !strings.Contains(body, "crimes against humanity") {
			t.Errorf("%s lacks the new matching item", path)
		}
		if strings.Contains(body, "earthquake") || strings.Contains(body, "Cotton") {
			t.Errorf("%s contains a non-matching item", path)
		}
		if hdr.Get("ETag") == "" {
			t.Errorf("%s has no ETag", path)
		}
	}

	checkSigned := func(name string, r received) (id string, ev alert.Event) {
		t.Helper()
		if err := alert.Verify(testSecret, r.header, r.body, time.Now(), 0); err != nil {
			t.Fatalf("%s: signature does not verify: %v", name, err)
		}
		if err := json.Unmarshal(r.body, &ev); err != nil {
			t.Fatalf("%s: body is not JSON: %v", name, err)
		}
		return r.header.Get("webhook-id"), ev
	}
	// Give any erroneous extra delivery a moment to show up.
	time.Sleep(1500 * time.Millisecond)
	deskReqs := desk.snapshot()
	if len(deskReqs) != 1 {
		t.Fatalf("desk got %d webhooks, want exactly 1", len(deskReqs))
	}
	deskID, ev := checkSigned("desk", deskReqs[0])
	if ev.Type != "match.created" || ev.Topic.ID != "xinjiang-report" || !strings.Contains(ev.Item.Title, "crimes against humanity") {
		t.Errorf("event = %+v", ev)
	}
	if len(ev.MatchedTerms) == 0 {
		t.Error("event has no matched_terms")
	}
	flakyReqs := flaky.snapshot()
	if len(flakyReqs) != 3 {
		t.Fatalf("flaky receiver got %d requests, want 3 (500, 500, 200)", len(flakyReqs))
	}
	var flakyID string
	for i, r := range flakyReqs {
		id, _ := checkSigned("flaky", r)
		if i == 0 {
			flakyID = id
		} else if id != flakyID {
			t.Errorf("attempt %d has webhook-id %q, want the same %q as attempt 1", i+1, id, flakyID)
		}
	}
	if flakyID == deskID {
		t.Error("two webhooks share one webhook-id; want one per (match, webhook)")
	}

	// 3. A restart sends nothing twice.
	srv.stop(t)
	srv = startServer(t, cfgPath, envSecret)
	hitsBefore := func() int { wire.mu.Lock(); defer wire.mu.Unlock(); return wire.hits }()
	waitFor(t, "polls after restart", 20*time.Second, func() bool {
		wire.mu.Lock()
		defer wire.mu.Unlock()
		return wire.hits >= hitsBefore+2
	})
	time.Sleep(time.Second)
	if n := len(desk.snapshot()); n != 1 {
		t.Errorf("after restart desk has %d webhooks, want still 1", n)
	}
	if n := len(flaky.snapshot()); n != 3 {
		t.Errorf("after restart flaky has %d requests, want still 3", n)
	}

	// The API reports the source as healthy and the deliveries as delivered.
	_, body, _ := srv.get(t, "/api/sources")
	if !strings.Contains(body, `"state": "ok"`) {
		t.Errorf("/api/sources = %s", body)
	}
	_, body, _ = srv.get(t, "/api/deliveries?status=delivered")
	if strings.Count(body, `"status": "delivered"`) != 2 {
		t.Errorf("/api/deliveries = %s", body)
	}
	if code, body, _ := srv.get(t, "/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("/healthz = %d %q", code, body)
	}
	srv.stop(t)
}

func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("sources:\n  - id: a\n    url: nope\ntopics:\n  - id: t\n    query: '(a'\nwebhooks:\n  - id: w\n    url: https://x.example/h\n    secret: ${NOPE_NOT_SET}\n"), 0o600)
	out, err := exec.Command(binPath, "check", "--config", bad).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("check on a bad config: err %v, want exit status 2; output:\n%s", err, out)
	}
	for _, want := range []string{"bad.yaml:3:10", "bad.yaml:6:", "NOPE_NOT_SET"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	cmd := exec.Command(binPath, "check", "--config", "../../examples/xinjiang-report.yaml")
	cmd.Env = append(os.Environ(), "DESK_WEBHOOK_SECRET="+testSecret, "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T/B/X")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("example config fails check: %v\n%s", err, out)
	}

	for _, c := range []string{"serve", "run", "check", "demo", "match", "terms", "deliveries", "deliveries retry", "webhooks", "webhooks enable"} {
		out, err := exec.Command(binPath, append(strings.Fields(c), "--help")...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage: wirewatch "+c) {
			t.Errorf("%s --help: %v\n%s", c, err, out)
		}
	}
}

func TestRunCommandPollsOnceAndDelivers(t *testing.T) {
	wire := &testFeed{}
	wire.add("b1", "Uyghur activists welcome the human rights report", "Exiles in Istanbul.")
	src := serveHTTP(t, wire)
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, "<html><body>\x00 this is not a feed")
	}))
	defer garbage.Close()
	desk := &receiver{}
	deskSrv := serveHTTP(t, desk)
	cfgPath := writeConfig(t, fmt.Sprintf(`
database: ww.db
allow_private_networks: true
sources:
  - id: wire
    url: %s/feed.xml
  - id: broken
    url: %s/missing.xml
  - id: garbage
    url: %s/feed.xml
topics:
  - id: xj
    query: 'Uyghur* AND "human rights"'
webhooks:
  - id: desk
    url: %s/hook
    secret: %s
`, src.URL, src.URL, garbage.URL, deskSrv.URL, testSecret))

	run := func() (string, int) {
		out, err := exec.Command(binPath, "run", "--config", cfgPath, "--wait", "10s").CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	out, code := run()
	// The broken and garbage sources fail with their reasons; the good one
	// is processed all the same.
	if code != 1 || !strings.Contains(out, "baseline") ||
		!regexp.MustCompile(`broken\s+FAILED.*404`).MatchString(out) ||
		!regexp.MustCompile(`garbage\s+FAILED.*parse`).MatchString(out) {
		t.Fatalf("first run: exit %d, output:\n%s", code, out)
	}
	wire.add("b2", "Uyghur forced labour: new human rights sanctions", "Import ban widened.")
	out, _ = run()
	if !strings.Contains(out, "1 alerts") {
		t.Errorf("second run output:\n%s", out)
	}
	if n := len(desk.snapshot()); n != 1 {
		t.Fatalf("desk got %d alerts, want 1", n)
	}
	out, _ = run()
	if n := len(desk.snapshot()); n != 1 {
		t.Fatalf("third run re-sent: desk has %d alerts; output:\n%s", n, out)
	}
}
