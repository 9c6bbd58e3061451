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

// ClaimNext leases one pending delivery of the webhook until now+lease and
// returns it with its entry loaded. A delivery is claimable when it is due
// (NextAttempt <= now, a zero NextAttempt being due at once) and not leased
// by someone else (an expired lease does not count).
//
// ordered=true keeps the webhook's deliveries in order: only the oldest
// pending delivery (by CreatedAt, then ID) is considered, and when it is not
// claimable ok is false even if a later one is due. ordered=false claims the
// oldest claimable delivery, skipping leased and not-yet-due ones, so that
// several workers can send one webhook's deliveries side by side; the lease
// still gives each row to one claimer only.
//
// The returned Alert has Delivery (with its Update, for match.updated),
// Topic.ID and Entry (item, match, source title, previous title) filled;
// Topic's other fields are left to the caller's config, and
// Entry.AlsoReportedBy is not loaded (an also_reported update carries its
// sighting). The entry is the delivery's item: for an also_reported update,
// the story's first sighting. The lease keeps concurrent claimers off the
// row until it expires; MarkRetry and the final Mark* calls end it. The
// claim also records now as the start of the attempt (see MarkRetry).
func (s *Store) ClaimNext(ctx context.Context, webhookID string, ordered bool, now time.Time, lease time.Duration) (news.Alert, bool, error) {
	if lease <= 0 {
		return news.Alert{}, false, fmt.Errorf("store: claim delivery for webhook %q: lease %v is not positive", webhookID, lease)
	}
	var (
		alert news.Alert
		ok    bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		alert, ok, err = s.claimNext(ctx, tx, webhookID, ordered, now, lease)
		return err
	})
	if err != nil {
		return news.Alert{}, false, fmt.Errorf("store: claim delivery for webhook %q: %w", webhookID, err)
	}
	return alert, ok, nil
}

// The claim is one statement, picking the row and leasing it (loading its
// entry is a second). $1 is the webhook, $2 now, $3 the lease's end. The
// outer WHERE repeats the checks so that the claim stays safe even without
// the write serialisation around it (another process, a backend whose
// UPDATE re-reads the row it waited for).
const (
	claimable = `(leased_until IS NULL OR leased_until <= $2) AND (next_attempt IS NULL OR next_attempt <= $2)`
	// queueHead and queueFirstClaimable walk the pending rows of one webhook
	// in claim order, in an index (deliveries_queue or deliveries_pending)
	// that covers them. An unordered claim costs one index entry per leased
	// or not-yet-due row it walks past (about 0.2µs each).
	queueHead = `SELECT id FROM deliveries WHERE webhook_id = $1 AND status = 'pending'
		ORDER BY created_at, id LIMIT 1`
	queueFirstClaimable = `SELECT id FROM deliveries WHERE webhook_id = $1 AND status = 'pending' AND ` + claimable + `
		ORDER BY created_at, id LIMIT 1`
	claimSet = `UPDATE deliveries SET leased_until = $3, claimed_at = $2 WHERE id = (`
	claimEnd = `) AND status = 'pending' AND ` + claimable + ` RETURNING id, event_type`

	claimOrderedSQL   = claimSet + queueHead + claimEnd
	claimUnorderedSQL = claimSet + queueFirstClaimable + claimEnd
	// On PostgreSQL an unordered claim skips rows that another claimer's
	// transaction has locked: several instances then claim different rows
	// side by side instead of queueing on one row and coming back empty.
	// (An ordered claim must not skip its head: it waits for the row lock,
	// then the outer WHERE sees the lease and claims nothing.)
	claimUnorderedPostgresSQL = claimSet + queueFirstClaimable + ` FOR UPDATE SKIP LOCKED` + claimEnd

	// loadAlertSQL reads a claimed delivery ($1) with its entry. The entry
	// is the delivery's item: for an also_reported update, the first
	// sighting (the new one is in the update).
	loadAlertSQL = `SELECT ` + deliveryColumns + `, ` + itemColumns + `, ` + matchColumns + `, ` + sourceTitleExpr + `,
			i.previous_title
		FROM deliveries d
		JOIN items i ON i.id = d.item_id
		JOIN matches m ON m.topic_id = d.topic_id AND m.item_id = d.item_id
		LEFT JOIN sources s ON s.id = i.source_id
		WHERE d.id = $1`
)

// The marks: $1 is the delivery; each returns the row's webhook_id and
// claimed_at, for the health update (see mark).
const (
	markDeliveredSQL = `UPDATE deliveries
		SET status = 'delivered', attempts = $2, delivered_at = $3, finished_at = $3, leased_until = NULL
		WHERE id = $1 AND status = 'pending'
		RETURNING webhook_id, claimed_at`
	markRetrySQL = `UPDATE deliveries
		SET attempts = $2, next_attempt = $3, last_error = $4, leased_until = NULL
		WHERE id = $1 AND status = 'pending'
		RETURNING webhook_id, claimed_at`
	markFinalSQL = `UPDATE deliveries
		SET status = $2, attempts = $3, last_error = $4, finished_at = $5, delivered_at = $6, leased_until = NULL
		WHERE id = $1 AND status = 'pending'
		RETURNING webhook_id, claimed_at`
)

// hotStmts are the statements every delivery runs (a claim, a load, a mark
// and a health update) and every feed request (a page and its sightings),
// prepared once: SQLite spends longer parsing them than running them (and
// PostgreSQL plans them once per connection).
// database/sql keeps one prepared copy per pooled connection, and
// Tx.StmtContext reuses the copy of the transaction's.
type hotStmts struct {
	claimOrdered, claimUnordered, loadAlert *sql.Stmt
	markDelivered, markRetry, markFinal     *sql.Stmt
	healthSuccess, healthFailure            *sql.Stmt
	topicEntries, sightings                 *sql.Stmt
}

func prepareHot(ctx context.Context, db *sql.DB, eng engine) (*hotStmts, error) {
	h := &hotStmts{}
	claimUnordered := claimUnorderedSQL
	if eng == enginePostgres {
		claimUnordered = claimUnorderedPostgresSQL
	}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&h.claimOrdered, claimOrderedSQL}, {&h.claimUnordered, claimUnordered}, {&h.loadAlert, loadAlertSQL},
		{&h.markDelivered, markDeliveredSQL}, {&h.markRetry, markRetrySQL}, {&h.markFinal, markFinalSQL},
		{&h.healthSuccess, healthSuccessSQL}, {&h.healthFailure, healthFailureSQL},
		{&h.topicEntries, topicEntriesSQL}, {&h.sightings, sightingsSQL(sightingsBatch)},
	} {
		st, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare: %w", err), h.close())
		}
		*p.dst = st
	}
	return h, nil
}

func (h *hotStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{h.claimOrdered, h.claimUnordered, h.loadAlert,
		h.markDelivered, h.markRetry, h.markFinal, h.healthSuccess, h.healthFailure, h.topicEntries, h.sightings} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

func (s *Store) claimNext(ctx context.Context, tx *sql.Tx, webhookID string, ordered bool, now time.Time, lease time.Duration) (news.Alert, bool, error) {
	claim := s.hot.claimUnordered
	if ordered {
		claim = s.hot.claimOrdered
	}
	var id, eventType string
	err := tx.StmtContext(ctx, claim).QueryRowContext(ctx, webhookID, now.UnixMilli(), now.Add(lease).UnixMilli()).Scan(&id, &eventType)
	if errors.Is(err, sql.ErrNoRows) {
		return news.Alert{}, false, nil // empty, or (ordered) the head blocks the queue
	}
	if err != nil {
		return news.Alert{}, false, err
	}
	switch eventType {
	case news.EventDigest:
		a, err := loadDigest(ctx, tx, id)
		if err != nil {
			return news.Alert{}, false, err
		}
		return a, true, nil
	case news.EventSourceHealth:
		var dr deliveryRow
		if err := tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries d WHERE d.id = $1`, id).Scan(dr.dest()...); err != nil {
			return news.Alert{}, false, fmt.Errorf("load delivery %q: %w", id, err)
		}
		d, err := dr.delivery()
		if err != nil {
			return news.Alert{}, false, err
		}
		return news.Alert{Delivery: d}, true, nil
	}

	var (
		dr deliveryRow
		ir itemRow
		mr matchRow
		a  news.Alert
	)
	dest := append(append(dr.dest(), ir.dest()...), mr.dest()...)
	err = tx.StmtContext(ctx, s.hot.loadAlert).QueryRowContext(ctx, id).Scan(append(dest, &a.Entry.SourceTitle, &a.Entry.PreviousTitle)...)
	if err != nil {
		return news.Alert{}, false, fmt.Errorf("load delivery %q: %w", id, err)
	}
	if a.Delivery, err = dr.delivery(); err != nil {
		return news.Alert{}, false, err
	}
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
// keeps the last failure, if any, for the record. In the same transaction
// the webhook's health records the success: LastSuccess = at, and
// ConsecutiveFailures back to 0.
func (s *Store) MarkDelivered(ctx context.Context, deliveryID string, attempts int, at time.Time) error {
	return s.mark(ctx, deliveryID, "delivered", s.hot.markDelivered, []any{attempts, msOf(at)}, health{ok: true, at: at})
}

// MarkRetry records a failed attempt: the delivery stays pending, becomes due
// at next and its lease ends. In the same transaction the webhook's health
// records the failure (LastError = lastErr, one more ConsecutiveFailures).
// LastFailure is when the failed attempt was claimed, by the clock the
// claimer passed to ClaimNext, since MarkRetry is given no time of its own;
// a row marked without ever having been claimed is stamped with the wall
// clock.
func (s *Store) MarkRetry(ctx context.Context, deliveryID string, attempts int, next time.Time, lastErr string) error {
	lastErr = cleanText(lastErr)
	return s.mark(ctx, deliveryID, "for retry", s.hot.markRetry, []any{attempts, msOf(next), lastErr}, health{err: lastErr})
}

// MarkFinal takes a delivery out of the queue for good: failed (the receiver
// refused it permanently) or dead (retries exhausted); delivered is accepted
// too and behaves like MarkDelivered with an error text. The row is kept. In
// the same transaction the webhook's health records a failure at at (failed,
// dead) or a success (delivered), as MarkRetry and MarkDelivered do.
func (s *Store) MarkFinal(ctx context.Context, deliveryID string, status news.DeliveryStatus, attempts int, lastErr string, at time.Time) error {
	lastErr = cleanText(lastErr)
	var (
		deliveredAt sql.NullInt64
		h           = health{at: at, err: lastErr}
	)
	switch status {
	case news.DeliveryFailed, news.DeliveryDead:
	case news.DeliveryDelivered:
		deliveredAt = msOf(at)
		h = health{ok: true, at: at}
	default:
		return fmt.Errorf("store: mark delivery %q final: status %q is not final", deliveryID, status)
	}
	return s.mark(ctx, deliveryID, string(status), s.hot.markFinal, []any{string(status), attempts, lastErr, msOf(at), deliveredAt}, h)
}

// health is what a mark tells about its webhook: a success, or a failure
// with its error. A zero at means "when the attempt was claimed".
type health struct {
	ok  bool
	at  time.Time
	err string
}

// Webhook health upserts. $1 is the webhook, $2 the time; $3 the error.
const (
	healthSuccessSQL = `INSERT INTO webhooks (id, last_success, consecutive_failures) VALUES ($1, $2, 0)
		ON CONFLICT (id) DO UPDATE SET last_success = excluded.last_success, consecutive_failures = 0`
	healthFailureSQL = `INSERT INTO webhooks (id, last_failure, last_error, consecutive_failures) VALUES ($1, $2, $3, 1)
		ON CONFLICT (id) DO UPDATE SET last_failure = excluded.last_failure, last_error = excluded.last_error,
			consecutive_failures = webhooks.consecutive_failures + 1`
)

// mark runs one state change of a pending delivery (stmt, one of the mark
// statements; $1 is the delivery's id) and records what it says
// about the webhook's health, in one transaction: a mark that fails changes
// neither. Only pending rows change, so a late or repeated mark can never
// resurrect a delivery that already left the queue, nor count twice.
func (s *Store) mark(ctx context.Context, id, what string, stmt *sql.Stmt, args []any, h health) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var (
			webhookID string
			claimedAt sql.NullInt64
		)
		err := tx.StmtContext(ctx, stmt).QueryRowContext(ctx, append([]any{id}, args...)...).Scan(&webhookID, &claimedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return notPending(ctx, tx, id)
		}
		if err != nil {
			return err
		}
		when := msOf(h.at)
		if h.at.IsZero() {
			when = claimedAt
			if !when.Valid {
				when = msOf(s.now())
			}
		}
		if h.ok {
			_, err = tx.StmtContext(ctx, s.hot.healthSuccess).ExecContext(ctx, webhookID, when)
		} else {
			_, err = tx.StmtContext(ctx, s.hot.healthFailure).ExecContext(ctx, webhookID, when, h.err)
		}
		if err != nil {
			return fmt.Errorf("webhook %q health: %w", webhookID, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: mark delivery %q %s: %w", id, what, err)
	}
	return nil
}

// notPending explains why a mark changed nothing: the delivery is unknown
// (news.ErrNotFound) or no longer pending.
func notPending(ctx context.Context, tx *sql.Tx, id string) error {
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE id = $1`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return news.ErrNotFound
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("delivery is %s, not pending", status)
}

// RetryFilter selects deliveries to replay (RetryDeliveries). At least one
// of IDs, Statuses or Since must be set; WebhookID only narrows. Conditions
// combine with AND.
type RetryFilter struct {
	// IDs names deliveries to replay, whatever their status.
	IDs []string
	// Statuses restricts the replay to these statuses. Without IDs only
	// failed and dead are allowed (and are the default); delivered and
	// pending rows are replayed only when IDs names them.
	Statuses []news.DeliveryStatus
	// Since selects deliveries created at or after it.
	Since time.Time
	// WebhookID restricts the replay to one webhook.
	WebhookID string
}

// RetryDeliveries puts the deliveries f selects back in the queue: pending,
// due at now, attempts back to 0 (so they get a full retry schedule again),
// lease, DeliveredAt and finish time cleared; LastError is kept for the
// record. It returns how many deliveries it requeued.
//
// A pending delivery named in IDs is made due now, unless it is leased (being
// sent right now): clearing that lease would let a second worker send it
// while the first still is, so it is left alone and not counted.
//
// A delivered row is replayed only when IDs names it: that is a deliberate
// resend. It keeps its webhook-id (the ID, which the payload is signed
// with), so a receiver that drops repeated webhook-ids, as Standard Webhooks
// advises, will drop the resend too.
//
// A replayed row keeps its CreatedAt, so in an ordered webhook's queue it
// goes ahead of deliveries created after it.
func (s *Store) RetryDeliveries(ctx context.Context, f RetryFilter, now time.Time) (int, error) {
	n, err := s.retryDeliveries(ctx, f, now)
	if err != nil {
		return 0, fmt.Errorf("store: retry deliveries: %w", err)
	}
	return n, nil
}

func (s *Store) retryDeliveries(ctx context.Context, f RetryFilter, now time.Time) (int, error) {
	if len(f.IDs) == 0 && len(f.Statuses) == 0 && f.Since.IsZero() {
		return 0, errors.New("no ids, statuses or since given: refusing to replay everything")
	}
	statuses := f.Statuses
	if len(statuses) == 0 && len(f.IDs) == 0 {
		statuses = []news.DeliveryStatus{news.DeliveryFailed, news.DeliveryDead}
	}
	for _, st := range statuses {
		switch st {
		case news.DeliveryFailed, news.DeliveryDead:
		case news.DeliveryDelivered, news.DeliveryPending:
			if len(f.IDs) == 0 {
				return 0, fmt.Errorf("%s deliveries are replayed only by id", st)
			}
		default:
			return 0, fmt.Errorf("unknown delivery status %q", st)
		}
	}

	// $1 is now; the conditions shared by every chunk follow.
	args := []any{msOf(now)}
	conds := []string{`(status <> 'pending' OR leased_until IS NULL OR leased_until <= $1)`}
	if len(statuses) > 0 {
		ph := placeholders(len(args)+1, len(statuses))
		for _, st := range statuses {
			args = append(args, string(st))
		}
		conds = append(conds, `status IN (`+ph+`)`)
	}
	if !f.Since.IsZero() {
		args = append(args, f.Since.UnixMilli())
		conds = append(conds, fmt.Sprintf(`created_at >= $%d`, len(args)))
	}
	if f.WebhookID != "" {
		args = append(args, f.WebhookID)
		conds = append(conds, fmt.Sprintf(`webhook_id = $%d`, len(args)))
	}
	update := `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt = $1,
			leased_until = NULL, delivered_at = NULL, finished_at = NULL
		WHERE ` + strings.Join(conds, ` AND `)

	// Each id once: a duplicate in two chunks would be counted twice.
	var ids []string
	seen := make(map[string]bool, len(f.IDs))
	for _, id := range f.IDs {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}

	total := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		total = 0 // a retried transaction counts afresh
		run := func(query string, args []any) error {
			res, err := tx.ExecContext(ctx, query, args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			total += int(n)
			return err
		}
		if len(ids) == 0 {
			return run(update, args)
		}
		for start := 0; start < len(ids); start += unseenChunk {
			chunk := ids[start:min(start+unseenChunk, len(ids))]
			chunkArgs := append(make([]any, 0, len(args)+len(chunk)), args...)
			for _, id := range chunk {
				chunkArgs = append(chunkArgs, id)
			}
			if err := run(update+` AND id IN (`+placeholders(len(args)+1, len(chunk))+`)`, chunkArgs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// Deliveries lists the outbox rows f selects, newest first: by CreatedAt,
// then by ID (descending), so that rows created in the same millisecond keep
// one order from call to call and pages do not shuffle.
func (s *Store) Deliveries(ctx context.Context, f DeliveryFilter) ([]news.Delivery, error) {
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
	if f.TopicID != "" {
		args = append(args, f.TopicID)
		conds = append(conds, fmt.Sprintf("d.topic_id = $%d", len(args)))
	}
	if f.ItemID != "" {
		args = append(args, f.ItemID)
		conds = append(conds, fmt.Sprintf("d.item_id = $%d", len(args)))
	}
	if !f.Since.IsZero() {
		args = append(args, f.Since.UnixMilli())
		conds = append(conds, fmt.Sprintf("d.created_at >= $%d", len(args)))
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
		d, err := dr.delivery()
		if err != nil {
			return nil, fmt.Errorf("store: deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	return out, nil
}

// PendingDeliveries counts deliveries still pending, due or not, of the
// given webhooks (all webhooks when none are named).
func (s *Store) PendingDeliveries(ctx context.Context, webhookIDs ...string) (int, error) {
	q := `SELECT COUNT(*) FROM deliveries WHERE status = 'pending'`
	args := make([]any, len(webhookIDs))
	if len(webhookIDs) > 0 {
		marks := make([]string, len(webhookIDs))
		for i, id := range webhookIDs {
			marks[i] = fmt.Sprintf("$%d", i+1)
			args[i] = id
		}
		q += ` AND webhook_id IN (` + strings.Join(marks, ", ") + `)`
	}
	var n int
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: pending deliveries: %w", err)
	}
	return n, nil
}
