package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"wirewatch/alert"
	"wirewatch/news"
)

// interopResults is what scripts/interop/receiver.mjs reports at GET /results.
type interopResults struct {
	Requests   int `json:"requests"`
	Verified   int `json:"verified"`
	Deliveries []struct {
		Hook   string `json:"hook"`
		ID     string `json:"id"`
		OK     bool   `json:"ok"`
		Type   string `json:"type"`
		ItemID string `json:"itemId"`
		Checks []struct {
			Secret int    `json:"secret"`
			OK     bool   `json:"ok"`
			Reason string `json:"reason"`
		} `json:"checks"`
	} `json:"deliveries"`
	Failures []struct {
		Hook   string `json:"hook"`
		ID     string `json:"id"`
		Secret int    `json:"secret"`
		Reason string `json:"reason"`
	} `json:"failures"`
}

// nodeReceiver is a running scripts/interop/receiver.mjs.
type nodeReceiver struct {
	url  string
	logs *bytes.Buffer
}

var nodeListenRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// startNodeReceiver starts the reference-library receiver in dir with the
// given secrets per hook name. Its stdin is a pipe held open by the test:
// the receiver exits when the pipe closes, so a crashed test leaves no
// node process behind.
func startNodeReceiver(t *testing.T, dir string, secrets map[string][]string) *nodeReceiver {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("WIREWATCH_INTEROP_DIR is set but node is not on PATH: %v", err)
	}
	js, err := json.Marshal(secrets)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nodeBin, "receiver.mjs", "0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "INTEROP_SECRETS="+string(js))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	urlCh := make(chan string, 1)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := nodeListenRE.FindStringSubmatch(sc.Text()); m != nil {
				urlCh <- m[1]
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	nr := &nodeReceiver{logs: &stderr}
	select {
	case nr.url = <-urlCh:
	case <-done:
		t.Fatalf("node receiver exited before listening:\n%s", stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("node receiver did not start:\n%s", stderr.String())
	}
	return nr
}

func (nr *nodeReceiver) results(t *testing.T) interopResults {
	t.Helper()
	resp, err := http.Get(nr.url + "/results")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r interopResults
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decoding /results: %v", err)
	}
	return r
}

// post sends body with the given headers to the receiver's hook and
// returns the status code.
func (nr *nodeReceiver) post(t *testing.T, hook string, h http.Header, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, nr.url+"/hooks/"+hook, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func interopSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// TestStandardWebhooksInterop checks the real binary's signed deliveries
// with the reference JavaScript implementation of Standard Webhooks, for a
// webhook with one secret and one in a rotation window (two secrets, each of
// which must verify on its own). It also makes sure the JavaScript side
// rejects what it should, so a receiver that accepted everything would fail
// the test rather than pass it.
func TestStandardWebhooksInterop(t *testing.T) {
	dir := os.Getenv("WIREWATCH_INTEROP_DIR")
	if dir == "" {
		t.Skip("set WIREWATCH_INTEROP_DIR to the absolute path of scripts/interop after `npm ci` there " +
			"to verify signatures with the reference standardwebhooks library (.ci/run does)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks", "package.json")); err != nil {
		t.Fatalf("WIREWATCH_INTEROP_DIR=%s has no node_modules/standardwebhooks (run `npm ci` there): %v", dir, err)
	}

	deskSecret := testSecret
	rotation := []string{interopSecret(t), interopSecret(t)}
	nr := startNodeReceiver(t, dir, map[string][]string{
		"desk":    {deskSecret},
		"rotated": rotation,
	})

	wire := &testFeed{}
	wire.add("seed", "Weather", "Sunny.") // baselined: never alerted
	src := httptest.NewServer(wire)
	defer src.Close()

	cfgDir := t.TempDir()
	cfgPath := filepath.Join(cfgDir, "ww.yaml")
	cfg := fmt.Sprintf(`
database: ww.db
allow_private_networks: true
sources:
  - id: wire
    url: %s/feed.xml
topics:
  - id: xj
    title: Xinjiang
    query: 'Uyghur* OR Xinjiang'
webhooks:
  - id: desk
    url: %s/hooks/desk
    format: json
    secret: %s
    retry: [200ms]
  - id: rotated
    url: %s/hooks/rotated
    format: json
    secrets: [%s, %s]
    retry: [200ms]
`, src.URL, nr.url, deskSecret, nr.url, rotation[0], rotation[1])
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() string {
		t.Helper()
		out, err := exec.Command(binPath, "run", "--config", cfgPath, "--wait", "20s").CombinedOutput()
		if err != nil {
			t.Fatalf("wirewatch run: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := run(); !strings.Contains(out, "baseline") {
		t.Fatalf("first run is not a baseline:\n%s", out)
	}

	// Titles with quotes, ampersands and non-ASCII text: the bytes signed
	// must be the bytes sent, whatever the JSON encoder escapes.
	const n = 5
	titles := []string{
		`Uyghur scholars "disappeared", report says`,
		"Xinjiang cotton & forced labour: new sanctions",
		"Uyghur-Sprache: Verbot an Schulen in Ürümqi",
		"Xinjiang 新疆 report published <today>",
		"Uyghur diaspora in Istanbul — a photo essay 📷",
	}
	want := map[string]bool{}
	for i := range n {
		guid := fmt.Sprintf("interop-%d", i)
		wire.add(guid, xmlEscape(titles[i]), "Item "+guid)
		want[news.ItemID("wire", guid)] = true
	}
	out := run()
	if !strings.Contains(out, fmt.Sprintf("%d alerts", 2*n)) {
		t.Fatalf("second run did not make %d alerts:\n%s", 2*n, out)
	}

	res := nr.results(t)
	if len(res.Failures) != 0 || res.Verified != 2*n || res.Requests != 2*n {
		t.Fatalf("reference library: %d requests, %d verified, failures %+v; want %d verified and no failures\nnode stderr:\n%s",
			res.Requests, res.Verified, res.Failures, 2*n, nr.logs.String())
	}
	perHook := map[string]map[string]bool{}
	for _, d := range res.Deliveries {
		if !d.OK || d.Type != news.EventMatchCreated || !want[d.ItemID] || !strings.HasPrefix(d.ID, "msg_") {
			t.Errorf("delivery %+v: want a verified match.created for one of the new items", d)
		}
		wantChecks := 1
		if d.Hook == "rotated" {
			wantChecks = 2 // each rotation secret verified on its own
		}
		if len(d.Checks) != wantChecks {
			t.Errorf("%s delivery %s was checked against %d secrets, want %d", d.Hook, d.ID, len(d.Checks), wantChecks)
		}
		if perHook[d.Hook] == nil {
			perHook[d.Hook] = map[string]bool{}
		}
		if perHook[d.Hook][d.ItemID] {
			t.Errorf("%s got item %s twice", d.Hook, d.ItemID)
		}
		perHook[d.Hook][d.ItemID] = true
	}
	for _, hook := range []string{"desk", "rotated"} {
		if len(perHook[hook]) != n {
			t.Errorf("%s verified %d distinct items, want %d", hook, len(perHook[hook]), n)
		}
	}

	// Negative controls: the reference library must reject a tampered body,
	// a signature made with another secret, and (on the rotated hook) a
	// request signed with only one of the two secrets must fail the other's
	// check while passing its own.
	body := []byte(`{"type":"match.created","id":"msg_interop_control","item":{"id":"x"}}`)
	sign := func(secrets []string, id string) http.Header {
		h := http.Header{}
		if err := alert.SignHeaders(h, secrets, id, time.Now(), body); err != nil {
			t.Fatal(err)
		}
		return h
	}
	if code := nr.post(t, "desk", sign([]string{deskSecret}, "msg_good"), body); code != http.StatusNoContent {
		t.Errorf("a correctly signed control request got %d, want 204", code)
	}
	tampered := bytes.Replace(body, []byte(`"x"`), []byte(`"y"`), 1)
	if code := nr.post(t, "desk", sign([]string{deskSecret}, "msg_tampered"), tampered); code != http.StatusUnauthorized {
		t.Errorf("tampered body got %d, want 401", code)
	}
	if code := nr.post(t, "desk", sign([]string{interopSecret(t)}, "msg_wrongkey"), body); code != http.StatusUnauthorized {
		t.Errorf("request signed with another secret got %d, want 401", code)
	}
	if code := nr.post(t, "rotated", sign(rotation[:1], "msg_halfrotated"), body); code != http.StatusUnauthorized {
		t.Errorf("rotated hook signed with one secret of two got %d, want 401", code)
	}

	res = nr.results(t)
	var failed []string
	for _, f := range res.Failures {
		failed = append(failed, fmt.Sprintf("%s/%s/%d", f.Hook, f.ID, f.Secret))
		if !strings.Contains(f.Reason, "No matching signature") {
			t.Errorf("failure %+v: want the library's signature mismatch", f)
		}
	}
	sort.Strings(failed)
	wantFailed := []string{"desk/msg_tampered/0", "desk/msg_wrongkey/0", "rotated/msg_halfrotated/1"}
	if !slices.Equal(failed, wantFailed) {
		t.Errorf("reference library failures = %v, want %v", failed, wantFailed)
	}
	if res.Verified != 2*n+1 {
		t.Errorf("verified = %d, want %d (the deliveries and the good control)", res.Verified, 2*n+1)
	}
}

// xmlEscape escapes text for the test feed's XML.
func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
