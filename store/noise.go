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

// Noise control keeps deferred alerts in the outbox, so they survive a
// restart like any other row: a held row waits (status held) until a digest
// takes it (status digested, digest_id set), and the digest is an ordinary
// pending row that is claimed, retried and dead-lettered like the rest.

// MaxDigest caps how many held deliveries one digest carries, so that a
// digest stays a message a person reads and a payload a receiver accepts.
// What is left waits for the next digest, which CreateDigest makes at once
// when asked again.
const MaxDigest = 200

// AdmitDelivery decides whether a claimed delivery passes its webhook's rate
// limit of limit deliveries per per (limit 0: no limit, the delivery is only
// recorded as admitted). A delivery passes when fewer than limit others of
// its webhook were admitted in (now-per, now]; it is then recorded as
// admitted at now and AdmitDelivery returns true. Otherwise it is held with
// reason news.HoldRateLimit (its lease ended) and the answer is false. A
// delivery admitted before (a first attempt cut short by a crash) passes
// again without being counted twice.
func (s *Store) AdmitDelivery(ctx context.Context, deliveryID string, now time.Time, limit int, per time.Duration) (bool, error) {
	admitted := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		admitted = false // a retried transaction decides afresh
		var (
			webhookID string
			status    string
			before    sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT webhook_id FROM deliveries WHERE id = $1`, deliveryID).Scan(&webhookID)
		if errors.Is(err, sql.ErrNoRows) {
			return news.ErrNotFound
		}
		if err != nil {
			return err
		}
		// Instances admitting deliveries of one webhook take turns, so that
		// each counts the admissions of the others: two must never both
		// see room for one more.
		if err := s.lock(ctx, tx, "webhook\x00"+webhookID); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT status, admitted_at FROM deliveries WHERE id = $1`, deliveryID).Scan(&status, &before)
		if err != nil {
			return err
		}
		if status != string(news.DeliveryPending) {
			return fmt.Errorf("delivery is %s, not pending", status)
		}
		if before.Valid {
			admitted = true
			return nil
		}
		if limit > 0 {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries
				WHERE webhook_id = $1 AND admitted_at > $2 AND id <> $3`,
				webhookID, now.Add(-per).UnixMilli(), deliveryID).Scan(&n)
			if err != nil {
				return fmt.Errorf("count admitted: %w", err)
			}
			if n >= limit {
				return hold(ctx, tx, deliveryID, news.HoldRateLimit, now)
			}
		}
		admitted = true
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET admitted_at = $2 WHERE id = $1`, deliveryID, now.UnixMilli())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: admit delivery %q: %w", deliveryID, err)
	}
	return admitted, nil
}

// HoldDelivery defers a claimed pending delivery for a digest: it becomes
// held at now for reason (one of the news.Hold* constants) and its lease
// ends. A delivery that is not pending is not changed (an error says so).
func (s *Store) HoldDelivery(ctx context.Context, deliveryID, reason string, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error { return hold(ctx, tx, deliveryID, reason, now) })
	if err != nil {
		return fmt.Errorf("store: hold delivery %q: %w", deliveryID, err)
	}
	return nil
}

func hold(ctx context.Context, tx *sql.Tx, id, reason string, now time.Time) error {
	if reason == "" {
		return errors.New("no hold reason")
	}
	reason = cleanText(reason)
	res, err := tx.ExecContext(ctx, `UPDATE deliveries
		SET status = 'held', held_at = $2, hold_reason = $3, leased_until = NULL
		WHERE id = $1 AND status = 'pending'`, id, now.UnixMilli(), reason)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(err, notPending(ctx, tx, id))
	}
	return nil
}

// Held counts the webhook's held deliveries and says when the oldest was
// held (zero time: none held): what its next digest would carry.
func (s *Store) Held(ctx context.Context, webhookID string) (int, time.Time, error) {
	var (
		n      int
		oldest sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(held_at) FROM deliveries
		WHERE webhook_id = $1 AND status = 'held'`, webhookID).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: held deliveries of webhook %q: %w", webhookID, err)
	}
	return n, timeOf(oldest), nil
}

// CreateDigest moves the webhook's held deliveries, oldest first and at most
// MaxDigest of them, into one new pending digest delivery created at now,
// in one transaction, and returns it; ok is false when nothing was held.
// The digest's id derives from its first member, so it is stable and
// unique (a delivery goes into one digest only). Its HoldReason lists the
// members' reasons, comma-separated, in order of first appearance.
func (s *Store) CreateDigest(ctx context.Context, webhookID string, now time.Time) (news.Delivery, bool, error) {
	var (
		d  news.Delivery
		ok bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		// Instances making digests of one webhook take turns: the second
		// finds the held rows gone to the first's digest, and makes none.
		if err := s.lock(ctx, tx, "webhook\x00"+webhookID); err != nil {
			return err
		}
		var err error
		d, ok, err = createDigest(ctx, tx, webhookID, now)
		return err
	})
	if err != nil {
		return news.Delivery{}, false, fmt.Errorf("store: create digest for webhook %q: %w", webhookID, err)
	}
	return d, ok, nil
}

func createDigest(ctx context.Context, tx *sql.Tx, webhookID string, now time.Time) (news.Delivery, bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, hold_reason FROM deliveries
		WHERE webhook_id = $1 AND status = 'held'
		ORDER BY held_at, id LIMIT $2`, webhookID, MaxDigest)
	if err != nil {
		return news.Delivery{}, false, err
	}
	var (
		ids     []any
		reasons []string
		seen    = map[string]bool{}
	)
	for rows.Next() {
		var id, reason string
		if err := rows.Scan(&id, &reason); err != nil {
			rows.Close()
			return news.Delivery{}, false, err
		}
		ids = append(ids, id)
		if !seen[reason] {
			seen[reason] = true
			reasons = append(reasons, reason)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return news.Delivery{}, false, err
	}
	if len(ids) == 0 {
		return news.Delivery{}, false, nil
	}
	d := news.Delivery{
		ID:         news.DeliveryID(news.EventDigest, "", ids[0].(string), webhookID),
		WebhookID:  webhookID,
		EventType:  news.EventDigest,
		Status:     news.DeliveryPending,
		CreatedAt:  time.UnixMilli(now.UnixMilli()).UTC(),
		HoldReason: strings.Join(reasons, ","),
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, webhook_id, event_type, status, created_at, hold_reason)
		VALUES ($1, $2, $3, 'pending', $4, $5)`, d.ID, webhookID, news.EventDigest, now.UnixMilli(), d.HoldReason); err != nil {
		return news.Delivery{}, false, fmt.Errorf("insert digest: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'digested', digest_id = $1
		WHERE status = 'held' AND id IN (`+placeholders(2, len(ids))+`)`, append([]any{d.ID}, ids...)...)
	if err != nil {
		return news.Delivery{}, false, fmt.Errorf("move held deliveries: %w", err)
	}
	// Another instance took some of them meanwhile: give up this one
	// rather than send an alert in two digests.
	if n, err := res.RowsAffected(); err != nil || n != int64(len(ids)) {
		return news.Delivery{}, false, errors.Join(err, fmt.Errorf("moved %d of %d held deliveries: another digest took the rest", n, len(ids)))
	}
	return d, true, nil
}

// loadDigestSQL reads a digest's members with their entries, in the order
// they were held.
const loadDigestSQL = `SELECT ` + deliveryColumns + `, ` + itemColumns + `, ` + matchColumns + `, ` + sourceTitleExpr + `,
		i.previous_title
	FROM deliveries d
	JOIN items i ON i.id = d.item_id
	JOIN matches m ON m.topic_id = d.topic_id AND m.item_id = d.item_id
	LEFT JOIN sources s ON s.id = i.source_id
	WHERE d.digest_id = $1
	ORDER BY d.held_at, d.id`

// loadDigest reads a claimed digest delivery and its members.
func loadDigest(ctx context.Context, tx *sql.Tx, id string) (news.Alert, error) {
	var (
		dr deliveryRow
		a  news.Alert
	)
	if err := tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries d WHERE d.id = $1`, id).Scan(dr.dest()...); err != nil {
		return news.Alert{}, fmt.Errorf("load digest %q: %w", id, err)
	}
	var err error
	if a.Delivery, err = dr.delivery(); err != nil {
		return news.Alert{}, err
	}
	rows, err := tx.QueryContext(ctx, loadDigestSQL, id)
	if err != nil {
		return news.Alert{}, fmt.Errorf("load digest %q members: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			dr deliveryRow
			ir itemRow
			mr matchRow
			m  news.Alert
		)
		dest := append(append(dr.dest(), ir.dest()...), mr.dest()...)
		if err := rows.Scan(append(dest, &m.Entry.SourceTitle, &m.Entry.PreviousTitle)...); err != nil {
			return news.Alert{}, fmt.Errorf("load digest %q members: %w", id, err)
		}
		if m.Delivery, err = dr.delivery(); err != nil {
			return news.Alert{}, err
		}
		m.Topic.ID = m.Delivery.TopicID
		if m.Entry.Item, err = ir.item(); err != nil {
			return news.Alert{}, err
		}
		if m.Entry.Match, err = mr.match(); err != nil {
			return news.Alert{}, err
		}
		a.Digest = append(a.Digest, m)
	}
	if err := rows.Err(); err != nil {
		return news.Alert{}, fmt.Errorf("load digest %q members: %w", id, err)
	}
	return a, nil
}
