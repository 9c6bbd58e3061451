package websub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Ensure makes sure the source is subscribed to topic at hub: it sends a
// subscription request when there is none for this hub and topic, when the
// lease is about to run out, or when an earlier request went unverified or
// was refused more than Config.Retry ago. Otherwise it only reads the store,
// so the poller may call it after every fetch that reports a hub.
//
// topic should be the feed's rel="self" URL, which the spec makes the
// subscriber use; fall back to the fetched URL only when the feed names no
// self. A request refused by the hub (any non-2xx answer, a blocked address,
// a network error) is recorded as StateDenied with the reason, and returned.
func (s *Subscriber) Ensure(ctx context.Context, sourceID, hub, topic string) error {
	if err := checkTarget(sourceID, hub, topic); err != nil {
		return fmt.Errorf("websub: subscribe %q: %w", sourceID, err)
	}
	sub, send, err := s.begin(ctx, sourceID, hub, topic)
	if err != nil {
		return fmt.Errorf("websub: subscribe %q: %w", sourceID, err)
	}
	if !send {
		return nil
	}
	defer s.done(sourceID)
	if err := s.post(ctx, "subscribe", sub); err != nil {
		s.failed(ctx, sub, err)
		return fmt.Errorf("websub: subscribe %q at %s: %w", sourceID, hub, err)
	}
	s.log.Info("websub: subscription requested", "source", sourceID, "hub", hub, "topic", topic)
	return nil
}

// checkTarget refuses what no hub could serve, before anything is stored.
func checkTarget(sourceID, hub, topic string) error {
	if sourceID == "" {
		return errors.New("empty source id")
	}
	if topic == "" {
		return errors.New("empty topic")
	}
	u, err := url.Parse(hub)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("hub %q is not an absolute http(s) URL", hub)
	}
	return nil
}

// begin decides, under the lock, whether a subscription request is due and
// if so stores it as sent before it is sent: hubs may verify before they
// answer the request, and the verification must find it.
func (s *Subscriber) begin(ctx context.Context, sourceID, hub, topic string) (Subscription, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, busy := s.inflight[sourceID]; busy {
		return Subscription{}, false, nil
	}
	cur, found, err := s.store.Subscription(ctx, sourceID)
	if err != nil {
		return Subscription{}, false, fmt.Errorf("load subscription: %w", err)
	}
	now := s.now()
	if !s.due(cur, found, hub, topic, now) {
		return Subscription{}, false, nil
	}
	next := Subscription{SourceID: sourceID, Hub: hub, Topic: topic, RequestedAt: now, State: StateRequested}
	if found && cur.Hub == hub && cur.Topic == topic && cur.Secret != "" {
		// A renewal: pushes signed with the current secret keep coming
		// while it is pending, so the secret stays, and so does an
		// active lease.
		next.Secret = cur.Secret
		if cur.State == StateActive {
			next.State, next.VerifiedAt, next.LeaseUntil = StateActive, cur.VerifiedAt, cur.LeaseUntil
		}
	} else {
		// A new hub or topic gets a new secret, so whatever the old hub
		// still pushes fails its signature.
		secret, err := s.newSecret()
		if err != nil {
			return Subscription{}, false, fmt.Errorf("make secret: %w", err)
		}
		if secret == "" || len(secret) > maxSecret {
			return Subscription{}, false, fmt.Errorf("make secret: %d bytes, want 1 to %d", len(secret), maxSecret)
		}
		next.Secret = secret
	}
	if err := s.store.SaveSubscription(ctx, next); err != nil {
		return Subscription{}, false, fmt.Errorf("save subscription: %w", err)
	}
	s.inflight[sourceID] = struct{}{}
	return next, true, nil
}

func (s *Subscriber) done(sourceID string) {
	s.mu.Lock()
	delete(s.inflight, sourceID)
	s.mu.Unlock()
}

// due reports whether a subscription request to hub for topic should be
// sent, given what is stored for the source.
func (s *Subscriber) due(cur Subscription, found bool, hub, topic string, now time.Time) bool {
	if !found || cur.Hub != hub || cur.Topic != topic || cur.State == StateUnsubscribed || cur.Secret == "" {
		return true
	}
	pending := cur.RequestedAt.After(cur.VerifiedAt)
	waited := now.Sub(cur.RequestedAt) >= s.retry
	if cur.State == StateActive {
		if cur.LeaseUntil.Sub(now) > s.renewWindow(cur) {
			return false
		}
		return !pending || waited
	}
	return waited // requested, denied (or a state this version does not know)
}

// renewWindow is how long before its end a lease is renewed: RenewBefore,
// or half the granted lease when the hub granted a short one, so a short
// lease is neither renewed constantly nor allowed to lapse.
func (s *Subscriber) renewWindow(sub Subscription) time.Duration {
	w := s.renewBefore
	if granted := sub.LeaseUntil.Sub(sub.VerifiedAt); granted > 0 && granted/2 < w {
		w = granted / 2
	}
	return w
}

// failed records why a request was refused, unless the hub has meanwhile
// verified or denied it over the callback (which says more than the answer
// did). An active subscription whose lease still runs stays active: the
// hub keeps pushing until the lease ends, and Ensure retries after Retry.
func (s *Subscriber) failed(ctx context.Context, sent Subscription, cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, found, err := s.store.Subscription(ctx, sent.SourceID)
	if err != nil || !found || cur.Hub != sent.Hub || cur.Topic != sent.Topic {
		return
	}
	if cur.State == StateDenied || cur.State == StateUnsubscribed || !cur.VerifiedAt.Before(cur.RequestedAt) {
		return
	}
	cur.Reason = clean(cause.Error())
	if cur.State != StateActive || !cur.LeaseUntil.After(s.now()) {
		cur.State = StateDenied
		cur.LeaseUntil = time.Time{}
	}
	if err := s.store.SaveSubscription(context.WithoutCancel(ctx), cur); err != nil {
		s.log.Error("websub: save failed request", "source", sent.SourceID, "err", err)
	}
}

// post sends a subscribe or unsubscribe request to the subscription's hub.
// Any 2xx counts as accepted: the spec's answer is 202, and hubs of the
// PubSubHubbub era that verify before answering say 204.
func (s *Subscriber) post(ctx context.Context, mode string, sub Subscription) error {
	form := url.Values{
		"hub.mode":     {mode},
		"hub.topic":    {sub.Topic},
		"hub.callback": {s.CallbackURL(sub.SourceID)},
	}
	if mode == "subscribe" {
		form.Set("hub.secret", sub.Secret)
		form.Set("hub.lease_seconds", strconv.FormatInt(int64(s.lease/time.Second), 10))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Hub, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", s.userAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		msg := clean(string(b))
		if msg == "" {
			return fmt.Errorf("hub answered %s", resp.Status)
		}
		return fmt.Errorf("hub answered %s: %s", resp.Status, msg)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	return nil
}

// Unsubscribe ends the source's subscription, for a source removed from
// the configuration. The subscription is marked StateUnsubscribed before
// the hub is asked, so the hub's verification finds it and every later
// push is answered 410 Gone, which ends the subscription at hubs that
// never got or never honoured the request. Nothing is sent when there is
// no subscription or the hub never accepted one.
func (s *Subscriber) Unsubscribe(ctx context.Context, sourceID string) error {
	sub, send, err := s.beginUnsubscribe(ctx, sourceID)
	if err != nil {
		return fmt.Errorf("websub: unsubscribe %q: %w", sourceID, err)
	}
	if !send {
		return nil
	}
	if err := s.post(ctx, "unsubscribe", sub); err != nil {
		return fmt.Errorf("websub: unsubscribe %q at %s: %w", sourceID, sub.Hub, err)
	}
	s.log.Info("websub: unsubscription requested", "source", sourceID, "hub", sub.Hub)
	return nil
}

func (s *Subscriber) beginUnsubscribe(ctx context.Context, sourceID string) (Subscription, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, found, err := s.store.Subscription(ctx, sourceID)
	if err != nil {
		return Subscription{}, false, fmt.Errorf("load subscription: %w", err)
	}
	if !found || cur.State == StateUnsubscribed {
		return Subscription{}, false, nil
	}
	live := cur.State == StateActive || cur.State == StateRequested
	cur.State, cur.RequestedAt, cur.LeaseUntil, cur.Reason = StateUnsubscribed, s.now(), time.Time{}, ""
	if err := s.store.SaveSubscription(ctx, cur); err != nil {
		return Subscription{}, false, fmt.Errorf("save subscription: %w", err)
	}
	return cur, live, nil
}

// Run renews subscriptions until ctx is cancelled, then returns nil: once
// at start, then every min(RenewBefore/2, 1h). It renews active ones whose
// lease ends within the renewal window and re-sends requests that went
// unverified for Config.Retry. Denied ones are left to Ensure, which the
// poller calls only while the feed still advertises its hub.
func (s *Subscriber) Run(ctx context.Context) error {
	t := time.NewTicker(s.tick)
	defer t.Stop()
	if s.ownClient {
		defer s.client.CloseIdleConnections()
	}
	for {
		if err := s.renewDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("websub: renewal", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// renewDue is one renewal pass; Run calls it on its ticker.
func (s *Subscriber) renewDue(ctx context.Context) error {
	subs, err := s.store.Subscriptions(ctx)
	if err != nil {
		return fmt.Errorf("websub: list subscriptions: %w", err)
	}
	var errs []error
	for _, sub := range subs {
		if ctx.Err() != nil {
			break
		}
		if sub.State != StateActive && sub.State != StateRequested {
			continue
		}
		if err := s.Ensure(ctx, sub.SourceID, sub.Hub, sub.Topic); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// clean makes third-party text (a hub's error body, hub.reason) safe to
// store and log: valid UTF-8, no control characters, one line, bounded.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
