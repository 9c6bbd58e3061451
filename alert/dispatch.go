package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wirewatch/netguard"
	"wirewatch/news"
)

// Queue is what the dispatcher needs from the outbox. The store package
// implements it; alert never sees SQL.
type Queue interface {
	// ClaimNext returns the oldest pending delivery of the webhook if it is
	// due (NextAttempt <= now) and not leased, and leases it until
	// now+lease. ok=false when nothing is due. Order per webhook is kept:
	// if the oldest pending delivery is not due yet, nothing is returned.
	ClaimNext(ctx context.Context, webhookID string, now time.Time, lease time.Duration) (a news.Alert, ok bool, err error)
	MarkDelivered(ctx context.Context, deliveryID string, attempts int, at time.Time) error
	// MarkRetry records a failed attempt and when to try again (releases
	// the lease).
	MarkRetry(ctx context.Context, deliveryID string, attempts int, next time.Time, lastErr string) error
	// MarkFinal ends a delivery as news.DeliveryFailed (permanent 4xx) or
	// news.DeliveryDead (retries exhausted).
	MarkFinal(ctx context.Context, deliveryID string, status news.DeliveryStatus, attempts int, lastErr string, at time.Time) error
}

// Options tune a Dispatcher. The zero value works apart from Policy, whose
// zero value refuses private addresses (as production should).
type Options struct {
	// Policy guards outbound connections; the HTTP client uses
	// Policy.Transport, so every connect is checked after DNS.
	Policy netguard.Policy
	// UserAgent is sent with every request; default "wirewatch".
	UserAgent string
	Logger    *slog.Logger
	// Now is the clock for attempt timestamps and retry times.
	Now func() time.Time
	// PollInterval is how often idle workers look for due rows; default 1s.
	PollInterval time.Duration
	// Jitter spreads retry waits so a receiver that comes back is not hit
	// by every queued retry at once; default d ± up to 10%.
	Jitter func(d time.Duration) time.Duration
}

// Defaults and limits of delivery.
const (
	defaultTimeout      = 15 * time.Second
	defaultPollInterval = time.Second
	defaultUserAgent    = "wirewatch"
	// leaseMargin is added to the request timeout for the claim lease, so a
	// lease never expires while its attempt can still be running.
	leaseMargin = 30 * time.Second
	// maxResponseBody caps what is read of any response.
	maxResponseBody = 64 << 10
	// maxErrorBody is how much of a response body goes into errors and logs.
	maxErrorBody = 200
	// maxRetryAfter caps a receiver's Retry-After: order per webhook is
	// kept, so one huge value would park every later alert behind it.
	maxRetryAfter = 24 * time.Hour
	// markTimeout bounds outbox updates, which run even during shutdown so
	// a finished attempt is recorded.
	markTimeout = 30 * time.Second
	dialTimeout = 10 * time.Second
)

// Outcome is the result of one delivery attempt.
type Outcome struct {
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Err is nil exactly when the attempt succeeded (2xx).
	Err error
	// Retryable says whether another attempt may succeed: network errors,
	// timeouts, 408, 429 and 5xx are; 3xx, other 4xx, a blocked address
	// and an unrenderable alert are not.
	Retryable bool
	// RetryAfter is the receiver's Retry-After (capped at 24h), 0 if none.
	RetryAfter time.Duration
}

type worker struct {
	hook news.Webhook
	wake chan struct{}
}

// Dispatcher delivers outbox rows to webhooks, one worker per webhook so a
// slow or dead receiver never delays the others.
type Dispatcher struct {
	q       Queue
	workers []*worker
	topics  map[string]string // topic id -> title
	client  *http.Client
	ua      string
	log     *slog.Logger
	now     func() time.Time
	poll    time.Duration
	jitter  func(time.Duration) time.Duration
	running atomic.Bool
}

// NewDispatcher builds a dispatcher for the webhooks. Topics supply titles:
// an alert from the queue may carry only Topic.ID. An empty Webhook.Retry
// means news.DefaultRetry and a zero Timeout means 15s. A webhook id listed
// twice is delivered by one worker only (two would break per-webhook order).
func NewDispatcher(q Queue, webhooks []news.Webhook, topics []news.Topic, opts Options) *Dispatcher {
	d := &Dispatcher{
		q:      q,
		topics: make(map[string]string, len(topics)),
		ua:     opts.UserAgent,
		log:    opts.Logger,
		now:    opts.Now,
		poll:   opts.PollInterval,
		jitter: opts.Jitter,
	}
	if d.ua == "" {
		d.ua = defaultUserAgent
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.poll <= 0 {
		d.poll = defaultPollInterval
	}
	if d.jitter == nil {
		d.jitter = defaultJitter
	}
	d.client = &http.Client{
		Transport: opts.Policy.Transport(dialTimeout),
		// Redirects are not followed: the spec counts a 3xx as a failure
		// (the URL should be updated), and following one would let a
		// receiver bounce our signed POST somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, t := range topics {
		d.topics[t.ID] = t.Title
	}
	seen := make(map[string]bool, len(webhooks))
	for _, w := range webhooks {
		if seen[w.ID] {
			d.log.Warn("webhook listed twice; delivering through the first only", "webhook", w.ID)
			continue
		}
		seen[w.ID] = true
		d.workers = append(d.workers, &worker{hook: withDefaults(w), wake: make(chan struct{}, 1)})
	}
	return d
}

// withDefaults fills a webhook's retry schedule and timeout. The schedule
// is copied so the caller's slice (or news.DefaultRetry) is never shared.
func withDefaults(w news.Webhook) news.Webhook {
	if len(w.Retry) == 0 {
		w.Retry = news.DefaultRetry
	}
	w.Retry = append([]time.Duration(nil), w.Retry...)
	if w.Timeout <= 0 {
		w.Timeout = defaultTimeout
	}
	return w
}

// defaultJitter returns d ± up to 10%.
func defaultJitter(d time.Duration) time.Duration {
	spread := int64(d / 10)
	if spread <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(2*spread+1)-spread)
}

// Notify wakes idle workers, e.g. after new outbox rows are committed. It
// never blocks: a worker that is busy or already woken finds the rows on
// its next claim.
func (d *Dispatcher) Notify() {
	for _, w := range d.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Run delivers until ctx is cancelled, with one worker goroutine per
// webhook. It returns nil after every worker has stopped. An attempt in
// flight at cancellation is finished (bounded by the webhook timeout) and
// recorded; if the process dies instead, the row's lease expires and the
// next run retries it with the same webhook-id. Run may be called once at
// a time.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("alert: dispatcher is already running")
	}
	defer d.running.Store(false)
	var wg sync.WaitGroup
	for _, w := range d.workers {
		wg.Go(func() { d.work(ctx, w) })
	}
	wg.Wait()
	d.client.CloseIdleConnections()
	return nil
}

// work is one webhook's delivery loop.
func (d *Dispatcher) work(ctx context.Context, w *worker) {
	lease := w.hook.Timeout + leaseMargin
	var hint time.Time // when the row we just scheduled for retry is due
	for ctx.Err() == nil {
		a, ok, err := d.q.ClaimNext(ctx, w.hook.ID, d.now(), lease)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("claim delivery", "webhook", w.hook.ID, "err", err)
			}
			d.sleep(ctx, w, time.Time{})
			continue
		}
		if !ok {
			d.sleep(ctx, w, hint)
			hint = time.Time{}
			continue
		}
		hint = d.attempt(ctx, w.hook, a)
	}
}

// sleep waits PollInterval, or until hint if that is sooner, a Notify, or
// cancellation.
func (d *Dispatcher) sleep(ctx context.Context, w *worker, hint time.Time) {
	wait := d.poll
	if !hint.IsZero() {
		wait = max(0, min(wait, hint.Sub(d.now())))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.wake:
	case <-t.C:
	}
}

// attempt delivers one claimed row and records the outcome. It returns the
// next attempt time when a retry was scheduled. Neither the request nor the
// bookkeeping is cut short by ctx: a started attempt is seen through.
func (d *Dispatcher) attempt(ctx context.Context, w news.Webhook, a news.Alert) (next time.Time) {
	bg := context.WithoutCancel(ctx)
	id := a.Delivery.ID
	n := a.Delivery.Attempts + 1
	o := d.Deliver(bg, w, a, n)
	at := d.now()
	log := d.log.With("webhook", w.ID, "delivery", id, "attempt", n, "status", o.Status)

	mctx, cancel := context.WithTimeout(bg, markTimeout)
	defer cancel()
	var err error
	switch {
	case o.Err == nil:
		err = d.q.MarkDelivered(mctx, id, n, at)
		log.Info("webhook delivered")
	case !o.Retryable:
		err = d.q.MarkFinal(mctx, id, news.DeliveryFailed, n, o.Err.Error(), at)
		log.Warn("webhook delivery failed permanently", "err", o.Err)
	case n > len(w.Retry):
		err = d.q.MarkFinal(mctx, id, news.DeliveryDead, n, o.Err.Error(), at)
		log.Error("webhook delivery dead: retries exhausted", "err", o.Err)
	default:
		wait := max(0, d.jitter(w.Retry[n-1]))
		if o.RetryAfter > wait {
			wait = o.RetryAfter
		}
		next = at.Add(wait)
		err = d.q.MarkRetry(mctx, id, n, next, o.Err.Error())
		log.Info("webhook delivery will be retried", "err", o.Err, "retry_in", wait)
	}
	if err != nil {
		// The lease expires and the row is claimed again: the receiver may
		// see this webhook-id twice, which is what the id is for.
		log.Error("record delivery outcome", "err", err)
		return time.Time{}
	}
	return next
}

// Deliver sends one alert to one webhook once and reports the outcome. It
// applies the webhook's timeout (15s if zero) and fills the topic title from
// the dispatcher's topics. The webhook-id is the delivery id, the same on
// every attempt; the webhook-timestamp is the attempt time. attempt is only
// reported in debug logs.
func (d *Dispatcher) Deliver(ctx context.Context, w news.Webhook, a news.Alert, attempt int) Outcome {
	w = withDefaults(w)
	if a.Topic.Title == "" {
		if a.Topic.ID == "" {
			a.Topic.ID = a.Delivery.TopicID
		}
		a.Topic.Title = d.topics[a.Topic.ID]
	}
	body, contentType, err := Render(w.Format, a)
	if err != nil {
		return Outcome{Err: fmt.Errorf("alert: webhook %q: %w", w.ID, err)}
	}
	// The URL is never quoted in errors: Slack and Discord webhook URLs
	// carry their access token.
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Outcome{Err: fmt.Errorf("alert: webhook %q: url is not an absolute http(s) URL", w.ID)}
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return Outcome{Err: fmt.Errorf("alert: webhook %q: build request: %w", w.ID, stripURL(err))}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", d.ua)
	if err := SignHeaders(req.Header, w.Secrets, a.Delivery.ID, d.now(), body); err != nil {
		return Outcome{Err: fmt.Errorf("alert: webhook %q: %w", w.ID, err)}
	}
	d.log.Debug("webhook attempt", "webhook", w.ID, "delivery", a.Delivery.ID, "attempt", attempt, "bytes", len(body))

	resp, err := d.client.Do(req)
	if err != nil {
		err = stripURL(err)
		return Outcome{
			Err: fmt.Errorf("alert: webhook %q: post: %w", w.ID, err),
			// A refused address is policy, not a network hiccup.
			Retryable: !errors.Is(err, netguard.ErrBlocked),
		}
	}
	defer resp.Body.Close()
	// The body matters only for error messages; reading (a capped part of)
	// it lets a small response's connection be reused.
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))

	o := Outcome{Status: resp.StatusCode}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return o
	}
	o.Err = fmt.Errorf("alert: webhook %q answered %s: %q", w.ID, resp.Status, bodyExcerpt(data))
	switch code := resp.StatusCode; {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		o.Retryable = true
	case code >= 300 && code <= 499:
		o.Retryable = false // 3xx: not followed; 410 and other 4xx: the receiver refuses
	default:
		o.Retryable = true // 1xx or nonsense: nothing says the receiver refused
	}
	if o.Retryable {
		o.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), d.now())
	}
	return o
}

// stripURL drops the URL that *url.Error puts in its message: webhook URLs
// of Slack and Discord are credentials and must not reach logs or the
// outbox's last_error.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// bodyExcerpt returns the first bytes of a response body as valid UTF-8
// for errors and logs (quoted by the caller, so control bytes are inert).
func bodyExcerpt(b []byte) string {
	if len(b) > maxErrorBody {
		b = b[:maxErrorBody]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date. Fractional seconds (some rate limiters send them) round up. Past
// dates, garbage and absence give 0; values are capped at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs > 0) { // also rejects NaN
			return 0
		}
		if secs >= maxRetryAfter.Seconds() {
			return maxRetryAfter
		}
		d = time.Duration(math.Ceil(secs)) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
