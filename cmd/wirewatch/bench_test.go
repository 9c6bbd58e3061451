package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wirewatch/news"
)

// BenchmarkPollCycle measures one full poll of one source through the real
// parts: HTTP fetch from a local server, gofeed parse, normalisation, the
// seen-check, matching against 10 topics, and the one-transaction save to a
// SQLite file with outbox rows for one webhook. Each iteration serves 50
// items of which 10 are new. "not-modified" is the baseline in the same run:
// the floor cost of a poll answered with 304.
func BenchmarkPollCycle(b *testing.B) {
	for _, mode := range []string{"not-modified", "10-new-of-50"} {
		b.Run(mode, func(b *testing.B) {
			var round atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if mode == "not-modified" && r.Header.Get("If-None-Match") == `"fixed"` {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				n := int(round.Add(1))
				w.Header().Set("Content-Type", "application/rss+xml")
				w.Header().Set("ETag", `"fixed"`)
				io.WriteString(w, benchFeed(n))
			}))
			defer srv.Close()

			cfgText := fmt.Sprintf(`
database: %s
allow_private_networks: true
sources:
  - id: wire
    url: %s/feed
topics:
%swebhooks:
  - id: desk
    url: http://127.0.0.1:1/never
    secret: %s
`, filepath.Join(b.TempDir(), "bench.db"), srv.URL, benchTopics(10), testSecret)
			cfg, err := ParseConfig("bench.yaml", []byte(cfgText), env(nil))
			if err != nil {
				b.Fatal(err)
			}
			a, err := newApp(context.Background(), cfg, newLogger(io.Discard, "error"))
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			src := news.Source{ID: "wire", URL: srv.URL + "/feed"}
			ctx := context.Background()
			if _, err := a.poller.Poll(ctx, src); err != nil { // baseline fetch
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := a.poller.Poll(ctx, src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchFeed is an RSS feed of 50 items; round n shifts the window by 10 so
// each poll sees 10 new items.
func benchFeed(n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench Wire</title><link>http://wire.test/</link><description>b</description>`)
	subjects := []string{
		"UN human rights office says abuses against Uyghurs in Xinjiang may be crimes against humanity",
		"Cotton prices climb as Xinjiang harvest lags",
		"Central bank holds interest rates as inflation cools",
		"Bachelet defends her visit to China amid criticism from rights groups",
		"Football: late winner settles the derby",
	}
	for i := 0; i < 50; i++ {
		id := n*10 + i
		s := subjects[id%len(subjects)]
		fmt.Fprintf(&b, `<item><title>%s (%d)</title><link>http://wire.test/story/%d</link><guid>story-%d</guid><description>&lt;p&gt;%s. Reporters in Geneva and Beijing followed the story as officials responded; the report runs to dozens of pages and cites interviews with former detainees, satellite imagery and leaked documents.&lt;/p&gt;</description><pubDate>%s</pubDate></item>`,
			s, id, id, id, s, time.Date(2026, 1, 1, 0, 0, id, 0, time.UTC).Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

func benchTopics(n int) string {
	queries := []string{
		`(Xinjiang OR Uyghur* OR Uighur*) AND ("human rights" OR "crimes against humanity" OR Bachelet)`,
		`Bachelet AND (China OR visit)`,
		`"forced labour" OR "forced labor"`,
		`title:Xinjiang NOT cotton`,
		`"interest rates" OR inflation`,
		`football OR derby`,
		`Geneva AND report*`,
		`satellite AND imagery`,
		`detainee* AND (camp* OR detention)`,
		`OHCHR OR "rights office"`,
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - id: t%d\n    query: '%s'\n", i, strings.ReplaceAll(queries[i%len(queries)], "'", "''"))
	}
	return b.String()
}
