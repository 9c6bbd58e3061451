package feed

import (
	"bytes"
	"html"
	"html/template"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"wirewatch/news"
)

// The HTML pages are for reporters: which topics exist, what they search
// for, what they matched lately and why, and where to subscribe. They are
// rendered per request from the Lister so they are always current, and
// like the feeds they are a pure function of their inputs (absolute UTC
// times, no "3 minutes ago"), so a strong ETag makes reloads cheap.

// indexItems is how many matches the index shows per topic; the topic page
// shows more (?limit=, like the feeds).
const indexItems = 10

type pageFeed struct {
	Name, Type, URL string
}

// pageDef is one line of a topic's definition: a label and its
// expressions, joined by Sep ("and", "or") when there are several.
type pageDef struct {
	Label  string
	Sep    string
	Values []string
}

type pageItem struct {
	Title string
	// Link is empty when the item has no absolute http(s) link: the title
	// is then shown unlinked rather than pointing somewhere unsafe.
	Link     string
	Source   string
	Time     string // RFC 3339, for <time datetime>
	TimeText string
	Snippet  []news.Run
	Matched  []news.TermFields
	Score    string
	// PreviousTitle is the headline before its latest correction.
	PreviousTitle string
	// Also are the outlets that also reported the story (at most
	// maxSightingsShown), AlsoMore how many more did.
	Also     []sighting
	AlsoMore int
}

type pageTopic struct {
	ID, Title string
	// URL is the topic page; Anchor the topic's id on the index.
	URL, Anchor string
	Definition  []pageDef
	Feeds       []pageFeed
	Items       []pageItem
	// Unavailable is set when the store could not list the topic's
	// matches: the page still renders, saying so.
	Unavailable bool
}

type page struct {
	SiteTitle string
	HomeURL   string
	// Title is the document's <title>.
	Title string
	// Alternates are the <link rel="alternate"> tags for feed
	// autodiscovery, built by hand: html/template would write the "+" of
	// application/rss+xml as &#43;, which is valid HTML but defeats the
	// naive pattern matching some discovery code does.
	Alternates []template.HTML
	Topics     []pageTopic
	// Topic is set on a topic page, with Limit and, when the page is full
	// and a longer one is allowed, MoreURL.
	Topic   *pageTopic
	Limit   int
	MoreURL string
	// WhyURL is the "Why didn't I get this?" page, when it is served; Why
	// is set on that page.
	WhyURL string
	Why    *pageWhy
}

// parsePages parses the page templates. It is called per handler, not held
// in a package variable. html/template escapes every value for its context
// (text, attribute, URL), so hostile titles, snippets and queries are shown
// as text; the only markup is the template's own.
func parsePages() (*template.Template, error) {
	return template.New("pages").Parse(pageTemplates)
}

const pageTemplates = `
{{- define "head" -}}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{- range .Alternates}}
{{.}}
{{- end}}
<style>
:root{--fg:#1c2230;--muted:#5b6474;--line:#e2e5ea;--bg:#f4f5f7;--card:#fff;--link:#0a58a8;--mark:#ffe27a;--code:#eef1f5;--bar:#15233f}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
a{color:var(--link)}
.bar{background:var(--bar);color:#fff}
.bar .in{max-width:60rem;margin:0 auto;padding:.8rem 1.25rem;display:flex;flex-wrap:wrap;align-items:baseline;gap:.25rem 1rem}
.brand{margin:0;color:#fff;text-decoration:none;font-weight:650;font-size:1.15rem}
.bar p{margin:0;color:#c3cbdb;font-size:.85rem}
main{max-width:60rem;margin:0 auto;padding:1.25rem}
nav.toc{font-size:.85rem;color:var(--muted);margin:0 0 1rem}
nav.toc a{display:inline-block;margin-right:.75rem}
.topic{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;margin:0 0 1.25rem}
.head{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:.25rem 1rem}
h1,h2{margin:0;font-size:1.2rem;line-height:1.3}
.topic h1{font-size:1.4rem}
h2 a{color:inherit;text-decoration:none}
h2 a:hover{text-decoration:underline}
.feeds{margin:0;font-size:.8rem}
.feeds a{display:inline-block;margin-left:.35rem;padding:.05rem .5rem;border:1px solid var(--line);border-radius:999px;text-decoration:none;color:var(--muted)}
.feeds a:hover{border-color:var(--link);color:var(--link)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .75rem;margin:.6rem 0 .4rem;font-size:.85rem}
dt{color:var(--muted)}
dd{margin:0}
.op{color:var(--muted);font-size:.8em}
code{font:.85em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--code);padding:.05rem .3rem;border-radius:4px}
ol{list-style:none;margin:.25rem 0 0;padding:0}
li{border-top:1px solid var(--line);padding:.7rem 0}
h3{margin:0;font-size:1rem;font-weight:600;line-height:1.35}
h3 a{text-decoration:none}
h3 a:hover{text-decoration:underline}
.meta,.why{margin:.1rem 0 0;font-size:.8rem;color:var(--muted)}
.src{font-weight:600;color:var(--fg)}
.snip{margin:.3rem 0;color:#2e3544}
mark{background:var(--mark);color:inherit;padding:0 .1em;border-radius:2px}
.why strong{color:var(--fg);font-weight:600}
.score{white-space:nowrap}
.empty{color:var(--muted);font-style:italic;margin:.5rem 0 0}
.more{margin:.5rem 0 0;font-size:.85rem}
form.why-form{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0 0}
form.why-form input{flex:1 1 20rem;font:inherit;padding:.3rem .5rem;border:1px solid var(--line);border-radius:4px;background:var(--card);color:var(--fg)}
form.why-form button{font:inherit;padding:.3rem .9rem;border:1px solid var(--link);border-radius:4px;background:var(--link);color:#fff}
pre.explain{white-space:pre-wrap;font:.85rem/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin:.75rem 0 0}
@media (max-width:40rem){main{padding:.75rem}.topic{padding:.75rem .9rem}dl{grid-template-columns:1fr;gap:0}dd{margin-bottom:.3rem}.feeds a{margin:0 .35rem 0 0}}
@media (prefers-color-scheme:dark){:root{--fg:#e4e7ec;--muted:#9aa3b2;--line:#2c3340;--bg:#12161d;--card:#1a1f28;--link:#7cb7ff;--mark:#6b5a12;--code:#252c38;--bar:#0b1220}.snip{color:#cfd5de}}
</style>
</head>
<body>
<header class="bar"><div class="in">{{if or .Topic .Why}}<a class="brand" href="{{.HomeURL}}">{{.SiteTitle}}</a>{{else}}<h1 class="brand">{{.SiteTitle}}</h1>{{end}}<p>Each topic is a saved news search: subscribe to one of its feeds in any feed reader to follow new matching items.</p></div></header>
<main>
{{- end}}

{{- define "foot"}}
</main>
</body>
</html>
{{end}}

{{- define "def"}}<dt>{{.Label}}</dt><dd>{{range $i, $v := .Values}}{{if $i}} {{with $.Sep}}<span class="op">{{.}}</span> {{end}}{{end}}<code>{{$v}}</code>{{end}}</dd>{{end}}

{{- define "feeds"}}<p class="feeds">Subscribe:{{range .Feeds}}<a href="{{.URL}}">{{.Name}}</a>{{end}}</p>{{end}}

{{- define "items"}}
{{- if .Unavailable}}
<p class="empty">Matches could not be loaded just now; try again shortly.</p>
{{- else if .Items}}
<ol>
{{- range .Items}}
<li>
<h3>{{if .Link}}<a href="{{.Link}}">{{.Title}}</a>{{else}}{{.Title}}{{end}}</h3>
<p class="meta"><span class="src">{{.Source}}</span>{{if .Time}} · <time datetime="{{.Time}}">{{.TimeText}}</time>{{end}}</p>
{{- if .PreviousTitle}}
<p class="meta">Updated — previously titled “{{.PreviousTitle}}”</p>
{{- end}}
{{- if .Snippet}}
<p class="snip">{{range .Snippet}}{{if .Mark}}<mark>{{.Text}}</mark>{{else}}{{.Text}}{{end}}{{end}}</p>
{{- end}}
<p class="why">{{if .Matched}}Matched: {{range $i, $m := .Matched}}{{if $i}}, {{end}}<strong>{{$m.Term}}</strong>{{if $m.Fields}} ({{range $j, $f := $m.Fields}}{{if $j}}, {{end}}{{$f}}{{end}}){{end}}{{end}} · {{end}}<span class="score">score {{.Score}}</span></p>
{{- if .Also}}
<p class="why">Also reported by: {{range $i, $s := .Also}}{{if $i}}, {{end}}{{if $s.Link}}<a href="{{$s.Link}}"{{with $s.Title}} title="{{.}}"{{end}}>{{$s.Name}}</a>{{else}}{{$s.Name}}{{end}}{{end}}{{with .AlsoMore}} and {{.}} more{{end}}</p>
{{- end}}
</li>
{{- end}}
</ol>
{{- else}}
<p class="empty">No matches yet.</p>
{{- end}}
{{- end}}

{{- define "index"}}{{template "head" .}}
{{- if gt (len .Topics) 1}}
<nav class="toc">Topics: {{range .Topics}}<a href="#{{.Anchor}}">{{.Title}}</a>{{end}}</nav>
{{- end}}
{{- range .Topics}}
<section class="topic" id="{{.Anchor}}">
<div class="head"><h2><a href="{{.URL}}">{{.Title}}</a></h2>{{template "feeds" .}}</div>
<dl>{{range .Definition}}{{template "def" .}}{{end}}</dl>
{{- template "items" .}}
{{- if .Items}}
<p class="more"><a href="{{.URL}}">All recent matches for {{.Title}} →</a></p>
{{- end}}
</section>
{{- else}}
<p class="empty">No topics are configured.</p>
{{- end}}
{{- with .WhyURL}}
<section class="topic">
<h2>Why didn't I get this?</h2>
{{- template "whyform" $}}
</section>
{{- end}}
{{- template "foot" .}}{{end}}

{{- define "whyform"}}
<form class="why-form" action="{{.WhyURL}}" method="get"><input name="item" type="text" required maxlength="2048" placeholder="Paste the article's link (or its guid, or the item id a feed shows)" aria-label="Article link, guid or item id"{{with .Why}} value="{{.Ref}}"{{end}}><button type="submit">Explain</button></form>
{{- end}}

{{- define "why"}}{{template "head" .}}
<section class="topic">
<h1>Why didn't I get this?</h1>
<p class="meta">Paste the link of an item you expected from a topic: wirewatch says, for every topic, whether it matched and why, and what was done with it (alerted, and to whom; reported earlier by another outlet; part of a new source's backlog; never fetched).</p>
{{- template "whyform" .}}
{{- with .Why}}{{if .Text}}
<pre class="explain">{{.Text}}</pre>
{{- end}}{{end}}
</section>
<p class="more"><a href="{{.HomeURL}}">← All topics</a></p>
{{- template "foot" .}}{{end}}

{{- define "topic"}}{{template "head" .}}
{{- with .Topic}}
<section class="topic">
<div class="head"><h1>{{.Title}}</h1>{{template "feeds" .}}</div>
<dl>{{range .Definition}}{{template "def" .}}{{end}}</dl>
{{- template "items" .}}
</section>
{{- end}}
{{- if .MoreURL}}
<p class="more">Showing the latest {{if eq .Limit 1}}match{{else}}{{.Limit}} matches{{end}}. <a href="{{.MoreURL}}">Show more</a></p>
{{- end}}
<p class="more"><a href="{{.HomeURL}}">← All topics</a></p>
{{- template "foot" .}}{{end}}
`

// topicURL is the absolute URL of a topic's page.
func (o Options) topicURL(topicID string) string {
	return o.BaseURL + "/topics/" + url.PathEscape(topicID)
}

// topicFeeds lists a topic's feeds in the order the pages show them.
func topicFeeds(t news.Topic, opts Options) []pageFeed {
	return []pageFeed{
		{Name: "RSS", Type: "application/rss+xml", URL: opts.feedURL(t.ID, FormatRSS)},
		{Name: "Atom", Type: "application/atom+xml", URL: opts.feedURL(t.ID, FormatAtom)},
		{Name: "JSON Feed", Type: "application/feed+json", URL: opts.feedURL(t.ID, FormatJSON)},
	}
}

// alternates are a topic's feed autodiscovery tags. Every value is escaped
// for a double-quoted attribute; the type is one of our constants.
func alternates(title string, feeds []pageFeed) []template.HTML {
	out := make([]template.HTML, len(feeds))
	for i, f := range feeds {
		out[i] = template.HTML(`<link rel="alternate" type="` + f.Type +
			`" title="` + html.EscapeString(title+" ("+f.Name+")") +
			`" href="` + html.EscapeString(f.URL) + `">`)
	}
	return out
}

// definition describes what a topic searches for, readably: its query, or
// its must/should/not groups; full adds what only the topic page shows
// (synonyms, weights, threshold, sources, provenance).
func definition(t news.Topic, full bool) []pageDef {
	var defs []pageDef
	add := func(label, sep string, values []string) {
		var vs []string
		for _, v := range values {
			if v = strings.TrimSpace(clean(v)); v != "" {
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			defs = append(defs, pageDef{Label: label, Sep: sep, Values: vs})
		}
	}
	if q := strings.TrimSpace(clean(t.Query)); q != "" {
		add("Query", "", []string{q})
	} else {
		add("All of", "and", t.Must)
		add("Any of", "or", t.Should)
		add("None of", "or", t.Not)
	}
	add("Never with", "or", t.Exclude)
	if !full {
		return defs
	}
	groups := make([]string, 0, len(t.Synonyms))
	for name, variants := range t.Synonyms {
		groups = append(groups, name+" = "+strings.Join(variants, " | "))
	}
	sort.Strings(groups)
	add("Synonyms", "", groups)
	weights := make([]string, 0, len(t.Weights))
	for term, w := range t.Weights {
		weights = append(weights, term+" ×"+scoreText(w))
	}
	sort.Strings(weights)
	add("Weights", "", weights)
	if t.MinScore > 0 {
		add("Minimum score", "", []string{scoreText(t.MinScore)})
	}
	add("Only sources", "", t.Sources)
	add("Terms from", "", []string{t.Report})
	return defs
}

// webLink is the item's link when a browser may be sent there (webURL).
// Unlike itemLink there is no wirewatch fallback, since no page serves one.
func webLink(e news.Entry) string { return webURL(e.Item.Link) }

// webURL is link when a browser may be sent there: an absolute http(s)
// URL; else "".
func webURL(link string) string {
	u, err := url.Parse(link)
	if err != nil || !u.IsAbs() || u.Host == "" ||
		(!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) {
		return ""
	}
	return clean(u.String())
}

func pageItems(entries []news.Entry) []pageItem {
	items := make([]pageItem, len(entries))
	for i, e := range entries {
		t := stamp(e.Item.Published)
		if t.IsZero() {
			t = changedAt(e)
		}
		it := pageItem{
			Title:         itemTitle(e),
			Link:          webLink(e),
			Source:        sourceName(e),
			Snippet:       highlight(e.Match.Snippet, e.Match.Marks),
			Matched:       explain(e.Match),
			Score:         scoreText(e.Match.Score),
			PreviousTitle: previousTitle(e),
		}
		it.Also, it.AlsoMore = alsoReported(e)
		if !t.IsZero() {
			it.Time = t.Format(time.RFC3339)
			it.TimeText = t.Format("2 Jan 2006, 15:04 UTC")
		}
		items[i] = it
	}
	return items
}

func newPageTopic(t news.Topic, entries []news.Entry, unavailable, full bool, opts Options) pageTopic {
	return pageTopic{
		ID:          t.ID,
		Title:       feedTitle(t),
		URL:         opts.topicURL(t.ID),
		Anchor:      "topic-" + t.ID,
		Definition:  definition(t, full),
		Feeds:       topicFeeds(t, opts),
		Items:       pageItems(entries),
		Unavailable: unavailable,
	}
}

// indexTopic is one topic's data for the index page.
type indexTopic struct {
	Topic       news.Topic
	Entries     []news.Entry
	Unavailable bool
}

func renderIndexPage(buf *bytes.Buffer, tmpl *template.Template, topics []indexTopic, opts Options) error {
	p := page{SiteTitle: opts.Title, HomeURL: opts.homeURL(), Title: opts.Title, WhyURL: opts.whyURL()}
	for _, it := range topics {
		pt := newPageTopic(it.Topic, it.Entries, it.Unavailable, false, opts)
		p.Alternates = append(p.Alternates, alternates(pt.Title, pt.Feeds)...)
		p.Topics = append(p.Topics, pt)
	}
	return tmpl.ExecuteTemplate(buf, "index", p)
}

func renderTopicPage(buf *bytes.Buffer, tmpl *template.Template, t news.Topic, entries []news.Entry, limit int, opts Options) error {
	pt := newPageTopic(t, entries, false, true, opts)
	p := page{
		SiteTitle:  opts.Title,
		HomeURL:    opts.homeURL(),
		Title:      pt.Title + " · " + opts.Title,
		Alternates: alternates(pt.Title, pt.Feeds),
		Topic:      &pt,
		Limit:      limit,
	}
	if len(entries) >= limit && limit < maxLimit {
		p.MoreURL = pt.URL + "?limit=" + strconv.Itoa(min(limit*2, maxLimit))
	}
	return tmpl.ExecuteTemplate(buf, "topic", p)
}

// pageWhy is the "Why didn't I get this?" page's answer: what was asked
// (shown again in the form) and the explanation, as plain text.
type pageWhy struct {
	Ref  string
	Text string
}

// whyURL is the "Why didn't I get this?" page, or "" when it is not served.
func (o Options) whyURL() string {
	if o.Explain == nil {
		return ""
	}
	return o.BaseURL + "/why"
}

func renderWhyPage(buf *bytes.Buffer, tmpl *template.Template, why pageWhy, opts Options) error {
	return tmpl.ExecuteTemplate(buf, "why", page{
		SiteTitle: opts.Title,
		HomeURL:   opts.homeURL(),
		Title:     "Why didn't I get this? · " + opts.Title,
		WhyURL:    opts.whyURL(),
		Why:       &why,
	})
}
