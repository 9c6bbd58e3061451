package websub

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Handler serves the callback URLs: the hubs' verification requests (GET)
// and their content pushes (POST). It expects the full request path,
// MountPath (default: the path of CallbackBase) followed by one escaped
// source id, so mount it on that prefix without stripping it:
//
//	mux.Handle("/websub/", sub.Handler())
//
// Anything else is answered 404.
func (s *Subscriber) Handler() http.Handler {
	return http.HandlerFunc(s.serve)
}

func (s *Subscriber) serve(w http.ResponseWriter, r *http.Request) {
	sourceID, ok := s.sourceOf(r.URL)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.verify(w, r, sourceID)
	case http.MethodPost:
		s.receive(w, r, sourceID)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// sourceOf reads the source id from a callback path.
func (s *Subscriber) sourceOf(u *url.URL) (string, bool) {
	rest, ok := strings.CutPrefix(u.EscapedPath(), s.mount)
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	id, err := url.PathUnescape(rest)
	if err != nil || id == "" {
		return "", false
	}
	return id, true
}

// verify answers a hub's verification of intent (hub.mode subscribe or
// unsubscribe) or records its denial (hub.mode denied). The challenge is
// echoed only for a request this subscriber made: a subscribe for a
// subscription requested or active for that topic, an unsubscribe for one
// wirewatch asked to end. Everything else gets the 404 the spec asks for,
// so nobody can subscribe wirewatch to a hub, or unsubscribe it, in its
// name.
func (s *Subscriber) verify(w http.ResponseWriter, r *http.Request, sourceID string) {
	q := r.URL.Query()
	mode, topic, challenge := q.Get("hub.mode"), q.Get("hub.topic"), q.Get("hub.challenge")

	s.mu.Lock()
	defer s.mu.Unlock()
	sub, found, err := s.store.Subscription(r.Context(), sourceID)
	if err != nil {
		s.log.Error("websub: load subscription", "source", sourceID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if !found || topic == "" || topic != sub.Topic {
		http.NotFound(w, r)
		return
	}
	live := sub.State == StateRequested || sub.State == StateActive
	now := s.now()
	switch mode {
	case "subscribe":
		lease, ok := s.parseLease(q.Get("hub.lease_seconds"))
		if !live || challenge == "" || !ok {
			http.NotFound(w, r)
			return
		}
		sub.State, sub.VerifiedAt, sub.LeaseUntil, sub.Reason = StateActive, now, now.Add(lease), ""
	case "unsubscribe":
		if sub.State != StateUnsubscribed || challenge == "" {
			http.NotFound(w, r)
			return
		}
		sub.VerifiedAt = now
	case "denied":
		if !live {
			http.NotFound(w, r)
			return
		}
		sub.State, sub.LeaseUntil, sub.Reason = StateDenied, time.Time{}, clean(q.Get("hub.reason"))
		if sub.Reason == "" {
			sub.Reason = "denied by hub"
		}
	default:
		http.NotFound(w, r)
		return
	}
	if err := s.store.SaveSubscription(r.Context(), sub); err != nil {
		s.log.Error("websub: save subscription", "source", sourceID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	switch mode {
	case "denied":
		s.log.Warn("websub: hub denied subscription", "source", sourceID, "hub", sub.Hub, "reason", sub.Reason)
		w.WriteHeader(http.StatusOK)
		return
	case "subscribe":
		s.log.Info("websub: subscription verified", "source", sourceID, "hub", sub.Hub, "lease_until", sub.LeaseUntil)
	default:
		s.log.Info("websub: unsubscription verified", "source", sourceID, "hub", sub.Hub)
	}
	// The challenge is third-party text echoed back: plain text that no
	// browser may sniff into anything else.
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, challenge)
}

// parseLease reads hub.lease_seconds, which the spec requires on subscribe
// verifications. A hub that omits it is taken to grant what was asked for;
// a value that is no positive integer is refused.
func (s *Subscriber) parseLease(v string) (time.Duration, bool) {
	if v == "" {
		return s.lease, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	if n > int64(maxLease/time.Second) {
		return maxLease, true
	}
	return time.Duration(n) * time.Second, true
}

// receive takes a content push. Content whose signature is missing or
// wrong is dropped but still answered 2xx, as the spec asks: the hub must
// not retry it, and a forger must learn nothing. Verified content goes to
// the Deliverer; a failure there is answered 500 so the hub retries.
func (s *Subscriber) receive(w http.ResponseWriter, r *http.Request, sourceID string) {
	s.mu.Lock()
	sub, found, err := s.store.Subscription(r.Context(), sourceID)
	s.mu.Unlock()
	switch {
	case err != nil:
		s.log.Error("websub: load subscription", "source", sourceID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case !found:
		http.NotFound(w, r)
		return
	case sub.State == StateUnsubscribed:
		// 410 tells a hub to drop the subscription.
		http.Error(w, "unsubscribed", http.StatusGone)
		return
	case sub.State != StateActive:
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.log.Warn("websub: pushed content too large", "source", sourceID, "limit", s.maxBody)
			http.Error(w, "content too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if err := checkSignature(r.Header.Get("X-Hub-Signature"), body, sub.Secret); err != nil {
		s.log.Warn("websub: dropped pushed content", "source", sourceID, "hub", sub.Hub, "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := s.deliverer.Deliver(r.Context(), sourceID, r.Header.Get("Content-Type"), body); err != nil {
		s.log.Error("websub: deliver pushed content", "source", sourceID, "err", err)
		http.Error(w, "cannot process content now", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// checkSignature verifies an X-Hub-Signature header ("method=hexdigest",
// method sha1, sha256, sha384 or sha512) as an HMAC of the raw body under
// the subscription secret, in constant time.
func checkSignature(header string, body []byte, secret string) error {
	if secret == "" {
		return errors.New("subscription has no secret")
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return errors.New("no X-Hub-Signature")
	}
	method, digest, ok := strings.Cut(header, "=")
	if !ok {
		return errors.New("malformed X-Hub-Signature")
	}
	var h func() hash.Hash
	switch strings.ToLower(strings.TrimSpace(method)) {
	case "sha1":
		h = sha1.New
	case "sha256":
		h = sha256.New
	case "sha384":
		h = sha512.New384
	case "sha512":
		h = sha512.New
	default:
		return fmt.Errorf("unsupported X-Hub-Signature method %q", clean(method))
	}
	got, err := hex.DecodeString(strings.TrimSpace(digest))
	if err != nil {
		return errors.New("malformed X-Hub-Signature digest")
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errors.New("X-Hub-Signature does not match")
	}
	return nil
}
