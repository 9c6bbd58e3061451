package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wirewatch/internal/shared"
)

// runBin runs the real binary and returns its combined output and exit code.
func runBin(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// runOnce is `wirewatch run --config cfg --wait wait`, as a cron job runs
// it: one poll of every source and delivery, which must succeed. It returns
// the output.
func runOnce(t *testing.T, cfg, wait string) string {
	t.Helper()
	out, code := runBin(t, nil, "run", "--config", cfg, "--wait", wait)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	return out
}

const sampleFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Sample Wire</title><link>http://wire.test/</link><description>s</description>
<item><guid>s1</guid><title>UN says abuses against Uyghurs may be crimes against humanity</title><link>http://wire.test/1</link>
<description>&lt;p&gt;The UN human rights office published its assessment of Xinjiang on Wednesday.&lt;/p&gt;</description></item>
<item><guid>s2</guid><title>Xinjiang cotton prices rise</title><link>http://wire.test/2</link>
<description>Traders expect a large harvest.</description></item>
</channel></rss>`

func writeMatchConfig(t *testing.T, dir string) string {
	t.Helper()
	cfg := filepath.Join(dir, "ww.yaml")
	os.WriteFile(cfg, []byte(`
database: ww.db
sources:
  - id: wire
    url: https://wire.example.org/feed.xml
topics:
  - id: report
    title: UN report
    synonyms:
      Uyghur: [Uyghur*, Uighur*]
    query: '(Uyghur OR Xinjiang) AND ("crimes against humanity" OR "human rights")'
  - id: cotton
    query: 'cotton NOT Uyghur*'
`), 0o600)
	return cfg
}

func TestMatchCommandOnAFeedFile(t *testing.T) {
	dir := t.TempDir()
	cfg := writeMatchConfig(t, dir)
	feedPath := filepath.Join(dir, "sample.xml")
	os.WriteFile(feedPath, []byte(sampleFeed), 0o600)

	// Flags after the file work too.
	out, code := runBin(t, nil, "match", "--config", cfg, feedPath, "--topic", "report")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"MATCH", "crimes against humanity (title)", "no match", "why not:", "1 match(es)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "cotton  ") {
		t.Errorf("--topic report also ran the cotton topic:\n%s", out)
	}

	out, code = runBin(t, nil, "match", "--config", cfg, "--json", feedPath)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("--json line is not JSON: %q", sc.Text())
		}
		lines = append(lines, m)
	}
	if len(lines) != 4 { // 2 items × 2 topics
		t.Fatalf("got %d JSON lines, want 4:\n%s", len(lines), out)
	}
	verdicts := map[string]bool{}
	for _, l := range lines {
		item := l["item"].(map[string]any)
		verdicts[l["topic"].(string)+"/"+item["title"].(string)] = l["matched"].(bool)
	}
	want := map[string]bool{
		"report/UN says abuses against Uyghurs may be crimes against humanity": true,
		"report/Xinjiang cotton prices rise":                                   false,
		"cotton/UN says abuses against Uyghurs may be crimes against humanity": false,
		"cotton/Xinjiang cotton prices rise":                                   true,
	}
	for k, v := range want {
		if got, ok := verdicts[k]; !ok || got != v {
			t.Errorf("%s: matched=%v (present %v), want %v", k, got, ok, v)
		}
	}

	// --explain takes an item id from the inputs.
	var id string
	for _, l := range lines {
		if item := l["item"].(map[string]any); strings.HasPrefix(item["title"].(string), "Xinjiang cotton") {
			id = item["id"].(string)
		}
	}
	out, code = runBin(t, nil, "match", "--config", cfg, "--topic", "report", "--explain", id, feedPath)
	if code != 0 || !strings.Contains(out, "Xinjiang cotton prices rise") || !strings.Contains(out, "Topic report") {
		t.Errorf("--explain: exit %d:\n%s", code, out)
	}

	if out, code := runBin(t, nil, "match", "--config", cfg, "--topic", "nope", feedPath); code != 2 || !strings.Contains(out, `no topic "nope"`) {
		t.Errorf("unknown topic: exit %d:\n%s", code, out)
	}
	if out, code := runBin(t, nil, "match", "--config", cfg); code != 2 {
		t.Errorf("no inputs: exit %d, want 2:\n%s", code, out)
	}
}

func TestTopicChangeBackfillsFeedWithoutAlerts(t *testing.T) {
	wire := &testFeed{}
	wire.add("c1", "Uyghur exiles testify in London", "A tribunal heard evidence about camps.")
	wire.add("c2", "Cotton prices rise", "A large harvest.")
	src := serveHTTP(t, wire)
	desk := &receiver{}
	deskSrv := serveHTTP(t, desk)

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ww.yaml")
	write := func(query string) {
		os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
database: ww.db
allow_private_networks: true
sources:
  - id: wire
    url: %s/feed.xml
topics:
  - id: t
    query: '%s'
webhooks:
  - id: desk
    url: %s/hook
    secret: %s
`, src.URL, query, deskSrv.URL, testSecret)), 0o600)
	}
	write("cotton")
	if out, code := runBin(t, nil, "run", "--config", cfgPath, "--wait", "5s"); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	// The topic changes: on the next start its feed is backfilled from the
	// stored items, and nothing is alerted for them.
	write("Uyghur*")
	srv := startServer(t, cfgPath)
	waitFor(t, "backfilled item in the feed", 15*time.Second, func() bool {
		_, body, _ := srv.get(t, "/feeds/t.json")
		return strings.Contains(body, "Uyghur exiles testify")
	})
	_, body, _ := srv.get(t, "/feeds/t.json")
	if strings.Contains(body, "Cotton prices") {
		t.Error("the changed topic's feed still shows an item only the old query matched")
	}
	if !strings.Contains(srv.logText(), "topic backfilled") {
		t.Errorf("no backfill log line:\n%s", srv.logText())
	}
	time.Sleep(1500 * time.Millisecond)
	if n := len(desk.snapshot()); n != 0 {
		t.Errorf("backfill sent %d webhooks, want 0", n)
	}
	srv.stop(t)
}

func TestTermsCommand(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.txt")
	// A report written for this test: an invented flood inquiry.
	os.WriteFile(report, []byte(`Inquiry finds Riverton flood defences failed
The Riverton Flood Inquiry said on Tuesday that the Millbrook Barrier failed because of years of missed maintenance.
The Environment Agency (EA) had warned in 2019 that the Millbrook Barrier needed repairs. Residents of Riverton
said the flood defences gave way within hours. The inquiry found that the Environment Agency did not fund the repairs.
Flood defences across the county are now under review, the Riverton Flood Inquiry said. The EA said it would respond.
Residents want compensation for flood damage, and the Millbrook Barrier will be rebuilt by the Environment Agency.
`), 0o600)
	out, code := runBin(t, nil, "terms", report, "-n", "10")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"Millbrook Barrier", "Environment Agency", "flood defences", "query:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The printed block is a valid topic: paste it into a config and check it.
	block := out[strings.Index(out, "Topic block"):]
	block = block[strings.Index(block, "\n\n")+2:]
	cfg := filepath.Join(dir, "ww.yaml")
	os.WriteFile(cfg, []byte("sources:\n  - id: s\n    url: https://example.org/feed\ntopics:\n"+block), 0o600)
	if out, code := runBin(t, nil, "check", "--config", cfg); code != 0 {
		t.Errorf("the suggested topic block fails check: exit %d\n%s\n--- config:\n%s", code, out, block)
	}

	if out, code := runBin(t, nil, "terms", filepath.Join(dir, "missing.txt")); code == 0 || !strings.Contains(out, "missing.txt") {
		t.Errorf("missing file: exit %d\n%s", code, out)
	}
}

func TestTermsCommandOnTheReportArticle(t *testing.T) {
	article := shared.Path(t, "reports", "un-xinjiang-report-article.txt")
	out, code := runBin(t, nil, "terms", article, "-n", "20")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	t.Logf("\n%s", out)
	list := strings.ToLower(out[:strings.Index(out, "Topic block")])
	for _, want := range []string{"xinjiang", "uyghur", "crimes against humanity", "bachelet"} {
		if !strings.Contains(list, want) {
			t.Errorf("top terms lack %q", want)
		}
	}
}

// storyDesk is a desk following one topic, 't' ('Uyghur*'), on the given
// outlets, with two webhooks: plain, and updates (opted in to
// match.updated events).
type storyDesk struct {
	cfg            string
	plain, updates *receiver
}

// outlet is a source of a storyDesk: id, title and its test feed's server.
type outlet struct{ id, title, url string }

func newStoryDesk(t *testing.T, outlets ...outlet) storyDesk {
	d := storyDesk{plain: &receiver{}, updates: &receiver{}}
	plainSrv, updatesSrv := serveHTTP(t, d.plain), serveHTTP(t, d.updates)
	var sources strings.Builder
	for _, o := range outlets {
		fmt.Fprintf(&sources, "  - id: %s\n    title: %s\n    url: %s/feed.xml\n", o.id, o.title, o.url)
	}
	d.cfg = writeConfig(t, fmt.Sprintf(`
database: ww.db
allow_private_networks: true
sources:
%stopics:
  - id: t
    query: 'Uyghur*'
webhooks:
  - id: plain
    url: %s/hook
    secret: %s
  - id: updates
    url: %s/hook
    secret: %s
    updates: true
`, sources.String(), plainSrv.URL, testSecret, updatesSrv.URL, testSecret))
	return d
}

// updateEvents lists what the updates webhook received, in order, as
// "type/update kind" ("match.created/", "match.updated/corrected").
func (d storyDesk) updateEvents(t *testing.T) []string {
	t.Helper()
	var kinds []string
	for _, r := range d.updates.snapshot() {
		var ev struct {
			Type   string `json:"type"`
			Update struct {
				Kind string `json:"kind"`
			} `json:"update"`
		}
		if err := json.Unmarshal(r.body, &ev); err != nil {
			t.Fatalf("webhook body: %v", err)
		}
		kinds = append(kinds, ev.Type+"/"+ev.Update.Kind)
	}
	return kinds
}

// TestOneStoryOneAlertFromOutletsPolledAtOnce runs the real binary on many
// outlets that publish one story in the same cycle: their polls run side
// by side, each looks the story up before any is saved, and still the desk
// gets one alert and every other outlet arrives as "also reported".
func TestOneStoryOneAlertFromOutletsPolledAtOnce(t *testing.T) {
	const n = 12
	feeds := make([]*testFeed, n)
	outlets := make([]outlet, n)
	for i := range feeds {
		feeds[i] = &testFeed{}
		outlets[i] = outlet{fmt.Sprint("outlet", i), fmt.Sprint("Outlet ", i), serveHTTP(t, feeds[i]).URL}
	}
	desk := newStoryDesk(t, outlets...)
	runOnce(t, desk.cfg, "5s") // baselines, every feed empty
	for i, f := range feeds {
		f.add(fmt.Sprint("s", i), fmt.Sprintf("UN finds Uyghurs may have suffered crimes against humanity - Outlet %d", i),
			"The same wire story, carried by every outlet.")
	}
	runOnce(t, desk.cfg, "5s")

	if got := len(desk.plain.snapshot()); got != 1 {
		t.Errorf("%d outlets carrying one story gave %d alerts, want 1", n, got)
	}
	counts := map[string]int{}
	for _, k := range desk.updateEvents(t) {
		counts[k]++
	}
	if counts["match.created/"] != 1 || counts["match.updated/also_reported"] != n-1 {
		t.Errorf("webhook with updates got %v, want 1 match.created and %d also_reported", counts, n-1)
	}
}

// TestOneStoryOneAlertAndCorrections runs the real binary with two outlets
// carrying the same story and a publisher correcting its headline.
func TestOneStoryOneAlertAndCorrections(t *testing.T) {
	wire, bbc := &testFeed{}, &testFeed{}
	desk := newStoryDesk(t, outlet{"wire", "The Wire", serveHTTP(t, wire).URL},
		outlet{"bbc", "BBC News", serveHTTP(t, bbc).URL})
	runOnce(t, desk.cfg, "5s") // baselines, both feeds empty
	wire.add("w1", "UN finds Uyghurs may have suffered crimes against humanity", "The wire's story.")
	runOnce(t, desk.cfg, "5s")
	bbc.add("b1", "UN finds Uyghurs may have suffered crimes against humanity - BBC News", "The BBC's story.")
	runOnce(t, desk.cfg, "5s")
	wire.retitle("w1", "UN finds China's abuses of Uyghurs may be crimes against humanity")
	runOnce(t, desk.cfg, "5s")

	if n := len(desk.plain.snapshot()); n != 1 {
		t.Errorf("webhook without updates got %d requests, want exactly 1 alert for the one story", n)
	}
	kinds := desk.updateEvents(t)
	if strings.Join(kinds, ",") != "match.created/,match.updated/also_reported,match.updated/corrected" {
		t.Errorf("webhook with updates got %v, want created, also_reported, corrected", kinds)
	}

	// The feed shows the story once, under its corrected headline, with the
	// other outlet attached.
	srv := startServer(t, desk.cfg)
	_, body, _ := srv.get(t, "/feeds/t.json")
	if strings.Count(body, `"id": "urn:wirewatch:item:`) != 1 {
		t.Errorf("feed lists the story more than once:\n%s", body)
	}
	for _, want := range []string{"China's abuses of Uyghurs", "BBC News", "previously titled"} {
		if !strings.Contains(body, want) {
			t.Errorf("feed lacks %q:\n%s", want, body)
		}
	}
	srv.stop(t)
}
