package feed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

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
	// The index depends only on the options, so it is rendered once.
	index     []byte
	indexETag string
	indexErr  error
}

// NewHandler serves:
//
//	GET /feeds/{topic}.rss   RSS 2.0       (application/rss+xml; charset=utf-8)
//	GET /feeds/{topic}.atom  Atom 1.0      (application/atom+xml; charset=utf-8)
//	GET /feeds/{topic}.json  JSON Feed 1.1 (application/feed+json; charset=utf-8)
//	GET /                    an HTML index of the topics and their feeds
//
// HEAD works on all of them. Feeds carry a strong ETag (a hash of the bytes)
// and Last-Modified (the newest entry's change), and answer conditional
// requests with 304; ?limit=N (default 50, at most 500) bounds the entries.
// It is meant to be mounted on the app's mux at "/"; the app mounts /healthz
// itself.
func NewHandler(l Lister, opts Options) http.Handler {
	opts = opts.withDefaults()
	h := &handler{lister: l, opts: opts, topics: make(map[string]news.Topic, len(opts.Topics))}
	for _, t := range opts.Topics {
		if _, dup := h.topics[t.ID]; !dup {
			h.topics[t.ID] = t
		}
	}
	var buf bytes.Buffer
	if err := renderIndex(&buf, opts); err != nil {
		h.indexErr = err
	} else {
		h.index = buf.Bytes()
		h.indexETag = etag(h.index)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feeds/{file}", h.serveFeed)
	mux.HandleFunc("GET /{$}", h.serveIndex)
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
	topic, ok := h.topics[id]
	if !ok {
		http.Error(w, "unknown topic", http.StatusNotFound)
		return
	}
	limit, err := parseLimit(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	entries, err := h.lister.TopicEntries(ctx, topic.ID, limit)
	if errors.Is(err, news.ErrNotFound) {
		// A configured topic the store has no rows for yet is an
		// empty feed, not an error.
		entries, err = nil, nil
	}
	if err != nil {
		level := slog.LevelError
		if ctx.Err() != nil {
			// The client left mid-query: not our failure, not an alarm.
			level = slog.LevelDebug
		}
		h.opts.Logger.Log(ctx, level, "feed: list entries", "topic", topic.ID, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	if len(entries) > limit {
		entries = entries[:limit]
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

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	if h.indexErr != nil {
		h.opts.Logger.ErrorContext(r.Context(), "feed: render index", "err", h.indexErr)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("ETag", h.indexETag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	// The page needs nothing but its own inline style.
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.index))
}

type indexFeed struct {
	Name, Type, URL string
}

type indexTopic struct {
	ID, Title, Query string
	Feeds            []indexFeed
}

type indexPage struct {
	Title string
	// Alternates are the <link rel="alternate"> tags for feed
	// autodiscovery, built by hand: html/template would write the "+" of
	// application/rss+xml as &#43;, which is valid HTML but defeats the
	// naive pattern matching some discovery code does.
	Alternates []template.HTML
	Topics     []indexTopic
}

// indexTemplate is parsed per handler, not held in a package variable.
// html/template escapes every value for its context (text, attribute,
// URL), so a hostile topic title is shown as text.
const indexTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{- range .Alternates}}
{{.}}
{{- end}}
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{margin-bottom:.25rem}
.lede{color:#555;margin-top:0}
ul{list-style:none;padding:0}
li{border-top:1px solid #ddd;padding:.75rem 0}
.id{color:#777;font-size:.875rem}
code{background:#f4f4f4;padding:0 .25rem;border-radius:3px}
.feeds a{margin-right:1rem}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="lede">Each topic is a saved news search: subscribe to one of its feeds in any feed reader to follow new matching items.</p>
{{- if .Topics}}
<ul>
{{- range .Topics}}
<li>
<h2>{{.Title}} <span class="id">({{.ID}})</span></h2>
<p>Query: <code>{{.Query}}</code></p>
<p class="feeds">{{range .Feeds}}<a href="{{.URL}}">{{.Name}}</a>{{end}}</p>
</li>
{{- end}}
</ul>
{{- else}}
<p>No topics are configured.</p>
{{- end}}
</body>
</html>
`

func renderIndex(buf *bytes.Buffer, opts Options) error {
	tmpl, err := template.New("index").Parse(indexTemplate)
	if err != nil {
		return err
	}
	page := indexPage{Title: opts.Title}
	for _, t := range opts.Topics {
		it := indexTopic{
			ID:    t.ID,
			Title: feedTitle(t),
			Query: t.Query,
			Feeds: []indexFeed{
				{Name: "RSS", Type: "application/rss+xml", URL: opts.feedURL(t.ID, FormatRSS)},
				{Name: "Atom", Type: "application/atom+xml", URL: opts.feedURL(t.ID, FormatAtom)},
				{Name: "JSON Feed", Type: "application/feed+json", URL: opts.feedURL(t.ID, FormatJSON)},
			},
		}
		for _, f := range it.Feeds {
			// Every value is escaped for a double-quoted attribute;
			// the type is one of our constants.
			page.Alternates = append(page.Alternates, template.HTML(`<link rel="alternate" type="`+f.Type+
				`" title="`+html.EscapeString(it.Title+" ("+f.Name+")")+
				`" href="`+html.EscapeString(f.URL)+`">`))
		}
		page.Topics = append(page.Topics, it)
	}
	return tmpl.Execute(buf, page)
}
