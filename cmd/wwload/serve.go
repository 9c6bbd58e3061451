package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// layout places the sources on hosts. Every host is its own loopback
// address (127.0.1.1, 127.0.1.2, ...; Linux routes all of 127/8 to lo, so
// nothing needs configuring), which is what wirewatch's per-host limit and
// its connection pool key on. Source i is on host i % hosts, so
// consecutive sources are on different hosts, as a scheduler's spread
// phases interleave them; polling them in order never piles every worker
// onto one host's two slots.
type layout struct {
	sources, perHost int
}

func (l layout) hosts() int { return max(1, (l.sources+l.perHost-1)/l.perHost) }

// hostAddr is host h's address; 250 hosts per /24 keeps clear of .0 and .255.
func hostAddr(h int) string { return fmt.Sprintf("127.0.%d.%d", 1+h/250, 1+h%250) }

func (l layout) hostOf(i int) string { return hostAddr(i % l.hosts()) }

func (l layout) url(i, port int) string {
	return fmt.Sprintf("http://%s:%d/feeds/%s.xml", l.hostOf(i), port, sourceID(i))
}

// feedGap is the time between two of a source's initial items.
const feedGap = 10 * time.Minute

// feedServer serves every source's feed with the validators of a real
// publisher: an ETag that changes with the content, a Last-Modified of the
// newest item, 304 Not Modified when the client's validators still hold,
// and gzip when the client asks for it (bodies are compressed once, at
// gzip level 1 as nginx does by default, not per request).
type feedServer struct {
	lay   layout
	items int
	gzip  bool
	start time.Time

	mu    sync.RWMutex
	feeds []feedState

	ok, notModified, other, bytes, conns atomic.Int64
}

// feedState is one source as served now.
type feedState struct {
	head  int         // the newest item's seq; the feed shows the last `items`
	extra []time.Time // publication times of the items bumps added (seq items+1...)
	etag  string
	mod   time.Time // Last-Modified, to the second
	body  []byte    // gzip-compressed when the server compresses
	size  int       // uncompressed size
}

// newFeedServer renders every feed, using every core: it runs before the
// measured process starts polling, so its cost is not measured.
func newFeedServer(lay layout, items int, gz bool, start time.Time) *feedServer {
	s := &feedServer{lay: lay, items: items, gzip: gz, start: start.Truncate(time.Second),
		feeds: make([]feedState, lay.sources)}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
			for {
				i := int(next.Add(1)) - 1
				if i >= lay.sources {
					return
				}
				s.feeds[i].head = items
				s.render(i, &s.feeds[i], zw)
			}
		})
	}
	wg.Wait()
	return s
}

// pub is the publication time of item seq of a feed.
func (s *feedServer) pub(f *feedState) func(seq int) time.Time {
	return func(seq int) time.Time {
		if seq > s.items && seq-s.items-1 < len(f.extra) {
			return f.extra[seq-s.items-1]
		}
		// The newest initial item is a story slot old, so items a bump
		// adds (dated now) bring stories of their own.
		return s.start.Add(-storySlot - time.Duration(s.items-seq)*feedGap)
	}
}

// render rebuilds a feed's body and validators from its head.
func (s *feedServer) render(i int, f *feedState, zw *gzip.Writer) {
	raw := renderFeed(i, s.lay.hostOf(i), f.head, s.items, s.pub(f))
	f.size = len(raw)
	f.etag = fmt.Sprintf(`"%s-v%d"`, sourceID(i), f.head)
	f.mod = s.pub(f)(f.head).Truncate(time.Second)
	f.body = raw
	if s.gzip {
		var buf bytes.Buffer
		buf.Grow(len(raw) / 4)
		zw.Reset(&buf)
		zw.Write(raw) // writes to a bytes.Buffer cannot fail
		zw.Close()
		f.body = buf.Bytes()
	}
}

// bump adds 1–3 new items to a fraction of the sources, chosen by seed, and
// returns how many sources and items it added.
func (s *feedServer) bump(fraction float64, seed uint64, now time.Time) (sources, items int) {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.feeds {
		if r.Float64() >= fraction {
			continue
		}
		f := s.feeds[i] // a copy: requests in flight keep the old body
		f.extra = append([]time.Time(nil), f.extra...)
		k := 1 + r.IntN(3)
		for j := 0; j < k; j++ {
			f.head++
			// A second apart, so each new item has its own time.
			f.extra = append(f.extra, now.Add(time.Duration(j)*time.Second))
		}
		s.render(i, &f, zw)
		s.feeds[i] = f
		sources++
		items += k
	}
	return sources, items
}

// ServeHTTP serves /feeds/<source>.xml on the source's own host.
func (s *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, ok := s.sourceOf(r)
	if !ok {
		s.other.Add(1)
		http.NotFound(w, r)
		return
	}
	s.mu.RLock()
	f := s.feeds[i]
	s.mu.RUnlock()
	h := w.Header()
	h.Set("Content-Type", "application/rss+xml; charset=utf-8")
	h.Set("ETag", f.etag)
	h.Set("Last-Modified", f.mod.UTC().Format(http.TimeFormat))
	h.Set("Vary", "Accept-Encoding")
	if notModified(r, f.etag, f.mod) {
		s.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.ok.Add(1)
	switch {
	case s.gzip && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip"):
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(f.body)))
		n, _ := w.Write(f.body)
		s.bytes.Add(int64(n))
	case s.gzip:
		zr, err := gzip.NewReader(bytes.NewReader(f.body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h.Set("Content-Length", strconv.Itoa(f.size))
		n, _ := io.Copy(w, zr)
		s.bytes.Add(n)
	default:
		h.Set("Content-Length", strconv.Itoa(len(f.body)))
		n, _ := w.Write(f.body)
		s.bytes.Add(int64(n))
	}
}

// sourceOf reads the source index from the path, and insists on the
// source's own host: a harness bug that sent a source to another host
// would make the per-host figures a lie.
func (s *feedServer) sourceOf(r *http.Request) (int, bool) {
	name, ok := strings.CutPrefix(r.URL.Path, "/feeds/src-")
	if !ok {
		return 0, false
	}
	name, ok = strings.CutSuffix(name, ".xml")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(name)
	if err != nil || i < 0 || i >= len(s.feeds) {
		return 0, false
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil || host != s.lay.hostOf(i) {
		return 0, false
	}
	return i, true
}

// notModified applies RFC 9110's conditional GET: If-None-Match decides
// when present (weak comparison), else If-Modified-Since.
func notModified(r *http.Request, etag string, mod time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !mod.After(t)
	}
	return false
}

// serverStats is what the control endpoint reports: counters since start
// and the server process's own resource use.
type serverStats struct {
	OK          int64   `json:"ok"`
	NotModified int64   `json:"not_modified"`
	Other       int64   `json:"other"`
	Bytes       int64   `json:"bytes"`
	Conns       int64   `json:"conns"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	MaxRSSBytes int64   `json:"max_rss_bytes"`
}

// bumpResult is the control endpoint's answer to a bump.
type bumpResult struct {
	Sources int `json:"sources"`
	Items   int `json:"items"`
}

// control serves POST /bump?fraction=F&seed=S and GET /stats.
func (s *feedServer) control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /bump", func(w http.ResponseWriter, r *http.Request) {
		fraction, err1 := strconv.ParseFloat(r.URL.Query().Get("fraction"), 64)
		seed, err2 := strconv.ParseUint(r.URL.Query().Get("seed"), 10, 64)
		if err := errors.Join(err1, err2); err != nil || fraction < 0 || fraction > 1 {
			http.Error(w, "want fraction in [0,1] and a numeric seed", http.StatusBadRequest)
			return
		}
		n, k := s.bump(fraction, seed, time.Now())
		writeJSON(w, bumpResult{Sources: n, Items: k})
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		ru := getRusage()
		writeJSON(w, serverStats{OK: s.ok.Load(), NotModified: s.notModified.Load(), Other: s.other.Load(),
			Bytes: s.bytes.Load(), Conns: s.conns.Load(), CPUSeconds: ru.cpu.Seconds(), MaxRSSBytes: ru.maxRSS})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// serverInfo is the line the server prints on stdout once it listens.
type serverInfo struct {
	Port         int     `json:"port"`
	Control      string  `json:"control"`
	Sources      int     `json:"sources"`
	Hosts        int     `json:"hosts"`
	BuildSeconds float64 `json:"build_seconds"`
	FeedBytes    int64   `json:"feed_bytes"` // all feeds, uncompressed
	WireBytes    int64   `json:"wire_bytes"` // all feeds as served
}

// cmdServe is `wwload serve`: it renders the feeds, listens on every
// host's address, prints a serverInfo line and serves until ctx ends or
// its stdin closes (the parent closes it, or dies).
func cmdServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wwload serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1000, "number of sources")
	items := fs.Int("items", 50, "items per feed")
	perHost := fs.Int("per-host", 20, "sources per host (each host is its own 127.0.x.y address)")
	addr := fs.String("addr", "127.0.0.1:0", "control address; the feed hosts listen on its port")
	gz := fs.Bool("gzip", true, "compress feeds for clients that accept gzip")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *items < 1 || *perHost < 1 {
		return errors.New("serve: -n, -items and -per-host must be at least 1")
	}
	lay := layout{sources: *n, perHost: *perHost}
	if lay.hosts() > 250*254 {
		return fmt.Errorf("serve: %d hosts do not fit in 127.0.0.0/16", lay.hosts())
	}
	t0 := time.Now()
	s := newFeedServer(lay, *items, *gz, t0)
	info := serverInfo{Sources: *n, Hosts: lay.hosts(), BuildSeconds: time.Since(t0).Seconds()}
	for i := range s.feeds {
		info.FeedBytes += int64(s.feeds[i].size)
		info.WireBytes += int64(len(s.feeds[i].body))
	}

	ctl, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	info.Port = ctl.Addr().(*net.TCPAddr).Port
	info.Control = "http://" + ctl.Addr().String()
	listeners := []net.Listener{ctl}
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for h := 0; h < lay.hosts(); h++ {
		l, err := net.Listen("tcp", net.JoinHostPort(hostAddr(h), strconv.Itoa(info.Port)))
		if err != nil {
			return fmt.Errorf("serve: host %d: %w", h, err)
		}
		listeners = append(listeners, l)
	}

	feeds := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.conns.Add(1)
			}
		}}
	ctlSrv := &http.Server{Handler: s.control(), ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { ctlSrv.Serve(ctl) })
	for _, l := range listeners[1:] {
		wg.Go(func() { feeds.Serve(l) })
	}
	line, _ := json.Marshal(info)
	fmt.Fprintf(stdout, "%s\n", line)

	// The parent owns this process through its stdin: EOF (the parent
	// closed it, or died) means stop. The reader ends with stdin, or with
	// the process when a signal ended ctx first.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		io.Copy(io.Discard, stdin)
		cancel()
	}()
	<-ctx.Done()
	shut, cancelShut := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShut()
	err = errors.Join(feeds.Shutdown(shut), ctlSrv.Shutdown(shut))
	wg.Wait()
	return err
}

// serverProc is a running `wwload serve` child.
type serverProc struct {
	info   serverInfo
	stop   func() error
	client *http.Client
}

// bump asks the server to add items to a fraction of its sources.
func (p *serverProc) bump(ctx context.Context, fraction float64, seed uint64) (bumpResult, error) {
	var res bumpResult
	u := fmt.Sprintf("%s/bump?fraction=%g&seed=%d", p.info.Control, fraction, seed)
	err := p.call(ctx, http.MethodPost, u, &res)
	return res, err
}

// stats reads the server's counters.
func (p *serverProc) stats(ctx context.Context) (serverStats, error) {
	var st serverStats
	err := p.call(ctx, http.MethodGet, p.info.Control+"/stats", &st)
	return st, err
}

func (p *serverProc) call(ctx context.Context, method, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("server control: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("server control: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// exitCodeOf is for error messages about a finished child.
func exitCodeOf(ps *os.ProcessState) string {
	if ps == nil {
		return "still running"
	}
	return ps.String()
}
