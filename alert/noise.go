package alert

import (
	"context"
	"sync"
	"time"

	"wirewatch/news"
)

// Noise control defers instead of dropping. When a webhook's worker claims
// a first attempt it asks the policy: an urgent match goes out at once; on
// a digest schedule or in quiet hours the delivery is held; otherwise the
// store admits it under the rate limit or holds it as overflow. Held rows
// stay in the outbox; when the policy says their digest is due, the store
// moves them into one digest delivery, which is sent like any other. The
// decisions live in the store's transactions, so a restart, or a second
// instance, neither loses a held alert nor sends it twice.

// noisePolicy is a webhook's news.Noise prepared for the dispatcher.
type noisePolicy struct {
	cfg    news.Noise
	loc    *time.Location
	urgent map[string]bool

	// mu guards checked: the workers of one webhook look for a due digest
	// at most once per poll interval between them.
	mu      sync.Mutex
	checked time.Time
}

func newNoisePolicy(n news.Noise) *noisePolicy {
	if !n.Active() {
		return nil
	}
	p := &noisePolicy{cfg: n, loc: n.Location, urgent: make(map[string]bool, len(n.UrgentTopics))}
	if p.loc == nil {
		p.loc = time.UTC
	}
	for _, t := range n.UrgentTopics {
		p.urgent[t] = true
	}
	return p
}

// isUrgent reports whether an alert bypasses noise control: its topic is
// listed as urgent or its score reaches the urgent score. A digest is
// never held again, and neither is a retry (it was let through once).
func (p *noisePolicy) isUrgent(a news.Alert) bool {
	if p.urgent[a.Delivery.TopicID] {
		return true
	}
	return p.cfg.UrgentScore > 0 && a.Entry.Match.Score >= p.cfg.UrgentScore
}

// exempt reports whether noise control does not apply to a claimed row.
func exempt(a news.Alert) bool {
	return a.Delivery.EventType == news.EventDigest || a.Delivery.EventType == news.EventSourceHealth || a.Delivery.Attempts > 0
}

// holdReason says why a claimed first attempt must wait ("" if it need
// not, apart from the rate limit, which the store decides).
func (p *noisePolicy) holdReason(a news.Alert, now time.Time) string {
	if exempt(a) || p.isUrgent(a) {
		return ""
	}
	if p.cfg.DigestNext != nil {
		return news.HoldDigest
	}
	if p.quiet(now) {
		return news.HoldQuietHours
	}
	return ""
}

// clock returns the hour and minute of an offset from midnight.
func clock(d time.Duration) (int, int) { return int(d / time.Hour), int(d % time.Hour / time.Minute) }

// quiet reports whether t falls in quiet hours. Quiet hours are wall-clock
// times in the policy's zone, so they move with daylight saving time.
func (p *noisePolicy) quiet(t time.Time) bool {
	from, to := p.cfg.QuietFrom, p.cfg.QuietTo
	if from == to {
		return false
	}
	lt := t.In(p.loc)
	of := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute +
		time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
	if from < to {
		return of >= from && of < to
	}
	return of >= from || of < to // past midnight
}

// quietEnd returns the first time at or after t that is not in quiet hours.
func (p *noisePolicy) quietEnd(t time.Time) time.Time {
	if !p.quiet(t) {
		return t
	}
	lt := t.In(p.loc)
	h, m := clock(p.cfg.QuietTo)
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), h, m, 0, 0, p.loc)
	if !end.After(t) {
		end = time.Date(lt.Year(), lt.Month(), lt.Day()+1, h, m, 0, 0, p.loc)
	}
	return end
}

// digestDue returns when the digest of rows held since oldest is due: the
// next scheduled digest after the oldest (on a schedule), or once a rate
// window has passed since it (a rate limit), or at once; never inside
// quiet hours, which postpone it to their end.
func (p *noisePolicy) digestDue(oldest time.Time) time.Time {
	due := oldest
	switch {
	case p.cfg.DigestNext != nil:
		if next := p.cfg.DigestNext(oldest); !next.IsZero() {
			due = next
		}
	case p.cfg.RateCount > 0:
		due = oldest.Add(p.cfg.RatePer)
	}
	return p.quietEnd(due)
}

// shouldCheck reports whether it is time to look for a due digest again,
// and if so records the look. wall is the monotonic clock (the injected
// clock of tests may stand still).
func (p *noisePolicy) shouldCheck(wall time.Time, every time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.checked.IsZero() && wall.Sub(p.checked) < every {
		return false
	}
	p.checked = wall
	return true
}

// applyNoise decides a claimed row's fate under the webhook's noise
// control and reports whether the worker must not send it now: it was held
// (or could not be decided, in which case its lease runs out and it is
// claimed again).
func (d *Dispatcher) applyNoise(ctx context.Context, h *hook, a news.Alert) bool {
	p := h.noise
	if p == nil || exempt(a) {
		return false
	}
	id, now := a.Delivery.ID, d.now()
	if reason := p.holdReason(a, now); reason != "" {
		if err := d.q.HoldDelivery(ctx, id, reason, now); err != nil {
			d.log.Error("hold delivery for a digest", "webhook", h.cfg.ID, "delivery", id, "err", err)
			return true
		}
		d.log.Info("alert held for a digest", "webhook", h.cfg.ID, "delivery", id, "reason", reason)
		return true
	}
	if p.cfg.RateCount == 0 {
		return false
	}
	limit := p.cfg.RateCount
	if p.isUrgent(a) {
		limit = 0 // counted, never held
	}
	ok, err := d.q.AdmitDelivery(ctx, id, now, limit, p.cfg.RatePer)
	if err != nil {
		d.log.Error("apply rate limit", "webhook", h.cfg.ID, "delivery", id, "err", err)
		return true
	}
	if !ok {
		d.log.Info("alert held for a digest", "webhook", h.cfg.ID, "delivery", id, "reason", news.HoldRateLimit)
	}
	return !ok
}

// flushDigest makes the webhook's digest when one is due and reports
// whether it made one (so the worker claims it at once).
func (d *Dispatcher) flushDigest(ctx context.Context, h *hook) bool {
	p := h.noise
	if p == nil || !p.shouldCheck(time.Now(), d.poll) {
		return false
	}
	n, oldest, err := d.q.Held(ctx, h.cfg.ID)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("read held deliveries", "webhook", h.cfg.ID, "err", err)
		}
		return false
	}
	now := d.now()
	if n == 0 || now.Before(p.digestDue(oldest)) || p.quiet(now) {
		return false
	}
	dg, ok, err := d.q.CreateDigest(ctx, h.cfg.ID, now)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("create digest", "webhook", h.cfg.ID, "err", err)
		}
		return false
	}
	if ok {
		d.log.Info("digest ready", "webhook", h.cfg.ID, "delivery", dg.ID, "held", n, "reasons", dg.HoldReason)
	}
	return ok
}
