package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"wirewatch/news"
)

// ClaimNext leases the webhook's oldest pending delivery (by CreatedAt, then
// ID) until now+lease and returns it with its entry loaded, if that delivery
// is due (NextAttempt <= now, a zero NextAttempt being due at once) and not
// leased by someone else. Deliveries of one webhook go out in order: when the
// oldest pending one is not due or is leased, ok is false even if a later
// one is due.
//
// The returned Alert has Delivery, Topic.ID and Entry (item, match, source
// title) filled; Topic's other fields are left to the caller's config. The
// lease keeps concurrent claimers off the row until it expires; MarkRetry and
// the final Mark* calls end it.
func (s *SQLite) ClaimNext(ctx context.Context, webhookID string, now time.Time, lease time.Duration) (news.Alert, bool, error) {
	if lease <= 0 {
		return news.Alert{}, false, fmt.Errorf("store: claim delivery for webhook %q: lease %v is not positive", webhookID, lease)
	}
	var (
		alert news.Alert
		ok    bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		alert, ok, err = claimNext(ctx, tx, webhookID, now, lease)
		return err
	})
	if err != nil {
		return news.Alert{}, false, fmt.Errorf("store: claim delivery for webhook %q: %w", webhookID, err)
	}
	return alert, ok, nil
}

func claimNext(ctx context.Context, tx *sql.Tx, webhookID string, now time.Time, lease time.Duration) (news.Alert, bool, error) {
	var (
		id                string
		next, leasedUntil sql.NullInt64
		nowMS             = now.UnixMilli()
	)
	err := tx.QueryRowContext(ctx, `SELECT id, next_attempt, leased_until FROM deliveries
		WHERE webhook_id = $1 AND status = 'pending'
		ORDER BY created_at, id
		LIMIT 1`, webhookID).Scan(&id, &next, &leasedUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return news.Alert{}, false, nil
	}
	if err != nil {
		return news.Alert{}, false, err
	}
	if (next.Valid && next.Int64 > nowMS) || (leasedUntil.Valid && leasedUntil.Int64 > nowMS) {
		return news.Alert{}, false, nil // the head blocks the queue
	}
	// The WHERE repeats the checks so that the claim stays safe even without
	// the surrounding serialisation (another process, another backend).
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET leased_until = $2
		WHERE id = $1 AND status = 'pending'
			AND (leased_until IS NULL OR leased_until <= $3)
			AND (next_attempt IS NULL OR next_attempt <= $3)`,
		id, now.Add(lease).UnixMilli(), nowMS)
	if err != nil {
		return news.Alert{}, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return news.Alert{}, false, err
	} else if n != 1 {
		return news.Alert{}, false, nil
	}

	var (
		dr deliveryRow
		ir itemRow
		mr matchRow
		a  news.Alert
	)
	dest := append(append(dr.dest(), ir.dest()...), mr.dest()...)
	err = tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+`, `+itemColumns+`, `+matchColumns+`, `+sourceTitleExpr+`
		FROM deliveries d
		JOIN items i ON i.id = d.item_id
		JOIN matches m ON m.topic_id = d.topic_id AND m.item_id = d.item_id
		LEFT JOIN sources s ON s.id = i.source_id
		WHERE d.id = $1`, id).Scan(append(dest, &a.Entry.SourceTitle)...)
	if err != nil {
		return news.Alert{}, false, fmt.Errorf("load delivery %q: %w", id, err)
	}
	a.Delivery = dr.delivery()
	a.Topic.ID = a.Delivery.TopicID
	if a.Entry.Item, err = ir.item(); err != nil {
		return news.Alert{}, false, err
	}
	if a.Entry.Match, err = mr.match(); err != nil {
		return news.Alert{}, false, err
	}
	return a, true, nil
}

// MarkDelivered records a successful delivery and ends its lease. LastError
// keeps the last failure, if any, for the record.
func (s *SQLite) MarkDelivered(ctx context.Context, deliveryID string, attempts int, at time.Time) error {
	return s.mark(ctx, deliveryID, "delivered", `UPDATE deliveries
		SET status = 'delivered', attempts = $2, delivered_at = $3, finished_at = $3, leased_until = NULL
		WHERE id = $1 AND status = 'pending'`, attempts, msOf(at))
}

// MarkRetry records a failed attempt: the delivery stays pending, becomes due
// at next and its lease ends.
func (s *SQLite) MarkRetry(ctx context.Context, deliveryID string, attempts int, next time.Time, lastErr string) error {
	return s.mark(ctx, deliveryID, "for retry", `UPDATE deliveries
		SET attempts = $2, next_attempt = $3, last_error = $4, leased_until = NULL
		WHERE id = $1 AND status = 'pending'`, attempts, msOf(next), lastErr)
}

// MarkFinal takes a delivery out of the queue for good: failed (the receiver
// refused it permanently) or dead (retries exhausted); delivered is accepted
// too and behaves like MarkDelivered with an error text. The row is kept.
func (s *SQLite) MarkFinal(ctx context.Context, deliveryID string, status news.DeliveryStatus, attempts int, lastErr string, at time.Time) error {
	var deliveredAt sql.NullInt64
	switch status {
	case news.DeliveryFailed, news.DeliveryDead:
	case news.DeliveryDelivered:
		deliveredAt = msOf(at)
	default:
		return fmt.Errorf("store: mark delivery %q final: status %q is not final", deliveryID, status)
	}
	return s.mark(ctx, deliveryID, string(status), `UPDATE deliveries
		SET status = $2, attempts = $3, last_error = $4, finished_at = $5, delivered_at = $6, leased_until = NULL
		WHERE id = $1 AND status = 'pending'`, string(status), attempts, lastErr, msOf(at), deliveredAt)
}

// mark runs one state change of a pending delivery ($1 is its id). Only
// pending rows change, so a late or repeated mark can never resurrect a
// delivery that already left the queue.
func (s *SQLite) mark(ctx context.Context, id, what, query string, args ...any) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, append([]any{id}, args...)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
		var status string
		err = tx.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE id = $1`, id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return news.ErrNotFound
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("delivery is %s, not pending", status)
	})
	if err != nil {
		return fmt.Errorf("store: mark delivery %q %s: %w", id, what, err)
	}
	return nil
}

// Deliveries lists outbox rows, newest first (by CreatedAt, then ID).
func (s *SQLite) Deliveries(ctx context.Context, f DeliveryFilter) ([]news.Delivery, error) {
	var (
		conds []string
		args  []any
	)
	if f.WebhookID != "" {
		args = append(args, f.WebhookID)
		conds = append(conds, fmt.Sprintf("d.webhook_id = $%d", len(args)))
	}
	if f.Status != "" {
		args = append(args, string(f.Status))
		conds = append(conds, fmt.Sprintf("d.status = $%d", len(args)))
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	args = append(args, clampLimit(f.Limit, defaultDeliveryLimit))
	rows, err := s.db.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries d `+where+`
		ORDER BY d.created_at DESC, d.id DESC
		LIMIT `+fmt.Sprintf("$%d", len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	defer rows.Close()
	var out []news.Delivery
	for rows.Next() {
		var dr deliveryRow
		if err := rows.Scan(dr.dest()...); err != nil {
			return nil, fmt.Errorf("store: deliveries: %w", err)
		}
		out = append(out, dr.delivery())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	return out, nil
}

// PendingDeliveries counts deliveries still pending, due or not.
func (s *SQLite) PendingDeliveries(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: pending deliveries: %w", err)
	}
	return n, nil
}
