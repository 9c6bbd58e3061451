package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "Run wirewatch: poll every source on its schedule, match new items against every\ntopic, serve the topic feeds and the API, and deliver webhook alerts. Stops\ngracefully on SIGINT/SIGTERM.", stderr)
	path := configFlag(fs)
	listen := fs.String("listen", "", "override the config's listen address")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := loadApp(ctx, *path, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	cfg, logger := a.cfg, a.logger
	if *listen != "" {
		cfg.Listen = *listen
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	logger.Info("wirewatch serving", "version", version, "listen", ln.Addr().String(),
		"database", cfg.Database, "sources", len(cfg.Sources), "topics", len(cfg.Topics), "webhooks", len(cfg.Webhooks))
	for _, t := range cfg.Topics {
		logger.Info("topic feed", "topic", t.ID, "rss", cfg.BaseURL+"/feeds/"+t.ID+".rss")
	}
	return a.serve(ctx, ln)
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "Poll every source once, deliver the alerts that creates (and any still pending),\nthen exit. For cron jobs and scripts. Exit status 1 when a source failed or\nalerts are still pending at the deadline (they stay queued for the next run).", stderr)
	path := configFlag(fs)
	wait := fs.Duration("wait", time.Minute, "how long to wait for pending deliveries before exiting")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := loadApp(ctx, *path, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	cfg := a.cfg

	// The dispatcher runs during the polls too, so alerts go out as soon
	// as their poll commits.
	dctx, stopDispatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = a.dispatcher.Run(dctx)
	}()
	defer func() { stopDispatch(); wg.Wait() }()

	reps, errs := a.pollAll(ctx)
	failed := 0
	for i, rep := range reps {
		id := cfg.Sources[i].Source.ID
		switch {
		case errs[i] != nil:
			failed++
			fmt.Fprintf(stdout, "%-20s FAILED  %v\n", id, errs[i])
		case rep.NotModified:
			fmt.Fprintf(stdout, "%-20s not modified\n", id)
		default:
			note := ""
			if rep.Baseline {
				note = " (first fetch: baseline, no alerts)"
			}
			fmt.Fprintf(stdout, "%-20s %d items, %d new, %d matches, %d alerts%s\n", id, rep.Fetched, rep.New, rep.Matches, rep.Deliveries, note)
		}
	}

	a.dispatcher.Notify()
	deadline := time.Now().Add(*wait)
	pending := 0
	// Rows left behind by a webhook since removed from the config must not
	// keep every run waiting: count only the configured ones.
	hooks := a.webhookIDs()
	for len(hooks) > 0 {
		pending, err = a.store.PendingDeliveries(ctx, hooks...)
		if err != nil {
			return err
		}
		if pending == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	if pending > 0 {
		fmt.Fprintf(stdout, "%d alert(s) still pending: they stay queued and are retried by the next run or serve\n", pending)
	}
	if failed > 0 || pending > 0 {
		return fmt.Errorf("run: %d source(s) failed, %d alert(s) pending", failed, pending)
	}
	return nil
}
