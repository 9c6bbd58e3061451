package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"wirewatch/netguard"
	"wirewatch/news"
	"wirewatch/sources"
	"wirewatch/store"
	"wirewatch/watch"
	"wirewatch/websub"
)

// WebSubConfig turns on WebSub: sources whose feeds advertise a hub are
// subscribed to, pushes are processed at once, and polling of such sources
// slows to FallbackEvery. The hub must be able to reach base_url.
type WebSubConfig struct {
	Enabled       bool
	Lease         time.Duration // asked of the hub; default websub.DefaultLease
	FallbackEvery time.Duration // default 1h
}

// subscriptionStore is what WebSub needs of the store.
type subscriptionStore interface {
	WebSubSubscription(ctx context.Context, sourceID string) (store.WebSubSubscription, bool, error)
	SaveWebSubSubscription(ctx context.Context, w store.WebSubSubscription) error
	WebSubSubscriptions(ctx context.Context) ([]store.WebSubSubscription, error)
}

// websubStore adapts the store's subscription rows to websub.Store.
type websubStore struct{ st subscriptionStore }

func toWebSub(w store.WebSubSubscription) websub.Subscription {
	return websub.Subscription{SourceID: w.SourceID, Hub: w.Hub, Topic: w.Topic, Secret: w.Secret,
		LeaseUntil: w.LeaseUntil, VerifiedAt: w.VerifiedAt, RequestedAt: w.RequestedAt, State: w.State, Reason: w.Reason}
}

func (s websubStore) Subscription(ctx context.Context, sourceID string) (websub.Subscription, bool, error) {
	w, ok, err := s.st.WebSubSubscription(ctx, sourceID)
	return toWebSub(w), ok, err
}

func (s websubStore) SaveSubscription(ctx context.Context, sub websub.Subscription) error {
	return s.st.SaveWebSubSubscription(ctx, store.WebSubSubscription{SourceID: sub.SourceID, Hub: sub.Hub, Topic: sub.Topic,
		Secret: sub.Secret, State: sub.State, Reason: sub.Reason, RequestedAt: sub.RequestedAt, VerifiedAt: sub.VerifiedAt,
		LeaseUntil: sub.LeaseUntil})
}

func (s websubStore) Subscriptions(ctx context.Context) ([]websub.Subscription, error) {
	ws, err := s.st.WebSubSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]websub.Subscription, len(ws))
	for i, w := range ws {
		out[i] = toWebSub(w)
	}
	return out, nil
}

// hubs is the poller's watch.HubSubscriber: the subscriber, and the store
// to tell an active subscription.
type hubs struct {
	sub *websub.Subscriber
	st  subscriptionStore
}

func (h hubs) Ensure(ctx context.Context, sourceID, hub, topic string) error {
	return h.sub.Ensure(ctx, sourceID, hub, topic)
}

func (h hubs) Active(ctx context.Context, sourceID string) bool {
	w, ok, err := h.st.WebSubSubscription(ctx, sourceID)
	return err == nil && ok && w.State == websub.StateActive && w.LeaseUntil.After(time.Now())
}

// pushes hands verified pushed content to the poller, parsed like a fetch.
type pushes struct {
	poller  *watch.Poller
	sources map[string]news.Source
	logger  *slog.Logger
}

func (p *pushes) Deliver(ctx context.Context, sourceID, contentType string, body []byte) error {
	src, ok := p.sources[sourceID]
	if !ok {
		return fmt.Errorf("websub push for unknown source %q", sourceID)
	}
	title, items, err := sources.Parse(body, contentType, sourceID, time.Now())
	if err != nil {
		return fmt.Errorf("websub push for %q: %w", sourceID, err)
	}
	rep, err := p.poller.Push(ctx, src, news.FetchResult{FeedTitle: title, Items: items})
	if err != nil {
		return err
	}
	p.logger.Info("websub push", "source", sourceID, "items", rep.Fetched, "new", rep.New, "matches", rep.Matches, "alerts", rep.Deliveries)
	return nil
}

// newWebSub builds the subscriber when WebSub is on (nil otherwise), and
// the pushes it delivers to, whose poller is set once it exists.
func newWebSub(cfg *Config, st subscriptionStore, policy netguard.Policy, ua string, logger *slog.Logger) (*websub.Subscriber, *pushes, error) {
	if !cfg.WebSub.Enabled {
		return nil, nil, nil
	}
	push := &pushes{sources: map[string]news.Source{}, logger: logger}
	for _, s := range cfg.Sources {
		push.sources[s.Source.ID] = s.Source
	}
	sub, err := websub.New(websub.Config{
		CallbackBase: cfg.BaseURL + "/websub/", Store: websubStore{st}, Deliverer: push,
		Policy: policy, UserAgent: ua, Lease: cfg.WebSub.Lease, Logger: logger,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("websub: %w", err)
	}
	return sub, push, nil
}

// unsubscribeRemoved ends the subscriptions of sources no longer in the
// config, so hubs stop pushing them.
func unsubscribeRemoved(ctx context.Context, cfg *Config, st subscriptionStore, sub *websub.Subscriber, logger *slog.Logger) {
	ws, err := st.WebSubSubscriptions(ctx)
	if err != nil {
		logger.Error("websub: list subscriptions", "err", err)
		return
	}
	known := map[string]bool{}
	for _, s := range cfg.Sources {
		known[s.Source.ID] = true
	}
	for _, w := range ws {
		if !known[w.SourceID] && w.State == websub.StateActive {
			if err := sub.Unsubscribe(ctx, w.SourceID); err != nil {
				logger.Warn("websub: unsubscribe a removed source", "source", w.SourceID, "err", err)
			}
		}
	}
}
