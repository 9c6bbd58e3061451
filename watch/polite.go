package watch

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"wirewatch/news"
)

// Politeness says how wirewatch treats the servers it polls and how it
// judges a source's health. The zero value means the defaults.
type Politeness struct {
	// MaxConcurrent caps the polls in flight at once across all sources
	// (default 64): at start-up thousands of sources fall due together, and
	// memory grows with the feeds being parsed at once.
	MaxConcurrent int
	// PerHost caps concurrent fetches from one host (default 2); Spacing
	// is the least time between the starts of two fetches from one host
	// (default 0: none).
	PerHost int
	Spacing time.Duration
	// MinBackoff is the wait after a source's first failure (default 1m);
	// each further consecutive failure doubles it, up to MaxBackoff
	// (default 6h). A failing source is never given up: it is retried at
	// MaxBackoff forever.
	MinBackoff, MaxBackoff time.Duration
	// MaxInterval caps how long a publisher may ask to be left alone
	// (RSS ttl, Cache-Control max-age, Expires, Retry-After); default 24h.
	MaxInterval time.Duration
	// FailedAfter is how many consecutive failures turn a failing source
	// failed (default 5: about half an hour of failures at the default
	// backoff).
	FailedAfter int
	// OutageHosts is how many distinct hosts must fail at the network
	// level, with no success at all, within OutageWindow for wirewatch to
	// suspect its own network is down (defaults 3 and 2m). Failures during
	// a suspected outage do not count against the sources.
	OutageHosts  int
	OutageWindow time.Duration
}

func (p Politeness) withDefaults() Politeness {
	if p.MaxConcurrent <= 0 {
		p.MaxConcurrent = 64
	}
	if p.PerHost <= 0 {
		p.PerHost = 2
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = time.Minute
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 6 * time.Hour
	}
	p.MaxBackoff = max(p.MaxBackoff, p.MinBackoff)
	if p.MaxInterval <= 0 {
		p.MaxInterval = 24 * time.Hour
	}
	if p.FailedAfter <= 0 {
		p.FailedAfter = 5
	}
	if p.OutageHosts <= 0 {
		p.OutageHosts = 3
	}
	if p.OutageWindow <= 0 {
		p.OutageWindow = 2 * time.Minute
	}
	return p
}

// backoff is the wait after the n-th consecutive failure (n >= 1), with
// ±10% jitter so sources that failed together do not retry together.
func (p Politeness) backoff(n int) time.Duration {
	d := p.MinBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	if spread := int64(d / 10); spread > 0 {
		d += time.Duration(rand.Int64N(2*spread+1) - spread)
	}
	return d
}

// Failure is what the poller reads of a fetch error: the fetcher's reason
// code and the server's Retry-After. sources.FetchError implements it; an
// error that does not is reason "other".
type Failure interface {
	error
	FailureReason() string
	RetryAfterHint() time.Duration
}

// failureOf returns err's reason code and Retry-After.
func failureOf(err error) (reason string, retryAfter time.Duration) {
	var f Failure
	if errors.As(err, &f) {
		return f.FailureReason(), f.RetryAfterHint()
	}
	return "other", 0
}

// networkReason reports reasons that say the network, not the server,
// failed: the ones a network outage of wirewatch's own produces.
func networkReason(reason string) bool {
	switch reason {
	case "dns", "connect", "timeout", "tls":
		return true
	}
	return false
}

// hostOf is the host a URL's fetches count against.
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return strings.ToLower(u.Hostname())
}

// hostLimits holds per-host concurrency slots and start spacing.
type hostLimits struct {
	perHost int
	spacing time.Duration

	mu    sync.Mutex
	hosts map[string]*hostSlot
}

type hostSlot struct {
	slots     chan struct{}
	nextStart time.Time
	users     int // holders and waiters, so idle hosts are forgotten
}

func newHostLimits(perHost int, spacing time.Duration) *hostLimits {
	return &hostLimits{perHost: perHost, spacing: spacing, hosts: map[string]*hostSlot{}}
}

// acquire waits for a free slot of the host, and for its spacing, and
// returns the function that frees the slot.
func (h *hostLimits) acquire(ctx context.Context, host string) (func(), error) {
	h.mu.Lock()
	s := h.hosts[host]
	if s == nil {
		s = &hostSlot{slots: make(chan struct{}, h.perHost)}
		h.hosts[host] = s
	}
	s.users++
	h.mu.Unlock()
	done := func() {
		h.mu.Lock()
		s.users--
		if s.users == 0 {
			delete(h.hosts, host)
		}
		h.mu.Unlock()
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
	release := func() { <-s.slots; done() }
	if h.spacing > 0 {
		h.mu.Lock()
		now := time.Now()
		start := now
		if s.nextStart.After(now) {
			start = s.nextStart
		}
		s.nextStart = start.Add(h.spacing)
		h.mu.Unlock()
		if wait := start.Sub(now); wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				release()
				return nil, ctx.Err()
			}
		}
	}
	return release, nil
}

// outageTracker remembers recent fetch outcomes by host to tell a network
// outage of wirewatch's own (every host unreachable) from sources failing.
type outageTracker struct {
	hosts  int
	window time.Duration

	mu          sync.Mutex
	lastSuccess time.Time
	failed      map[string]time.Time // host -> last network-level failure
}

func newOutageTracker(hosts int, window time.Duration) *outageTracker {
	return &outageTracker{hosts: hosts, window: window, failed: map[string]time.Time{}}
}

// record notes one fetch outcome and reports whether, with it, wirewatch
// looks cut off: at least hosts distinct hosts failed at the network level
// within the window and nothing succeeded since the window began.
func (o *outageTracker) record(host string, ok bool, reason string, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ok {
		o.lastSuccess = now
		return false
	}
	if !networkReason(reason) {
		return false
	}
	o.failed[host] = now
	since := now.Add(-o.window)
	n := 0
	for h, t := range o.failed {
		if t.Before(since) {
			delete(o.failed, h)
			continue
		}
		n++
	}
	return n >= o.hosts && o.lastSuccess.Before(since)
}

// healthAfter is a source's health after a poll: failing or failed when it
// has failures, silent when it fetches fine but has published nothing for
// far longer than its rhythm, else ok.
func (p Politeness) healthAfter(st news.SourceState, silent bool) string {
	switch {
	case st.Failures >= p.FailedAfter:
		return news.HealthFailed
	case st.Failures > 0:
		return news.HealthFailing
	case silent:
		return news.HealthSilent
	}
	return news.HealthOK
}

// Silence is judged on the items of the last silenceWindow: a source that
// published at least silenceMinItems in it has a rhythm (the mean gap), and
// is silent when nothing new came for silenceGaps gaps, and at least
// silenceFloor.
const (
	silenceWindow   = 14 * 24 * time.Hour
	silenceMinItems = 7
	silenceGaps     = 6
	silenceFloor    = 12 * time.Hour
)

// isSilent reports whether a source with items in the last silenceWindow,
// the newest first seen at lastItem, has gone quiet for much longer than
// its rhythm.
func isSilent(items int, lastItem, now time.Time) bool {
	if items < silenceMinItems || lastItem.IsZero() {
		return false
	}
	gap := silenceWindow / time.Duration(items)
	return now.Sub(lastItem) > max(silenceGaps*gap, silenceFloor)
}

// adaptiveInterval is how often an adaptive source is polled: half its
// mean gap between new items over the last week, within [lo, hi]; hi when
// it published nothing.
func adaptiveInterval(itemsLastWeek int, lo, hi time.Duration) time.Duration {
	if itemsLastWeek <= 0 {
		return hi
	}
	d := 7 * 24 * time.Hour / time.Duration(itemsLastWeek) / 2
	return min(max(d, lo), hi)
}

// healthEvents are the source.health deliveries for a change of health
// from prev to next: failed and silent are reported, and so is the
// recovery from either; failing is not (it is what the backoff is for).
func healthEvents(hooks []news.Webhook, prev string, st news.SourceState, lastItem, now time.Time) []news.Delivery {
	next := st.Health
	if prev == next {
		return nil
	}
	report := next == news.HealthFailed || next == news.HealthSilent ||
		(next == news.HealthOK && (prev == news.HealthFailed || prev == news.HealthSilent))
	if !report {
		return nil
	}
	h := &news.SourceHealth{
		SourceID: st.SourceID, Title: st.Title, URL: st.URL, State: next, Previous: prev,
		Reason: st.ErrorReason, LastError: st.LastError, LastSuccess: st.LastSuccess, LastItem: lastItem,
		Failures: st.Failures, At: now,
	}
	var out []news.Delivery
	for _, w := range hooks {
		if !w.SourceHealth {
			continue
		}
		out = append(out, news.Delivery{
			ID:        news.DeliveryID(news.EventSourceHealth, st.SourceID, next+"@"+now.UTC().Format(time.RFC3339Nano), w.ID),
			WebhookID: w.ID, EventType: news.EventSourceHealth, Status: news.DeliveryPending,
			CreatedAt: now, Health: h,
		})
	}
	return out
}
