package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"wirewatch/news"
)

// Event is the documented JSON payload (format "json"). It is flat rather
// than nested under "data", which the Standard Webhooks spec allows, so a
// receiver reads event.item.title instead of event.data.item.title.
type Event struct {
	// Type is the event type: "match.created", or "match.updated" for a
	// webhook that opted in to updates.
	Type string `json:"type"`
	// ID is the delivery id, equal to the webhook-id header: stable across
	// retries, so receivers can drop repeats.
	ID string `json:"id"`
	// Timestamp is when the match was made (for match.updated: when the
	// change was seen), not when this attempt was sent, so it is the same
	// on every retry.
	Timestamp time.Time `json:"timestamp"`
	Topic     struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"topic"`
	Item struct {
		ID        string    `json:"id"`
		Title     string    `json:"title"`
		Link      string    `json:"link"`
		Summary   string    `json:"summary"`
		Published time.Time `json:"published"`
		Source    struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"source"`
	} `json:"item"`
	MatchedTerms []string `json:"matched_terms"`
	// Matched explains MatchedTerms: each term with the item fields it was
	// found in ("title", "summary", ...), in the same order.
	Matched []news.TermFields `json:"matched"`
	Score   float64           `json:"score"`
	Snippet string            `json:"snippet"`
	// Marks are the byte ranges [start, end) of Snippet that matched, in
	// order and not overlapping, for highlighting. They index the snippet
	// as sent (cleaned and capped), not the stored one.
	Marks [][2]int `json:"marks"`
	// Update says what changed; set exactly when Type is "match.updated".
	// Item stays the story first alerted (with its current title), so a
	// receiver can tie the update to the alert it already has.
	Update *EventUpdate `json:"update,omitempty"`
	// Digest is set exactly when Type is "digest", for templates; the
	// "json" format sends a digest as DigestEvent.
	Digest *EventDigest `json:"-"`
	// Health is set exactly when Type is "source.health", for templates;
	// the "json" format sends such an event as SourceHealthEvent.
	Health *EventSourceHealth `json:"-"`
}

// EventUpdate is what a match.updated event reports: Kind "corrected"
// (the headline changed from PreviousTitle to Title) or "also_reported"
// (AlsoReportedBy, another item, reported the same story).
type EventUpdate struct {
	Kind           string         `json:"kind"`
	PreviousTitle  string         `json:"previous_title,omitempty"`
	Title          string         `json:"title,omitempty"`
	AlsoReportedBy *EventSighting `json:"also_reported_by,omitempty"`
}

// EventSighting is another item reporting the story: "also reported by".
type EventSighting struct {
	ItemID string `json:"item_id"`
	Source struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"source"`
	Title string `json:"title"`
	// Link is as the feed gave it: check it before following it.
	Link   string    `json:"link"`
	SeenAt time.Time `json:"seen_at"`
}

// MarshalJSON writes only the members of u's kind, and all of them: a
// correction's previous_title is sent even when it was empty (a headline
// added where there was none), which omitempty would drop.
func (u EventUpdate) MarshalJSON() ([]byte, error) {
	switch u.Kind {
	case news.UpdateCorrected:
		return marshal(struct {
			Kind          string `json:"kind"`
			PreviousTitle string `json:"previous_title"`
			Title         string `json:"title"`
		}{u.Kind, u.PreviousTitle, u.Title})
	case news.UpdateAlsoReported:
		return marshal(struct {
			Kind           string         `json:"kind"`
			AlsoReportedBy *EventSighting `json:"also_reported_by"`
		}{u.Kind, u.AlsoReportedBy})
	}
	type plain EventUpdate // without the method, so no recursion
	return marshal(plain(u))
}

// Caps on feed text in the JSON event. The spec recommends payloads well
// under 20 kB; a feed that stuffs a whole article into its summary should
// not make every alert huge. Lengths count UTF-16 code units (see width).
const (
	maxEventTitle   = 1000
	maxEventSummary = 4000
	maxEventSnippet = 1000
)

// NewEvent builds the JSON event of an alert. It reads only stored data (no
// clock), so every retry of a delivery renders byte-identical bodies. Feed
// text is made valid UTF-8 and capped; an alert with a NaN score still
// renders (score 0) instead of failing to marshal. A match.updated
// delivery whose Update is missing or of an unknown kind gets no Update;
// Render and RenderFor refuse to send such an event.
func NewEvent(a news.Alert) Event {
	var e Event
	e.Type = a.Delivery.EventType
	if e.Type == "" {
		e.Type = news.EventMatchCreated
	}
	e.ID = a.Delivery.ID
	e.Timestamp = a.Entry.Match.MatchedAt
	if e.Timestamp.IsZero() {
		e.Timestamp = a.Delivery.CreatedAt
	}
	e.Timestamp = jsonTime(e.Timestamp)

	e.Topic.ID = firstNonEmpty(a.Topic.ID, a.Delivery.TopicID, a.Entry.Match.TopicID)
	e.Topic.Title = clean(a.Topic.Title)

	it := a.Entry.Item
	e.Item.ID = firstNonEmpty(it.ID, a.Delivery.ItemID, a.Entry.Match.ItemID)
	e.Item.Title = truncate(clean(it.Title), maxEventTitle)
	e.Item.Link = clean(it.Link)
	e.Item.Summary = truncate(clean(it.Summary), maxEventSummary)
	e.Item.Published = jsonTime(it.Published)
	e.Item.Source.ID = it.SourceID
	e.Item.Source.Title = clean(a.Entry.SourceTitle)

	e.MatchedTerms = make([]string, 0, len(a.Entry.Match.Terms))
	for _, t := range a.Entry.Match.Terms {
		e.MatchedTerms = append(e.MatchedTerms, clean(t))
	}
	e.Score = a.Entry.Match.Score
	if math.IsNaN(e.Score) || math.IsInf(e.Score, 0) {
		e.Score = 0
	}
	e.Matched = explain(a.Entry.Match)
	// Split at the marks first: cleaning changes byte offsets.
	ps := news.SplitSpans(a.Entry.Match.Snippet, a.Entry.Match.Marks)
	for i := range ps {
		ps[i].Text = clean(ps[i].Text)
	}
	e.Snippet, e.Marks = render(news.MergeRuns(ps), maxEventSnippet, markup{})

	if e.Type == news.EventMatchUpdated {
		e.Update = newEventUpdate(a.Delivery.Update)
		// The change, not the original match, is what this event dates.
		if !a.Delivery.CreatedAt.IsZero() {
			e.Timestamp = jsonTime(a.Delivery.CreatedAt)
		}
	}
	return e
}

// newEventUpdate is the event form of a delivery's update, nil when there
// is nothing valid to report.
func newEventUpdate(u *news.Update) *EventUpdate {
	if u == nil {
		return nil
	}
	switch u.Kind {
	case news.UpdateCorrected:
		return &EventUpdate{
			Kind:          u.Kind,
			PreviousTitle: truncate(clean(u.PreviousTitle), maxEventTitle),
			Title:         truncate(clean(u.Title), maxEventTitle),
		}
	case news.UpdateAlsoReported:
		if u.Sighting == nil {
			return nil
		}
		s := u.Sighting
		var es EventSighting
		es.ItemID = clean(s.ItemID)
		es.Source.ID = clean(s.SourceID)
		es.Source.Title = clean(s.SourceTitle)
		es.Title = truncate(clean(s.Title), maxEventTitle)
		es.Link = clean(s.Link)
		es.SeenAt = jsonTime(s.SeenAt)
		return &EventUpdate{Kind: u.Kind, AlsoReportedBy: &es}
	}
	return nil
}

// newEvent is NewEvent for sending: an update event without a valid
// update is an error (a permanent one: the row will not get better).
func newEvent(a news.Alert) (Event, error) {
	e := NewEvent(a)
	if e.Type == news.EventMatchUpdated && e.Update == nil {
		kind := "none"
		if a.Delivery.Update != nil {
			kind = fmt.Sprintf("%q", a.Delivery.Update.Kind)
			if a.Delivery.Update.Kind == news.UpdateAlsoReported {
				kind += " without a sighting"
			}
		}
		return Event{}, fmt.Errorf("alert: %s delivery %q has no valid update (kind %s)", e.Type, e.ID, kind)
	}
	return e, nil
}

// jsonTime is t in UTC, or the zero time if JSON cannot hold it: a date a
// feed gives beyond year 9999 would make the event fail to marshal, and so
// fail the alert.
func jsonTime(t time.Time) time.Time {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}
	}
	return t
}

// Formats lists the supported format names (for config validation).
// Format "template" also needs Webhook.Template (check it with
// ParseTemplate).
func Formats() []string { return []string{"json", "slack", "discord", "teams", "template"} }

// Render builds the request body for a format: "json" (Event), "slack" (an
// incoming-webhook Block Kit message), "discord" (an execute-webhook
// message with one embed) or "teams" (a Workflows message with one
// Adaptive Card). All four are JSON. Format "template" needs the webhook's
// template, so it renders through RenderFor; here it is an error, as are
// unknown formats. A match.updated event renders as a short message about
// the change (see update.go); one without a valid update is an error.
func Render(format string, a news.Alert) (body []byte, contentType string, err error) {
	switch a.Delivery.EventType {
	case news.EventDigest:
		return renderDigest(format, a)
	case news.EventSourceHealth:
		return renderSourceHealth(format, a)
	}
	e, err := newEvent(a)
	if err != nil {
		return nil, "", err
	}
	return renderForms(format, "", forms{
		json:    func() any { return e },
		slack:   func() any { return slackMessage(e) },
		discord: func() any { return discordMessage(e) },
		teams:   func() any { return teamsMessage(e) },
	})
}

// forms are one event's bodies in the formats that need nothing but their
// name; each is built only when asked for.
type forms struct{ json, slack, discord, teams func() any }

// renderForms encodes the form format asks for; what names the kind of
// event in errors ("" for a match).
func renderForms(format, what string, f forms) ([]byte, string, error) {
	var build func() any
	switch format {
	case "json":
		build = f.json
	case "slack":
		build = f.slack
	case "discord":
		build = f.discord
	case "teams":
		build = f.teams
	case "template":
		return nil, "", errors.New("alert: format \"template\" renders with the webhook's template: use RenderFor")
	default:
		return nil, "", fmt.Errorf("alert: unknown format %q (want one of %s)", format, strings.Join(Formats(), ", "))
	}
	body, err := marshal(build())
	if err != nil {
		return nil, "", fmt.Errorf("alert: render %s%s: %w", format, what, err)
	}
	return body, "application/json", nil
}

// marshal encodes compact JSON without HTML escaping: the bodies go to
// JSON APIs, never into HTML, and "&" stays readable in golden files.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ---- Slack ---------------------------------------------------------------

// Slack Block Kit limits; a message over any of them is refused with a 400,
// which would turn one long headline into a permanently failed delivery.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackFieldMax   = 2000
	slackTextMax    = 3000 // top-level fallback text; Slack truncates at 40k but notifications show far less
	slackTitleMax   = 500
	slackSourceMax  = 300
)

type slackText struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Emoji    bool   `json:"emoji,omitempty"`
	Verbatim bool   `json:"verbatim,omitempty"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackPayload struct {
	Text        string       `json:"text"`
	Blocks      []slackBlock `json:"blocks"`
	UnfurlLinks bool         `json:"unfurl_links"`
	UnfurlMedia bool         `json:"unfurl_media"`
}

// mrkdwn returns a mrkdwn text object. verbatim stops Slack from turning
// feed text such as "@channel" or "#general" into mentions and links; the
// explicit <url|title> markup we write still works.
func mrkdwn(s string) slackText { return slackText{Type: "mrkdwn", Text: s, Verbatim: true} }

// slackEscape is Slack's escaping rule: &, < and > become entities so that
// feed text can never form <!everyone>, <@U123> or <url|label> markup.
func slackEscape(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return string(r)
}

// slackURL makes a link safe inside <url|label>: "|" and ">" would end the
// URL early, so they (and "<" and spaces) are percent-encoded, and "&" is
// entity-escaped as Slack expects everywhere in message text.
var slackURLReplacer = strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", " ", "%20", "&", "&amp;")

// slackMarkup writes highlights as *bold*. Slack has no way to escape "*",
// so a highlight whose text holds one, or that could not render as bold
// (edge whitespace, inside a word), is left plain rather than garbled.
func slackMarkup() markup {
	return markup{esc: slackEscape, open: "*", close: "*", bold: slackBold}
}

// topicLabel, titleLabel and sourceLabel are the one-line names every chat
// format shows for the topic, the headline and the outlet, with fallbacks
// for feeds that leave them empty.
func (e Event) topicLabel() string { return oneLine(firstNonEmpty(e.Topic.Title, e.Topic.ID)) }
func (e Event) titleLabel() string {
	return oneLine(firstNonEmpty(e.Item.Title, e.Item.Link, "(untitled)"))
}
func (e Event) sourceLabel() string {
	return oneLine(firstNonEmpty(e.Item.Source.Title, e.Item.Source.ID))
}

func slackMessage(e Event) slackPayload {
	if e.Update != nil {
		return slackUpdateMessage(e)
	}
	topic := e.topicLabel()
	title := e.titleLabel()
	source := e.sourceLabel()

	blocks := []slackBlock{
		slackHeader(topic),
		{Type: "section", Text: ptr(mrkdwn("*" + slackLinked(title, e.Item.Link, slackTitleMax) + "*"))},
	}
	blocks = append(blocks, slackContext(e)...)

	if ps := excerpt(e, slackMarkup()); len(ps) > 0 {
		// The leading ">" is mrkdwn's quote marker, deliberately unescaped.
		snip, _ := render(ps, slackSectionMax-2, slackMarkup())
		blocks = append(blocks, slackBlock{Type: "section", Text: ptr(mrkdwn("> " + snip))})
	}

	var fields []slackText
	if terms := oneLine(news.TermFieldsText(e.Matched)); terms != "" {
		const label = "*Matched terms*\n"
		fields = append(fields, mrkdwn(label+escTruncate(terms, slackFieldMax-width(label), slackEscape)))
	}
	fields = append(fields, mrkdwn("*Score*\n"+formatScore(e.Score)))
	blocks = append(blocks, slackBlock{Type: "section", Fields: fields})

	fallback := "New match for " + topic + ": " + title
	if source != "" {
		fallback += " (" + source + ")"
	}
	return slackPayload{
		Text:   escTruncate(fallback, slackTextMax, slackEscape),
		Blocks: blocks,
	}
}

// slackHeader is the message's first block: the topic.
func slackHeader(topic string) slackBlock {
	return slackBlock{Type: "header", Text: &slackText{
		// plain_text is not parsed for markup, so it is not escaped.
		Type: "plain_text", Text: truncate("🔔 "+topic, slackHeaderMax), Emoji: true,
	}}
}

// slackLinked is text escaped and cut to limit, as a <url|text> link when
// link is a safe one of at most slackURLMax units.
func slackLinked(text, link string, limit int) string {
	label := escTruncate(text, limit, slackEscape)
	if l, ok := safeLink(link); ok {
		if u := slackURLReplacer.Replace(l); width(u) <= slackURLMax {
			return "<" + u + "|" + label + ">"
		}
	}
	return label
}

// slackContext is the item's source and publication date, as a context
// block (none when both are unknown).
func slackContext(e Event) []slackBlock {
	source := e.sourceLabel()
	ctx := escTruncate(source, slackSourceMax, slackEscape)
	if !e.Item.Published.IsZero() {
		// <!date^...> renders in each reader's own time zone; the text after
		// "|" is the fallback for clients that cannot.
		p := e.Item.Published
		date := fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", p.Unix(), p.Format("2006-01-02 15:04 UTC"))
		if ctx != "" {
			ctx += " · "
		}
		ctx += date
	}
	if ctx == "" {
		return nil
	}
	return []slackBlock{{Type: "context", Elements: []slackText{mrkdwn(ctx)}}}
}

// ---- Discord -------------------------------------------------------------

// Discord embed limits (characters; we count UTF-16 code units, which is
// never fewer than code points, so both interpretations stay within).
// Discord answers 400 to a message over any of them.
const (
	discordTitleMax       = 256
	discordDescriptionMax = 4096
	discordFieldNameMax   = 256
	discordFieldValueMax  = 1024
	discordFooterMax      = 2048
	discordEmbedTotalMax  = 6000
	discordContentMax     = 2000
	discordURLMax         = 2048
	discordColor          = 0x2B6CB0
)

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordFooter struct {
	Text string `json:"text"`
}

type discordEmbed struct {
	Title       string         `json:"title,omitempty"`
	URL         string         `json:"url,omitempty"`
	Description string         `json:"description,omitempty"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Color       int            `json:"color"`
	Fields      []discordField `json:"fields,omitempty"`
	Footer      *discordFooter `json:"footer,omitempty"`
}

type discordAllowedMentions struct {
	Parse []string `json:"parse"`
}

type discordPayload struct {
	Content         string                 `json:"content"`
	Embeds          []discordEmbed         `json:"embeds"`
	AllowedMentions discordAllowedMentions `json:"allowed_mentions"`
}

// discordEscape backslash-escapes Discord markdown so feed text renders as
// written and cannot form masked links ([text](url)), spoilers, code
// blocks or mention syntax. Discord drops the backslash before any
// punctuation, so over-escaping is invisible.
func discordEscape(r rune) string {
	switch r {
	case '\\', '*', '_', '~', '`', '|', '<', '>', '[', ']', '(', ')', '#', '@':
		return `\` + string(r)
	}
	return string(r)
}

// discordMarkup writes highlights as **bold**; "*" in the text is escaped,
// so only a highlight with edge whitespace is left plain.
func discordMarkup() markup {
	return markup{esc: discordEscape, open: "**", close: "**", bold: discordBold}
}

func discordMessage(e Event) discordPayload {
	if e.Update != nil {
		return discordUpdateMessage(e)
	}
	topic := e.topicLabel()
	title := e.titleLabel()

	em := discordItemEmbed(e, title)
	em.addField("Matched", oneLine(news.TermFieldsText(e.Matched)), false)
	em.addField("Score", formatScore(e.Score), true)
	em.Footer = &discordFooter{Text: truncate("wirewatch · "+e.ID, discordFooterMax)}

	// The description gets what the 6000-character embed total leaves.
	budget := em.descriptionBudget()
	if ps := excerpt(e, discordMarkup()); len(ps) > 0 && budget > 1 {
		em.Description, _ = render(ps, budget, discordMarkup())
	}

	content := "🔔 New match for **" + escTruncate(topic, 200, discordEscape) + "**: " + escTruncate(title, 300, discordEscape)
	return discordPayload{
		Content: truncate(content, discordContentMax),
		Embeds:  []discordEmbed{em},
		// An empty parse list means no @everyone, @here, role or user ping,
		// whatever the feed text says.
		AllowedMentions: discordAllowedMentions{Parse: []string{}},
	}
}

// discordItemEmbed is the embed of the item: its title, linked, its
// publication time, and the Topic and Source fields.
func discordItemEmbed(e Event, title string) discordEmbed {
	em := discordEmbed{
		// Embed titles do not render links or mentions: left unescaped.
		Title: truncate(title, discordTitleMax),
		Color: discordColor,
	}
	if link, ok := discordLink(e.Item.Link); ok {
		em.URL = link
	}
	if !e.Item.Published.IsZero() {
		em.Timestamp = e.Item.Published.Format(time.RFC3339)
	}
	em.addField("Topic", e.topicLabel(), true)
	em.addField("Source", e.sourceLabel(), true)
	return em
}

// discordLink returns link if Discord accepts it as a URL. Discord refuses
// the whole message if an embed url is not a valid http(s) URL, so
// anything else is left out rather than risk a 400.
func discordLink(link string) (string, bool) {
	l, ok := safeLink(link)
	if !ok || width(l) > discordURLMax {
		return "", false
	}
	return l, true
}

// addField adds a field with value escaped and cut to Discord's limit;
// an empty value, which Discord rejects, adds nothing.
func (em *discordEmbed) addField(name, value string, inline bool) {
	if value == "" {
		return
	}
	em.Fields = append(em.Fields, discordField{
		Name:   truncate(name, discordFieldNameMax),
		Value:  escTruncate(value, discordFieldValueMax, discordEscape),
		Inline: inline,
	})
}

// descriptionBudget is what the 6000-unit embed total leaves for the
// description, within the description's own limit.
func (em *discordEmbed) descriptionBudget() int {
	used := width(em.Title)
	if em.Footer != nil {
		used += width(em.Footer.Text)
	}
	for _, f := range em.Fields {
		used += width(f.Name) + width(f.Value)
	}
	return min(discordDescriptionMax, discordEmbedTotalMax-used)
}

// ---- text helpers --------------------------------------------------------

// excerpt is what a chat message quotes: the snippet with its marks, else
// the summary, on one line, with the highlights m cannot render unmarked.
func excerpt(e Event, m markup) []news.Run {
	var ps []news.Run
	if strings.TrimSpace(e.Snippet) != "" {
		marks := make([]news.Span, len(e.Marks))
		for i, s := range e.Marks {
			marks[i] = news.Span{Start: s[0], End: s[1]}
		}
		ps = news.SplitSpans(e.Snippet, marks)
	} else {
		ps = []news.Run{{Text: e.Item.Summary}}
	}
	// Bold is decided on the text as the source wrote it (a highlight with
	// edge whitespace stays plain), then again once whitespace is
	// collapsed and the neighbours are final.
	return applyBold(oneLinePieces(applyBold(news.MergeRuns(ps), m)), m)
}

func ptr[T any](v T) *T { return &v }

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// clean makes feed text valid UTF-8 (bytes from a third-party server may
// not be) so truncation and JSON encoding see whole runes.
func clean(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// oneLine collapses all whitespace, newlines included, to single spaces:
// chat formats put feed text inside one line of markup.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func formatScore(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// safeLink returns link if it is an absolute http(s) URL: the only kind a
// chat client should be asked to open.
func safeLink(link string) (string, bool) {
	link = strings.TrimSpace(link)
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return link, true
}

// runeWidth counts a rune in UTF-16 code units, the unit JavaScript-based
// limits (Discord, Slack) are most likely measured in; it is never less
// than the code point count.
func runeWidth(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

func width(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

const ellipsis = "…"

// truncate shortens s to at most limit units (see width), cutting on a rune
// boundary and ending with "…" when anything was cut.
func truncate(s string, limit int) string {
	return escTruncate(s, limit, nil)
}

// escTruncate escapes s rune by rune with esc (nil: no escaping) and keeps
// the escaped result within limit units, so an escape sequence is never
// cut in half and the limit holds for what is actually sent.
func escTruncate(s string, limit int, esc func(rune) string) string {
	if limit <= 0 {
		return ""
	}
	// Most text fits: a valid string of at most limit bytes has at most
	// limit units (no rune is wider in UTF-16 than in UTF-8).
	if esc == nil && len(s) <= limit && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	n := 0
	// fit is how much of b still leaves room for the one-unit ellipsis.
	fit := 0
	for _, r := range s {
		p := string(r)
		if esc != nil {
			p = esc(r)
		}
		w := width(p)
		if n+w > limit {
			return strings.TrimRight(b.String()[:fit], " ") + ellipsis
		}
		b.WriteString(p)
		n += w
		if n <= limit-1 {
			fit = b.Len()
		}
	}
	return b.String()
}
