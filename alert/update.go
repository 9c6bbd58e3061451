package alert

import (
	"strings"

	"wirewatch/news"
)

// This file renders match.updated events in the chat formats. An update
// is about a story the desk was already alerted to, so its message is
// short: the topic, the change, and the item's source and date; the
// snippet and the match explanation were in the first alert and are left
// out. A correction reads "✏️ Correction — was: “old” → now: “new”" with
// the new headline linked; a new sighting reads "Also reported by
// <source>: <title>" with that report linked, under the original headline.

// Caps on what an update line quotes, in UTF-16 units of the escaped
// text: two headlines and a link stay well inside every platform's limit.
const (
	updateTitleMax  = 500
	updateSourceMax = 200
)

// updateTitles are a correction's headlines on one line, never blank.
func updateTitles(e Event) (was, now string) {
	u := e.Update
	was = oneLine(firstNonEmpty(u.PreviousTitle, "(untitled)"))
	now = oneLine(firstNonEmpty(u.Title, e.Item.Title, "(untitled)"))
	return was, now
}

// sightingText is a sighting's source name and headline on one line,
// never blank.
func sightingText(s *EventSighting) (by, title string) {
	by = oneLine(firstNonEmpty(s.Source.Title, s.Source.ID, "another source"))
	title = oneLine(firstNonEmpty(s.Title, s.Link, "(untitled)"))
	return by, title
}

// ---- Slack ---------------------------------------------------------------

// slackURLMax is the longest link (as written, after escaping) put in
// <url|text> markup: longer ones would push a section past Slack's 3000
// characters and get the message refused, so the text is left unlinked.
const slackURLMax = 1500

func slackUpdateMessage(e Event) slackPayload {
	topic := e.topicLabel()
	title := e.titleLabel()
	source := e.sourceLabel()

	blocks := []slackBlock{slackHeader(topic)}
	var fallback string
	switch u := e.Update; u.Kind {
	case news.UpdateCorrected:
		was, now := updateTitles(e)
		line := "✏️ Correction — was: “" + escTruncate(was, updateTitleMax, slackEscape) +
			"” → now: “" + slackLinked(now, e.Item.Link, updateTitleMax) + "”"
		blocks = append(blocks, slackBlock{Type: "section", Text: ptr(mrkdwn(line))})
		blocks = append(blocks, slackContext(e)...)
		fallback = "Correction for " + topic + ": “" + was + "” → “" + now + "”"
	default: // news.UpdateAlsoReported: NewEvent sets no other kind
		by, stitle := sightingText(u.AlsoReportedBy)
		blocks = append(blocks, slackBlock{Type: "section", Text: ptr(mrkdwn("*" + slackLinked(title, e.Item.Link, slackTitleMax) + "*"))})
		blocks = append(blocks, slackContext(e)...)
		line := "Also reported by " + escTruncate(by, updateSourceMax, slackEscape) + ": " +
			slackLinked(stitle, u.AlsoReportedBy.Link, updateTitleMax)
		blocks = append(blocks, slackBlock{Type: "section", Text: ptr(mrkdwn(line))})
		fallback = "Also reported by " + by + " for " + topic + ": " + title
	}
	if source != "" {
		fallback += " (" + source + ")"
	}
	return slackPayload{
		Text:   escTruncate(fallback, slackTextMax, slackEscape),
		Blocks: blocks,
	}
}

// ---- Discord -------------------------------------------------------------

// discordURLReplacer keeps a link inside a masked link's (url): spaces,
// parentheses and angle brackets would end or break it.
var discordURLReplacer = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E")

// discordLinked is text escaped and cut to limit, as a masked link
// [text](url) when link is one Discord accepts, of at most discordURLMax
// units once escaped.
func discordLinked(text, link string, limit int) string {
	label := escTruncate(text, limit, discordEscape)
	if l, ok := discordLink(link); ok {
		// Escaping can triple a link's length: it is measured as sent.
		if u := discordURLReplacer.Replace(l); width(u) <= discordURLMax {
			return "[" + label + "](" + u + ")"
		}
	}
	return label
}

func discordUpdateMessage(e Event) discordPayload {
	topic := e.topicLabel()
	title := e.titleLabel()

	var em discordEmbed
	var content string
	switch u := e.Update; u.Kind {
	case news.UpdateCorrected:
		was, now := updateTitles(e)
		em = discordItemEmbed(e, now)
		// The embed's title is the new headline, linked: the description
		// need not link it again.
		em.Description = "✏️ Correction — was: “" + escTruncate(was, updateTitleMax, discordEscape) +
			"” → now: “" + escTruncate(now, updateTitleMax, discordEscape) + "”"
		content = "✏️ Correction for **" + escTruncate(topic, 200, discordEscape) + "**: " + escTruncate(now, 300, discordEscape)
	default: // news.UpdateAlsoReported
		by, stitle := sightingText(u.AlsoReportedBy)
		em = discordItemEmbed(e, title)
		em.Description = "Also reported by " + escTruncate(by, updateSourceMax, discordEscape) + ": " +
			discordLinked(stitle, u.AlsoReportedBy.Link, updateTitleMax)
		content = "📰 Also reported by **" + escTruncate(by, 200, discordEscape) + "** for **" +
			escTruncate(topic, 200, discordEscape) + "**: " + escTruncate(title, 300, discordEscape)
	}
	em.Footer = &discordFooter{Text: truncate("wirewatch · "+e.ID, discordFooterMax)}
	return discordPayload{
		Content:         truncate(content, discordContentMax),
		Embeds:          []discordEmbed{em},
		AllowedMentions: discordAllowedMentions{Parse: []string{}},
	}
}

// ---- Teams ---------------------------------------------------------------

func teamsUpdateMessage(e Event) teamsPayload {
	topic := e.topicLabel()
	title := e.titleLabel()
	link, linked := teamsLink(e.Item.Link)

	body := []teamsElement{teamsTopic(topic)}
	var actions []teamsAction
	if linked {
		actions = append(actions, teamsAction{Type: "Action.OpenUrl", Title: "Open article", URL: link})
	}
	switch u := e.Update; u.Kind {
	case news.UpdateCorrected:
		was, now := updateTitles(e)
		line := "✏️ Correction — was: “" + escTruncate(was, updateTitleMax, teamsEscape) +
			"” → now: “" + teamsLinkedInline(now, link, updateTitleMax) + "”"
		body = append(body, teamsElement{Type: "TextBlock", Text: line, Size: "Medium", Weight: "Bolder", Wrap: true})
		body = append(body, teamsContext(e)...)
	default: // news.UpdateAlsoReported
		s := u.AlsoReportedBy
		by, stitle := sightingText(s)
		body = append(body, teamsElement{Type: "TextBlock", Text: teamsLinked(title, link, teamsTitleMax), Size: "Large", Weight: "Bolder", Wrap: true})
		body = append(body, teamsContext(e)...)
		slink, _ := teamsLink(s.Link)
		line := "Also reported by " + escTruncate(by, updateSourceMax, teamsEscape) + ": " + teamsLinkedInline(stitle, slink, updateTitleMax)
		body = append(body, teamsElement{Type: "TextBlock", Text: line, Wrap: true})
		if slink != "" {
			actions = append(actions, teamsAction{Type: "Action.OpenUrl", Title: "Open new report", URL: slink})
		}
	}
	return teamsCardMessage(body, actions)
}

// teamsLinkedInline is teamsLinked for text inside a line: no list guard,
// which only matters at the start of a block.
func teamsLinkedInline(text, link string, limit int) string {
	if link == "" {
		return escTruncate(text, limit, teamsEscape)
	}
	return teamsLinked(text, link, limit)
}
