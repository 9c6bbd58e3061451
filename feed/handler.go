package feed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"wirewatch/news"
)

// Limits on ?limit=: enough for a desk catching up, small enough that one
// request cannot make the store render its whole history.
const (
	defaultLimit = 50
	maxLimit     = 500
)

type handler struct {
	lister Lister
	opts   Options
	topics map[string]news.Topic
	// order is the configured topics without duplicate ids, as the index
	// lists them.
	order []news.Topic
	// pages are the HTML page templates, parsed once per handler.
	pages    *template.Template
	pagesErr error
}

// NewHandler serves:
//
//	GET /feeds/{topic}.rss   RSS 2.0       (application/rss+xml; charset=utf-8)
//	GET /feeds/{topic}.atom  Atom 1.0      (application/atom+xml; charset=utf-8)
//	GET /feeds/{topic}.json  JSON Feed 1.1 (application/feed+json; charset=utf-8)
//	GET /                    an HTML index: every topic, its definition and feeds, its latest 10 matches
//	GET /topics/{topic}      an HTML page of one topic with its latest matches
//	GET /why?item=REF        "Why didn't I get this?" (when Options.Explain is set)
//
// HEAD works on all of them. Every response carries a strong ETag (a hash
// of the bytes); feeds also carry Last-Modified (the newest entry's change).
// Conditional requests get a 304. ?limit=N (default 50, at most 500) bounds
// the entries of feeds and topic pages. Pages are rendered per request from
// the Lister, so they always show the newest matches.
// It is meant to be mounted on the app's mux at "/"; the app mounts /healthz
// itself.
func NewHandler(l Lister, opts Options) http.Handler {
	opts = opts.withDefaults()
	h := &handler{lister: l, opts: opts, topics: make(map[string]news.Topic, len(opts.Topics))}
	for _, t := range opts.Topics {
		if _, dup := h.topics[t.ID]; !dup {
			h.topics[t.ID] = t
			h.order = append(h.order, t)
		}
	}
	h.pages, h.pagesErr = parsePages()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feeds/{file}", h.serveFeed)
	mux.HandleFunc("GET /topics/{id}", h.serveTopic)
	mux.HandleFunc("GET /{$}", h.serveIndex)
	if opts.Explain != nil {
		mux.HandleFunc("GET /why", h.serveWhy)
	}
	return mux
}

// etag is a strong validator: the same bytes, the same tag.
func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

func (h *handler) serveFeed(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	file := r.PathValue("file")
	dot := strings.LastIndexByte(file, '.')
	if dot <= 0 {
		http.Error(w, "unknown feed", http.StatusNotFound)
		return
	}
	id, format := file[:dot], file[dot+1:]
	ctype, ok := contentType(format)
	if !ok {
		http.Error(w, "unknown feed format: use .rss, .atom or .json", http.StatusNotFound)
		return
	}
	topic, entries, _, ok := h.topicEntries(w, r, id)
	if !ok {
		return
	}

	var buf bytes.Buffer
	if err := Render(&buf, format, topic, entries, h.opts); err != nil {
		h.opts.Logger.ErrorContext(ctx, "feed: render", "topic", topic.ID, "format", format, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}

	hdr := w.Header()
	hdr.Set("Content-Type", ctype)
	hdr.Set("ETag", etag(buf.Bytes()))
	// Readers poll; a minute of reuse spares the store, and a stale copy
	// is revalidated cheaply with the ETag.
	hdr.Set("Cache-Control", "max-age=60")
	hdr.Set("X-Content-Type-Options", "nosniff")
	modified := newest(entries)
	if now := h.opts.Now(); modified.After(now) {
		// A future-dated item must not push Last-Modified past the
		// present, or If-Modified-Since would hide later matches.
		modified = now
	}
	// ServeContent answers HEAD, If-None-Match (which takes precedence)
	// and If-Modified-Since; a zero modtime sends no Last-Modified.
	http.ServeContent(w, r, "", modified, bytes.NewReader(buf.Bytes()))
}

// list returns a topic's newest entries, at most limit of them whatever
// the store returns. A configured topic the store has no rows for yet
// (news.ErrNotFound) has no entries, which is not an error.
func (h *handler) list(ctx context.Context, topicID string, limit int) ([]news.Entry, error) {
	entries, err := h.lister.TopicEntries(ctx, topicID, limit)
	if errors.Is(err, news.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(entries) > limit {
		entries = entries[:limit]
	}
	return entries, nil
}

// logListError logs a failed listing; a client that left mid-query is not
// our failure, so it is no alarm.
func (h *handler) logListError(ctx context.Context, topicID string, err error) {
	level := slog.LevelError
	if ctx.Err() != nil {
		level = slog.LevelDebug
	}
	h.opts.Logger.Log(ctx, level, "feed: list entries", "topic", topicID, "err", err)
}

// parseLimit reads ?limit=: absent means the default, above the maximum
// is clamped, anything that is not a whole number ≥ 1 is an error whose
// message is fit for the client.
func parseLimit(r *http.Request) (int, error) {
	q := r.URL.Query()
	if !q.Has("limit") {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(q.Get("limit"))
	switch {
	case err == nil && n >= 1:
		return min(n, maxLimit), nil
	case errors.Is(err, strconv.ErrRange) && n > 0:
		// Too large for an int is still "above the maximum".
		return maxLimit, nil
	}
	return 0, errors.New("limit must be a whole number from 1 to " + strconv.Itoa(maxLimit))
}

// serveIndex renders the index from the Lister on every request, so it
// always shows the latest matches. A topic whose matches cannot be listed
// is shown as such rather than failing the whole page; the error is logged.
func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !h.pagesReady(w, r) {
		return
	}
	topics := make([]indexTopic, 0, len(h.opts.Topics))
	for _, t := range h.order {
		entries, err := h.list(ctx, t.ID, indexItems)
		if err != nil {
			h.logListError(ctx, t.ID, err)
			if ctx.Err() != nil {
				// The client left: no page is wanted.
				http.Error(w, "request canceled", http.StatusServiceUnavailable)
				return
			}
		}
		topics = append(topics, indexTopic{Topic: t, Entries: entries, Unavailable: err != nil})
	}
	var buf bytes.Buffer
	if err := renderIndexPage(&buf, h.pages, topics, h.opts); err != nil {
		h.opts.Logger.ErrorContext(ctx, "feed: render index", "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	servePage(w, r, buf.Bytes())
}

// serveTopic renders a topic's page: its definition, feeds and latest
// matches (?limit=, like the feeds).
func (h *handler) serveTopic(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !h.pagesReady(w, r) {
		return
	}
	topic, entries, limit, ok := h.topicEntries(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := renderTopicPage(&buf, h.pages, topic, entries, limit, h.opts); err != nil {
		h.opts.Logger.ErrorContext(ctx, "feed: render topic page", "topic", topic.ID, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	servePage(w, r, buf.Bytes())
}

// servePage sends an HTML page with a strong ETag. There is no
// Last-Modified: a page also changes when the configuration does, which no
// entry's time reflects, so only the bytes can validate it.
// pageCSP is the pages' Content-Security-Policy: nothing but their own
// inline style, no scripts, no images, no frames; their one form (Why
// didn't I get this?) asks this server.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"

func servePage(w http.ResponseWriter, r *http.Request, body []byte) {
	// Reporters expect a reload to show the newest matches: always
	// revalidate, which the ETag makes cheap.
	setPageHeaders(w.Header(), "no-cache")
	w.Header().Set("ETag", etag(body))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// setPageHeaders sets the headers every HTML page carries.
func setPageHeaders(hdr http.Header, cacheControl string) {
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", cacheControl)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", pageCSP)
}

// pagesReady reports whether the page templates parsed; when they did not
// it has logged why and answered 500.
func (h *handler) pagesReady(w http.ResponseWriter, r *http.Request) bool {
	if h.pagesErr != nil {
		h.opts.Logger.ErrorContext(r.Context(), "feed: parse page templates", "err", h.pagesErr)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return false
	}
	return true
}

// topicEntries resolves a topic and its newest entries for a request
// (honouring ?limit=); on failure it has already answered and ok is false.
func (h *handler) topicEntries(w http.ResponseWriter, r *http.Request, id string) (topic news.Topic, entries []news.Entry, limit int, ok bool) {
	topic, ok = h.topics[id]
	if !ok {
		http.Error(w, "unknown topic", http.StatusNotFound)
		return topic, nil, 0, false
	}
	limit, err := parseLimit(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return topic, nil, 0, false
	}
	entries, err = h.list(r.Context(), topic.ID, limit)
	if err != nil {
		h.logListError(r.Context(), topic.ID, err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return topic, nil, 0, false
	}
	return topic, entries, limit, true
}

// maxWhyRef bounds what the "Why didn't I get this?" page looks up: a
// link, a guid or an id, never more.
const maxWhyRef = 2048

// serveWhy renders the "Why didn't I get this?" page: the form, and for
// ?item=REF the explanation (404 when no stored item is REF). It is never
// cached: the answer changes as deliveries go out.
func (h *handler) serveWhy(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !h.pagesReady(w, r) {
		return
	}
	ref := strings.TrimSpace(r.URL.Query().Get("item"))
	why := pageWhy{Ref: ref}
	status := http.StatusOK
	switch {
	case ref == "":
	case len(ref) > maxWhyRef || !utf8.ValidString(ref):
		status = http.StatusBadRequest
		why.Ref, why.Text = "", "That is not a link, a guid or an item id: paste the article's link."
	default:
		text, found, err := h.opts.Explain(ctx, ref)
		if err != nil {
			h.opts.Logger.ErrorContext(ctx, "feed: explain", "item", ref, "err", err)
			status, why.Text = http.StatusServiceUnavailable, "wirewatch could not answer just now; try again shortly."
			break
		}
		why.Text = text
		if !found {
			status = http.StatusNotFound
		}
	}
	var buf bytes.Buffer
	if err := renderWhyPage(&buf, h.pages, why, h.opts); err != nil {
		h.opts.Logger.ErrorContext(ctx, "feed: render why page", "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	setPageHeaders(w.Header(), "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}
