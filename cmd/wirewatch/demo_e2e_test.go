package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDemoDeliversAndExplains runs the quick start's first command as a
// newcomer would ('wirewatch demo', on a free port and a faster clock):
// the banner names the web page, a matching sample item arrives at the
// local receiver with its signature verified, the "why" page explains
// that item as alerted, and Ctrl-C stops everything cleanly.
func TestDemoDeliversAndExplains(t *testing.T) {
	cmd := exec.Command(binPath, "demo", "--listen", "127.0.0.1:0", "--interval", "500ms", "--every", "1s", "--dir", t.TempDir())
	cmd.Env = os.Environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		out strings.Builder
	)
	lines := make(chan string, 1024)
	go func() { // ends when the demo closes its output
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		return out.String()
	}

	webRE := regexp.MustCompile(`web page\s+(http://\S+)/\s`)
	alertRE := regexp.MustCompile(`\[receiver\] ALERT ✔ signature verified`)
	var base, title string
	deadline := time.After(60 * time.Second)
	for title == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the demo ended early:\n%s", output())
			}
			if m := webRE.FindStringSubmatch(l + " "); m != nil {
				base = m[1]
			}
			if alertRE.MatchString(l) {
				// The next line names the alerted item: "title"  (source)
				if next, ok := <-lines; ok {
					if i, j := strings.Index(next, `"`), strings.LastIndex(next, `"`); i >= 0 && j > i {
						title = next[i+1 : j]
					}
				}
			}
		case <-deadline:
			t.Fatalf("no verified alert within 60 s:\n%s", output())
		}
	}
	if base == "" || !strings.Contains(output(), "why didn't I get this? "+base+"/why") {
		t.Fatalf("the banner does not name the web page and the why page:\n%s", output())
	}

	// The why page explains the alerted item, asked by its link as the
	// topic feed gives it.
	srv := &server{addr: strings.TrimPrefix(base, "http://")}
	status, body, _ := srv.get(t, "/feeds/xinjiang-report.json")
	var feed struct {
		Items []struct {
			Title string `json:"title"`
			URL   string `json:"url"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &feed); status != 200 || err != nil {
		t.Fatalf("topic feed: status %d, %v", status, err)
	}
	var itemLink string
	for _, it := range feed.Items {
		if it.Title == title {
			itemLink = it.URL
		}
	}
	if itemLink == "" {
		t.Fatalf("the alerted item %q is not in the topic feed:\n%s", title, body)
	}
	status, page, _ := srv.get(t, "/why?item="+url.QueryEscape(itemLink))
	if status != 200 || !strings.Contains(page, "What wirewatch did:") || !strings.Contains(page, "and alerted:") {
		t.Errorf("GET /why for %s: status %d:\n%s", itemLink, status, page)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	stopped = true
	if err := cmd.Wait(); err != nil {
		t.Errorf("the demo did not stop cleanly on Ctrl-C: %v\n%s", err, output())
	}
}
