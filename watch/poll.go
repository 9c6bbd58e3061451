// Package watch runs wirewatch's polling: one poll of one source (fetch →
// drop what was seen → match → save items, matches and outbox rows in one
// transaction → wake the dispatcher) and the cron scheduler that decides when
// each source is polled.
//
// It declares the small interfaces it needs from its collaborators (Fetcher,
// Matcher, Store, Notifier); cmd wires the concrete sources, match, store and
// alert types into them.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"wirewatch/news"
)

// Fetcher fetches and parses one source.
type Fetcher interface {
	Fetch(ctx context.Context, req news.FetchRequest) (news.FetchResult, error)
}

// Matcher matches one item against every topic.
type Matcher interface {
	Match(item news.Item, now time.Time) []news.Match
}

// Store persists polls.
type Store interface {
	SourceState(ctx context.Context, sourceID string) (news.SourceState, error)
	SaveSourceState(ctx context.Context, st news.SourceState) error
	UnseenItems(ctx context.Context, ids []string) ([]string, error)
	SavePoll(ctx context.Context, p news.PollResult) (int, error)
}

// Notifier is told when new outbox rows are committed.
type Notifier interface {
	Notify()
}

// ErrBusy is returned when a poll of the same source is already running:
// one source is never polled twice at once.
var ErrBusy = errors.New("watch: source is already being polled")

// Poller performs single polls. It is safe for concurrent use; concurrent
// polls of the same source are refused with ErrBusy.
type Poller struct {
	fetch    Fetcher
	match    Matcher
	store    Store
	notify   Notifier
	webhooks []news.Webhook
	logger   *slog.Logger
	now      func() time.Time

	mu      sync.Mutex
	running map[string]bool
}

// PollerConfig holds a Poller's collaborators.
type PollerConfig struct {
	Fetcher  Fetcher
	Matcher  Matcher
	Store    Store
	Notifier Notifier // optional
	Webhooks []news.Webhook
	Logger   *slog.Logger     // default slog.Default()
	Now      func() time.Time // default time.Now
}

// NewPoller builds a Poller.
func NewPoller(c PollerConfig) *Poller {
	p := &Poller{
		fetch: c.Fetcher, match: c.Matcher, store: c.Store, notify: c.Notifier,
		webhooks: c.Webhooks, logger: c.Logger, now: c.Now,
		running: make(map[string]bool),
	}
	if p.logger == nil {
		p.logger = slog.Default()
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

// Report summarises one poll.
type Report struct {
	SourceID    string
	NotModified bool
	Fetched     int // items in the feed
	New         int // items not seen before
	Matches     int
	Deliveries  int
	Baseline    bool // first successful fetch: matches recorded, nothing alerted
	Duration    time.Duration
}

func (p *Poller) acquire(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running[id] {
		return false
	}
	p.running[id] = true
	return true
}

func (p *Poller) release(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, id)
}

// Poll fetches one source and records what is new. A failed fetch is
// recorded on the source (last error, consecutive failures) and returned;
// it never affects other sources.
//
// A panic anywhere in the poll (a parser bug meeting hostile input) is
// recovered and returned as that source's error.
func (p *Poller) Poll(ctx context.Context, src news.Source) (rep Report, err error) {
	if !p.acquire(src.ID) {
		return Report{SourceID: src.ID}, ErrBusy
	}
	defer p.release(src.ID)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("watch: poll %q: recovered from panic: %v", src.ID, r)
		}
	}()
	return p.poll(ctx, src)
}

func (p *Poller) poll(ctx context.Context, src news.Source) (Report, error) {
	start := p.now()
	rep := Report{SourceID: src.ID}
	st, err := p.store.SourceState(ctx, src.ID)
	if err != nil {
		return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
	}
	st.SourceID = src.ID
	if st.URL != src.URL {
		// A changed URL is a different resource: its validators do not apply.
		st.URL, st.ETag, st.LastModified = src.URL, "", ""
	}
	if src.Title != "" {
		st.Title = src.Title
	}

	res, fetchErr := p.fetch.Fetch(ctx, news.FetchRequest{
		SourceID: src.ID, URL: src.URL, ETag: st.ETag, LastModified: st.LastModified,
	})
	now := p.now()
	st.LastPoll = now
	if fetchErr != nil {
		st.LastError = fetchErr.Error()
		st.Failures++
		if err := p.store.SaveSourceState(ctx, st); err != nil {
			return rep, errors.Join(fetchErr, fmt.Errorf("watch: record failure of %q: %w", src.ID, err))
		}
		return rep, fetchErr
	}
	st.LastSuccess, st.LastError, st.Failures = now, "", 0
	st.ETag, st.LastModified = res.ETag, res.LastModified
	if st.Title == "" {
		st.Title = res.FeedTitle
	}
	if res.NotModified {
		rep.NotModified = true
		rep.Duration = p.now().Sub(start)
		if err := p.store.SaveSourceState(ctx, st); err != nil {
			return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
		}
		return rep, nil
	}

	rep.Fetched = len(res.Items)
	fresh, err := p.unseen(ctx, res.Items)
	if err != nil {
		return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
	}
	rep.New = len(fresh)
	rep.Baseline = !st.Baselined

	// Alerts go out in the order their items were published (feeds list
	// newest first), and each delivery's creation time is distinct, so the
	// outbox's order (by creation time, kept per webhook) is that order.
	slices.SortStableFunc(fresh, func(a, b news.Item) int { return a.Published.Compare(b.Published) })
	seq := 0
	result := news.PollResult{Items: fresh}
	for _, it := range fresh {
		for _, m := range p.match.Match(it, now) {
			m.Baseline = rep.Baseline
			result.Matches = append(result.Matches, m)
			if m.Baseline {
				continue
			}
			for _, w := range p.webhooks {
				if !w.Wants(m.TopicID) {
					continue
				}
				result.Deliveries = append(result.Deliveries, news.Delivery{
					ID:          news.DeliveryID(news.EventMatchCreated, m.TopicID, m.ItemID, w.ID),
					WebhookID:   w.ID,
					EventType:   news.EventMatchCreated,
					TopicID:     m.TopicID,
					ItemID:      m.ItemID,
					Status:      news.DeliveryPending,
					NextAttempt: now,
					CreatedAt:   now.Add(time.Duration(seq) * time.Millisecond),
				})
				seq++
			}
		}
	}
	st.Baselined = true
	result.State = st
	rep.Matches = len(result.Matches)

	n, err := p.store.SavePoll(ctx, result)
	if err != nil {
		return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
	}
	rep.Deliveries = n
	if n > 0 && p.notify != nil {
		p.notify.Notify()
	}
	rep.Duration = p.now().Sub(start)
	return rep, nil
}

// unseen keeps the items the store has not seen, in feed order.
func (p *Poller) unseen(ctx context.Context, items []news.Item) ([]news.Item, error) {
	if len(items) == 0 {
		return nil, nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	fresh, err := p.store.UnseenItems(ctx, ids)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(fresh))
	for _, id := range fresh {
		want[id] = true
	}
	out := make([]news.Item, 0, len(fresh))
	for _, it := range items {
		if want[it.ID] {
			out = append(out, it)
			delete(want, it.ID)
		}
	}
	return out, nil
}
