// Package websub is wirewatch's WebSub subscriber (W3C WebSub,
// https://www.w3.org/TR/websub/). When a feed advertises a hub (rel="hub"
// and rel="self"), wirewatch subscribes to the feed's topic at that hub, so
// new items are pushed to it within seconds instead of waiting for the next
// poll. Polling carries on at its own pace as the fallback: a push is an
// early poll, never the only way an item arrives, so a hub that goes quiet
// costs latency, not items.
//
// The protocol, as this package speaks it:
//
//   - Ensure asks the hub for a subscription (hub.mode=subscribe) with a
//     lease and a fresh secret, and asks again before the lease runs out.
//   - The hub verifies the request with a GET to the callback URL; Handler
//     answers the challenge only for a subscription this package asked for.
//   - The hub then POSTs new content to the callback, signed with the secret
//     (X-Hub-Signature); Handler checks the signature and hands the body to
//     the Deliverer, which parses it and runs it through the poll pipeline.
//   - Run renews leases in the background; Unsubscribe ends a subscription
//     for a source that was removed.
//
// Like the sibling packages it imports only news, netguard and the standard
// library; the store that keeps subscriptions is declared here as Store and
// implemented elsewhere.
package websub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"wirewatch/netguard"
)

// Subscription states.
const (
	// StateRequested: a subscription request was sent and the hub has not
	// verified it yet.
	StateRequested = "requested"
	// StateActive: the hub verified the subscription; pushes are accepted
	// until it is denied or unsubscribed. A renewal keeps it active.
	StateActive = "active"
	// StateDenied: the hub refused the request (an error answer, or a
	// hub.mode=denied callback); Reason says why. Ensure asks again after
	// Config.Retry.
	StateDenied = "denied"
	// StateUnsubscribed: wirewatch asked to end the subscription; pushes
	// are answered 410 Gone so the hub drops it even if the request was lost.
	StateUnsubscribed = "unsubscribed"
)

// Subscription is what wirewatch remembers about one source's WebSub
// subscription. There is at most one per source.
type Subscription struct {
	SourceID string
	// Hub is the hub's URL, Topic the feed's rel="self" URL as advertised.
	Hub   string
	Topic string
	// Secret is the HMAC key the hub signs pushed content with. It is kept
	// across renewals so pushes signed with it stay valid while a renewal
	// is pending, and replaced when the hub or topic changes.
	Secret string
	// LeaseUntil is when the hub's lease ends (verification time plus the
	// hub's hub.lease_seconds); zero until verified.
	LeaseUntil time.Time
	// VerifiedAt is when the hub last verified a request of ours.
	VerifiedAt time.Time
	// RequestedAt is when the last request (subscribe or unsubscribe) was
	// sent. A request later than VerifiedAt is still pending.
	RequestedAt time.Time
	// State is one of the State constants.
	State string
	// Reason is why the last request failed or was denied, for operators.
	Reason string
}

// Store keeps subscriptions across restarts.
type Store interface {
	// Subscription returns the source's subscription; false when there is
	// none.
	Subscription(ctx context.Context, sourceID string) (Subscription, bool, error)
	// SaveSubscription inserts or replaces the source's subscription.
	SaveSubscription(ctx context.Context, sub Subscription) error
	// Subscriptions lists every stored subscription.
	Subscriptions(ctx context.Context) ([]Subscription, error)
}

// Deliverer takes pushed content whose signature checked out: the same
// bytes a fetch of the topic would have returned, to be parsed and run
// through the poll pipeline at once.
type Deliverer interface {
	// Deliver processes body, a feed document of the given Content-Type,
	// for the source. An error makes Handler answer 500 so the hub retries
	// the push later; it is called while the hub waits for an answer, so
	// it should take seconds, not minutes.
	Deliver(ctx context.Context, sourceID string, contentType string, body []byte) error
}

// Defaults.
const (
	DefaultLease   = 10 * 24 * time.Hour
	DefaultRetry   = time.Hour
	DefaultMaxBody = 10 << 20
	DefaultTimeout = 30 * time.Second
	// maxSecret is the spec's limit: hub.secret MUST be less than 200 bytes.
	maxSecret = 199
	// maxLease caps what a hub may grant, so hub.lease_seconds cannot
	// overflow a time.Duration; a longer grant is renewed a little early.
	maxLease = 366 * 24 * time.Hour
)

// Config configures a Subscriber. CallbackBase, Store and Deliverer are
// required.
type Config struct {
	// CallbackBase is the public URL prefix hubs call back, e.g.
	// "https://alerts.example.org/websub/". A source's callback is
	// CallbackBase + url.PathEscape(sourceID). It should be https: the
	// subscription secret travels in the subscription request, and the
	// spec asks that it only be sent to https callbacks.
	CallbackBase string
	// MountPath is the URL path Handler is served under on this process
	// (the mux pattern, not stripped), when a reverse proxy rewrites the
	// public path; default the path of CallbackBase.
	MountPath string
	Store     Store
	Deliverer Deliverer
	// Policy guards every outbound connection to hubs (default: public
	// addresses only). Ignored when Client is set.
	Policy netguard.Policy
	// Client sends subscription requests; default a client over
	// Policy.Transport with a DefaultTimeout deadline. A caller-supplied
	// client must do its own SSRF guarding.
	Client *http.Client
	// UserAgent is sent with every request to a hub.
	UserAgent string
	// Lease is the lease asked for (hub.lease_seconds); default
	// DefaultLease. The hub may grant another; its grant is what counts.
	Lease time.Duration
	// RenewBefore is how long before the lease ends it is renewed;
	// default Lease/10, at least an hour. Leases the hub granted shorter
	// than twice this are renewed at their half-life instead.
	RenewBefore time.Duration
	// Retry is how long a request waits for the hub's verification, or a
	// failed or denied one waits, before it is sent again; default
	// DefaultRetry.
	Retry time.Duration
	// MaxBody caps a pushed body; a larger one is answered 413. Default
	// DefaultMaxBody.
	MaxBody int64
	Logger  *slog.Logger
	// Now is the clock every decision reads; default time.Now.
	Now func() time.Time
	// NewSecret makes a subscription secret; default 32 random bytes in
	// hex. It must be 1 to 199 bytes long.
	NewSecret func() (string, error)
}

// Subscriber subscribes wirewatch's sources to their hubs and receives
// what the hubs push. It is safe for concurrent use.
type Subscriber struct {
	base        string // CallbackBase, ending in "/"
	mount       string // escaped path prefix Handler serves, ending in "/"
	store       Store
	deliverer   Deliverer
	client      *http.Client
	ownClient   bool
	userAgent   string
	lease       time.Duration
	renewBefore time.Duration
	retry       time.Duration
	tick        time.Duration
	maxBody     int64
	log         *slog.Logger
	now         func() time.Time
	newSecret   func() (string, error)

	// mu serialises every read-modify-write of a stored subscription
	// (requests being prepared, verifications, denials); it is never held
	// across a request to a hub, since hubs may verify before they answer.
	mu sync.Mutex
	// inflight holds the sources with a subscribe request on the wire, so
	// the poller and the renewal loop do not send the same one twice.
	inflight map[string]struct{}
}

// New checks cfg and fills in its defaults.
func New(cfg Config) (*Subscriber, error) {
	if cfg.Store == nil {
		return nil, errors.New("websub: config: Store is required")
	}
	if cfg.Deliverer == nil {
		return nil, errors.New("websub: config: Deliverer is required")
	}
	base := cfg.CallbackBase
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("websub: config: callback base: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, fmt.Errorf("websub: config: callback base %q must be an absolute http(s) URL without query or fragment", cfg.CallbackBase)
	}
	mount := cfg.MountPath
	if mount == "" {
		mount = u.EscapedPath()
	}
	if !strings.HasPrefix(mount, "/") {
		return nil, fmt.Errorf("websub: config: mount path %q must start with /", mount)
	}
	if !strings.HasSuffix(mount, "/") {
		mount += "/"
	}
	s := &Subscriber{
		base:        base,
		mount:       mount,
		store:       cfg.Store,
		deliverer:   cfg.Deliverer,
		client:      cfg.Client,
		userAgent:   cfg.UserAgent,
		lease:       cfg.Lease,
		renewBefore: cfg.RenewBefore,
		retry:       cfg.Retry,
		maxBody:     cfg.MaxBody,
		log:         cfg.Logger,
		now:         cfg.Now,
		newSecret:   cfg.NewSecret,
		inflight:    map[string]struct{}{},
	}
	if s.client == nil {
		s.client = &http.Client{Transport: cfg.Policy.Transport(10 * time.Second), Timeout: DefaultTimeout}
		s.ownClient = true
	}
	if s.userAgent == "" {
		s.userAgent = "wirewatch (WebSub subscriber)"
	}
	if s.lease == 0 {
		s.lease = DefaultLease
	}
	if s.lease < time.Second || s.lease > maxLease {
		return nil, fmt.Errorf("websub: config: lease %v must be between 1s and %v", s.lease, maxLease)
	}
	if s.renewBefore == 0 {
		s.renewBefore = max(s.lease/10, time.Hour)
	}
	if s.renewBefore < 0 || s.renewBefore >= s.lease {
		return nil, fmt.Errorf("websub: config: renew_before %v must be positive and shorter than the lease %v", s.renewBefore, s.lease)
	}
	if s.retry == 0 {
		s.retry = DefaultRetry
	}
	if s.retry < 0 {
		return nil, fmt.Errorf("websub: config: retry %v must be positive", s.retry)
	}
	s.tick = max(min(s.renewBefore/2, time.Hour), time.Second)
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.maxBody < 0 {
		return nil, fmt.Errorf("websub: config: max body %d must be positive", s.maxBody)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newSecret == nil {
		s.newSecret = randomSecret
	}
	if u.Scheme != "https" {
		s.log.Warn("websub: callback base is not https; subscription secrets and pushed content travel in clear", "callback_base", base)
	}
	return s, nil
}

// CallbackURL is the URL hubs call back for the source.
func (s *Subscriber) CallbackURL(sourceID string) string {
	return s.base + url.PathEscape(sourceID)
}

// randomSecret is 32 bytes from crypto/rand, hex-encoded (64 bytes, under
// the spec's 200-byte limit).
func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
