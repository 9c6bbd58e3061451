package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Poll leases let several instances share one database and one schedule:
// each instance's scheduler fires for every source, and ClaimPoll gives each
// (source, due time) to one of them. A row per source remembers the due time
// last claimed, its owner and the lease's end; a released lease (the poll is
// done) has no end.

// claimPollSQL takes a source's poll lease for a due time in one statement
// ($1 source, $2 due, $3 owner, $4 lease end, $5 now). It inserts the row,
// or takes it over when the row's due time is older and its lease over
// (released or expired), or when it is the same due time and its lease
// expired without being released: the owner died mid-poll. Otherwise the
// conflict leaves the row alone and no row is affected. Both engines apply
// an upsert atomically, so concurrent claimers cannot both succeed.
const claimPollSQL = `INSERT INTO poll_leases (source_id, due, owner, leased_until) VALUES ($1, $2, $3, $4)
	ON CONFLICT (source_id) DO UPDATE SET
		due = excluded.due, owner = excluded.owner, leased_until = excluded.leased_until
	WHERE (poll_leases.due < excluded.due
			AND (poll_leases.leased_until IS NULL OR poll_leases.leased_until < $5))
		OR (poll_leases.due = excluded.due
			AND poll_leases.leased_until IS NOT NULL AND poll_leases.leased_until < $5)`

// ClaimPoll decides which instance polls a source for one due time (the
// scheduler's fire time, the same on every instance). It returns true to
// exactly one caller per (sourceID, due): the claimer then holds the
// source's lease until now+lease, and should call ReleasePoll when the poll
// is done. Everyone else gets false:
//
//   - for the same due time, while its lease runs or after it was
//     released (that poll happened);
//   - for a later due time while an earlier lease still runs (a poll of
//     the source is in progress: overlapping polls of one source are
//     skipped, as a single instance's cron does);
//   - for a due time older than the last one claimed (a late scheduler).
//
// A lease that ends unreleased means its owner died mid-poll: once now is
// past its end (now > now_at_claim+lease), the same due time can be
// claimed again by another caller, which then polls in its place. owner
// names the claiming instance (unique per process); due is compared at
// millisecond precision.
func (s *Store) ClaimPoll(ctx context.Context, sourceID string, due time.Time, owner string, lease time.Duration, now time.Time) (bool, error) {
	if lease <= 0 {
		return false, fmt.Errorf("store: claim poll of source %q: lease %v is not positive", sourceID, lease)
	}
	if sourceID == "" || owner == "" {
		return false, fmt.Errorf("store: claim poll of source %q: empty source id or owner %q", sourceID, owner)
	}
	claimed := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, claimPollSQL, sourceID, due.UnixMilli(), owner,
			now.Add(lease).UnixMilli(), now.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: claim poll of source %q: %w", sourceID, err)
	}
	return claimed, nil
}

// ReleasePoll ends owner's lease on a source's poll when the poll is done,
// so that the next due time can be claimed at once rather than when the
// lease runs out; the due time stays claimed (nobody polls it again). It
// does nothing when owner holds no lease on the source (another instance
// took it over after the lease expired, or nothing was claimed).
func (s *Store) ReleasePoll(ctx context.Context, sourceID, owner string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if owner == "" {
			return errors.New("empty owner")
		}
		_, err := tx.ExecContext(ctx, `UPDATE poll_leases SET leased_until = NULL WHERE source_id = $1 AND owner = $2`,
			sourceID, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release poll of source %q: %w", sourceID, err)
	}
	return nil
}
