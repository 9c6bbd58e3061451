package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wirewatch/alert"
	"wirewatch/netguard"
	"wirewatch/news"
	"wirewatch/store"
)

// BenchmarkDelivery measures the webhook path end to end through the real
// parts: outbox rows committed by store.SavePoll into a SQLite file, the
// alert dispatcher claiming, rendering, signing and POSTing them, and a
// local receiver. One op is one delivery.
//
// Each outbox sub-benchmark has two phases:
//   - burst (timed, gives ns/op and deliveries/s): b.N alerts are saved in
//     polls of benchBatch as fast as SavePoll commits them, the dispatcher
//     woken after each, until the receiver has seen every one;
//   - paced (untimed, gives p50-ms and p99-ms): alerts arrive at the target
//     rate (benchBatch every benchBatch/benchRate), and each one's latency is
//     the time from its SavePoll's commit to its arrival at the receiver.
//     Under a burst that latency is only queueing (the last of N waits for
//     N-1), so it is measured at the rate the service is meant to carry.
//
// "baseline-http" is the floor in the same run: the same signed bodies
// POSTed straight to the same receiver over a keep-alive client, no
// outbox, with 1 and 8 senders.
//
//	go test ./cmd/wirewatch/ -run '^$' -bench BenchmarkDelivery -count 5
func BenchmarkDelivery(b *testing.B) {
	b.Run("baseline-http/1", func(b *testing.B) { benchBaseline(b, 1) })
	b.Run("baseline-http/8", func(b *testing.B) { benchBaseline(b, 8) })
	b.Run("ordered", func(b *testing.B) { benchOutbox(b, news.Webhook{}) })
	b.Run("unordered-8", func(b *testing.B) { benchOutbox(b, news.Webhook{Unordered: true, Concurrency: 8}) })
}

const (
	benchBatch  = 10   // alerts per SavePoll
	benchRate   = 1000 // alerts/s offered in the paced phase (the target)
	benchPaced  = 1000 // at most this many alerts in the paced phase
	benchSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// benchReceiver records, per delivery index, when it first arrived (ns
// since base); ids maps webhook-id to index. A second arrival of an id is
// counted apart: it would be a duplicate delivery.
type benchReceiver struct {
	srv      *httptest.Server
	base     time.Time
	ids      map[string]int
	arrived  []atomic.Int64
	received atomic.Int64
	dups     atomic.Int64
}

func newBenchReceiver(b *testing.B, base time.Time, ids map[string]int) *benchReceiver {
	rc := &benchReceiver{base: base, ids: ids, arrived: make([]atomic.Int64, len(ids))}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		at := time.Since(rc.base).Nanoseconds()
		if i, ok := rc.ids[r.Header.Get("webhook-id")]; ok {
			if rc.arrived[i].CompareAndSwap(0, at) {
				rc.received.Add(1)
			} else {
				rc.dups.Add(1)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rc.srv.Close)
	return rc
}

// benchPolls builds alerts from..to-1 as SavePoll inputs, benchBatch per
// poll, realistic in size: a wire story with a snippet, terms and marks.
func benchPolls(from, to int) (polls []news.PollResult, ids []string) {
	const snippet = "…the UN human rights office says abuses against Uyghurs in Xinjiang may amount to crimes against humanity…"
	for start := from; start < to; start += benchBatch {
		var p news.PollResult
		p.State = news.SourceState{SourceID: "wire", URL: "http://wire.test/feed", Title: "Bench Wire", Baselined: true}
		for i := start; i < min(start+benchBatch, to); i++ {
			key := fmt.Sprintf("story-%d", i)
			it := news.Item{
				ID: news.ItemID("wire", key), SourceID: "wire", Key: key,
				Title:   fmt.Sprintf("UN human rights office says abuses against Uyghurs in Xinjiang may be crimes against humanity (%d)", i),
				Link:    fmt.Sprintf("http://wire.test/story/%d", i),
				Summary: "The UN human rights office says abuses against Uyghurs in Xinjiang may be crimes against humanity. Reporters in Geneva and Beijing followed the story as officials responded; the report runs to dozens of pages and cites interviews with former detainees, satellite imagery and leaked documents.",
			}
			m := news.Match{
				TopicID: "xinjiang", ItemID: it.ID,
				Terms: []string{"Xinjiang", "Uyghur*", "human rights"},
				Hits: []news.Hit{{Term: "Xinjiang", Field: "title", Text: "Xinjiang"},
					{Term: "Uyghur*", Field: "title", Text: "Uyghurs"}, {Term: "human rights", Field: "summary", Text: "human rights"}},
				Score: 2.5, Snippet: snippet,
				Marks: []news.Span{spanIn(snippet, "human rights"), spanIn(snippet, "Uyghurs"), spanIn(snippet, "Xinjiang")},
			}
			d := news.Delivery{
				ID:        news.DeliveryID(news.EventMatchCreated, m.TopicID, it.ID, "desk"),
				WebhookID: "desk", EventType: news.EventMatchCreated, TopicID: m.TopicID, ItemID: it.ID,
			}
			p.Items, p.Matches, p.Deliveries = append(p.Items, it), append(p.Matches, m), append(p.Deliveries, d)
			ids = append(ids, d.ID)
		}
		polls = append(polls, p)
	}
	return polls, ids
}

func spanIn(s, sub string) news.Span {
	i := strings.Index(s, sub)
	return news.Span{Start: i, End: i + len(sub)}
}

// save commits one poll, stamping its times, and records the commit time
// of each of its alerts.
func save(ctx context.Context, b *testing.B, st *store.SQLite, p news.PollResult, base time.Time, first int, committed []int64) {
	now := time.Now()
	p.State.LastPoll, p.State.LastSuccess = now, now
	for i := range p.Items {
		p.Items[i].Published, p.Items[i].FetchedAt = now, now
		p.Matches[i].MatchedAt = now
		p.Deliveries[i].CreatedAt = now
	}
	if _, err := st.SavePoll(ctx, p); err != nil {
		b.Error(err)
		return
	}
	at := time.Since(base).Nanoseconds()
	for i := range p.Deliveries {
		committed[first+i] = at
	}
}

func benchOutbox(b *testing.B, hook news.Webhook) {
	ctx := context.Background()
	paced := min(b.N, benchPaced)
	total := b.N + paced
	burst, ids := benchPolls(0, b.N)
	pacedPolls, pacedIDs := benchPolls(b.N, total)
	ids = append(ids, pacedIDs...)
	index := make(map[string]int, total)
	for i, id := range ids {
		index[id] = i
	}
	base := time.Now()
	rc := newBenchReceiver(b, base, index)

	st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	hook.ID, hook.URL, hook.Format, hook.Secrets = "desk", rc.srv.URL+"/hook", "json", []string{benchSecret}
	d := alert.NewDispatcher(st, []news.Webhook{hook}, []news.Topic{{ID: "xinjiang", Title: "Xinjiang"}}, alert.Options{
		Policy: netguard.Policy{AllowPrivate: true},
	})
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(runCtx) })
	defer func() { stop(); wg.Wait() }()

	committed := make([]int64, total)
	// wait polls the receiver's count: cheap next to a delivery, and it
	// keeps the benchmark's own goroutine off the dispatcher's path.
	wait := func(upto int) {
		deadline := time.Now().Add(time.Minute)
		for rc.received.Load() < int64(upto) {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d delivered after a minute", rc.received.Load(), upto)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}

	// Burst: as fast as the outbox takes them.
	b.ResetTimer()
	start := time.Now()
	for p, poll := range burst {
		save(ctx, b, st, poll, base, p*benchBatch, committed)
		d.Notify()
	}
	wait(b.N)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")

	// Paced: the target rate, a poll every benchBatch/benchRate.
	tick := time.NewTicker(time.Second * benchBatch / benchRate)
	for p, poll := range pacedPolls {
		<-tick.C
		save(ctx, b, st, poll, base, b.N+p*benchBatch, committed)
		d.Notify()
	}
	tick.Stop()
	wait(total)
	if n := rc.dups.Load(); n > 0 {
		b.Errorf("%d deliveries arrived twice", n)
	}
	lat := make([]time.Duration, 0, paced)
	for i := b.N; i < total; i++ {
		lat = append(lat, time.Duration(rc.arrived[i].Load()-committed[i]))
	}
	reportLatency(b, lat)
}

func benchBaseline(b *testing.B, senders int) {
	polls, ids := benchPolls(0, b.N)
	index := make(map[string]int, b.N)
	for i, id := range ids {
		index[id] = i
	}
	bodies := make([][]byte, 0, b.N)
	for _, p := range polls {
		for i := range p.Deliveries {
			body, _, err := alert.Render("json", news.Alert{Delivery: p.Deliveries[i], Topic: news.Topic{ID: "xinjiang", Title: "Xinjiang"},
				Entry: news.Entry{Item: p.Items[i], Match: p.Matches[i], SourceTitle: "Bench Wire"}})
			if err != nil {
				b.Fatal(err)
			}
			bodies = append(bodies, body)
		}
	}
	base := time.Now()
	rc := newBenchReceiver(b, base, index)
	tr := netguard.Policy{AllowPrivate: true}.Transport(10 * time.Second)
	tr.MaxIdleConnsPerHost = senders
	client := &http.Client{Transport: tr}
	defer client.CloseIdleConnections()

	sent := make([]int64, b.N)
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				req, err := http.NewRequest(http.MethodPost, rc.srv.URL+"/hook", bytes.NewReader(bodies[i]))
				if err != nil {
					b.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				if err := alert.SignHeaders(req.Header, []string{benchSecret}, ids[i], time.Now(), bodies[i]); err != nil {
					b.Error(err)
					return
				}
				sent[i] = time.Since(base).Nanoseconds()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	lat := make([]time.Duration, b.N)
	for i := range lat {
		lat[i] = time.Duration(rc.arrived[i].Load() - sent[i])
	}
	reportLatency(b, lat)
}

// reportLatency reports the median and 99th percentile in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
