package alert

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"wirewatch/news"
)

// Format "teams" posts to a Microsoft Teams Workflows webhook ("Post to a
// channel when a webhook request is received"), which expects a message
// with one Adaptive Card attachment. Old Office 365 connector cards
// (MessageCard) are retired, so only the Adaptive Card form is sent.
//
// TextBlock text and FactSet values are read as a Markdown subset (bold,
// italic, lists, links); HTML is not rendered. Feed text is escaped so it
// reads as written and cannot form links, emphasis, lists or the card's
// {{DATE()}} / {{TIME()}} functions.

// Teams refuses a message over about 28 KB. The caps below (UTF-16 units,
// before JSON encoding) keep even all-control-character text, which JSON
// spells as six bytes per character, under it.
const (
	teamsTopicMax   = 200
	teamsTitleMax   = 500
	teamsContextMax = 300
	teamsExcerptMax = 1500
	teamsFactMax    = 1000
	teamsURLMax     = 2048
	// teamsMaxBody is the request size Teams accepts.
	teamsMaxBody = 28000
)

type teamsPayload struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"` // null, as Teams' own samples send
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []teamsElement `json:"body"`
	Actions []teamsAction  `json:"actions,omitempty"`
	MSTeams teamsWidth     `json:"msteams"`
}

// teamsWidth makes Teams use the channel's full width instead of a narrow
// bubble, which suits a headline and a quoted snippet.
type teamsWidth struct {
	Width string `json:"width"`
}

// teamsElement is a TextBlock or a FactSet.
type teamsElement struct {
	Type     string      `json:"type"`
	Text     string      `json:"text,omitempty"`
	Size     string      `json:"size,omitempty"`
	Weight   string      `json:"weight,omitempty"`
	Color    string      `json:"color,omitempty"`
	IsSubtle bool        `json:"isSubtle,omitempty"`
	Spacing  string      `json:"spacing,omitempty"`
	Wrap     bool        `json:"wrap,omitempty"`
	Facts    []teamsFact `json:"facts,omitempty"`
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// teamsEscape backslash-escapes the characters the Adaptive Card Markdown
// subset (CommonMark based: a backslash before ASCII punctuation is shown
// as the character) would read as markup: emphasis, code, the brackets of
// a link (parentheses alone form none, so they stay readable) and the
// braces of the card's date functions.
func teamsEscape(r rune) string {
	if teamsSpecial(r) {
		return `\` + string(r)
	}
	return string(r)
}

func teamsSpecial(r rune) bool {
	switch r {
	case '\\', '*', '_', '[', ']', '`', '~', '{', '}':
		return true
	}
	return false
}

// teamsMarkup writes highlights as **bold**, where CommonMark's flanking
// rules let it render (see teamsBold).
func teamsMarkup() markup {
	return markup{esc: teamsEscape, open: "**", close: "**", bold: teamsBold}
}

// teamsBold: "**" opens only before visible text and, when that text
// starts with punctuation (an escape's backslash counts), only after
// whitespace, punctuation or the start; the same holds mirrored for the
// closing "**". A highlight that could not render as bold stays plain.
func teamsBold(text string, before, after rune) bool {
	if !boldable(text) {
		return false
	}
	// Every escaped character is punctuation itself, so its backslash
	// changes nothing here.
	first, _ := utf8.DecodeRuneInString(text)
	last, _ := utf8.DecodeLastRuneInString(text)
	open := func(r rune) bool { return r == utf8.RuneError || unicode.IsSpace(r) || mdPunct(r) }
	if mdPunct(first) && !open(before) {
		return false
	}
	if mdPunct(last) && !open(after) {
		return false
	}
	return true
}

// mdPunct is CommonMark's "Unicode punctuation character".
func mdPunct(r rune) bool { return r != utf8.RuneError && (unicode.IsPunct(r) || unicode.IsSymbol(r)) }

// teamsBlockStart escapes what would make a block's text a list: "- ",
// "+ " or "1. " at its very start (feed text is on one line, so the start
// is the only place a list can begin).
func teamsBlockStart(s string) string {
	if len(s) >= 2 && (s[0] == '-' || s[0] == '+') && s[1] == ' ' {
		return `\` + s
	}
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i+1 < len(s) && (s[i] == '.' || s[i] == ')') && s[i+1] == ' ' {
		return s[:i] + `\` + s[i:]
	}
	return s
}

// teamsURLReplacer keeps a link inside [text](url): spaces, parentheses
// and angle brackets would end or break the destination.
var teamsURLReplacer = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E")

func teamsMessage(e Event) teamsPayload {
	if e.Update != nil {
		return teamsUpdateMessage(e)
	}
	topic := e.topicLabel()
	title := e.titleLabel()
	link, linked := teamsLink(e.Item.Link)

	body := []teamsElement{
		teamsTopic(topic),
		{Type: "TextBlock", Text: teamsLinked(title, link, teamsTitleMax), Size: "Large", Weight: "Bolder", Wrap: true},
	}
	body = append(body, teamsContext(e)...)

	if ps := excerpt(e, teamsMarkup()); len(ps) > 0 {
		snip, _ := render(ps, teamsExcerptMax, teamsMarkup())
		body = append(body, teamsElement{Type: "TextBlock", Text: teamsBlockStart(snip), Wrap: true})
	}

	var facts []teamsFact
	if terms := oneLine(news.TermFieldsText(e.Matched)); terms != "" {
		facts = append(facts, teamsFact{Title: "Matched", Value: teamsBlockStart(escTruncate(terms, teamsFactMax, teamsEscape))})
	}
	facts = append(facts, teamsFact{Title: "Score", Value: formatScore(e.Score)})
	body = append(body, teamsElement{Type: "FactSet", Facts: facts})

	var actions []teamsAction
	if linked {
		actions = []teamsAction{{Type: "Action.OpenUrl", Title: "Open article", URL: link}}
	}
	return teamsCardMessage(body, actions)
}

// teamsLink returns link if a card may link to it: a safe http(s) URL of
// reasonable length.
func teamsLink(link string) (string, bool) {
	l, ok := safeLink(link)
	if !ok || width(l) > teamsURLMax {
		return "", false
	}
	return l, true
}

// teamsLinked is text escaped and cut to limit, as a [text](url) link
// when link is non-empty (a teamsLink result), else guarded against
// reading as a list.
func teamsLinked(text, link string, limit int) string {
	if link == "" {
		return teamsBlockStart(escTruncate(text, limit, teamsEscape))
	}
	return "[" + escTruncate(text, limit, teamsEscape) + "](" + teamsURLReplacer.Replace(link) + ")"
}

// teamsTopic is the card's first block: the topic.
func teamsTopic(topic string) teamsElement {
	return teamsElement{
		Type: "TextBlock", Text: "🔔 " + teamsBlockStart(escTruncate(topic, teamsTopicMax, teamsEscape)),
		Weight: "Bolder", Color: "Accent", Wrap: true,
	}
}

// teamsContext is the item's source and publication date as a small
// TextBlock (none when both are unknown).
func teamsContext(e Event) []teamsElement {
	source := e.sourceLabel()
	ctx := teamsBlockStart(escTruncate(source, teamsContextMax, teamsEscape))
	if p := e.Item.Published; !p.IsZero() {
		// DATE() and TIME() render in each reader's own locale and time
		// zone; they take exactly this RFC 3339 form.
		ts := p.UTC().Format("2006-01-02T15:04:05Z")
		if ctx != "" {
			ctx += " · "
		}
		ctx += "{{DATE(" + ts + ", SHORT)}} {{TIME(" + ts + ")}}"
	}
	if ctx == "" {
		return nil
	}
	return []teamsElement{{Type: "TextBlock", Text: ctx, Size: "Small", IsSubtle: true, Spacing: "None", Wrap: true}}
}

// teamsCardMessage wraps a card's body and actions in the message Teams
// Workflows expects.
func teamsCardMessage(body []teamsElement, actions []teamsAction) teamsPayload {
	return teamsPayload{
		Type: "message",
		Attachments: []teamsAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: teamsCard{
				Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
				Type:    "AdaptiveCard",
				Version: "1.4",
				Body:    body,
				Actions: actions,
				MSTeams: teamsWidth{Width: "Full"},
			},
		}},
	}
}
