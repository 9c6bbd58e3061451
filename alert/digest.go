package alert

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"wirewatch/news"
)

// A digest is one message carrying the alerts noise control held back (a
// rate limit's overflow, quiet hours, a digest schedule). The "json" format
// sends every alert in full, each as its own event with its own id; the
// chat formats list the first digestListMax headlines and say how many
// more there are, within each service's limits.

// DigestEvent is the "json" body of a digest event.
type DigestEvent struct {
	// Type is "digest".
	Type string `json:"type"`
	// ID is the digest's delivery id (= webhook-id header).
	ID string `json:"id"`
	// Timestamp is when the digest was made.
	Timestamp time.Time   `json:"timestamp"`
	Digest    EventDigest `json:"digest"`
}

// EventDigest is what a digest carries.
type EventDigest struct {
	// Reasons says why its alerts were held: "rate_limit",
	// "quiet_hours", "digest" (the webhook is on a digest schedule).
	Reasons []string `json:"reasons"`
	// Count is len(Alerts).
	Count int `json:"count"`
	// Since and Until are when the first and the last alert were held.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Alerts are the held alerts, oldest first, each the event it would
	// have been alone (its ID is its own delivery id, so a receiver that
	// also saw it alone, after a replay, can tell).
	Alerts []Event `json:"alerts"`
}

// Chat formats list at most digestListMax alerts, and stop earlier when the
// list would outgrow digestListBytes (links can be long).
const (
	digestListMax   = 20
	digestListBytes = 12000
	digestMetaMax   = 300
)

// newDigestEvent builds the event of a digest delivery. Members whose
// update is not valid (which newEvent refuses alone) are left out rather
// than fail the whole digest; a digest without any member is an error.
func newDigestEvent(a news.Alert) (DigestEvent, error) {
	d := DigestEvent{Type: news.EventDigest, ID: a.Delivery.ID, Timestamp: jsonTime(a.Delivery.CreatedAt)}
	for _, r := range strings.Split(a.Delivery.HoldReason, ",") {
		if r = strings.TrimSpace(r); r != "" {
			d.Digest.Reasons = append(d.Digest.Reasons, r)
		}
	}
	if d.Digest.Reasons == nil {
		d.Digest.Reasons = []string{}
	}
	d.Digest.Alerts = make([]Event, 0, len(a.Digest))
	for _, m := range a.Digest {
		e, err := newEvent(m)
		if err != nil {
			continue
		}
		d.Digest.Alerts = append(d.Digest.Alerts, e)
		if h := jsonTime(m.Delivery.HeldAt); !h.IsZero() {
			if d.Digest.Since.IsZero() || h.Before(d.Digest.Since) {
				d.Digest.Since = h
			}
			if h.After(d.Digest.Until) {
				d.Digest.Until = h
			}
		}
	}
	d.Digest.Count = len(d.Digest.Alerts)
	if d.Digest.Count == 0 {
		return DigestEvent{}, fmt.Errorf("alert: digest %q has no alerts to send", a.Delivery.ID)
	}
	return d, nil
}

func renderDigest(format string, a news.Alert) ([]byte, string, error) {
	d, err := newDigestEvent(a)
	if err != nil {
		return nil, "", err
	}
	return renderForms(format, " digest", forms{
		json:    func() any { return d },
		slack:   func() any { return slackDigestMessage(d) },
		discord: func() any { return discordDigestMessage(d) },
		teams:   func() any { return teamsDigestMessage(d) },
	})
}

// digestTitle is "Digest: 3 alerts".
func digestTitle(n int) string {
	if n == 1 {
		return "Digest: 1 alert"
	}
	return "Digest: " + strconv.Itoa(n) + " alerts"
}

// digestReason says in words why the alerts were held.
func digestReason(reasons []string) string {
	var parts []string
	for _, r := range reasons {
		switch r {
		case news.HoldRateLimit:
			parts = append(parts, "over the rate limit")
		case news.HoldQuietHours:
			parts = append(parts, "held during quiet hours")
		case news.HoldDigest:
			parts = append(parts, "scheduled digest")
		}
	}
	if len(parts) == 0 {
		return "held alerts"
	}
	s := strings.Join(parts, " and ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// digestMeta is an alert's topic, outlet and matched terms, on one line.
func digestMeta(e Event) string {
	parts := []string{e.topicLabel()}
	if s := e.sourceLabel(); s != "" {
		parts = append(parts, s)
	}
	if terms := oneLine(news.TermFieldsText(e.Matched)); terms != "" {
		parts = append(parts, "matched: "+terms)
	}
	if e.Update != nil {
		parts = append(parts, "update: "+e.Update.Kind)
	}
	return strings.Join(parts, " · ")
}

// digestMore is the line ending a list that could not show every alert.
func digestMore(n int) string {
	return "…and " + strconv.Itoa(n) + " more in this digest (the topic feeds have them all)"
}

// ---- Slack ---------------------------------------------------------------

func slackDigestMessage(d DigestEvent) slackPayload {
	title := digestTitle(d.Digest.Count)
	reason := digestReason(d.Digest.Reasons)
	blocks := []slackBlock{
		{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate("🗞 "+title, slackHeaderMax), Emoji: true}},
	}
	ctx := escTruncate(reason, slackSourceMax, slackEscape)
	if !d.Digest.Since.IsZero() {
		ctx += fmt.Sprintf(" · since <!date^%d^{date_short_pretty} {time}|%s>", d.Digest.Since.Unix(), d.Digest.Since.Format("2006-01-02 15:04 UTC"))
	}
	blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{mrkdwn(ctx)}})
	shown, used := 0, 0
	for _, e := range d.Digest.Alerts {
		if shown == digestListMax {
			break
		}
		line := "*" + slackLinked(e.titleLabel(), e.Item.Link, slackTitleMax) + "*\n" +
			escTruncate(digestMeta(e), digestMetaMax, slackEscape)
		if shown > 0 && used+len(line) > digestListBytes {
			break
		}
		used += len(line)
		shown++
		blocks = append(blocks, slackBlock{Type: "section", Text: ptr(mrkdwn(line))})
	}
	if more := d.Digest.Count - shown; more > 0 {
		blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{mrkdwn(escTruncate(digestMore(more), slackSourceMax, slackEscape))}})
	}
	return slackPayload{Text: escTruncate(title+" ("+reason+")", slackTextMax, slackEscape), Blocks: blocks}
}

// ---- Discord -------------------------------------------------------------

func discordDigestMessage(d DigestEvent) discordPayload {
	title := digestTitle(d.Digest.Count)
	reason := digestReason(d.Digest.Reasons)
	em := discordEmbed{
		Title:     truncate(title, discordTitleMax),
		Color:     discordColor,
		Timestamp: d.Timestamp.Format(time.RFC3339),
		Footer:    &discordFooter{Text: truncate("wirewatch · "+reason+" · "+d.ID, discordFooterMax)},
	}
	budget := em.descriptionBudget()
	// Room for the "…and N more" line is kept whenever it may be needed.
	reserve := width(digestMore(d.Digest.Count)) + 1
	var b strings.Builder
	shown := 0
	for i, e := range d.Digest.Alerts {
		if shown == digestListMax {
			break
		}
		line := "• **" + discordLinked(e.titleLabel(), e.Item.Link, 300) + "**\n" +
			escTruncate(digestMeta(e), digestMetaMax, discordEscape) + "\n"
		room := budget - width(b.String())
		if i < d.Digest.Count-1 {
			room -= reserve
		}
		if width(line) > room {
			break
		}
		b.WriteString(line)
		shown++
	}
	if more := d.Digest.Count - shown; more > 0 {
		b.WriteString(digestMore(more))
	}
	em.Description = strings.TrimSuffix(b.String(), "\n")
	return discordPayload{
		Content:         truncate("🗞 **"+title+"** ("+reason+")", discordContentMax),
		Embeds:          []discordEmbed{em},
		AllowedMentions: discordAllowedMentions{Parse: []string{}},
	}
}

// ---- Teams ---------------------------------------------------------------

func teamsDigestMessage(d DigestEvent) teamsPayload {
	title := digestTitle(d.Digest.Count)
	body := []teamsElement{
		{Type: "TextBlock", Text: "🗞 " + title, Weight: "Bolder", Color: "Accent", Size: "Large", Wrap: true},
		{Type: "TextBlock", Text: teamsBlockStart(escTruncate(digestReason(d.Digest.Reasons), teamsContextMax, teamsEscape)),
			Size: "Small", IsSubtle: true, Spacing: "None", Wrap: true},
	}
	shown, used := 0, 0
	for _, e := range d.Digest.Alerts {
		if shown == digestListMax {
			break
		}
		link, _ := teamsLink(e.Item.Link)
		head := teamsLinked(e.titleLabel(), link, 300)
		meta := teamsBlockStart(escTruncate(digestMeta(e), digestMetaMax, teamsEscape))
		if shown > 0 && used+len(head)+len(meta) > digestListBytes {
			break
		}
		used += len(head) + len(meta)
		shown++
		body = append(body,
			teamsElement{Type: "TextBlock", Text: head, Weight: "Bolder", Wrap: true},
			teamsElement{Type: "TextBlock", Text: meta, Size: "Small", IsSubtle: true, Spacing: "None", Wrap: true})
	}
	if more := d.Digest.Count - shown; more > 0 {
		body = append(body, teamsElement{Type: "TextBlock", Text: teamsBlockStart(escTruncate(digestMore(more), teamsContextMax, teamsEscape)), Wrap: true})
	}
	return teamsCardMessage(body, nil)
}
