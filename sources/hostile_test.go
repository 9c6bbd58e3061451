package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

// Hostile and broken servers. Each test ends in a *FetchError with the
// right Reason, within the fetch deadline (plus slack for a loaded
// machine), and leaves no goroutine behind once its servers are closed.

const hostileTimeout = 300 * time.Millisecond

// noGoroutineLeak fails the test if, once every later cleanup (servers,
// idle connections) has run, more goroutines are alive than at its start.
// Call it first so its cleanup runs last.
func noGoroutineLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// hostileFetch fetches url with a short deadline and asserts the reason
// and the time taken.
func hostileFetch(t *testing.T, f *Fetcher, url, reason string) *FetchError {
	t.Helper()
	start := time.Now()
	res, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: url})
	elapsed := time.Since(start)
	fe := fetchErr(t, err, reason)
	if len(res.Items) != 0 {
		t.Errorf("items returned alongside %v", err)
	}
	if limit := hostileTimeout + 2*time.Second; elapsed > limit {
		t.Errorf("fetch took %v, want within the %v deadline (+ slack)", elapsed, hostileTimeout)
	}
	return fe
}

// rawServer answers every connection with handle, for responses net/http
// refuses to send (lying Content-Length). Its goroutines end when the test
// does.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Read the request head before answering.
				buf := make([]byte, 4096)
				var req []byte
				for !bytes.Contains(req, []byte("\r\n\r\n")) {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					req = append(req, buf[:n]...)
				}
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String() + "/feed"
}

func TestHostileHangsAfterHeaders(t *testing.T) {
	noGoroutineLeak(t)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	hostileFetch(t, newTestFetcher(t, Options{Timeout: hostileTimeout}), srv.URL, ReasonTimeout)
}

func TestHostileTricklesSlowerThanTheDeadline(t *testing.T) {
	noGoroutineLeak(t)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>`)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
				// Every byte arrives well within any per-read timeout; only
				// a deadline on the whole request ends this.
				if _, err := io.WriteString(w, "z"); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}
	})
	hostileFetch(t, newTestFetcher(t, Options{Timeout: hostileTimeout}), srv.URL, ReasonTimeout)
}

func TestHostileEndlessBody(t *testing.T) {
	noGoroutineLeak(t)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>`)
		chunk := bytes.Repeat([]byte("endless "), 4096)
		for {
			if _, err := w.Write(chunk); err != nil {
				return // the client hung up
			}
		}
	})
	f := newTestFetcher(t, Options{Timeout: hostileTimeout, MaxBytes: 256 << 10})
	hostileFetch(t, f, srv.URL, ReasonTooLarge)
}

func TestHostileContentLengthLargerThanBody(t *testing.T) {
	feed := readFixture(t, "rss20.xml")
	t.Run("then closes", func(t *testing.T) {
		noGoroutineLeak(t)
		u := rawServer(t, func(c net.Conn) {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n\r\n", len(feed)*2)
			c.Write(feed)
			c.Close()
		})
		fe := hostileFetch(t, newTestFetcher(t, Options{Timeout: hostileTimeout}), u, ReasonTruncated)
		if !errors.Is(fe, io.ErrUnexpectedEOF) {
			t.Errorf("error %v does not wrap io.ErrUnexpectedEOF", fe)
		}
	})
	t.Run("then holds the connection", func(t *testing.T) {
		noGoroutineLeak(t)
		u := rawServer(t, func(c net.Conn) {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n\r\n", len(feed)*2)
			c.Write(feed)
			io.Copy(io.Discard, c) // until the client gives up
		})
		hostileFetch(t, newTestFetcher(t, Options{Timeout: hostileTimeout}), u, ReasonTimeout)
	})
	t.Run("gzip stream cut short", func(t *testing.T) {
		noGoroutineLeak(t)
		gz := gzipBytes(t, feed)
		u := rawServer(t, func(c net.Conn) {
			half := gz[:len(gz)/2]
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n", len(half))
			c.Write(half)
		})
		hostileFetch(t, newTestFetcher(t, Options{Timeout: hostileTimeout}), u, ReasonTruncated)
	})
}

func TestHostileContentLengthSmallerThanBody(t *testing.T) {
	noGoroutineLeak(t)
	feed := readFixture(t, "rss20.xml")
	u := rawServer(t, func(c net.Conn) {
		// The client reads what was announced: half a feed, which does not
		// parse. (Connection: close keeps net/http from logging the rest
		// as an unsolicited response on an idle connection.)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\nContent-Length: %d\r\n\r\n", len(feed)/2)
		c.Write(feed)
	})
	f := newTestFetcher(t, Options{Timeout: hostileTimeout})
	fe := hostileFetch(t, f, u, ReasonParse)
	if !strings.Contains(fe.Error(), "XML syntax error") {
		t.Errorf("error %q does not say the feed was cut", fe)
	}
	// A second fetch gets the same clean answer.
	hostileFetch(t, f, u, ReasonParse)
}

func TestHostileHTMLErrorPageWith200(t *testing.T) {
	noGoroutineLeak(t)
	page := readFixture(t, "robust/html-error-page.html")
	for _, ct := range []string{"text/html; charset=utf-8", "application/rss+xml", ""} {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			if ct != "" {
				w.Header().Set("Content-Type", ct)
			}
			w.Write(page)
		})
		fe := hostileFetch(t, newTestFetcher(t, Options{Timeout: hostileTimeout}), srv.URL, ReasonParse)
		if !errors.Is(fe, ErrHTMLPage) || !strings.HasSuffix(fe.Error(), "parse: got an HTML page, not a feed") {
			t.Errorf("Content-Type %q: error %q, want one saying it got an HTML page", ct, fe)
		}
	}
}

func TestHostileStackedGzipBomb(t *testing.T) {
	noGoroutineLeak(t)
	// gzip inside gzip: under 1 KiB on the wire, 16 MiB once both are
	// undone.
	bomb := gzipBytes(t, gzipBytes(t, make([]byte, 16<<20)))
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip, gzip")
		w.Write(bomb)
	})
	hostileFetch(t, newTestFetcher(t, Options{Timeout: hostileTimeout, MaxBytes: 1 << 20}), srv.URL, ReasonTooLarge)
}

func TestHostileRedirectLoop(t *testing.T) {
	noGoroutineLeak(t)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b", http.StatusMovedPermanently)
		case "/b":
			http.Redirect(w, r, "/a", http.StatusTemporaryRedirect)
		default:
			http.Redirect(w, r, r.URL.Path, http.StatusPermanentRedirect) // to itself
		}
	})
	f := newTestFetcher(t, Options{Timeout: hostileTimeout})
	hostileFetch(t, f, srv.URL+"/a", ReasonRedirects)
	fe := hostileFetch(t, f, srv.URL+"/self", ReasonRedirects)
	if !strings.Contains(fe.Error(), "stopped after 5 redirects") {
		t.Errorf("error %q", fe)
	}
}
