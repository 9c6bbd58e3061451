// Package netguard keeps wirewatch from becoming a way into the network it
// runs in. Every outbound connection (source fetches, webhook deliveries) is
// checked at connect time, after DNS resolution, so a hostname that resolves
// to a loopback, private or cloud-metadata address is refused no matter how
// the URL was spelled.
//
// Like news, it imports only the standard library: sources and alert both
// need it and must not import each other.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrBlocked is wrapped by every refusal, so callers can classify it.
var ErrBlocked = errors.New("address not allowed")

// Policy decides which addresses outbound connections may reach.
type Policy struct {
	// AllowPrivate opens loopback, private, link-local and other
	// non-public ranges (intranet sources, tests, the offline demo).
	AllowPrivate bool
	// Allow lists extra prefixes that are reachable even when AllowPrivate
	// is false (an intranet CMS, say).
	Allow []netip.Prefix
}

// blocked lists the ranges refused by default beyond what netip's
// predicates cover.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this" network
	netip.MustParsePrefix("100.64.0.0/10"),  // CGNAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64 can reach IPv4 private space
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("169.254.0.0/16"), // link-local, cloud metadata
	netip.MustParsePrefix("fd00:ec2::/32"),  // AWS IPv6 metadata
}

// Check reports whether addr may be reached under the policy.
func (p Policy) Check(addr netip.Addr) error {
	addr = addr.Unmap()
	for _, pre := range p.Allow {
		if pre.Contains(addr) {
			return nil
		}
	}
	if p.AllowPrivate {
		return nil
	}
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() ||
		addr.IsInterfaceLocalMulticast() {
		return fmt.Errorf("%w: %s is not a public address (set allow_private_networks to reach it)", ErrBlocked, addr)
	}
	for _, pre := range blocked {
		if pre.Contains(addr) {
			return fmt.Errorf("%w: %s is in reserved range %s", ErrBlocked, addr, pre)
		}
	}
	return nil
}

// control is a net.Dialer Control hook: it runs after DNS resolution, on the
// exact address about to be connected to.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparseable address %q", ErrBlocked, address)
	}
	return p.Check(ap.Addr())
}

// Dialer returns a dialer that enforces the policy at connect time.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.control}
}

// Transport returns an HTTP transport whose every connection is checked.
// Proxies from the environment are ignored on purpose: a proxy would make
// the connect-time check see the proxy's address instead of the target's.
func (p Policy) Transport(dialTimeout time.Duration) *http.Transport {
	d := p.Dialer(dialTimeout)
	return &http.Transport{
		Proxy:             nil,
		DialContext:       d.DialContext,
		ForceAttemptHTTP2: true,
		// No total cap on idle connections: with thousands of sources on
		// hundreds of hosts a cap evicts connections that the next poll of
		// the same host needs (a new TCP and TLS handshake every time), and
		// the eviction can fail a request in flight ("putIdleConn: too many
		// idle connections"). Each host keeps a few; idle ones close after
		// IdleConnTimeout.
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// CheckHost resolves host and refuses it if any of its addresses is blocked.
// It is an early, friendly check for config validation; the connect-time
// hook remains the real guard (DNS answers can change between the two).
func (p Policy) CheckHost(ctx context.Context, host string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.Check(ip)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("netguard: resolve %q: %w", host, err)
	}
	for _, a := range addrs {
		if err := p.Check(a); err != nil {
			return err
		}
	}
	return nil
}
