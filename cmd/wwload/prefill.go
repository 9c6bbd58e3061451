package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"wirewatch/match"
	"wirewatch/news"
	"wirewatch/store"
)

// prefillSpan is how far back prefilled items reach: a month of news.
const prefillSpan = 30 * 24 * time.Hour

// prefillResult is the line `wwload prefill` prints when done.
type prefillResult struct {
	Items      int     `json:"items"`
	Matches    int     `json:"matches"`
	Sources    int     `json:"sources"`
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
	DBBytes    int64   `json:"db_bytes"`
}

// cmdPrefill is `wwload prefill`: it fills a fresh store with m items of
// fake sources, batch items per source and per SavePoll transaction,
// dated evenly over the last month, with the matches the real matcher
// finds for them (recorded as baseline matches). It runs in its own
// process so that its memory never counts against the measured one.
func cmdPrefill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wwload prefill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "SQLite file to create (must not exist)")
	m := fs.Int("m", 1000000, "items to store")
	batch := fs.Int("batch", 1000, "items per fake source (one SavePoll transaction each)")
	topicsPath := fs.String("topics", "", "wirewatch config whose topics match the items (default examples/xinjiang-report.yaml)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" || *m < 1 || *batch < 1 {
		return errors.New("prefill: need -db, -m >= 1 and -batch >= 1")
	}
	if _, err := os.Stat(*db); err == nil {
		return fmt.Errorf("prefill: %s exists; give a fresh path", *db)
	}
	topics, err := readTopics(*topicsPath)
	if err != nil {
		return err
	}
	index, err := match.Compile(topics)
	if err != nil {
		return fmt.Errorf("prefill: %w", err)
	}
	res, err := prefill(ctx, *db, *m, *batch, index, time.Now())
	if err != nil {
		return err
	}
	line, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "%s\n", line)
	return nil
}

// prefill writes the items; generating and matching them runs on every
// core alongside the single SQLite writer.
func prefill(ctx context.Context, path string, m, batch int, index *match.Index, now time.Time) (prefillResult, error) {
	t0 := time.Now()
	ru0 := getRusage()
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		return prefillResult{}, err
	}
	defer st.Close()
	batches := (m + batch - 1) / batch
	step := prefillSpan / time.Duration(m)
	base := now.Add(-prefillSpan)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	polls := make(chan news.PollResult, 4)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				b := int(next.Add(1)) - 1
				if b >= batches {
					return
				}
				select {
				case polls <- prefillBatch(b, batch, m, base, step, index):
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(polls) }()

	res := prefillResult{Sources: batches}
	var saveErr error
	for p := range polls {
		if saveErr != nil {
			continue // drain, so the producers can finish
		}
		if _, err := st.SavePoll(ctx, p); err != nil {
			saveErr = fmt.Errorf("prefill: %w", err)
			cancel()
			continue
		}
		res.Items += len(p.Items)
		res.Matches += len(p.Matches)
	}
	if saveErr != nil {
		return res, saveErr
	}
	if err := st.Close(); err != nil {
		return res, err
	}
	res.Seconds = time.Since(t0).Seconds()
	res.CPUSeconds = (getRusage().cpu - ru0.cpu).Seconds()
	res.DBBytes = dbSize(path)
	return res, nil
}

// prefillBatch is fake source b's items (the b-th slice of m), matched.
func prefillBatch(b, batch, m int, base time.Time, step time.Duration, index *match.Index) news.PollResult {
	srcID := fmt.Sprintf("prefill-%05d", b)
	host := fmt.Sprintf("prefill-%d.example", b)
	var p news.PollResult
	var last time.Time
	for k := 0; k < batch && b*batch+k < m; k++ {
		n := b*batch + k
		pub := base.Add(time.Duration(n) * step)
		g := makeItem(1_000_000+b, k+1, host, pub)
		it := news.Item{ID: news.ItemID(srcID, g.GUID), SourceID: srcID, Key: g.GUID, Title: g.Title, Link: g.Link,
			Summary: g.plain(), Authors: []string{g.Author}, Categories: []string{g.Category},
			Published: pub, FetchedAt: pub.Add(5 * time.Minute)}
		for _, mt := range index.Match(it, it.FetchedAt) {
			mt.Baseline = true
			p.Matches = append(p.Matches, mt)
		}
		p.Items = append(p.Items, it)
		last = it.FetchedAt
	}
	p.State = news.SourceState{SourceID: srcID, URL: "http://" + host + "/feed.xml", Title: "Prefill " + srcID,
		Baselined: true, LastPoll: last, LastSuccess: last, Health: news.HealthOK}
	return p
}

// dbSize is the size of a SQLite database with its WAL.
func dbSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// readTopics loads the topics from path, or from the example config.
func readTopics(path string) ([]news.Topic, error) {
	if path == "" {
		p, err := defaultTopicsPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	return loadTopics(path)
}
