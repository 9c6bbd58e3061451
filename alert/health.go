package alert

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"wirewatch/news"
)

// A source.health event tells the engineers who run wirewatch (and the desk
// that relies on a source) that a source stopped working or went quiet, or
// came back: the complaint "the feed silently stopped" answered. It is sent
// to webhooks with source_health: true, outside noise control.

// SourceHealthEvent is the "json" body of a source.health event.
type SourceHealthEvent struct {
	// Type is "source.health".
	Type string `json:"type"`
	// ID is the delivery id (= webhook-id header).
	ID string `json:"id"`
	// Timestamp is when the change was seen.
	Timestamp time.Time         `json:"timestamp"`
	Health    EventSourceHealth `json:"health"`
}

// EventSourceHealth is what a source.health event reports.
type EventSourceHealth struct {
	Source struct {
		ID    string `json:"id"`
		Title string `json:"title"`
		URL   string `json:"url"`
	} `json:"source"`
	// State is "failed" (failing for long; still retried), "silent"
	// (fetched fine, nothing new for far longer than usual) or "ok"
	// (recovered); Previous is the state before.
	State    string `json:"state"`
	Previous string `json:"previous"`
	// Reason is the failure's reason code (dns, connect, tls, timeout,
	// http-4xx, http-5xx, too-large, parse, ssrf-blocked, redirects,
	// other), LastError its message; both empty unless failed.
	Reason    string `json:"reason"`
	LastError string `json:"last_error"`
	// Failures counts consecutive failed polls.
	Failures int `json:"failures"`
	// LastSuccess is the last successful fetch, LastItem when its newest
	// item was first seen; null when unknown.
	LastSuccess *time.Time `json:"last_success"`
	LastItem    *time.Time `json:"last_item"`
}

const healthTextMax = 500

func newSourceHealthEvent(a news.Alert) (SourceHealthEvent, error) {
	h := a.Delivery.Health
	if h == nil {
		return SourceHealthEvent{}, fmt.Errorf("alert: %s delivery %q has no report", news.EventSourceHealth, a.Delivery.ID)
	}
	e := SourceHealthEvent{Type: news.EventSourceHealth, ID: a.Delivery.ID, Timestamp: jsonTime(h.At)}
	if e.Timestamp.IsZero() {
		e.Timestamp = jsonTime(a.Delivery.CreatedAt)
	}
	e.Health.Source.ID = clean(h.SourceID)
	e.Health.Source.Title = truncate(clean(h.Title), healthTextMax)
	e.Health.Source.URL = clean(h.URL)
	e.Health.State, e.Health.Previous = h.State, h.Previous
	if e.Health.Previous == "" {
		e.Health.Previous = news.HealthOK
	}
	e.Health.Reason = clean(h.Reason)
	e.Health.LastError = truncate(clean(h.LastError), healthTextMax)
	e.Health.Failures = h.Failures
	e.Health.LastSuccess = optTime(h.LastSuccess)
	e.Health.LastItem = optTime(h.LastItem)
	return e, nil
}

func optTime(t time.Time) *time.Time {
	if t = jsonTime(t); t.IsZero() {
		return nil
	}
	return &t
}

func renderSourceHealth(format string, a news.Alert) ([]byte, string, error) {
	e, err := newSourceHealthEvent(a)
	if err != nil {
		return nil, "", err
	}
	return renderForms(format, " source health", forms{
		json:    func() any { return e },
		slack:   func() any { return slackHealthMessage(e) },
		discord: func() any { return discordHealthMessage(e) },
		teams:   func() any { return teamsHealthMessage(e) },
	})
}

// healthHeadline is "⚠️ Source failed: UN News" and the like.
func healthHeadline(e SourceHealthEvent) string {
	name := oneLine(firstNonEmpty(e.Health.Source.Title, e.Health.Source.ID))
	switch e.Health.State {
	case news.HealthFailed:
		return "⚠️ Source failed: " + name
	case news.HealthSilent:
		return "🔇 Source silent: " + name
	case news.HealthOK:
		return "✅ Source recovered: " + name
	}
	return "Source " + e.Health.State + ": " + name
}

// healthDetails are the lines under the headline, as plain text.
func healthDetails(e SourceHealthEvent) []string {
	h := e.Health
	var out []string
	switch h.State {
	case news.HealthFailed:
		out = append(out, strconv.Itoa(h.Failures)+" failed polls in a row ("+firstNonEmpty(h.Reason, "other")+"); still retried with backoff.")
		if h.LastError != "" {
			out = append(out, "Last error: "+oneLine(h.LastError))
		}
	case news.HealthSilent:
		out = append(out, "Fetched fine, but nothing new for far longer than usual: check the feed still carries the stories.")
	case news.HealthOK:
		out = append(out, "Back to normal after being "+h.Previous+".")
	}
	if h.LastSuccess != nil {
		out = append(out, "Last successful fetch: "+h.LastSuccess.Format("2006-01-02 15:04 UTC"))
	}
	if h.LastItem != nil {
		out = append(out, "Newest item seen: "+h.LastItem.Format("2006-01-02 15:04 UTC"))
	}
	if u := h.Source.URL; u != "" {
		out = append(out, "Feed: "+u)
	}
	return out
}

func slackHealthMessage(e SourceHealthEvent) slackPayload {
	head := healthHeadline(e)
	var lines []string
	for _, l := range healthDetails(e) {
		lines = append(lines, escTruncate(l, healthTextMax, slackEscape))
	}
	return slackPayload{
		Text: escTruncate(head, slackTextMax, slackEscape),
		Blocks: []slackBlock{
			{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(head, slackHeaderMax), Emoji: true}},
			{Type: "section", Text: ptr(mrkdwn(strings.Join(lines, "\n")))},
		},
	}
}

func discordHealthMessage(e SourceHealthEvent) discordPayload {
	head := healthHeadline(e)
	var lines []string
	for _, l := range healthDetails(e) {
		lines = append(lines, escTruncate(l, healthTextMax, discordEscape))
	}
	color := 0x2F855A // recovered
	if e.Health.State != news.HealthOK {
		color = 0xC53030
	}
	return discordPayload{
		Content: truncate(head, discordContentMax),
		Embeds: []discordEmbed{{
			Title: truncate(head, discordTitleMax), Description: truncate(strings.Join(lines, "\n"), discordDescriptionMax),
			Timestamp: e.Timestamp.Format(time.RFC3339), Color: color,
			Footer: &discordFooter{Text: truncate("wirewatch · "+e.ID, discordFooterMax)},
		}},
		AllowedMentions: discordAllowedMentions{Parse: []string{}},
	}
}

func teamsHealthMessage(e SourceHealthEvent) teamsPayload {
	body := []teamsElement{{Type: "TextBlock", Text: teamsBlockStart(escTruncate(healthHeadline(e), teamsTitleMax, teamsEscape)),
		Weight: "Bolder", Size: "Large", Wrap: true}}
	for _, l := range healthDetails(e) {
		body = append(body, teamsElement{Type: "TextBlock", Text: teamsBlockStart(escTruncate(l, healthTextMax, teamsEscape)), Wrap: true})
	}
	return teamsCardMessage(body, nil)
}
