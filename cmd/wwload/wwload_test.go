package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
	"wirewatch/store"
)

// TestMain lets the test binary stand in for wwload when the harness
// starts its children (`serve`, `prefill`) with os.Executable().
func TestMain(m *testing.M) {
	if os.Getenv("WWLOAD_AS_MAIN") == "1" {
		os.Exit(runCLI(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestRunEndToEnd runs the harness for real at a small scale: a feed
// server child, a prefill child, cold, warm, baseline and steady cycles,
// and then checks the store against what the cycles reported.
func TestRunEndToEnd(t *testing.T) {
	t.Setenv("WWLOAD_AS_MAIN", "1")
	db := filepath.Join(t.TempDir(), "load.db")
	o := options{n: 20, items: 50, perHost: 5, workers: 8, cycles: []string{"cold", "warm", "baseline", "steady"},
		db: db, keep: true, prefill: 300, prefillBatch: 100, steady: 0.5, gzip: true, seed: 1, runs: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := runOnce(ctx, o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Hosts != 4 || len(rep.Cycles) != 4 {
		t.Fatalf("hosts %d, cycles %d; want 4 and 4", rep.Hosts, len(rep.Cycles))
	}
	if p := rep.Prefill; p == nil || p.Items != 300 || p.Sources != 3 {
		t.Fatalf("prefill = %+v, want 300 items from 3 sources", rep.Prefill)
	}
	cold, warm, base, steady := rep.Cycles[0], rep.Cycles[1], rep.Cycles[2], rep.Cycles[3]
	for _, c := range rep.Cycles {
		if c.Errors != 0 || c.Polls != 20 || c.Server.Other != 0 {
			t.Errorf("%s: %d errors %v, %d polls, %d requests the server refused; want 0, 20, 0",
				c.Name, c.Errors, c.FirstErrors, c.Polls, c.Server.Other)
		}
		if c.WallSeconds <= 0 || c.PeakRSSBytes <= 0 {
			t.Errorf("%s: wall %v s, peak RSS %d: not measured", c.Name, c.WallSeconds, c.PeakRSSBytes)
		}
	}
	if cold.OK != 20 || cold.ItemsNew != 20*50 || cold.Matches == 0 || cold.Deliveries != 0 || cold.Server.OK != 20 {
		t.Errorf("cold: %d fetched, %d new items, %d matches, %d deliveries, server %d 200s; want 20, 1000, >0, 0 (baseline), 20",
			cold.OK, cold.ItemsNew, cold.Matches, cold.Deliveries, cold.Server.OK)
	}
	if cold.CPUSeconds <= 0 {
		t.Errorf("cold: CPU %v s: not measured", cold.CPUSeconds)
	}
	for _, c := range []cycleResult{warm, base} {
		if c.NotModified != 20 || c.OK != 0 || c.ItemsNew != 0 || c.Server.NotModified != 20 || c.Server.OK != 0 {
			t.Errorf("%s: %d not modified, %d fetched, %d new, server %d 304s / %d 200s; want only 304s",
				c.Name, c.NotModified, c.OK, c.ItemsNew, c.Server.NotModified, c.Server.OK)
		}
	}
	b := steady.Bumped
	if b == nil || b.Sources == 0 || b.Sources == 20 {
		t.Fatalf("steady: bumped %+v, want some sources of 20", b)
	}
	if steady.OK != b.Sources || steady.NotModified != 20-b.Sources || steady.ItemsNew != b.Items {
		t.Errorf("steady: %d fetched, %d not modified, %d new; want %d, %d, %d",
			steady.OK, steady.NotModified, steady.ItemsNew, b.Sources, 20-b.Sources, b.Items)
	}

	st, err := store.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := 300 + cold.ItemsNew + steady.ItemsNew; stats.Items != want {
		t.Errorf("store holds %d items, want %d (prefill + cold + steady)", stats.Items, want)
	}
	if want := rep.Prefill.Matches + cold.Matches + steady.Matches; stats.Matches != want {
		t.Errorf("store holds %d matches, want %d", stats.Matches, want)
	}
	if want := rep.Prefill.Matches + cold.Matches; stats.BaselineMatches != want {
		t.Errorf("store holds %d baseline matches, want %d (prefill + cold)", stats.BaselineMatches, want)
	}
	if got := stats.Deliveries[news.DeliveryPending]; got != steady.Deliveries {
		t.Errorf("outbox holds %d pending deliveries, want the steady cycle's %d", got, steady.Deliveries)
	}
	states, err := st.SourceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	polled := 0
	for _, s := range states {
		if strings.HasPrefix(s.SourceID, "src-") {
			polled++
			if !s.Baselined || s.ETag == "" || s.LastModified == "" {
				t.Errorf("source %s: baselined %v, etag %q, last-modified %q", s.SourceID, s.Baselined, s.ETag, s.LastModified)
			}
		}
	}
	if polled != 20 {
		t.Errorf("%d polled sources stored, want 20", polled)
	}
}

// TestNotModified checks the server's conditional GET rules.
func TestNotModified(t *testing.T) {
	mod := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		inm, ims string
		want     bool
	}{
		{`"a-v1"`, "", true},
		{`W/"a-v1"`, "", true},
		{`"x", "a-v1"`, "", true},
		{`*`, "", true},
		{`"a-v0"`, mod.Format(http.TimeFormat), false}, // If-None-Match decides
		{"", mod.Format(http.TimeFormat), true},
		{"", mod.Add(-time.Second).Format(http.TimeFormat), false},
		{"", "yesterday", false},
		{"", "", false},
	} {
		r, _ := http.NewRequest(http.MethodGet, "http://127.0.1.1/feeds/src-00000.xml", nil)
		if c.inm != "" {
			r.Header.Set("If-None-Match", c.inm)
		}
		if c.ims != "" {
			r.Header.Set("If-Modified-Since", c.ims)
		}
		if got := notModified(r, `"a-v1"`, mod); got != c.want {
			t.Errorf("If-None-Match %q, If-Modified-Since %q: not modified = %v, want %v", c.inm, c.ims, got, c.want)
		}
	}
}

// TestGeneratedItems checks the synthetic news: deterministic, 1–2 KB of
// RSS per item, and the desk's beat present but rare.
func TestGeneratedItems(t *testing.T) {
	pub := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b := makeItem(7, 3, "127.0.1.1", pub), makeItem(7, 3, "127.0.1.1", pub)
	if a.Title != b.Title || a.plain() != b.plain() || a.GUID != b.GUID {
		t.Fatal("the same (source, seq) gave different items")
	}
	beat, total := 0, 0
	for seq := 1; seq <= 2000; seq++ {
		it := makeItem(seq%50, seq, "127.0.1.1", pub)
		size := len(it.appendRSS(nil, seq%2 == 0))
		if size < 1000 || size > 2600 {
			t.Fatalf("item %d is %d bytes of RSS, want about 1–2 KB", seq, size)
		}
		total += size
		if it.Kind == kindBeat {
			beat++
		}
	}
	if beat < 20 || beat > 120 {
		t.Errorf("%d of 2000 items on the beat, want about 3 %%", beat)
	}
	t.Logf("mean item: %d bytes of RSS", total/2000)
}

// TestMedianReport checks how runs combine.
func TestMedianReport(t *testing.T) {
	mk := func(wall float64, rss int64, errs int) *report {
		return &report{Cycles: []cycleResult{{Name: "cold", WallSeconds: wall, PeakRSSBytes: rss, Errors: errs, ItemsPerSecond: 100 / wall}}}
	}
	r := medianReport([]*report{mk(3, 30, 0), mk(1, 10, 2), mk(2, 20, 0)})
	c := r.Cycles[0]
	if r.Runs != 3 || c.WallSeconds != 2 || c.PeakRSSBytes != 20 || c.ItemsPerSecond != 50 || c.Errors != 2 {
		t.Errorf("median = %+v (runs %d), want wall 2, RSS 20, 50 items/s, worst errors 2", c, r.Runs)
	}
	if sp := c.Spread; sp == nil || sp.WallMin != 1 || sp.WallMax != 3 {
		t.Errorf("spread = %+v, want wall 1–3", c.Spread)
	}
}

// TestServerEnvDropsGCSettings: GC experiments on the measured process
// must not change the feed server's memory management.
func TestServerEnvDropsGCSettings(t *testing.T) {
	env := []string{"HOME=/root", "GOGC=400", "GOMEMLIMIT=130MiB", "GOMAXPROCS=2", "XGOGC=1"}
	got := withoutGCSettings(env)
	if strings.Join(got, " ") != "HOME=/root GOMAXPROCS=2 XGOGC=1" {
		t.Fatalf("server env = %q, want GOGC and GOMEMLIMIT dropped and the rest kept", got)
	}
	if len(env) != 5 || env[1] != "GOGC=400" {
		t.Fatalf("the caller's env was changed: %q", env)
	}
}
