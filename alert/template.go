package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"wirewatch/news"
)

// Format "template" lets a desk send alerts to any receiver: the webhook's
// Template is a Go text/template (https://pkg.go.dev/text/template)
// executed with the alert's Event, the same data the "json" format sends:
//
//	.Type                 event type, "match.created" or "match.updated"
//	.ID                   delivery id (= webhook-id header), stable across retries
//	.Timestamp            match time (time.Time, UTC): {{.Timestamp.Format "2006-01-02 15:04"}}
//	.Topic.ID .Topic.Title
//	.Item.ID .Item.Title .Item.Link .Item.Summary
//	.Item.Published       time.Time, UTC
//	.Item.Source.ID .Item.Source.Title
//	.MatchedTerms         []string, the query terms that matched
//	.Matched              []{.Term .Fields}: each term with the fields it was found in
//	.Score                float64
//	.Snippet              plain-text excerpt around the strongest hit
//	.Marks                [][2]int: byte ranges of .Snippet that matched
//	.Update               nil for match.created; for match.updated what changed:
//	  .Update.Kind            "corrected" or "also_reported"
//	  .Update.PreviousTitle   corrected: the headline before, .Update.Title after
//	                          (.Item.Title is the new one too)
//	  .Update.AlsoReportedBy  also_reported: the other report (.Item stays the
//	                          story first alerted), with .ItemID .Title .Link
//	                          .SeenAt .Source.ID .Source.Title
//
// Test .Update before using its fields, as a template renders every
// event: {{with .Update}}{{if eq .Kind "corrected"}}…{{end}}{{end}}.
// ParseTemplate runs a template on a new match and on one update of each
// kind, so a misspelt field inside such a block is caught as well. A
// template may render nothing for an update, but then the webhook must
// not opt in to updates: an empty body fails the delivery.
//
// Besides the built-in functions, templates have:
//
//	json VALUE            VALUE as JSON ("a \"b\"" for a string): the way to
//	                      put feed text inside a JSON body safely
//	join LIST SEP         strings.Join
//	mark OPEN CLOSE       .Snippet with every mark wrapped in OPEN and CLOSE,
//	                      called on the event: {{mark . "**" "**"}}
//	truncate N STRING     STRING cut to N characters, ending in "…" if cut
//
// A webhook with noise control (rate_limit, quiet_hours, digest) also gets
// digests: events with .Type "digest", .ID, .Timestamp (when the digest was
// made) and .Digest set (nil for every other event):
//
//	.Digest.Reasons       []string: "rate_limit", "quiet_hours", "digest"
//	.Digest.Count         how many alerts it carries
//	.Digest.Since .Digest.Until   when the first and the last were held
//	.Digest.Alerts        []Event, each as it would have been sent alone
//
// Such a webhook's template must use .Digest, {{if .Digest}}…{{else}}…{{end}}
// (ParseTemplateFor checks).
//
// A webhook with source_health: true also gets source.health events: .Type
// "source.health", .ID, .Timestamp and .Health set (nil otherwise):
//
//	.Health.Source.ID .Health.Source.Title .Health.Source.URL
//	.Health.State         "failed", "silent" or "ok" (recovered); .Health.Previous
//	.Health.Reason .Health.LastError .Health.Failures
//	.Health.LastSuccess .Health.LastItem   *time.Time, nil when unknown
//
// Its template must use .Health likewise.
//
// Feed text is inserted as it is: a template is responsible for escaping
// it for its receiver (json does, for JSON). A body that is valid JSON is
// sent as application/json, anything else as text/plain.
//
// Guards: templates are checked when the config is loaded (ParseTemplate),
// a field that does not exist is an error, the rendered body is capped at
// maxTemplateOutput, and the two constructs whose cost does not come from
// the event are refused: range over a number and templates that call
// themselves. Nested ranges over an event's lists still cost the product
// of their lengths; keep them shallow.

const (
	// maxTemplateSource caps a template's text.
	maxTemplateSource = 64 << 10
	// maxTemplateOutput caps a rendered body: an endpoint that takes
	// alerts has no use for more, and a template ranging over a long list
	// should fail rather than send megabytes.
	maxTemplateOutput = 1 << 20
)

// errTemplateOutput ends an execution whose output outgrew the cap.
var errTemplateOutput = fmt.Errorf("rendered body exceeds %d bytes", maxTemplateOutput)

// errEmptyBody is a template that rendered nothing (or only whitespace).
var errEmptyBody = errors.New("the body is empty")

// ParseTemplate checks a webhook template as config validation should: it
// must parse, pass the guards above, and execute against a sample event
// (so a misspelt field such as .Item.Titel is caught now, not at the first
// alert) producing a non-empty body within the size cap.
func ParseTemplate(text string) error {
	t, err := parseTemplate(text)
	if err != nil {
		return err
	}
	for i, a := range sampleAlerts() {
		_, _, err := executeTemplate(t, NewEvent(a))
		switch {
		case err == nil:
		case i == 0:
			return err
		case errors.Is(err, errEmptyBody):
			// Only webhooks with updates: true get updates; a template
			// that is silent on them suits the others.
		default:
			return fmt.Errorf("%w (on a %q update)", err, a.Delivery.Update.Kind)
		}
	}
	return nil
}

// ParseTemplateFor checks a webhook's template as ParseTemplate does and,
// when the webhook has noise control (and so receives digests), that the
// template handles a digest: it must use .Digest (a template written for
// single alerts would render a digest as one empty alert) and render a
// sample digest to a non-empty body.
func ParseTemplateFor(w news.Webhook) error {
	if err := ParseTemplate(w.Template); err != nil {
		return err
	}
	t, err := parseTemplate(w.Template)
	if err != nil {
		return err
	}
	check := func(field, why string, sample news.Alert) error {
		if !strings.Contains(w.Template, "."+field) {
			return fmt.Errorf("alert: template: this webhook %s, but the template never uses .%s ({{if .%s}}…{{else}}…{{end}})", why, field, field)
		}
		e, err := templateEvent(sample)
		if err != nil {
			return err
		}
		if _, _, err := executeTemplate(t, e); err != nil {
			return fmt.Errorf("%w (on a %s event)", err, e.Type)
		}
		return nil
	}
	if w.Noise.Active() {
		if err := check("Digest", "has noise control, so it receives digests", sampleDigest()); err != nil {
			return err
		}
	}
	if w.SourceHealth {
		if err := check("Health", "has source_health: true, so it receives source.health events", sampleHealth()); err != nil {
			return err
		}
	}
	return nil
}

// sampleHealth is the source.health event templates are checked against.
func sampleHealth() news.Alert {
	at := time.Date(2024, 5, 14, 7, 45, 0, 0, time.UTC)
	return news.Alert{Delivery: news.Delivery{
		ID:        news.DeliveryID(news.EventSourceHealth, "example-wire", "failed@"+at.Format(time.RFC3339), "example-webhook"),
		WebhookID: "example-webhook", EventType: news.EventSourceHealth, CreatedAt: at,
		Health: &news.SourceHealth{SourceID: "example-wire", Title: "Example Wire", URL: "https://example.com/feed.xml",
			State: news.HealthFailed, Previous: news.HealthFailing, Reason: "http-5xx", LastError: "503 Service Unavailable",
			Failures: 5, LastSuccess: at.Add(-time.Hour), LastItem: at.Add(-2 * time.Hour), At: at},
	}}
}

// sampleDigest is the digest templates are checked against: the sample
// alerts, held during quiet hours.
func sampleDigest() news.Alert {
	members := sampleAlerts()
	for i := range members {
		members[i].Delivery.HeldAt = members[i].Delivery.CreatedAt
		members[i].Delivery.HoldReason = news.HoldQuietHours
	}
	return news.Alert{
		Delivery: news.Delivery{
			ID: news.DeliveryID(news.EventDigest, "", members[0].Delivery.ID, "example-webhook"), WebhookID: "example-webhook",
			EventType: news.EventDigest, CreatedAt: members[len(members)-1].Delivery.CreatedAt.Add(time.Hour),
			HoldReason: news.HoldQuietHours,
		},
		Digest: members,
	}
}

// parseTemplate parses and checks a template.
func parseTemplate(text string) (*template.Template, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("alert: template: empty (format \"template\" needs one)")
	}
	if len(text) > maxTemplateSource {
		return nil, fmt.Errorf("alert: template: %d bytes, more than the %d allowed", len(text), maxTemplateSource)
	}
	t, err := template.New("webhook").Option("missingkey=error").Funcs(templateFuncs()).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	if err := checkTemplate(t); err != nil {
		return nil, fmt.Errorf("alert: template: %w", err)
	}
	return t, nil
}

// executeTemplate renders e with t. Errors are permanent: the same event
// renders the same way on every retry.
func executeTemplate(t *template.Template, e Event) ([]byte, string, error) {
	w := &cappedBuffer{limit: maxTemplateOutput}
	if err := t.Execute(w, e); err != nil {
		return nil, "", fmt.Errorf("alert: execute template: %w", err)
	}
	body := w.buf.Bytes()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, "", fmt.Errorf("alert: execute template: %w", errEmptyBody)
	}
	if json.Valid(body) {
		return body, "application/json", nil
	}
	return body, "text/plain; charset=utf-8", nil
}

// cappedBuffer is a buffer that refuses to grow past limit; text/template
// stops at the first failed write.
type cappedBuffer struct {
	buf   bytes.Buffer
	limit int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.limit {
		return 0, errTemplateOutput
	}
	return b.buf.Write(p)
}

// templateFuncs are the functions templates may call besides the builtins.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := marshal(v)
			return string(b), err
		},
		"join": func(list []string, sep string) string { return strings.Join(list, sep) },
		"mark": func(e Event, open, close string) string {
			var b strings.Builder
			at := 0
			for _, m := range e.Marks {
				// NewEvent's marks are valid; a hand-made Event's may not be.
				if m[0] < at || m[0] > m[1] || m[1] > len(e.Snippet) {
					continue
				}
				b.WriteString(e.Snippet[at:m[0]])
				b.WriteString(open)
				b.WriteString(e.Snippet[m[0]:m[1]])
				b.WriteString(close)
				at = m[1]
			}
			b.WriteString(e.Snippet[at:])
			return b.String()
		},
		"truncate": func(n int, s string) string { return truncate(s, n) },
	}
}

// checkTemplate refuses the constructs whose running time does not depend
// on the event: a range over a number ({{range 1000000000}}) and templates
// that call themselves, directly or through others.
func checkTemplate(t *template.Template) error {
	calls := map[string][]string{}
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Root == nil {
			continue
		}
		var err error
		walk(tt.Root, func(n parse.Node) {
			switch n := n.(type) {
			case *parse.RangeNode:
				if err == nil && rangesOverNumber(n.Pipe) {
					loc, _ := tt.ErrorContext(n)
					err = fmt.Errorf("%s: range over a number is not allowed", loc)
				}
			case *parse.TemplateNode:
				calls[tt.Name()] = append(calls[tt.Name()], n.Name)
			}
		})
		if err != nil {
			return err
		}
	}
	// Depth-first search for a cycle in the call graph.
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case active:
			return fmt.Errorf("template %q calls itself (recursion is not allowed)", name)
		case done:
			return nil
		}
		state[name] = active
		for _, c := range calls[name] {
			if err := visit(c); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	for name := range calls {
		if err := visit(name); err != nil {
			return err
		}
	}
	return nil
}

// rangesOverNumber reports whether a range pipeline is a number literal
// (possibly parenthesised).
func rangesOverNumber(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) == 0 {
		return false
	}
	last := p.Cmds[len(p.Cmds)-1]
	if len(last.Args) != 1 {
		return false
	}
	switch a := last.Args[0].(type) {
	case *parse.NumberNode:
		return true
	case *parse.PipeNode:
		return rangesOverNumber(a)
	}
	return false
}

// walk calls fn on n and every node below it that can hold statements.
func walk(n parse.Node, fn func(parse.Node)) {
	if n == nil {
		return
	}
	fn(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, fn)
		}
	case *parse.IfNode:
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.RangeNode:
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.WithNode:
		walk(n.List, fn)
		walk(n.ElseList, fn)
	}
}

// renderer renders one webhook's alerts, its template parsed once.
type renderer struct {
	format string
	tmpl   *template.Template
	err    error // the template did not parse
}

func newRenderer(w news.Webhook) *renderer {
	r := &renderer{format: w.Format}
	if w.Format == "template" {
		r.tmpl, r.err = parseTemplate(w.Template)
	}
	return r
}

func (r *renderer) render(a news.Alert) ([]byte, string, error) {
	if r.format != "template" {
		return Render(r.format, a)
	}
	if r.err != nil {
		return nil, "", r.err
	}
	e, err := templateEvent(a)
	if err != nil {
		return nil, "", err
	}
	return executeTemplate(r.tmpl, e)
}

// templateEvent is the data a template runs on: the Event, with Digest or
// Health set for those events.
func templateEvent(a news.Alert) (Event, error) {
	switch a.Delivery.EventType {
	case news.EventDigest:
		d, err := newDigestEvent(a)
		if err != nil {
			return Event{}, err
		}
		return Event{Type: d.Type, ID: d.ID, Timestamp: d.Timestamp, Digest: &d.Digest}, nil
	case news.EventSourceHealth:
		h, err := newSourceHealthEvent(a)
		if err != nil {
			return Event{}, err
		}
		return Event{Type: h.Type, ID: h.ID, Timestamp: h.Timestamp, Health: &h.Health}, nil
	}
	return newEvent(a)
}

// RenderFor builds the request body of an alert for a webhook: its format,
// and for format "template" its Template. The dispatcher renders through
// it; Render serves the formats that need nothing but their name.
func RenderFor(w news.Webhook, a news.Alert) (body []byte, contentType string, err error) {
	return newRenderer(w).render(a)
}

// sampleAlerts are the events templates are checked against: a new
// match, a correction and a new sighting of it.
func sampleAlerts() []news.Alert {
	created := sampleAlert()
	corrected := created
	corrected.Delivery.EventType = news.EventMatchUpdated
	corrected.Delivery.ID = news.UpdateDeliveryID("example-topic", created.Entry.Item.ID, "example-webhook", "title")
	corrected.Delivery.CreatedAt = created.Delivery.CreatedAt.Add(time.Hour)
	corrected.Delivery.Update = &news.Update{
		Kind:          news.UpdateCorrected,
		PreviousTitle: created.Entry.Item.Title,
		Title:         "UN report on Xinjiang: camps",
	}
	corrected.Entry.Item.Title = corrected.Delivery.Update.Title
	corrected.Entry.PreviousTitle = created.Entry.Item.Title

	also := created
	sighting := news.Sighting{
		ItemID: news.ItemID("other-wire", "story-9"), SourceID: "other-wire", SourceTitle: "Other Wire",
		Title: "Xinjiang camps: UN report", Link: "https://example.org/story-9",
		SeenAt: created.Delivery.CreatedAt.Add(2 * time.Hour),
	}
	also.Delivery.EventType = news.EventMatchUpdated
	also.Delivery.ID = news.UpdateDeliveryID("example-topic", created.Entry.Item.ID, "example-webhook", "seen:"+sighting.ItemID)
	also.Delivery.CreatedAt = sighting.SeenAt
	also.Delivery.Update = &news.Update{Kind: news.UpdateAlsoReported, Sighting: &sighting}
	also.Entry.AlsoReportedBy = []news.Sighting{sighting}
	return []news.Alert{created, corrected, also}
}

// sampleAlert is the new-match event templates are checked against: every
// field set, with a highlight, so any field a template names exists.
func sampleAlert() news.Alert {
	at := time.Date(2024, 5, 14, 7, 45, 0, 0, time.UTC)
	snippet := "…the UN human rights office says Uyghurs held in camps…"
	item := news.Item{
		ID: news.ItemID("example-wire", "story-1"), SourceID: "example-wire", Key: "story-1",
		Title:     "UN report on Xinjiang",
		Link:      "https://example.com/story-1",
		Summary:   "The UN human rights office says Uyghurs were held in camps.",
		Published: at.Add(-15 * time.Minute),
	}
	i := strings.Index(snippet, "Uyghurs")
	return news.Alert{
		Delivery: news.Delivery{
			ID:        news.DeliveryID(news.EventMatchCreated, "example-topic", item.ID, "example-webhook"),
			WebhookID: "example-webhook", EventType: news.EventMatchCreated,
			TopicID: "example-topic", ItemID: item.ID, CreatedAt: at,
		},
		Topic: news.Topic{ID: "example-topic", Title: "Xinjiang"},
		Entry: news.Entry{
			Item: item,
			Match: news.Match{
				TopicID: "example-topic", ItemID: item.ID,
				Terms: []string{"Uyghur*"},
				Hits:  []news.Hit{{Term: "Uyghur*", Field: "summary", Text: "Uyghurs"}},
				Score: 1, Snippet: snippet,
				Marks:     []news.Span{{Start: i, End: i + len("Uyghurs")}},
				MatchedAt: at,
			},
			SourceTitle: "Example Wire",
		},
	}
}
