package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"wirewatch/match"
	"wirewatch/news"
	"wirewatch/store"
	"wirewatch/watch"
)

// instance is one more poller sharing the database, as another wirewatch
// process would: its own store pool, fetcher and poller.
type instance struct {
	store  *store.Store
	poller *watch.Poller
}

func (h *harness) wireInstance(ctx context.Context, dsn string, topics []news.Topic) (instance, error) {
	index, err := match.Compile(topics)
	if err != nil {
		return instance{}, err
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return instance{}, err
	}
	return instance{store: st, poller: h.newPoller(h.newFetcher(), index, st)}, nil
}

// leaser is what the shared cycle needs of a store.
type leaser interface {
	ClaimPoll(ctx context.Context, sourceID string, due time.Time, owner string, lease time.Duration, now time.Time) (bool, error)
	ReleasePoll(ctx context.Context, sourceID, owner string) error
}

// sharedCycle is a cycle of several instances: each instance's workers go
// over every source, as each instance's scheduler fires for every source,
// and poll it only when they win its lease for this cycle's due time (the
// cycle's start, the same for all) — the path `wirewatch serve` takes on a
// shared PostgreSQL database. The workers are divided among the instances.
func (h *harness) sharedCycle(ctx context.Context) tally {
	type inst struct {
		name   string
		lease  leaser
		poller *watch.Poller
	}
	all := []inst{{"i0", h.store.(leaser), h.poller}}
	for i, in := range h.extra {
		all = append(all, inst{"i" + strconv.Itoa(i+1), in.store, in.poller})
	}
	due := time.Now()
	results := make(chan tally, len(all))
	var wg sync.WaitGroup
	for k, in := range all {
		// Each instance walks the sources from its own offset, as real
		// schedulers fire in their own order.
		off := k * len(h.sources) / len(all)
		order := append(slices.Clone(h.sources[off:]), h.sources[:off]...)
		wg.Go(func() {
			results <- fanOut(order, max(1, h.o.workers/len(all)), func(src news.Source, t *tally) {
				ok, err := in.lease.ClaimPoll(ctx, src.ID, due, in.name, 2*time.Minute, time.Now())
				if err != nil {
					t.polls++
					t.fail(err)
					return
				}
				if !ok {
					return // another instance has it
				}
				t.polls++
				rep, err := in.poller.Poll(ctx, src)
				_ = in.lease.ReleasePoll(ctx, src.ID, in.name)
				t.record(rep, err)
			})
		})
	}
	wg.Wait()
	close(results)
	var total tally
	for t := range results {
		total.add(t)
	}
	return total
}

// pgFreshSchema makes a new schema for the run (with psql) and returns a
// DSN that uses it.
func pgFreshSchema(dsn string, stderr io.Writer) (string, string, error) {
	schema := fmt.Sprintf("wwload_%d_%d", os.Getpid(), rand.IntN(1e6))
	if out, err := exec.Command("psql", dsn, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE SCHEMA "+schema).CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("create schema with psql: %v: %s", err, out)
	}
	fmt.Fprintf(stderr, "wwload: PostgreSQL schema %s\n", schema)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema, schema, nil
}

func pgDropSchema(dsn, schema string, stderr io.Writer) {
	if out, err := exec.Command("psql", dsn, "-X", "-q", "-c", "DROP SCHEMA "+schema+" CASCADE").CombinedOutput(); err != nil {
		fmt.Fprintf(stderr, "wwload: drop schema %s: %v: %s\n", schema, err, out)
	}
}

// pgSchemaSize is the on-disk size of the schema's tables and indexes.
func pgSchemaSize(dsn, schema string) int64 {
	out, err := exec.Command("psql", dsn, "-X", "-q", "-t", "-A", "-c",
		"SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '"+schema+"' AND c.relkind = 'r'").Output()
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	return n
}
