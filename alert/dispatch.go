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
	// ClaimNext returns a due (NextAttempt <= now), unleased, pending
	// delivery of the webhook and leases it until now+lease; ok=false when
	// there is none. ordered=true keeps the webhook's order: only the
	// oldest pending delivery may be claimed, and if it is not due or is
	// leased, nothing is returned. ordered=false skips leased and not-due
	// rows and returns the oldest claimable one, so several workers can
	// deliver to one webhook at once.
	ClaimNext(ctx context.Context, webhookID string, ordered bool, now time.Time, lease time.Duration) (a news.Alert, ok bool, err error)
	MarkDelivered(ctx context.Context, deliveryID string, attempts int, at time.Time) error
	// MarkRetry records a failed attempt and when to try again (releases
	// the lease).
	MarkRetry(ctx context.Context, deliveryID string, attempts int, next time.Time, lastErr string) error
	// MarkFinal ends a delivery as news.DeliveryFailed (permanent 4xx) or
	// news.DeliveryDead (retries exhausted).
	MarkFinal(ctx context.Context, deliveryID string, status news.DeliveryStatus, attempts int, lastErr string, at time.Time) error
	// DisableWebhook records that the webhook must get nothing more until
	// an operator enables it again (its pending deliveries stay queued).
	DisableWebhook(ctx context.Context, webhookID, reason string, at time.Time) error
	// WebhookState returns the webhook's recorded health. A webhook with
	// no record yet has a zero state (news.ErrNotFound is read the same).
	WebhookState(ctx context.Context, webhookID string) (news.WebhookState, error)

	// Noise control (see noise.go). AdmitDelivery lets a claimed delivery
	// through the webhook's rate limit (limit per per; 0: no limit, only
	// counted) or holds it as overflow, and reports which; HoldDelivery
	// holds it for a digest; Held counts the held rows and dates the
	// oldest; CreateDigest moves held rows into one new pending digest
	// delivery (ok=false: nothing was held).
	AdmitDelivery(ctx context.Context, deliveryID string, now time.Time, limit int, per time.Duration) (bool, error)
	HoldDelivery(ctx context.Context, deliveryID, reason string, now time.Time) error
	Held(ctx context.Context, webhookID string) (int, time.Time, error)
	CreateDigest(ctx context.Context, webhookID string, now time.Time) (news.Delivery, bool, error)
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
	// PollInterval is how often idle workers look for due rows, and how
	// often a webhook's disabled state is re-read; default 1s.
	PollInterval time.Duration
	// Jitter spreads retry waits so a receiver that comes back is not hit
	// by every queued retry at once; default d ± up to 10%.
	Jitter func(d time.Duration) time.Duration
}

// Defaults and limits of delivery.
const (
	// DefaultConcurrency is the number of deliveries in flight to an
	// Unordered webhook whose Concurrency is 0.
	DefaultConcurrency = 4
	// MaxConcurrency caps Webhook.Concurrency: more parallel requests to
	// one receiver stop being throughput and start being a flood.
	MaxConcurrency = 64

	defaultTimeout      = 15 * time.Second
	defaultPollInterval = time.Second
	defaultUserAgent    = "wirewatch"
	// leaseMargin is added to the request timeout for the claim lease, so a
	// lease never expires while its attempt can still be running.
	leaseMargin = 5 * time.Second
	// maxResponseBody caps what is read of any response.
	maxResponseBody = 64 << 10
	// maxResponseHeader caps a response's header block (the transport's
	// default is 10 MiB).
	maxResponseHeader = 64 << 10
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

// hook is one webhook as the dispatcher runs it: its settings with
// defaults filled, what can be prepared once (URL check, template), and
// the enabled/disabled state its workers share.
type hook struct {
	cfg     news.Webhook
	ordered bool
	workers int
	lease   time.Duration
	urlErr  error        // non-nil: the URL can never be posted to
	rend    *renderer    // the format, with a parsed template
	noise   *noisePolicy // nil: every alert goes out at once

	// wake tells one idle worker that there may be work. Notify puts a
	// token in; a worker that claimed a row passes one on while siblings
	// idle, so a burst wakes as many workers as it has rows for, and a
	// single new row costs one claim, not one per worker (each empty claim
	// is a write transaction in the store).
	wake chan struct{}
	idle atomic.Int32 // workers waiting in sleep

	// mu guards the cached disabled state: one worker re-reads it at most
	// once per poll interval, the others use the cached answer.
	mu       sync.Mutex
	disabled bool
	checked  time.Time // when disabled was last read; zero: never
}

// Dispatcher delivers outbox rows to webhooks. Each webhook has its own
// workers, so a slow or dead receiver never delays the others: one for an
// ordered webhook (the default, deliveries arrive in the order they were
// made), Concurrency for an Unordered one.
type Dispatcher struct {
	q       Queue
	hooks   []*hook
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
// means news.DefaultRetry, a zero Timeout 15s, and an Unordered webhook's
// zero Concurrency DefaultConcurrency (at most MaxConcurrency). A webhook id
// listed twice is delivered through the first only (two sets of workers
// would break its order and its concurrency limit). A template that does
// not parse makes every delivery of its webhook fail permanently; validate
// templates with ParseTemplate at config time.
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
	for _, t := range topics {
		d.topics[t.ID] = t.Title
	}
	seen := make(map[string]bool, len(webhooks))
	total := 0
	for _, w := range webhooks {
		if seen[w.ID] {
			d.log.Warn("webhook listed twice; delivering through the first only", "webhook", w.ID)
			continue
		}
		seen[w.ID] = true
		h := newHook(w)
		if h.rend.err != nil {
			d.log.Error("webhook template does not parse; its deliveries will fail", "webhook", w.ID, "err", h.rend.err)
		}
		d.hooks = append(d.hooks, h)
		total += h.workers
	}

	tr := opts.Policy.Transport(dialTimeout)
	// Every worker keeps its connection alive between deliveries: a new
	// TCP (and TLS) handshake per alert would cost more than the alert.
	tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, total)
	tr.MaxIdleConns = max(tr.MaxIdleConns, total)
	tr.MaxResponseHeaderBytes = maxResponseHeader
	d.client = &http.Client{
		Transport: tr,
		// Redirects are not followed: the spec counts a 3xx as a failure
		// (the URL should be updated), and following one would let a
		// receiver bounce our signed POST somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return d
}

// newHook prepares a webhook for delivery.
func newHook(w news.Webhook) *hook {
	w = withDefaults(w)
	h := &hook{cfg: w, ordered: !w.Unordered, workers: 1, lease: w.Timeout + leaseMargin, wake: make(chan struct{}, 1)}
	if w.Unordered {
		h.workers = w.Concurrency
	}
	// The URL is never quoted in errors: Slack, Discord and Teams webhook
	// URLs carry their access token.
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		h.urlErr = fmt.Errorf("alert: webhook %q: url is not an absolute http(s) URL", w.ID)
	}
	h.rend = newRenderer(w)
	h.noise = newNoisePolicy(w.Noise)
	return h
}

// withDefaults fills a webhook's retry schedule, timeout and concurrency.
// The schedule is copied so the caller's slice (or news.DefaultRetry) is
// never shared.
func withDefaults(w news.Webhook) news.Webhook {
	if len(w.Retry) == 0 {
		w.Retry = news.DefaultRetry
	}
	w.Retry = append([]time.Duration(nil), w.Retry...)
	if w.Timeout <= 0 {
		w.Timeout = defaultTimeout
	}
	if !w.Unordered {
		w.Concurrency = 1
	} else if w.Concurrency <= 0 {
		w.Concurrency = DefaultConcurrency
	}
	w.Concurrency = min(w.Concurrency, MaxConcurrency)
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

// Notify wakes an idle worker of every webhook, e.g. after new outbox
// rows are committed. It never blocks: when a wake-up is already pending,
// the worker that takes it claims after these rows were committed anyway.
func (d *Dispatcher) Notify() {
	for _, h := range d.hooks {
		h.notify()
	}
}

func (h *hook) notify() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is cancelled, with one goroutine per worker. It
// returns nil after every worker has stopped. An attempt in flight at
// cancellation is finished (bounded by the webhook timeout) and recorded;
// if the process dies instead, the row's lease expires and the next run
// retries it with the same webhook-id. Run may be called once at a time.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("alert: dispatcher is already running")
	}
	defer d.running.Store(false)
	var wg sync.WaitGroup
	for _, h := range d.hooks {
		for range h.workers {
			wg.Go(func() { d.work(ctx, h) })
		}
	}
	wg.Wait()
	d.client.CloseIdleConnections()
	return nil
}

// work is one worker's delivery loop.
func (d *Dispatcher) work(ctx context.Context, h *hook) {
	var hint time.Time // when the row we just scheduled for retry is due
	for ctx.Err() == nil {
		if !d.enabled(ctx, h) {
			d.sleep(ctx, h, time.Time{})
			continue
		}
		a, ok, err := d.q.ClaimNext(ctx, h.cfg.ID, h.ordered, d.now(), h.lease)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("claim delivery", "webhook", h.cfg.ID, "err", err)
			}
			d.sleep(ctx, h, time.Time{})
			continue
		}
		if !ok {
			if d.flushDigest(ctx, h) {
				continue // a digest is ready: claim it now
			}
			d.sleep(ctx, h, hint)
			hint = time.Time{}
			continue
		}
		if h.idle.Load() > 0 {
			h.notify() // there was a row; there may be more for a sibling
		}
		if d.applyNoise(ctx, h, a) {
			continue // held for a digest
		}
		hint = d.attempt(ctx, h, a)
	}
}

// enabled reports whether the webhook may be sent to. The state is read
// from the queue when the worker starts and again once per poll interval,
// so an operator's "webhooks enable" (from another process) is picked up
// without a query per delivery. The cache age is measured on the monotonic
// clock, like the poll timer: an injected clock that stands still must not
// freeze the state. When the state cannot be read, the last known one holds.
func (d *Dispatcher) enabled(ctx context.Context, h *hook) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.checked.IsZero() && time.Since(h.checked) < d.poll {
		return !h.disabled
	}
	st, err := d.q.WebhookState(ctx, h.cfg.ID)
	h.checked = time.Now()
	switch {
	case errors.Is(err, news.ErrNotFound):
		st = news.WebhookState{}
	case err != nil:
		if ctx.Err() == nil {
			d.log.Error("read webhook state", "webhook", h.cfg.ID, "err", err)
		}
		return !h.disabled
	}
	disabled := !st.DisabledAt.IsZero()
	switch {
	case disabled && !h.disabled:
		d.log.Warn(fmt.Sprintf("webhook %s is disabled; re-enable with `wirewatch webhooks enable %s`", h.cfg.ID, h.cfg.ID),
			"webhook", h.cfg.ID, "reason", st.DisabledReason, "disabled_at", st.DisabledAt)
	case !disabled && h.disabled:
		d.log.Info("webhook enabled again; delivering its queued alerts", "webhook", h.cfg.ID)
	}
	h.disabled = disabled
	return !disabled
}

// disable marks the webhook disabled in the shared cache and reports
// whether it was enabled until now (so only one worker records it).
func (h *hook) disable() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := !h.disabled
	h.disabled, h.checked = true, time.Now()
	return was
}

// sleep waits PollInterval, or until hint if that is sooner, a Notify, or
// cancellation.
func (d *Dispatcher) sleep(ctx context.Context, h *hook, hint time.Time) {
	wait := d.poll
	if !hint.IsZero() {
		wait = max(0, min(wait, hint.Sub(d.now())))
	}
	h.idle.Add(1)
	defer h.idle.Add(-1)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-h.wake:
	case <-t.C:
	}
}

// attempt delivers one claimed row and records the outcome. It returns the
// next attempt time when a retry was scheduled. Neither the request nor the
// bookkeeping is cut short by ctx: a started attempt is seen through.
func (d *Dispatcher) attempt(ctx context.Context, h *hook, a news.Alert) (next time.Time) {
	bg := context.WithoutCancel(ctx)
	w := h.cfg
	id := a.Delivery.ID
	n := a.Delivery.Attempts + 1
	o := d.deliver(bg, h, a, n)
	at := d.now()

	mctx, cancel := context.WithTimeout(bg, markTimeout)
	defer cancel()
	var err error
	switch {
	case o.Err == nil:
		err = d.q.MarkDelivered(mctx, id, n, at)
		if d.log.Enabled(ctx, slog.LevelInfo) {
			d.log.Info("webhook delivered", "webhook", w.ID, "delivery", id, "attempt", n, "status", o.Status)
		}
	case o.Status == http.StatusGone:
		// The receiver says the endpoint is gone for good: this alert
		// failed, and so would every later one, so the webhook is
		// disabled (its queue kept) until an operator enables it again.
		err = d.q.MarkFinal(mctx, id, news.DeliveryFailed, n, o.Err.Error(), at)
		d.log.Warn("webhook delivery failed permanently", "webhook", w.ID, "delivery", id, "attempt", n, "status", o.Status, "err", o.Err)
		if h.disable() {
			const reason = "receiver answered 410 Gone"
			if derr := d.q.DisableWebhook(mctx, w.ID, reason+" (delivery "+id+")", at); derr != nil {
				d.log.Error("record webhook disabled", "webhook", w.ID, "err", derr)
			}
			d.log.Error(fmt.Sprintf("webhook %s disabled: %s; re-enable with `wirewatch webhooks enable %s`", w.ID, reason, w.ID),
				"webhook", w.ID, "delivery", id)
		}
	case !o.Retryable:
		err = d.q.MarkFinal(mctx, id, news.DeliveryFailed, n, o.Err.Error(), at)
		d.log.Warn("webhook delivery failed permanently", "webhook", w.ID, "delivery", id, "attempt", n, "status", o.Status, "err", o.Err)
	case n > len(w.Retry):
		err = d.q.MarkFinal(mctx, id, news.DeliveryDead, n, o.Err.Error(), at)
		d.log.Error("webhook delivery dead: retries exhausted", "webhook", w.ID, "delivery", id, "attempt", n, "status", o.Status, "err", o.Err)
	default:
		wait := max(0, d.jitter(w.Retry[n-1]))
		if o.RetryAfter > wait {
			wait = o.RetryAfter
		}
		next = at.Add(wait)
		err = d.q.MarkRetry(mctx, id, n, next, o.Err.Error())
		d.log.Info("webhook delivery will be retried", "webhook", w.ID, "delivery", id, "attempt", n, "status", o.Status, "err", o.Err, "retry_in", wait)
	}
	if err != nil {
		// The lease expires and the row is claimed again: the receiver may
		// see this webhook-id twice, which is what the id is for.
		d.log.Error("record delivery outcome", "webhook", w.ID, "delivery", id, "attempt", n, "err", err)
		return time.Time{}
	}
	return next
}

// Deliver sends one alert to one webhook once and reports the outcome. It
// applies the webhook's timeout (15s if zero) and fills the topic title from
// the dispatcher's topics. The webhook-id is the delivery id, the same on
// every attempt; the webhook-timestamp is the attempt time. attempt is only
// reported in debug logs. A 410 Gone is reported as a permanent failure
// like any 4xx; disabling the webhook is up to the dispatcher's workers.
func (d *Dispatcher) Deliver(ctx context.Context, w news.Webhook, a news.Alert, attempt int) Outcome {
	return d.deliver(ctx, newHook(w), a, attempt)
}

func (d *Dispatcher) deliver(ctx context.Context, h *hook, a news.Alert, attempt int) Outcome {
	w := &h.cfg
	a = d.withTopicTitle(a)
	if len(a.Digest) > 0 {
		members := make([]news.Alert, len(a.Digest))
		for i, m := range a.Digest {
			members[i] = d.withTopicTitle(m)
		}
		a.Digest = members
	}
	body, contentType, err := h.rend.render(a)
	if err != nil {
		return Outcome{Err: fmt.Errorf("alert: webhook %q: %w", w.ID, err)}
	}
	if h.urlErr != nil {
		return Outcome{Err: h.urlErr}
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
	if d.log.Enabled(ctx, slog.LevelDebug) {
		d.log.Debug("webhook attempt", "webhook", w.ID, "delivery", a.Delivery.ID, "attempt", attempt, "bytes", len(body))
	}

	resp, err := d.client.Do(req)
	if err != nil {
		err = stripURL(err)
		return Outcome{
			Err: fmt.Errorf("alert: webhook %q: %w", w.ID, err), // stripURL names the operation (post)
			// A refused address is policy, not a network hiccup.
			Retryable: !errors.Is(err, netguard.ErrBlocked),
		}
	}
	defer resp.Body.Close()

	o := Outcome{Status: resp.StatusCode}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		// Whatever a 2xx says, the alert arrived. Reading (a capped part
		// of) the body lets a small response's connection be reused; a
		// bigger one is cut off and its connection closed.
		io.CopyN(io.Discard, resp.Body, maxResponseBody)
		return o
	}
	// The body matters only for the error message.
	var excerpt [maxErrorBody]byte
	k, _ := io.ReadFull(resp.Body, excerpt[:])
	io.CopyN(io.Discard, resp.Body, maxResponseBody-int64(k))
	o.Err = fmt.Errorf("alert: webhook %q answered %s: %q", w.ID, resp.Status, bodyExcerpt(excerpt[:k]))
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

// withTopicTitle fills an alert's topic title from the configured topics.
func (d *Dispatcher) withTopicTitle(a news.Alert) news.Alert {
	if a.Topic.Title == "" {
		if a.Topic.ID == "" {
			a.Topic.ID = a.Delivery.TopicID
		}
		a.Topic.Title = d.topics[a.Topic.ID]
	}
	return a
}

// stripURL drops the URL that *url.Error puts in its message: webhook URLs
// of Slack, Discord and Teams are credentials and must not reach logs or
// the outbox's last_error.
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
