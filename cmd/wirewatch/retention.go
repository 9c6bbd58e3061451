package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"wirewatch/watch"
)

// Retention keeps the database from growing without end: every hour, items
// first seen more than cfg.Retention ago are pruned, except what topic feeds
// can still show (retentionKeep per topic) and what a pending or held alert
// needs. With several instances on one database, the hourly run is claimed
// like a poll, so it runs once per hour, on one instance.
const (
	retentionEvery = time.Hour
	// retentionKeep is the most entries a feed page can ask for (?limit=).
	retentionKeep = 500
	// retentionJob is the lease name of the hourly run.
	retentionJob = "~retention"
)

// itemPruner is what retention needs of the store.
type itemPruner interface {
	PruneItems(ctx context.Context, before time.Time, keepPerTopic int) (int, error)
}

// runRetention prunes once an hour until ctx ends, the first time a minute
// after start.
func runRetention(ctx context.Context, st itemPruner, leases watch.PollLeaser, owner string, retention time.Duration, logger *slog.Logger) {
	if retention <= 0 {
		return
	}
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(retentionEvery)
		now := time.Now()
		if leases != nil {
			ok, err := leases.ClaimPoll(ctx, retentionJob, now.Truncate(retentionEvery), owner, 30*time.Minute, now)
			if err != nil || !ok {
				if err != nil {
					logger.Warn("retention: claim this hour's run", "err", err)
				}
				continue
			}
		}
		n, err := st.PruneItems(ctx, now.Add(-retention), retentionKeep)
		if leases != nil {
			_ = leases.ReleasePoll(context.WithoutCancel(ctx), retentionJob, owner)
		}
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("retention: prune old items", "err", err)
		case n > 0:
			logger.Info("retention: pruned old items", "items", n, "older_than", now.Add(-retention).Format(time.RFC3339))
		}
	}
}

// cmdBackup writes an online copy of a SQLite database.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", `Write a consistent copy of the SQLite database while wirewatch runs (VACUUM INTO).
For PostgreSQL, use pg_dump.

  wirewatch backup --config F --to /backups/wirewatch-$(date +%F).db`, stderr)
	path := configFlag(fs)
	to := fs.String("to", "", "file to write (must not exist)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return usageError{fmt.Errorf("backup: --to FILE is required")}
	}
	cfg, err := LoadConfig(*path, os.LookupEnv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", cfg.Database, *to)
	return nil
}
