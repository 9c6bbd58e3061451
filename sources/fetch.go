package sources

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"wirewatch/netguard"
	"wirewatch/news"
)

// Defaults for the zero values of Options.
const (
	DefaultUserAgent = "wirewatch/dev (+https://github.com/wirewatch/wirewatch)"
	DefaultTimeout   = 30 * time.Second
	DefaultMaxBytes  = 10 << 20
)

// maxRedirects is how many redirects one fetch follows. Feeds move, but a
// longer chain is a loop or a trap.
const maxRedirects = 5

// acceptHeader asks for feed formats first while still taking servers that
// label feeds as generic XML, JSON or anything else.
const acceptHeader = "application/rss+xml, application/atom+xml, application/feed+json, " +
	"application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"

// maxRetryAfter caps a server's Retry-After, so a hostile or mistaken value
// cannot park a source indefinitely.
const maxRetryAfter = 24 * time.Hour

// maxValidatorLen bounds the ETag and Last-Modified values kept for the next
// conditional GET; anything longer is not a validator worth storing.
const maxValidatorLen = 1024

// maxContentCodings bounds stacked Content-Encodings ("gzip, gzip, ...").
const maxContentCodings = 2

// Reasons a fetch fails, as found in FetchError.Reason. Callers branch on
// them: http-4xx is the source's fault and persistent, timeout and connect
// may be our network's, too-large and ssrf-blocked need an operator.
const (
	ReasonDNS         = "dns"
	ReasonConnect     = "connect"
	ReasonTLS         = "tls"
	ReasonTimeout     = "timeout"
	ReasonHTTP4xx     = "http-4xx"
	ReasonHTTP5xx     = "http-5xx"
	ReasonTooLarge    = "too-large"
	ReasonParse       = "parse"
	ReasonSSRFBlocked = "ssrf-blocked"
	ReasonRedirects   = "redirects"
	// ReasonTruncated is a body that ended before its Content-Length (or
	// chunked or gzip framing) said it would: the server or the network
	// dropped the connection mid-transfer.
	ReasonTruncated = "truncated"
	ReasonOther     = "other"
)

var (
	errTooManyRedirects = fmt.Errorf("stopped after %d redirects", maxRedirects)
	errTooLarge         = errors.New("response body exceeds the size limit")
)

// Options configures a Fetcher. Zero values mean the defaults.
type Options struct {
	// UserAgent identifies wirewatch to publishers; default DefaultUserAgent.
	UserAgent string
	// Timeout bounds the whole request, body included; default 30s.
	Timeout time.Duration
	// MaxBytes caps the body after decompression; default 10 MiB. A larger
	// body fails the fetch with Reason "too-large"; it is never truncated.
	MaxBytes int64
	// Policy is the SSRF guard, enforced at connect time on every request
	// and redirect.
	Policy netguard.Policy
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Fetcher fetches and parses sources. It is safe for concurrent use and
// keeps one connection pool for all sources.
type Fetcher struct {
	userAgent string
	timeout   time.Duration
	maxBytes  int64
	now       func() time.Time
	client    *http.Client
	// parsing admits GOMAXPROCS parses at once. Parsing is pure CPU: more
	// at once finishes none sooner, holds more bodies and feed trees in
	// memory, and starves the one goroutine everything waits for, the
	// store's writer (measured: with every poll in flight parsing, the
	// writer got a fraction of a core and a cold start went at its pace).
	parsing chan struct{}
}

// NewFetcher returns a Fetcher with its own HTTP client, whose every
// connection (redirects included) is checked by opts.Policy.
func NewFetcher(opts Options) *Fetcher {
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	tr := opts.Policy.Transport(opts.Timeout)
	// We ask for gzip ourselves and decompress under the body cap; the
	// transport's transparent decompression would hide the encoding.
	tr.DisableCompression = true
	return &Fetcher{
		userAgent: opts.UserAgent,
		timeout:   opts.Timeout,
		maxBytes:  opts.MaxBytes,
		now:       opts.Now,
		parsing:   make(chan struct{}, runtime.GOMAXPROCS(0)),
		client: &http.Client{
			Transport:     tr,
			CheckRedirect: checkRedirect,
		},
	}
}

// CloseIdleConnections closes the pooled keep-alive connections, for
// shutdown and tests.
func (f *Fetcher) CloseIdleConnections() {
	f.client.CloseIdleConnections()
}

// checkRedirect follows at most maxRedirects redirects, and only to http
// and https. The connect-time guard sees each target like the first.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return errTooManyRedirects
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to unsupported scheme %q", req.URL.Scheme)
	}
	return nil
}

// FetchError is a failed fetch, classified so the caller can decide how to
// back off and what to tell the operator.
type FetchError struct {
	// URL is the URL that was requested.
	URL string
	// Reason is one of the Reason* constants.
	Reason string
	// Status is the HTTP status when Reason is http-*.
	Status int
	// RetryAfter is the server's Retry-After on a 429 or 503 (seconds or
	// HTTP date, clamped to [0, 24h]); 0 when absent.
	RetryAfter time.Duration
	// Err is the underlying error; nil for plain HTTP status failures.
	Err error
}

// Error reads like `sources: fetch "https://x/feed": http 503 Service Unavailable`.
func (e *FetchError) Error() string {
	prefix := fmt.Sprintf("sources: fetch %q: ", e.URL)
	switch {
	case e.Status != 0 && e.Err == nil:
		return prefix + strings.TrimSpace(fmt.Sprintf("http %d %s", e.Status, http.StatusText(e.Status)))
	case e.Err != nil:
		return prefix + e.Reason + ": " + e.Err.Error()
	default:
		return prefix + e.Reason
	}
}

// Unwrap returns the underlying error, so errors.Is(err, context.Canceled)
// and the like work through a FetchError.
func (e *FetchError) Unwrap() error { return e.Err }

// FailureReason returns Reason. With RetryAfterHint it lets a consumer
// classify failures through a small interface of its own (watch.Failure)
// instead of importing this package.
func (e *FetchError) FailureReason() string { return e.Reason }

// RetryAfterHint returns RetryAfter; see FailureReason.
func (e *FetchError) RetryAfterHint() time.Duration { return e.RetryAfter }

// Fetch GETs req.URL conditionally (If-None-Match / If-Modified-Since from
// req) and parses the body. A 304 yields NotModified with the validators
// kept; any other non-2xx status, and every transport, size or parse
// failure, yields a *FetchError.
//
// A successful result (2xx or 304) also says how to poll politely:
// MinInterval from the feed's <ttl> and the response's Cache-Control or
// Expires, Hub and Self from the HTTP Link header or else the feed, and
// PermanentURL when every redirect on the way was permanent.
func (f *Fetcher) Fetch(ctx context.Context, req news.FetchRequest) (news.FetchResult, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	hdr := http.Header{"Accept": {acceptHeader}}
	if req.ETag != "" {
		hdr.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hdr.Set("If-Modified-Since", req.LastModified)
	}
	resp, err := f.get(ctx, req.URL, hdr)
	if err != nil {
		return news.FetchResult{}, err
	}
	defer resp.Body.Close()

	res := news.FetchResult{
		StatusCode:   resp.StatusCode,
		ETag:         validator(resp.Header.Get("ETag")),
		LastModified: validator(resp.Header.Get("Last-Modified")),
	}
	// The Link header wins over the feed's own links, as WebSub says.
	finalURL := resp.Request.URL
	links := linkRels(resp.Header.Values("Link"), "hub", "self")
	res.Hub, res.Self = resolveLink(finalURL, links["hub"]), resolveLink(finalURL, links["self"])

	switch {
	case resp.StatusCode == http.StatusNotModified:
		drain(resp.Body)
		if res.ETag == "" {
			res.ETag = req.ETag
		}
		if res.LastModified == "" {
			res.LastModified = req.LastModified
		}
		res.NotModified = true
		res.MinInterval = minInterval(resp.Header, 0, f.now())
		res.PermanentURL = permanentURL(resp)
		return res, nil

	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		body, err := f.readBody(resp)
		if err != nil {
			return news.FetchResult{StatusCode: resp.StatusCode},
				&FetchError{URL: req.URL, Reason: classify(ctx, err), Err: err}
		}
		select {
		case f.parsing <- struct{}{}:
		case <-ctx.Done():
			return news.FetchResult{StatusCode: resp.StatusCode},
				&FetchError{URL: req.URL, Reason: classify(ctx, ctx.Err()), Err: ctx.Err()}
		}
		pf, err := parse(body, resp.Header.Get("Content-Type"), req.SourceID, finalURL, f.now())
		<-f.parsing
		if err != nil {
			return news.FetchResult{StatusCode: resp.StatusCode},
				&FetchError{URL: req.URL, Reason: ReasonParse, Err: err}
		}
		res.FeedTitle, res.Items = pf.title, pf.items
		res.MinInterval = minInterval(resp.Header, pf.ttl, f.now())
		if res.Hub == "" {
			res.Hub = pf.hub
		}
		if res.Self == "" {
			res.Self = pf.self
		}
		res.PermanentURL = permanentURL(resp)
		return res, nil

	default:
		drain(resp.Body)
		fe := statusError(req.URL, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			fe.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), f.now())
		}
		return news.FetchResult{StatusCode: resp.StatusCode}, fe
	}
}

// permanentURL is the URL the response was finally served from when every
// redirect that led there was permanent (301 or 308), else "". A permanent
// move from https to http is not reported: storing it would downgrade the
// source for good on one misconfigured (or hostile) redirect.
func permanentURL(resp *http.Response) string {
	final := resp.Request
	first := final
	for first.Response != nil && first.Response.Request != nil {
		switch first.Response.StatusCode {
		case http.StatusMovedPermanently, http.StatusPermanentRedirect:
		default:
			return ""
		}
		first = first.Response.Request
		if first.URL.Scheme == "https" && final.URL.Scheme != "https" {
			return ""
		}
	}
	if first == final || first.URL.String() == final.URL.String() {
		return ""
	}
	return final.URL.String()
}

// get sends a guarded GET with wirewatch's User-Agent and compression.
// Every failure is a *FetchError.
func (f *Fetcher) get(ctx context.Context, rawURL string, hdr http.Header) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &FetchError{URL: rawURL, Reason: ReasonOther, Err: err}
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &FetchError{URL: rawURL, Reason: ReasonOther, Err: errors.New("not an absolute http or https URL")}
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &FetchError{URL: rawURL, Reason: ReasonOther, Err: err}
	}
	for k, v := range hdr {
		hreq.Header[k] = v
	}
	hreq.Header.Set("User-Agent", f.userAgent)
	hreq.Header.Set("Accept-Encoding", "gzip, deflate")
	resp, err := f.client.Do(hreq)
	if err != nil {
		return nil, &FetchError{URL: rawURL, Reason: classify(ctx, err), Err: err}
	}
	return resp, nil
}

// FetchPage GETs a web page (a report, an article) under the same guard,
// deadline and size cap as feeds, and returns its body (converted to
// UTF-8, see DecodePage) and Content-Type.
// It is for reading a report's text, not for polling.
func (f *Fetcher) FetchPage(ctx context.Context, rawURL string) (body []byte, contentType string, err error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	resp, err := f.get(ctx, rawURL, http.Header{"Accept": {"text/html, text/plain;q=0.9, */*;q=0.5"}})
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		drain(resp.Body)
		return nil, "", statusError(rawURL, resp.StatusCode)
	}
	body, err = f.readBody(resp)
	if err != nil {
		return nil, "", &FetchError{URL: rawURL, Reason: classify(ctx, err), Err: err}
	}
	contentType = resp.Header.Get("Content-Type")
	return DecodePage(body, contentType), contentType, nil
}

// readBody reads the response body, decoding its Content-Encoding, and fails
// with errTooLarge once more than maxBytes of decoded body arrive. Memory
// stays bounded by the cap whatever the compression ratio.
func (f *Fetcher) readBody(resp *http.Response) ([]byte, error) {
	codings := contentCodings(resp.Header.Values("Content-Encoding"))
	if len(codings) == 0 && resp.ContentLength > f.maxBytes {
		return nil, errTooLarge
	}
	if len(codings) > maxContentCodings {
		return nil, fmt.Errorf("too many content codings %q", codings)
	}
	var r io.Reader = resp.Body
	if len(codings) > 0 {
		// Compressed input larger than the cap is refused too, with slack
		// for incompressible bodies just under it; this also ends streams
		// that are all framing and no content.
		r = &capReader{r: r, left: f.maxBytes + f.maxBytes/8 + 64<<10}
	}
	for i := len(codings) - 1; i >= 0; i-- {
		var err error
		if r, err = decoder(codings[i], r); err != nil {
			return nil, err
		}
	}
	r = &capReader{r: r, left: f.maxBytes}

	var buf bytes.Buffer
	switch {
	case resp.ContentLength <= 0:
	case len(codings) == 0:
		buf.Grow(int(resp.ContentLength))
	default:
		// Feeds compress about 3–5 to 1: starting near the inflated size
		// spares the copies of growing from nothing (an eighth of a cold
		// poll's allocation was this buffer growing).
		buf.Grow(int(min(resp.ContentLength*4, f.maxBytes)))
	}
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// contentCodings lists the codings applied to the body in order, without
// identity.
func contentCodings(values []string) []string {
	var out []string
	for _, v := range values {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				out = append(out, c)
			}
		}
	}
	return out
}

// decoder wraps r to undo one content coding. "deflate" is meant to be
// zlib-wrapped (RFC 9110) but some servers send raw DEFLATE; the zlib
// header decides.
func decoder(coding string, r io.Reader) (io.Reader, error) {
	switch coding {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case "deflate":
		br := bufio.NewReader(r)
		if h, err := br.Peek(2); err == nil && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return nil, fmt.Errorf("deflate: %w", err)
			}
			return zr, nil
		}
		return flate.NewReader(br), nil
	}
	return nil, fmt.Errorf("unsupported content coding %q", coding)
}

// capReader fails with errTooLarge as soon as more than left bytes have
// been read, instead of silently stopping as io.LimitReader does.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errTooLarge
	}
	// Read at most one byte past the cap: enough to know it was exceeded.
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// drain reads a little of an unwanted body so the connection can be
// reused; a large body is abandoned instead.
func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 4<<10))
}

// validator returns an ETag or Last-Modified value worth sending back, or
// "" for an absurdly long one or one the next request could not carry.
func validator(v string) string {
	if len(v) > maxValidatorLen {
		return ""
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return ""
		}
	}
	return v
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
// The result is clamped to [0, maxRetryAfter]; unparseable means 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// classify maps a transport or body error to a FetchError reason. ctx is
// the request's context: when its deadline has passed, whatever error the
// transport surfaced is a timeout.
func classify(ctx context.Context, err error) string {
	var (
		dnsErr *net.DNSError
		opErr  *net.OpError
		netErr net.Error
	)
	switch {
	case errors.Is(err, netguard.ErrBlocked):
		return ReasonSSRFBlocked
	case errors.Is(err, errTooManyRedirects):
		return ReasonRedirects
	case errors.Is(err, errTooLarge):
		return ReasonTooLarge
	case errors.Is(err, context.DeadlineExceeded), errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ReasonTimeout
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ReasonTruncated
	case errors.As(err, &dnsErr):
		return ReasonDNS
	case isTLSError(err):
		return ReasonTLS
	case errors.As(err, &netErr) && netErr.Timeout():
		return ReasonTimeout
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return ReasonConnect
	}
	return ReasonOther
}

// isTLSError recognises handshake and certificate failures.
func isTLSError(err error) bool {
	var (
		recErr    tls.RecordHeaderError
		alertErr  tls.AlertError
		verifyErr *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.As(err, &recErr) || errors.As(err, &alertErr) || errors.As(err, &verifyErr) ||
		errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid) ||
		// net/http replaces the record-header error with this plain one.
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}
