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
	// SaveSourceState records a source's state, with events (source.health
	// deliveries) in the same transaction.
	SaveSourceState(ctx context.Context, st news.SourceState, events ...news.Delivery) error
	// SourceActivity counts the source's items first seen since a time and
	// dates its newest (zero: none), for the silence check.
	SourceActivity(ctx context.Context, sourceID string, since time.Time) (int, time.Time, error)
	UnseenItems(ctx context.Context, ids []string) ([]string, error)
	// LegacyItemIDs returns the IDs that items stored by an older
	// wirewatch have (news.LegacyItemID), by the items' IDs, for those of
	// the given items stored so.
	LegacyItemIDs(ctx context.Context, items []news.Item) (map[string]string, error)
	SavePoll(ctx context.Context, p news.PollResult) (int, error)
	// FindStory returns the first sighting of a story the topic matched
	// since the given time, by canonical URL or title key.
	FindStory(ctx context.Context, topicID, canonicalURL, titleKey string, since time.Time) (string, bool, error)
	// ItemTitles returns the stored titles of the ids that exist.
	ItemTitles(ctx context.Context, ids []string) (map[string]string, error)
	// AlertedTopics returns per item the topics that alerted it.
	AlertedTopics(ctx context.Context, itemIDs []string) (map[string][]string, error)
}

// HubSubscriber keeps WebSub subscriptions for sources whose feeds
// advertise a hub (package websub implements it, through cmd).
type HubSubscriber interface {
	// Ensure subscribes (or renews) when needed; cheap when nothing is.
	Ensure(ctx context.Context, sourceID, hub, topic string) error
	// Active reports whether pushes for the source are verified and
	// leased, so polling may slow down to a fallback.
	Active(ctx context.Context, sourceID string) bool
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
	// dedupWindow is how far back a story is looked up to merge later
	// sightings into it; 0 turns cross-source deduplication off.
	dedupWindow time.Duration
	polite      Politeness
	hubs        HubSubscriber
	hubFallback time.Duration
	hosts       *hostLimits
	inflight    chan struct{} // one token per poll in flight (Politeness.MaxConcurrent)
	outage      *outageTracker

	mu      sync.Mutex
	running map[string]bool
	// silenceChecked is when each source was last checked for silence: at
	// most once per silenceCheckEvery, as it costs a query.
	silenceChecked map[string]time.Time
}

// silenceCheckEvery bounds how often a source's silence is checked.
const silenceCheckEvery = time.Hour

// PollerConfig holds a Poller's collaborators.
type PollerConfig struct {
	Fetcher  Fetcher
	Matcher  Matcher
	Store    Store
	Notifier Notifier // optional
	Webhooks []news.Webhook
	Logger   *slog.Logger     // default slog.Default()
	Now      func() time.Time // default time.Now
	// DedupWindow: later sightings of a story within it are merged into the
	// first instead of alerted (0: no cross-source deduplication).
	DedupWindow time.Duration
	// Politeness: per-host limits, backoff, health thresholds.
	Politeness Politeness
	// Hubs, when set, is told of every feed that advertises a WebSub hub;
	// a source with an active subscription is polled at most every
	// HubFallback (default 1h) as a fallback, since pushes bring its items.
	Hubs        HubSubscriber
	HubFallback time.Duration
}

// NewPoller builds a Poller.
func NewPoller(c PollerConfig) *Poller {
	p := &Poller{
		fetch: c.Fetcher, match: c.Matcher, store: c.Store, notify: c.Notifier,
		webhooks: c.Webhooks, logger: c.Logger, now: c.Now, dedupWindow: c.DedupWindow,
		polite: c.Politeness.withDefaults(), hubs: c.Hubs, hubFallback: c.HubFallback,
		running: make(map[string]bool), silenceChecked: make(map[string]time.Time),
	}
	p.hosts = newHostLimits(p.polite.PerHost, p.polite.Spacing)
	p.inflight = make(chan struct{}, p.polite.MaxConcurrent)
	p.outage = newOutageTracker(p.polite.OutageHosts, p.polite.OutageWindow)
	if p.logger == nil {
		p.logger = slog.Default()
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.hubFallback <= 0 {
		p.hubFallback = time.Hour
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
	Duplicates  int // matches that were later sightings of a story already matched
	Corrected   int // stored items whose headline changed
	Deliveries  int
	Baseline    bool // first successful fetch: matches recorded, nothing alerted
	Duration    time.Duration
	// Skipped is set when the source was not due (a backoff after
	// failures, or the publisher asked to be polled less often): nothing
	// was fetched, and NextPoll says when it will be.
	Skipped  bool
	NextPoll time.Time
	// Health is the source's health after the poll; Outage is set when the
	// failure was put down to wirewatch's own network and not counted.
	Health string
	Outage bool
	// MovedTo is set when a permanent redirect moved the source.
	MovedTo string
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
	return p.pollWith(ctx, src, pollOptions{})
}

// pollOptions are what the scheduler adds to a poll: whether to honour the
// source's NextPoll (a manual poll does not), and adaptive bounds.
type pollOptions struct {
	honourNextPoll bool
	adaptive       *Adaptive
}

func (p *Poller) pollWith(ctx context.Context, src news.Source, o pollOptions) (rep Report, err error) {
	if !p.acquire(src.ID) {
		return Report{SourceID: src.ID}, ErrBusy
	}
	defer p.release(src.ID)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("watch: poll %q: recovered from panic: %v", src.ID, r)
		}
	}()
	return p.poll(ctx, src, o)
}

func (p *Poller) poll(ctx context.Context, src news.Source, o pollOptions) (Report, error) {
	start := p.now()
	rep := Report{SourceID: src.ID}
	st, err := p.store.SourceState(ctx, src.ID)
	if err != nil {
		return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
	}
	if o.honourNextPoll && st.NextPoll.After(start) {
		rep.Skipped, rep.NextPoll, rep.Health = true, st.NextPoll, st.Health
		return rep, nil
	}
	st.SourceID = src.ID
	if st.URL != src.URL {
		// A changed URL is a different resource: its validators, and where
		// the old one had moved, do not apply.
		st.URL, st.ETag, st.LastModified, st.MovedTo = src.URL, "", "", ""
	}
	if src.Title != "" {
		st.Title = src.Title
	}
	prevHealth := st.Health
	fetchURL := src.URL
	if st.MovedTo != "" {
		fetchURL = st.MovedTo
	}
	host := hostOf(fetchURL)

	select {
	case p.inflight <- struct{}{}:
	case <-ctx.Done():
		return rep, fmt.Errorf("watch: poll %q: wait for a free slot: %w", src.ID, ctx.Err())
	}
	defer func() { <-p.inflight }()
	release, err := p.hosts.acquire(ctx, host)
	if err != nil {
		return rep, fmt.Errorf("watch: poll %q: wait for host %s: %w", src.ID, host, err)
	}
	res, fetchErr := p.fetch.Fetch(ctx, news.FetchRequest{
		SourceID: src.ID, URL: fetchURL, ETag: st.ETag, LastModified: st.LastModified,
	})
	release()
	now := p.now()
	st.LastPoll = now
	if fetchErr != nil {
		return p.failed(ctx, rep, st, prevHealth, host, fetchErr, now)
	}
	p.outage.record(host, true, "", now)
	st.LastSuccess, st.LastError, st.ErrorReason, st.Failures = now, "", "", 0
	st.ETag, st.LastModified = res.ETag, res.LastModified
	if st.Title == "" {
		st.Title = res.FeedTitle
	}
	if res.PermanentURL != "" && res.PermanentURL != fetchURL {
		// Moved for good: fetch the new address from now on (the config
		// keeps the old one; changing it there starts afresh).
		st.MovedTo, rep.MovedTo = res.PermanentURL, res.PermanentURL
		p.logger.Info("source moved permanently; polling its new URL", "source", src.ID, "from", fetchURL, "to", res.PermanentURL)
	}
	st.MinInterval = res.MinInterval
	st.NextPoll = time.Time{}
	if st.MinInterval > 0 {
		// Never more often than the publisher asks, within bounds.
		st.NextPoll = start.Add(min(st.MinInterval, p.polite.MaxInterval))
	}
	if o.adaptive != nil {
		n, _, err := p.store.SourceActivity(ctx, src.ID, now.Add(-7*24*time.Hour))
		if err != nil {
			return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
		}
		if next := start.Add(adaptiveInterval(n, o.adaptive.Min, o.adaptive.Max)); next.After(st.NextPoll) {
			st.NextPoll = next
		}
	}
	if p.hubs != nil && res.Hub != "" {
		topic := res.Self
		if topic == "" {
			topic = fetchURL
		}
		if err := p.hubs.Ensure(ctx, src.ID, res.Hub, topic); err != nil {
			p.logger.Warn("WebSub subscription failed; polling carries on", "source", src.ID, "hub", res.Hub, "err", err)
		}
		if p.hubs.Active(ctx, src.ID) {
			if next := start.Add(p.hubFallback); next.After(st.NextPoll) {
				st.NextPoll = next // pushes bring the items; polling is the fallback
			}
		}
	}
	rep.NextPoll = st.NextPoll
	if res.NotModified {
		rep.NotModified = true
		events, err := p.judgeHealth(ctx, &st, prevHealth, false, now)
		if err != nil {
			return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
		}
		rep.Health = st.Health
		rep.Duration = p.now().Sub(start)
		if err := p.store.SaveSourceState(ctx, st, events...); err != nil {
			return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
		}
		if len(events) > 0 && p.notify != nil {
			p.notify.Notify()
		}
		return rep, nil
	}

	return p.ingest(ctx, src, st, prevHealth, res, now, start, rep)
}

// Push processes content a WebSub hub pushed for a source as a poll would
// (new items matched, stored and alerted; corrections noticed), without
// fetching and without touching the source's validators or schedule: a
// push may carry only the newest entries. A source not yet baselined (never
// polled) is refused, so its backlog is not alerted: polling baselines it.
// Like Poll, it returns ErrBusy while the source is being polled.
func (p *Poller) Push(ctx context.Context, src news.Source, res news.FetchResult) (rep Report, err error) {
	if !p.acquire(src.ID) {
		return Report{SourceID: src.ID}, ErrBusy
	}
	defer p.release(src.ID)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("watch: push for %q: recovered from panic: %v", src.ID, r)
		}
	}()
	start := p.now()
	st, err := p.store.SourceState(ctx, src.ID)
	if err != nil {
		return Report{SourceID: src.ID}, fmt.Errorf("watch: push for %q: %w", src.ID, err)
	}
	if !st.Baselined || st.URL != src.URL {
		return Report{SourceID: src.ID}, fmt.Errorf("watch: push for %q: the source has not been polled yet", src.ID)
	}
	return p.ingest(ctx, src, st, st.Health, res, start, start, Report{SourceID: src.ID})
}

// ingest records a fetched (or pushed) result: new items, their matches
// and alerts, corrections and the source's state, in one transaction.
func (p *Poller) ingest(ctx context.Context, src news.Source, st news.SourceState, prevHealth string, res news.FetchResult, now, start time.Time, rep Report) (Report, error) {
	rep.Fetched = len(res.Items)
	fresh, seen, err := p.split(ctx, res.Items)
	if err != nil {
		return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
	}
	rep.New = len(fresh)
	rep.Baseline = !st.Baselined

	// Alerts go out in the order their items were published (feeds list
	// newest first), and each delivery's creation time is distinct, so the
	// outbox's order (by creation time, kept per webhook) is that order.
	slices.SortStableFunc(fresh, func(a, b news.Item) int { return a.Published.Compare(b.Published) })
	out := &outbox{now: now}
	result := news.PollResult{Items: fresh}
	if p.dedupWindow > 0 {
		// The lookups below see what was saved before this poll; the
		// store checks the first sightings again as it saves them, for a
		// poll of another source that saves the same story meanwhile.
		result.Stories = &news.StoryCheck{Since: now.Add(-p.dedupWindow), Webhooks: p.webhooks}
	}
	stories := storyIndex{}
	for _, it := range fresh {
		for _, m := range p.match.Match(it, now) {
			m.Baseline = rep.Baseline
			first, err := p.firstSighting(ctx, stories, m.TopicID, it, now)
			if err != nil {
				return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
			}
			if first != "" {
				// A later sighting of a story this topic already has: it is
				// attached to the first, not alerted again.
				m.DuplicateOf = first
				rep.Duplicates++
				if !m.Baseline {
					sighting := &news.Sighting{ItemID: it.ID, SourceID: it.SourceID, SourceTitle: st.Title,
						Title: it.Title, Link: it.Link, SeenAt: now}
					out.updates(p.webhooks, m.TopicID, first, news.AlsoReportedChange(it.ID),
						&news.Update{Kind: news.UpdateAlsoReported, Sighting: sighting})
				}
			} else {
				stories.add(m.TopicID, it)
				if !m.Baseline {
					out.created(p.webhooks, m)
				}
			}
			result.Matches = append(result.Matches, m)
		}
	}
	if err := p.corrections(ctx, seen, out, &result); err != nil {
		return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
	}
	result.Deliveries = out.rows
	rep.Corrected = len(result.Corrected)
	st.Baselined = true
	events, err := p.judgeHealth(ctx, &st, prevHealth, rep.New > 0, now)
	if err != nil {
		return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
	}
	rep.Health = st.Health
	result.Events = events
	result.State = st
	rep.Matches = len(result.Matches)

	n, err := p.store.SavePoll(ctx, result)
	if err != nil {
		return rep, fmt.Errorf("watch: poll %q: %w", src.ID, err)
	}
	if result.Stories != nil {
		rep.Duplicates += result.Stories.Merged
	}
	rep.Deliveries = n
	if n > 0 && p.notify != nil {
		p.notify.Notify()
	}
	rep.Duration = p.now().Sub(start)
	return rep, nil
}

// failed records a failed fetch: the reason, a backoff before the next
// try (or the server's Retry-After, if longer), and the health that
// follows, unless wirewatch's own network looks down, in which case the
// failure is not counted against the source.
func (p *Poller) failed(ctx context.Context, rep Report, st news.SourceState, prevHealth, host string, fetchErr error, now time.Time) (Report, error) {
	reason, retryAfter := failureOf(fetchErr)
	st.LastError, st.ErrorReason = fetchErr.Error(), reason
	if p.outage.record(host, false, reason, now) {
		rep.Outage = true
		st.NextPoll = time.Time{} // retried on schedule, without backoff
		p.logger.Warn("network outage suspected: sources on several hosts unreachable, none reachable; not counting it against them",
			"source", st.SourceID, "reason", reason)
	} else {
		st.Failures++
		wait := p.polite.backoff(st.Failures)
		wait = max(wait, min(retryAfter, p.polite.MaxInterval))
		st.NextPoll = now.Add(wait)
	}
	rep.NextPoll = st.NextPoll
	st.Health = p.polite.healthAfter(st, false)
	if st.Health == news.HealthOK && prevHealth != "" {
		st.Health = prevHealth // an outage tells nothing about the source
	}
	rep.Health = st.Health
	events := healthEvents(p.webhooks, prevHealth, st, time.Time{}, now)
	if st.Health == news.HealthFailed && prevHealth != news.HealthFailed {
		p.logger.Error("source failed: still retried every "+p.polite.MaxBackoff.String()+" at most",
			"source", st.SourceID, "failures", st.Failures, "reason", reason, "err", fetchErr)
	}
	if err := p.store.SaveSourceState(ctx, st, events...); err != nil {
		return rep, errors.Join(fetchErr, fmt.Errorf("watch: record failure of %q: %w", st.SourceID, err))
	}
	if len(events) > 0 && p.notify != nil {
		p.notify.Notify()
	}
	return rep, fetchErr
}

// judgeHealth sets a successfully fetched source's health, checking for
// silence (at most once per silenceCheckEvery, and only when the poll
// brought nothing new), and returns the events its change calls for.
func (p *Poller) judgeHealth(ctx context.Context, st *news.SourceState, prev string, fresh bool, now time.Time) ([]news.Delivery, error) {
	silent := prev == news.HealthSilent && !fresh
	var lastItem time.Time
	if !fresh && p.silenceDue(st.SourceID, now) {
		n, last, err := p.store.SourceActivity(ctx, st.SourceID, now.Add(-silenceWindow))
		if err != nil {
			return nil, err
		}
		silent, lastItem = isSilent(n, last, now), last
	}
	st.Health = p.polite.healthAfter(*st, silent)
	if st.Health == news.HealthSilent && prev != news.HealthSilent {
		p.logger.Warn("source silent: fetched fine but nothing new for far longer than usual", "source", st.SourceID, "last_item", lastItem)
	}
	return healthEvents(p.webhooks, prev, *st, lastItem, now), nil
}

func (p *Poller) silenceDue(sourceID string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if last, ok := p.silenceChecked[sourceID]; ok && now.Sub(last) < silenceCheckEvery && now.After(last) {
		return false
	}
	p.silenceChecked[sourceID] = now
	return true
}

// split separates the items the store has not seen (in feed order) from
// those it has.
func (p *Poller) split(ctx context.Context, items []news.Item) (fresh, seen []news.Item, err error) {
	if len(items) == 0 {
		return nil, nil, nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	unseen, err := p.store.UnseenItems(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	want := make(map[string]bool, len(unseen))
	for _, id := range unseen {
		want[id] = true
	}
	done := map[string]bool{}
	for _, it := range items {
		switch {
		case done[it.ID]:
		case want[it.ID]:
			fresh = append(fresh, it)
		default:
			seen = append(seen, it)
		}
		done[it.ID] = true
	}
	// An item stored before item IDs had a source prefix is seen under
	// its old ID, which it keeps: its feed GUID and alerts name it so.
	legacy, err := p.store.LegacyItemIDs(ctx, fresh)
	if err != nil {
		return nil, nil, err
	}
	if len(legacy) == 0 {
		return fresh, seen, nil
	}
	kept := fresh[:0]
	for _, it := range fresh {
		if old, ok := legacy[it.ID]; ok {
			it.ID = old
			seen = append(seen, it)
		} else {
			kept = append(kept, it)
		}
	}
	return kept, seen, nil
}

// storyIndex remembers the stories of this poll per topic, by canonical URL
// and by title key, so two copies in one batch are merged too.
type storyIndex map[string]string

func (s storyIndex) keys(topicID string, it news.Item) []string {
	var out []string
	if u := news.CanonicalURL(it.Link); u != "" {
		out = append(out, topicID+"\x00u\x00"+u)
	}
	if t := news.TitleKey(it.Title); t != "" {
		out = append(out, topicID+"\x00t\x00"+t)
	}
	return out
}

func (s storyIndex) add(topicID string, it news.Item) {
	for _, k := range s.keys(topicID, it) {
		if _, ok := s[k]; !ok {
			s[k] = it.ID
		}
	}
}

func (s storyIndex) find(topicID string, it news.Item) string {
	for _, k := range s.keys(topicID, it) {
		if id, ok := s[k]; ok {
			return id
		}
	}
	return ""
}

// firstSighting returns the item id under which the topic already has this
// story (within the dedup window), or "".
func (p *Poller) firstSighting(ctx context.Context, stories storyIndex, topicID string, it news.Item, now time.Time) (string, error) {
	if p.dedupWindow <= 0 {
		return "", nil
	}
	if id := stories.find(topicID, it); id != "" {
		return id, nil
	}
	canon, key := news.CanonicalURL(it.Link), news.TitleKey(it.Title)
	if canon == "" && key == "" {
		return "", nil
	}
	id, ok, err := p.store.FindStory(ctx, topicID, canon, key, now.Add(-p.dedupWindow))
	if err != nil || !ok || id == it.ID {
		return "", err
	}
	return id, nil
}

// corrections finds already-stored items whose headline changed, updates
// them, and tells the webhooks that opted in, for each topic that alerted
// the item.
func (p *Poller) corrections(ctx context.Context, seen []news.Item, out *outbox, result *news.PollResult) error {
	if len(seen) == 0 {
		return nil
	}
	ids := make([]string, len(seen))
	for i, it := range seen {
		ids[i] = it.ID
	}
	titles, err := p.store.ItemTitles(ctx, ids)
	if err != nil {
		return err
	}
	var changed []news.Item
	var changedIDs []string
	for _, it := range seen {
		old, ok := titles[it.ID]
		if !ok || it.Title == "" || old == it.Title {
			continue
		}
		changed = append(changed, it)
		changedIDs = append(changedIDs, it.ID)
	}
	if len(changed) == 0 {
		return nil
	}
	alerted, err := p.store.AlertedTopics(ctx, changedIDs)
	if err != nil {
		return err
	}
	for _, it := range changed {
		result.Corrected = append(result.Corrected, it)
		for _, topicID := range alerted[it.ID] {
			out.updates(p.webhooks, topicID, it.ID, "title:"+it.Title,
				&news.Update{Kind: news.UpdateCorrected, PreviousTitle: titles[it.ID], Title: it.Title})
		}
	}
	return nil
}

// outbox collects one poll's deliveries with distinct, increasing creation
// times.
type outbox struct {
	now  time.Time
	seq  int
	rows []news.Delivery
}

func (o *outbox) add(d news.Delivery) {
	d.Status = news.DeliveryPending
	d.NextAttempt = o.now
	d.CreatedAt = o.now.Add(time.Duration(o.seq) * time.Millisecond)
	o.seq++
	o.rows = append(o.rows, d)
}

// created queues a match.created alert for every webhook of the topic.
func (o *outbox) created(hooks []news.Webhook, m news.Match) {
	for _, w := range hooks {
		if w.Wants(m.TopicID) {
			o.add(news.Delivery{
				ID:        news.DeliveryID(news.EventMatchCreated, m.TopicID, m.ItemID, w.ID),
				WebhookID: w.ID, EventType: news.EventMatchCreated, TopicID: m.TopicID, ItemID: m.ItemID,
			})
		}
	}
}

// updates queues a match.updated event for the webhooks of the topic that
// opted in to updates.
func (o *outbox) updates(hooks []news.Webhook, topicID, itemID, change string, u *news.Update) {
	for _, d := range news.UpdateDeliveries(hooks, topicID, itemID, change, u) {
		o.add(d)
	}
}
