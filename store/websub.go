package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// WebSubSubscription is what is remembered of a source's WebSub
// subscription (one per source): where it was asked for, with which
// secret, and how far it got. The store keeps State and Reason as given;
// their meaning belongs to the subscriber (package websub). Times are kept
// at millisecond precision, in UTC; the zero time means "never" / "none".
type WebSubSubscription struct {
	SourceID string
	// Hub is the hub's URL; Topic is the topic URL subscribed to.
	Hub, Topic string
	// Secret signs the hub's content distribution requests (X-Hub-Signature).
	Secret string
	// State is the subscription's state ("requested", "verified", ...),
	// Reason why it is in it (a denial's reason, an error).
	State, Reason string
	// RequestedAt is when the subscription was last requested, VerifiedAt
	// when the hub last confirmed it, LeaseUntil when its lease runs out.
	RequestedAt, VerifiedAt, LeaseUntil time.Time
}

const websubColumns = `source_id, hub, topic, secret, state, reason, requested_at, verified_at, lease_until`

func scanWebSub(sc interface{ Scan(...any) error }) (WebSubSubscription, error) {
	var (
		w                        WebSubSubscription
		requested, verified, exp sql.NullInt64
	)
	if err := sc.Scan(&w.SourceID, &w.Hub, &w.Topic, &w.Secret, &w.State, &w.Reason, &requested, &verified, &exp); err != nil {
		return WebSubSubscription{}, err
	}
	w.RequestedAt, w.VerifiedAt, w.LeaseUntil = timeOf(requested), timeOf(verified), timeOf(exp)
	return w, nil
}

// WebSubSubscription returns a source's subscription; ok is false when the
// source has none.
func (s *Store) WebSubSubscription(ctx context.Context, sourceID string) (WebSubSubscription, bool, error) {
	w, err := scanWebSub(s.db.QueryRowContext(ctx, `SELECT `+websubColumns+` FROM websub_subscriptions WHERE source_id = $1`, sourceID))
	if errors.Is(err, sql.ErrNoRows) {
		return WebSubSubscription{}, false, nil
	}
	if err != nil {
		return WebSubSubscription{}, false, fmt.Errorf("store: websub subscription of source %q: %w", sourceID, err)
	}
	return w, true, nil
}

// SaveWebSubSubscription inserts or replaces a source's subscription (every
// field is written). Text is stored as the package documentation says
// (valid UTF-8, no NUL).
func (s *Store) SaveWebSubSubscription(ctx context.Context, w WebSubSubscription) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if w.SourceID == "" {
			return errors.New("empty source id")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO websub_subscriptions (`+websubColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (source_id) DO UPDATE SET
				hub = excluded.hub, topic = excluded.topic, secret = excluded.secret,
				state = excluded.state, reason = excluded.reason, requested_at = excluded.requested_at,
				verified_at = excluded.verified_at, lease_until = excluded.lease_until`,
			w.SourceID, cleanText(w.Hub), cleanText(w.Topic), cleanText(w.Secret), cleanText(w.State), cleanText(w.Reason),
			msOf(w.RequestedAt), msOf(w.VerifiedAt), msOf(w.LeaseUntil))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: save websub subscription of source %q: %w", w.SourceID, err)
	}
	return nil
}

// WebSubSubscriptions returns every subscription, by source id (for
// renewing leases and for operators).
func (s *Store) WebSubSubscriptions(ctx context.Context) ([]WebSubSubscription, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+websubColumns+` FROM websub_subscriptions ORDER BY source_id`)
	if err != nil {
		return nil, fmt.Errorf("store: websub subscriptions: %w", err)
	}
	defer rows.Close()
	var out []WebSubSubscription
	for rows.Next() {
		w, err := scanWebSub(rows)
		if err != nil {
			return nil, fmt.Errorf("store: websub subscriptions: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: websub subscriptions: %w", err)
	}
	return out, nil
}
