package netguard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestCheckRefusesNonPublicAddresses(t *testing.T) {
	var p Policy
	blockedAddrs := []string{
		"127.0.0.1", "127.8.9.10", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
		"100.64.0.1", "0.0.0.0", "224.0.0.1", "fe80::1", "fc00::1", "fd00:ec2::254", "::ffff:127.0.0.1",
		"::ffff:10.0.0.1", "64:ff9b::a00:1", "198.18.0.1", "240.0.0.1", "::",
	}
	for _, a := range blockedAddrs {
		if err := p.Check(netip.MustParseAddr(a)); !errors.Is(err, ErrBlocked) {
			t.Errorf("Check(%s) = %v, want ErrBlocked", a, err)
		}
	}
	for _, a := range []string{"93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "1.1.1.1"} {
		if err := p.Check(netip.MustParseAddr(a)); err != nil {
			t.Errorf("Check(%s) = %v, want allowed", a, err)
		}
	}
	open := Policy{AllowPrivate: true}
	if err := open.Check(netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Errorf("AllowPrivate: %v", err)
	}
	intranet := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
	if err := intranet.Check(netip.MustParseAddr("10.20.3.4")); err != nil {
		t.Errorf("allow-listed prefix refused: %v", err)
	}
	if err := intranet.Check(netip.MustParseAddr("10.21.3.4")); err == nil {
		t.Error("address outside the allow-list accepted")
	}
}

// TestTransportChecksAfterResolution connects through a hostname that
// resolves to loopback: the guard must see the resolved address.
func TestTransportChecksAfterResolution(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	url := "http://localhost:" + port + "/"

	client := &http.Client{Transport: Policy{}.Transport(2 * time.Second), Timeout: 5 * time.Second}
	_, err := client.Get(url)
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("GET %s through the guard: %v, want ErrBlocked", url, err)
	}
	client = &http.Client{Transport: Policy{AllowPrivate: true}.Transport(2 * time.Second), Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET with AllowPrivate: %v", err)
	}
	resp.Body.Close()
}

func TestTransportIgnoresProxyFromEnvironment(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	tr := Policy{}.Transport(time.Second)
	if tr.Proxy != nil {
		t.Fatal("the transport uses a proxy: the guard would check the proxy's address, not the target's")
	}
}

func TestCheckHost(t *testing.T) {
	ctx := context.Background()
	if err := (Policy{}).CheckHost(ctx, "127.0.0.1"); !errors.Is(err, ErrBlocked) {
		t.Errorf("literal loopback: %v", err)
	}
	if err := (Policy{}).CheckHost(ctx, "localhost"); !errors.Is(err, ErrBlocked) {
		t.Errorf("localhost: %v", err)
	}
}
