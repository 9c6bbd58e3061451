package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"wirewatch/news"
)

// Webhook health is written by the delivery marks (MarkDelivered, MarkRetry,
// MarkFinal), in the transaction of the mark, and by DisableWebhook and
// EnableWebhook. A webhook has a row once any of them touched it.

const webhookColumns = `id, last_success, last_failure, last_error, consecutive_failures, disabled_at, disabled_reason`

type webhookRow struct {
	st                             news.WebhookState
	success, failure, disabledWhen sql.NullInt64
}

func (r *webhookRow) dest() []any {
	return []any{&r.st.WebhookID, &r.success, &r.failure, &r.st.LastError, &r.st.ConsecutiveFailures,
		&r.disabledWhen, &r.st.DisabledReason}
}

func (r *webhookRow) state() news.WebhookState {
	st := r.st
	st.LastSuccess, st.LastFailure, st.DisabledAt = timeOf(r.success), timeOf(r.failure), timeOf(r.disabledWhen)
	return st
}

// WebhookState returns a webhook's health. A webhook nothing was recorded
// for yields a zero state with WebhookID set: "never tried" is not an error.
func (s *Store) WebhookState(ctx context.Context, webhookID string) (news.WebhookState, error) {
	var r webhookRow
	err := s.db.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, webhookID).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return news.WebhookState{WebhookID: webhookID}, nil
	}
	if err != nil {
		return news.WebhookState{}, fmt.Errorf("store: webhook state %q: %w", webhookID, err)
	}
	return r.state(), nil
}

// WebhookStates returns the health of every webhook something was recorded
// for, by id. Webhooks removed from the configuration stay listed: their
// history is still true.
func (s *Store) WebhookStates(ctx context.Context) ([]news.WebhookState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: webhook states: %w", err)
	}
	defer rows.Close()
	var out []news.WebhookState
	for rows.Next() {
		var r webhookRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("store: webhook states: %w", err)
		}
		out = append(out, r.state())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: webhook states: %w", err)
	}
	return out, nil
}

// DisableWebhook records that a webhook's receiver is gone (it answered 410
// Gone), with why and when; the dispatcher sends nothing to a disabled
// webhook. Disabling a disabled webhook keeps the first time and reason:
// several workers may see the same 410, and the first says since when.
// Health counters are left as they are.
func (s *Store) DisableWebhook(ctx context.Context, webhookID, reason string, at time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if webhookID == "" {
			return errors.New("empty webhook id")
		}
		if at.IsZero() {
			// A zero time is stored as NULL, which reads as "enabled".
			return errors.New("zero time")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO webhooks (id, disabled_at, disabled_reason) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET
				disabled_reason = CASE WHEN webhooks.disabled_at IS NULL THEN excluded.disabled_reason ELSE webhooks.disabled_reason END,
				disabled_at = COALESCE(webhooks.disabled_at, excluded.disabled_at)`,
			webhookID, at.UnixMilli(), cleanText(reason))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: disable webhook %q: %w", webhookID, err)
	}
	return nil
}

// EnableWebhook clears a webhook's disabled mark (time and reason), so the
// dispatcher sends to it again. Enabling a webhook that is not disabled, or
// unknown, does nothing. Health counters are left as they are: the next
// delivery's outcome updates them.
func (s *Store) EnableWebhook(ctx context.Context, webhookID string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhooks SET disabled_at = NULL, disabled_reason = ''
			WHERE id = $1 AND disabled_at IS NOT NULL`, webhookID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: enable webhook %q: %w", webhookID, err)
	}
	return nil
}
