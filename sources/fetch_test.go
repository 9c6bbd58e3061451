package sources

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wirewatch/netguard"
	"wirewatch/news"
)

// newTestFetcher returns a Fetcher allowed to reach the loopback test
// servers, with a fixed clock.
func newTestFetcher(t testing.TB, opts Options) *Fetcher {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	if !opts.Policy.AllowPrivate && opts.Policy.Allow == nil {
		opts.Policy = netguard.Policy{AllowPrivate: true}
	}
	f := NewFetcher(opts)
	t.Cleanup(f.CloseIdleConnections)
	return f
}

func newServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// fetchErr asserts err is a *FetchError with the given reason.
func fetchErr(t *testing.T, err error, reason string) *FetchError {
	t.Helper()
	var fe *FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FetchError", err, err)
	}
	if fe.Reason != reason {
		t.Fatalf("Reason = %q, want %q (error: %v)", fe.Reason, reason, err)
	}
	return fe
}

func TestFetchConditionalGET(t *testing.T) {
	feed := readFixture(t, "rss20.xml")
	const etag = `"v1-abc"`
	const lastMod = "Thu, 01 Sep 2022 12:30:00 GMT"
	var requests atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if got := r.Header.Get("User-Agent"); got != "wirewatch-test/1.0" {
			t.Errorf("User-Agent = %q", got)
		}
		if got := r.Header.Get("Accept"); got != acceptHeader || !strings.HasPrefix(got, "application/rss+xml, application/atom+xml, application/feed+json") {
			t.Errorf("Accept = %q", got)
		}
		if got := r.Header.Get("Accept-Encoding"); !strings.Contains(got, "gzip") {
			t.Errorf("Accept-Encoding = %q, want gzip offered", got)
		}
		if r.Header.Get("If-None-Match") == etag && r.Header.Get("If-Modified-Since") == lastMod {
			// A 304 that repeats only the ETag: Last-Modified must be kept
			// from the request.
			w.Header().Set("ETag", etag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
			t.Errorf("unexpected validators %q / %q", r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"))
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(feed)
	})
	f := newTestFetcher(t, Options{UserAgent: "wirewatch-test/1.0"})

	res, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "gd", URL: srv.URL + "/feed"})
	if err != nil {
		t.Fatalf("first fetch: %v", err)
	}
	if res.NotModified || res.StatusCode != 200 || res.ETag != etag || res.LastModified != lastMod {
		t.Fatalf("first fetch result: %+v", res)
	}
	if res.FeedTitle != "Global Desk & Wires" || len(res.Items) != 5 {
		t.Fatalf("first fetch: title %q, %d items", res.FeedTitle, len(res.Items))
	}
	checkItemInvariants(t, "gd", res.Items)
	if !res.Items[0].FetchedAt.Equal(fixedNow) {
		t.Errorf("FetchedAt = %v, want the injected clock", res.Items[0].FetchedAt)
	}

	res2, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "gd", URL: srv.URL + "/feed", ETag: res.ETag, LastModified: res.LastModified})
	if err != nil {
		t.Fatalf("conditional fetch: %v", err)
	}
	if !res2.NotModified || res2.StatusCode != http.StatusNotModified || len(res2.Items) != 0 {
		t.Fatalf("conditional fetch result: %+v", res2)
	}
	if res2.ETag != etag || res2.LastModified != lastMod {
		t.Errorf("validators not kept: ETag %q LastModified %q", res2.ETag, res2.LastModified)
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
}

func TestFetchResolvesRelativeLinksAgainstFinalURL(t *testing.T) {
	// No channel link: relative item links resolve against the URL the
	// feed was served from, after redirects.
	body := `<rss version="2.0"><channel><title>No link</title>
<item><title>Relative</title><link>story/42</link></item></channel></rss>`
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/news/feed.xml", http.StatusMovedPermanently)
			return
		}
		io.WriteString(w, body)
	})
	res, err := newTestFetcher(t, Options{}).Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL + "/old"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.Items[0].Link != srv.URL+"/news/story/42" {
		t.Fatalf("items %+v, want link %s/news/story/42", res.Items, srv.URL)
	}
}

func TestFetchContentEncodings(t *testing.T) {
	feed := readFixture(t, "atom10.xml")
	encode := map[string]func(io.Writer) io.WriteCloser{
		"gzip":    func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) },
		"x-gzip":  func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) },
		"deflate": func(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) },
		"raw-deflate": func(w io.Writer) io.WriteCloser {
			fw, _ := flate.NewWriter(w, flate.DefaultCompression)
			return fw
		},
		"identity": nil,
	}
	for name, enc := range encode {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if enc == nil {
					w.Header().Set("Content-Encoding", "identity")
					w.Write(feed)
					return
				}
				header := name
				if name == "raw-deflate" {
					header = "deflate"
				}
				w.Header().Set("Content-Encoding", header)
				zw := enc(w)
				zw.Write(feed)
				zw.Close()
			})
			res, err := newTestFetcher(t, Options{}).Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if res.FeedTitle != "Rights & Justice Monitor" || len(res.Items) != 2 {
				t.Fatalf("title %q, %d items", res.FeedTitle, len(res.Items))
			}
		})
	}
	t.Run("unsupported coding", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "br")
			w.Write(feed)
		})
		_, err := newTestFetcher(t, Options{}).Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL})
		fetchErr(t, err, ReasonOther)
	})
}

func TestFetchBodyCap(t *testing.T) {
	feed := readFixture(t, "rss20.xml")
	gz := gzipBytes(t, feed)
	serve := func(t *testing.T, compressed, chunked bool) *httptest.Server {
		return newServer(t, func(w http.ResponseWriter, r *http.Request) {
			b := feed
			if compressed {
				w.Header().Set("Content-Encoding", "gzip")
				b = gz
			}
			if chunked {
				// Flushing before the body hides its length.
				w.WriteHeader(200)
				w.(http.Flusher).Flush()
			} else {
				w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			}
			w.Write(b)
		})
	}
	for _, tc := range []struct {
		name                string
		compressed, chunked bool
	}{
		{"identity with length", false, false},
		{"identity chunked", false, true},
		{"gzip", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.compressed, tc.chunked)
			// Exactly at the cap (decompressed) succeeds.
			f := newTestFetcher(t, Options{MaxBytes: int64(len(feed))})
			if _, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL}); err != nil {
				t.Fatalf("body exactly at the cap: %v", err)
			}
			// One byte over fails; it is never truncated.
			f = newTestFetcher(t, Options{MaxBytes: int64(len(feed)) - 1})
			res, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL})
			fetchErr(t, err, ReasonTooLarge)
			if len(res.Items) != 0 {
				t.Errorf("items returned from an over-cap body: %d", len(res.Items))
			}
		})
	}
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFetchGzipBomb(t *testing.T) {
	// 128 gzip members of 8 MiB of zeros each: about 1 MiB on the wire,
	// 1 GiB decompressed. The fetch must fail without holding more than
	// the cap in memory.
	member := gzipBytes(t, make([]byte, 8<<20))
	bomb := bytes.Repeat(member, 128)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(bomb)
	})
	f := newTestFetcher(t, Options{MaxBytes: 1 << 20})

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL})
	runtime.ReadMemStats(&after)

	fetchErr(t, err, ReasonTooLarge)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("fetching the bomb allocated %d MiB, want bounded by the 1 MiB cap", alloc>>20)
	}
	t.Logf("bomb: %d KiB compressed, %d KiB allocated", len(bomb)>>10, (after.TotalAlloc-before.TotalAlloc)>>10)
}

func TestFetchTimeout(t *testing.T) {
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	stallBody := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		io.WriteString(w, `<rss version="2.0"><channel><title>slow`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	for name, h := range map[string]http.HandlerFunc{"no headers": hang, "stalled body": stallBody} {
		t.Run(name, func(t *testing.T) {
			release := make(chan struct{})
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				default:
					h(w, r)
				}
			})
			t.Cleanup(func() { close(release) }) // runs before srv.Close
			f := newTestFetcher(t, Options{Timeout: 200 * time.Millisecond})
			start := time.Now()
			_, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL})
			fetchErr(t, err, ReasonTimeout)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("timeout took %v, want about 200ms", d)
			}
		})
	}
}

func TestFetchRedirects(t *testing.T) {
	feed := readFixture(t, "rss10.rdf")
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
			if n == 0 {
				w.Write(feed)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusMovedPermanently)
		case r.URL.Path == "/ftp":
			http.Redirect(w, r, "ftp://example.org/feed", http.StatusFound)
		}
	})
	f := newTestFetcher(t, Options{})

	_, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL + "/loop"})
	fetchErr(t, err, ReasonRedirects)

	res, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL + "/hop/5"})
	if err != nil || len(res.Items) != 2 {
		t.Fatalf("5 redirects must be followed: %v, %d items", err, len(res.Items))
	}
	_, err = f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL + "/hop/6"})
	fetchErr(t, err, ReasonRedirects)

	_, err = f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL + "/ftp"})
	fetchErr(t, err, ReasonOther)
}

func TestFetchHTTPErrors(t *testing.T) {
	retryDate := fixedNow.Add(90 * time.Second).UTC().Format(http.TimeFormat)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/404":
			w.Header().Set("Retry-After", "60") // ignored: not 429/503
			http.NotFound(w, r)
		case "/503":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/429":
			w.Header().Set("Retry-After", retryDate)
			w.WriteHeader(http.StatusTooManyRequests)
		case "/503-huge":
			w.Header().Set("Retry-After", "99999999999999999")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/503-past":
			w.Header().Set("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/500":
			w.WriteHeader(http.StatusInternalServerError)
		case "/300":
			w.WriteHeader(http.StatusMultipleChoices)
		}
	})
	f := newTestFetcher(t, Options{})
	fetch := func(path string) error {
		res, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL + path})
		if err != nil && res.StatusCode == 0 {
			t.Errorf("%s: StatusCode not reported alongside the error", path)
		}
		return err
	}
	for _, tc := range []struct {
		path   string
		reason string
		status int
		retry  time.Duration
	}{
		{"/404", ReasonHTTP4xx, 404, 0},
		{"/503", ReasonHTTP5xx, 503, 2 * time.Minute},
		{"/429", ReasonHTTP4xx, 429, 90 * time.Second},
		{"/503-huge", ReasonHTTP5xx, 503, maxRetryAfter},
		{"/503-past", ReasonHTTP5xx, 503, 0},
		{"/500", ReasonHTTP5xx, 500, 0},
		{"/300", ReasonOther, 300, 0},
	} {
		fe := fetchErr(t, fetch(tc.path), tc.reason)
		if fe.Status != tc.status || fe.RetryAfter != tc.retry {
			t.Errorf("%s: Status %d RetryAfter %v, want %d %v", tc.path, fe.Status, fe.RetryAfter, tc.status, tc.retry)
		}
	}
	err := fetch("/503")
	if want := fmt.Sprintf(`sources: fetch "%s/503": http 503 Service Unavailable`, srv.URL); err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestFetchSSRFBlocked(t *testing.T) {
	var hits atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		// Redirect to another loopback address the policy does not allow.
		_, port, _ := net.SplitHostPort(r.Host)
		http.Redirect(w, r, "http://127.0.0.2:"+port+"/feed", http.StatusFound)
	})

	t.Run("default policy refuses loopback", func(t *testing.T) {
		f := NewFetcher(Options{Policy: netguard.Policy{AllowPrivate: false}})
		_, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL})
		fetchErr(t, err, ReasonSSRFBlocked)
		if !errors.Is(err, netguard.ErrBlocked) {
			t.Errorf("error %v does not wrap netguard.ErrBlocked", err)
		}
		if hits.Load() != 0 {
			t.Error("the blocked server was reached")
		}
	})
	t.Run("redirect target is guarded too", func(t *testing.T) {
		f := newTestFetcher(t, Options{Policy: netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}})
		_, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL})
		fetchErr(t, err, ReasonSSRFBlocked)
		if hits.Load() != 1 {
			t.Errorf("allowed first hop served %d times, want 1", hits.Load())
		}
	})
}

func TestFetchTransportErrors(t *testing.T) {
	f := newTestFetcher(t, Options{Timeout: 5 * time.Second})
	fetch := func(u string) error {
		_, err := f.Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: u})
		return err
	}

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		fetchErr(t, fetch("http://"+addr+"/feed"), ReasonConnect)
	})
	t.Run("dns", func(t *testing.T) {
		// .invalid never resolves (RFC 2606).
		fetchErr(t, fetch("http://wirewatch-test.invalid/feed"), ReasonDNS)
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		t.Cleanup(srv.Close)
		fetchErr(t, fetch(srv.URL), ReasonTLS)
	})
	t.Run("not http", func(t *testing.T) {
		for _, u := range []string{"file:///etc/passwd", "feed.xml", "::bad"} {
			fetchErr(t, fetch(u), ReasonOther)
		}
	})
	t.Run("canceled by caller", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := f.Fetch(ctx, news.FetchRequest{SourceID: "s", URL: srv.URL})
		fetchErr(t, err, ReasonOther)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v does not wrap context.Canceled", err)
		}
	})
}

func TestFetchParseError(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(readFixture(t, "malformed.xml"))
	})
	res, err := newTestFetcher(t, Options{}).Fetch(context.Background(), news.FetchRequest{SourceID: "s", URL: srv.URL})
	fe := fetchErr(t, err, ReasonParse)
	if fe.Err == nil || !strings.Contains(err.Error(), "XML syntax error") {
		t.Errorf("parse error does not carry the parser's message: %v", err)
	}
	if len(res.Items) != 0 {
		t.Errorf("items returned with a parse error")
	}
}

func TestFetchHTTPCharset(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=ISO-8859-1")
		w.Write(readFixture(t, "latin1.xml"))
	})
	res, err := newTestFetcher(t, Options{}).Fetch(context.Background(), news.FetchRequest{SourceID: "jm", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.Items[0].Summary != "Le Haut-Commissariat a publié son évaluation très attendue à Genève." {
		t.Fatalf("items: %+v", res.Items)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		" 30 ":                          30 * time.Second,
		"soon":                          0,
		"Mon, 01 Jan 2024 00:10:00 GMT": 10 * time.Minute,
		"Sun, 31 Dec 2023 23:00:00 GMT": 0,
		"9223372036854775807":           maxRetryAfter,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestFetchErrorFailureInterface(t *testing.T) {
	// The poller reads reasons through its own interface; a FetchError
	// wrapped by a caller must still answer it.
	var err error = fmt.Errorf("poll: %w", &FetchError{URL: "u", Reason: ReasonHTTP5xx, Status: 503, RetryAfter: time.Minute})
	var f interface {
		FailureReason() string
		RetryAfterHint() time.Duration
	}
	if !errors.As(err, &f) || f.FailureReason() != ReasonHTTP5xx || f.RetryAfterHint() != time.Minute {
		t.Fatalf("FetchError does not answer FailureReason/RetryAfterHint: %v", err)
	}
}
