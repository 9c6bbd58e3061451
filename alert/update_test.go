package alert

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"wirewatch/news"
)

// decodeJSON renders an alert as format "json" and decodes it generically.
func decodeJSON(t *testing.T, a news.Alert) map[string]any {
	t.Helper()
	body, _, err := Render("json", a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func keys(m map[string]any) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

func TestUpdateEventJSON(t *testing.T) {
	// A correction: only its own members, the item with the new title,
	// the timestamp of the change.
	m := decodeJSON(t, goldenCorrected())
	u, ok := m["update"].(map[string]any)
	if !ok || m["type"] != "match.updated" {
		t.Fatalf("type %v, update %v", m["type"], m["update"])
	}
	if keys(u) != "kind,previous_title,title" || u["kind"] != "corrected" ||
		u["previous_title"] != goldenAlert().Entry.Item.Title || u["title"] != goldenCorrected().Entry.Item.Title {
		t.Errorf("update = %v", u)
	}
	if item := m["item"].(map[string]any); item["title"] != goldenCorrected().Entry.Item.Title || item["id"] != goldenAlert().Entry.Item.ID {
		t.Errorf("item = %v, want the story with its new title", item)
	}
	if m["timestamp"] != "2024-05-14T09:12:00Z" {
		t.Errorf("timestamp = %v, want when the correction was queued", m["timestamp"])
	}

	// An empty previous title is still sent: the member is always there.
	a := goldenCorrected()
	a.Delivery.Update.PreviousTitle = ""
	if u := decodeJSON(t, a)["update"].(map[string]any); keys(u) != "kind,previous_title,title" || u["previous_title"] != "" {
		t.Errorf("empty previous title: update = %v", u)
	}

	// A sighting: the item stays the first report.
	m = decodeJSON(t, goldenAlsoReported())
	u = m["update"].(map[string]any)
	if keys(u) != "also_reported_by,kind" || u["kind"] != "also_reported" {
		t.Fatalf("update = %v", u)
	}
	s := u["also_reported_by"].(map[string]any)
	if keys(s) != "item_id,link,seen_at,source,title" || s["seen_at"] != "2024-05-14T07:05:30Z" ||
		s["item_id"] != news.ItemID("bbc-world", "https://bbc.example/news/world-1") {
		t.Errorf("also_reported_by = %v", s)
	}
	if src := s["source"].(map[string]any); src["id"] != "bbc-world" || src["title"] != "BBC News <World> & *more*" {
		t.Errorf("source = %v", src)
	}
	if item := m["item"].(map[string]any); item["source"].(map[string]any)["id"] != "reuters-world" {
		t.Errorf("item = %v, want the first report", item)
	}

	// A match.created event never carries an update, whatever the row says.
	a = goldenAlert()
	a.Delivery.Update = goldenCorrected().Delivery.Update
	if m := decodeJSON(t, a); m["update"] != nil || m["type"] != "match.created" {
		t.Errorf("match.created with an Update row: %v", m)
	}
	// Without a creation time the match time stands in.
	a = goldenCorrected()
	a.Delivery.CreatedAt = time.Time{}
	if e := NewEvent(a); !e.Timestamp.Equal(a.Entry.Match.MatchedAt) {
		t.Errorf("timestamp = %v, want the match time", e.Timestamp)
	}
	// Receivers in Go can decode the event into Event.
	body, _, _ := Render("json", goldenAlsoReported())
	var e Event
	if err := json.Unmarshal(body, &e); err != nil || e.Update == nil || e.Update.AlsoReportedBy == nil ||
		e.Update.AlsoReportedBy.Source.ID != "bbc-world" || !e.Update.AlsoReportedBy.SeenAt.Equal(goldenAlsoReported().Delivery.Update.Sighting.SeenAt) {
		t.Errorf("decoded Event = %+v (%v)", e.Update, err)
	}
}

// An update row without a usable update cannot be rendered in any format,
// and its delivery fails for good without sending anything.
func TestUpdateInvalid(t *testing.T) {
	cases := map[string]*news.Update{
		"no update":             nil,
		"unknown kind":          {Kind: "retracted", Title: "x"},
		"sighting-less":         {Kind: news.UpdateAlsoReported},
		"empty kind":            {PreviousTitle: "a", Title: "b"},
		"kind with wrong case":  {Kind: "Corrected", PreviousTitle: "a", Title: "b"},
		"sighting as corrected": {Kind: news.UpdateCorrected + " ", Sighting: &news.Sighting{Title: "x"}},
	}
	rc := newReceiver(t, statuses(200))
	d := NewDispatcher(&memQueue{}, nil, testTopics, testOptions())
	for name, u := range cases {
		a := goldenCorrected()
		a.Delivery.Update = u
		for _, f := range Formats() {
			if body, _, err := RenderFor(formatHook(f), a); err == nil || !strings.Contains(err.Error(), "no valid update") {
				t.Errorf("%s, %s: body %.80s, err %v; want an error", name, f, body, err)
			}
		}
		w := testWebhook("hook", rc.URL)
		if o := d.Deliver(context.Background(), w, a, 1); o.Err == nil || o.Retryable {
			t.Errorf("%s: outcome %+v, want a permanent failure", name, o)
		}
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("receiver saw %d requests", n)
	}
}

// hostileSighting is an update whose every third-party string tries
// markup, mentions and link syntax in every chat format.
func hostileUpdates() map[string]news.Alert {
	const evil = "<!channel> <@U1> [x](https://evil.example) **b** ||s|| @everyone {{DATE(2030-01-01T00:00:00Z)}} <https://evil.example|y> `c`"
	c := goldenCorrected()
	c.Delivery.Update.PreviousTitle = "- " + evil
	c.Delivery.Update.Title = evil
	c.Entry.Item.Title = evil
	s := goldenAlsoReported()
	sg := *s.Delivery.Update.Sighting
	sg.SourceTitle, sg.Title = evil, evil
	sg.Link = "https://bbc.example/a b(c)<d>|e>f"
	s.Delivery.Update.Sighting = &sg
	return map[string]news.Alert{"corrected": c, "also_reported": s}
}

func TestUpdateEscaping(t *testing.T) {
	for name, a := range hostileUpdates() {
		t.Run(name, func(t *testing.T) {
			p := slackBody(t, a)
			for _, txt := range append(slackTexts(p), slackText{Type: "mrkdwn", Text: p.Text}) {
				if txt.Type != "mrkdwn" {
					continue
				}
				for _, bad := range []string{"<!channel>", "<@U1>", "<https://evil", "|y>"} {
					if strings.Contains(txt.Text, bad) {
						t.Errorf("slack: unescaped %q in %q", bad, txt.Text)
					}
				}
				if !txt.Verbatim && txt.Text != p.Text {
					t.Errorf("slack: mrkdwn without verbatim: %q", txt.Text)
				}
			}

			d := discordBody(t, a)
			for _, s := range []string{d.Content, d.Embeds[0].Description} {
				for _, bad := range []string{"[x](", "||s||", " @everyone", "<@U1>", "**b**", "`c`"} {
					if strings.Contains(s, bad) {
						t.Errorf("discord: %q in %q", bad, s)
					}
				}
			}

			tp, _ := teamsBody(t, a)
			for _, txt := range teamsTexts(tp) {
				for _, bad := range []string{"[x](", "{{DATE(2030", "**b**", "`c`"} {
					if strings.Contains(txt, bad) {
						t.Errorf("teams: %q in %q", bad, txt)
					}
				}
			}
		})
	}

	// The sighting's link stays one link in each format: its "|", ">",
	// spaces and parentheses cannot end the markup early.
	a := hostileUpdates()["also_reported"]
	line := slackBody(t, a).Blocks[3].Text.Text
	if !strings.Contains(line, "<https://bbc.example/a%20b(c)%3Cd%3E%7Ce%3Ef|") {
		t.Errorf("slack line = %q", line)
	}
	if desc := discordBody(t, a).Embeds[0].Description; !strings.HasSuffix(desc, "](https://bbc.example/a%20b%28c%29%3Cd%3E|e%3Ef)") {
		t.Errorf("discord description = %q", desc)
	}
	tp, _ := teamsBody(t, a)
	if txt := tp.Attachments[0].Content.Body[3].Text; !strings.HasSuffix(txt, "](https://bbc.example/a%20b%28c%29%3Cd%3E|e%3Ef)") {
		t.Errorf("teams line = %q", txt)
	}
}

func TestUpdateUnsafeLinks(t *testing.T) {
	for _, link := range []string{"javascript:alert(1)", "/relative", "", "data:text/html,x"} {
		a := goldenAlsoReported()
		sg := *a.Delivery.Update.Sighting
		sg.Link = link
		a.Delivery.Update.Sighting = &sg
		if line := slackBody(t, a).Blocks[3].Text.Text; strings.Contains(line, "<") {
			t.Errorf("%q: slack line %q is linked", link, line)
		}
		if desc := discordBody(t, a).Embeds[0].Description; strings.Contains(desc, "](") {
			t.Errorf("%q: discord description %q is linked", link, desc)
		}
		tp, _ := teamsBody(t, a)
		c := tp.Attachments[0].Content
		if txt := c.Body[3].Text; strings.Contains(txt, "](") || len(c.Actions) != 1 {
			t.Errorf("%q: teams line %q, %d actions; want unlinked, only the article's", link, txt, len(c.Actions))
		}
		// The headline itself of a correction, likewise.
		c2 := goldenCorrected()
		c2.Entry.Item.Link = link
		if line := slackBody(t, c2).Blocks[1].Text.Text; strings.Contains(line, "<") {
			t.Errorf("%q: slack correction %q is linked", link, line)
		}
	}
	// A link too long for a Slack section is left out, not sent to be refused.
	a := goldenCorrected()
	a.Entry.Item.Link = "https://example.com/" + strings.Repeat("a", slackURLMax)
	if line := slackBody(t, a).Blocks[1].Text.Text; strings.Contains(line, "<https") {
		t.Errorf("over-long link kept: %.100q", line)
	}
}

func TestUpdateLimits(t *testing.T) {
	for name, a := range map[string]news.Alert{"corrected": goldenCorrected(), "also_reported": goldenAlsoReported()} {
		t.Run(name, func(t *testing.T) {
			a.Topic.Title = huge(50)
			a.Entry.Item.Title = huge(500)
			a.Entry.SourceTitle = huge(300)
			a.Entry.Item.Link = "https://example.com/" + strings.Repeat("é", 1000)
			if u := a.Delivery.Update; u.Kind == news.UpdateCorrected {
				u.PreviousTitle, u.Title = huge(500), huge(500)
			} else {
				sg := *u.Sighting
				sg.SourceTitle, sg.Title = huge(300), huge(500)
				sg.Link = "https://bbc.example/" + strings.Repeat("(", 1500)
				u.Sighting = &sg
			}

			p := slackBody(t, a)
			for _, b := range p.Blocks {
				if b.Text != nil {
					limit := slackSectionMax
					if b.Type == "header" {
						limit = slackHeaderMax
					}
					checkText(t, "slack "+b.Type, b.Text.Text, limit)
				}
				for _, e := range b.Elements {
					checkText(t, "slack context", e.Text, slackSectionMax)
				}
			}
			checkText(t, "slack text", p.Text, slackTextMax)

			d := discordBody(t, a)
			e := d.Embeds[0]
			checkText(t, "discord content", d.Content, discordContentMax)
			checkText(t, "discord title", e.Title, discordTitleMax)
			checkText(t, "discord description", e.Description, discordDescriptionMax)
			total := width(e.Title) + width(e.Description) + width(e.Footer.Text)
			for _, f := range e.Fields {
				checkText(t, "discord field", f.Value, discordFieldValueMax)
				total += width(f.Name) + width(f.Value)
			}
			if total > discordEmbedTotalMax {
				t.Errorf("discord embed total %d, limit %d", total, discordEmbedTotalMax)
			}

			tp, body := teamsBody(t, a)
			if len(body) > teamsMaxBody {
				t.Errorf("teams body is %d bytes, Teams takes %d", len(body), teamsMaxBody)
			}
			for _, txt := range teamsTexts(tp) {
				if !utf8.ValidString(txt) {
					t.Errorf("teams: invalid UTF-8")
				}
			}

			m := decodeJSON(t, a)
			u := m["update"].(map[string]any)
			for _, s := range []any{u["previous_title"], u["title"]} {
				if s, ok := s.(string); ok && utf8.RuneCountInString(s) > maxEventTitle {
					t.Errorf("json update title of %d runes", utf8.RuneCountInString(s))
				}
			}
			if s, ok := u["also_reported_by"].(map[string]any); ok && utf8.RuneCountInString(s["title"].(string)) > maxEventTitle {
				t.Errorf("json sighting title of %d runes", utf8.RuneCountInString(s["title"].(string)))
			}
		})
	}
}

// Blank update text still reads as a sentence, never as an empty quote
// or a dangling "by :".
func TestUpdateBlankText(t *testing.T) {
	c := goldenCorrected()
	c.Delivery.Update.PreviousTitle = "  "
	if line := slackBody(t, c).Blocks[1].Text.Text; !strings.HasPrefix(line, "✏️ Correction — was: “(untitled)” → now: “<https://") {
		t.Errorf("slack correction = %q", line)
	}
	s := goldenAlsoReported()
	s.Delivery.Update.Sighting = &news.Sighting{SourceID: "ap", Link: "https://ap.example/1"}
	if line := slackBody(t, s).Blocks[3].Text.Text; line != "Also reported by ap: <https://ap.example/1|https://ap.example/1>" {
		t.Errorf("slack sighting = %q", line)
	}
	s.Delivery.Update.Sighting = &news.Sighting{}
	if desc := discordBody(t, s).Embeds[0].Description; desc != "Also reported by another source: \\(untitled\\)" {
		t.Errorf("discord sighting = %q", desc)
	}
}

// An update goes through the dispatcher like any alert: signed, with its
// own stable webhook-id, in the webhook's format.
func TestDeliverUpdate(t *testing.T) {
	rc := newReceiver(t, statuses(204))
	q := &memQueue{}
	a := goldenAlsoReported()
	a.Topic = news.Topic{ID: "xinjiang"} // the queue carries only the id
	q.add(a)
	w := testWebhook("newsroom", rc.URL)
	w.Updates = true
	d := NewDispatcher(q, []news.Webhook{w}, testTopics, testOptions())
	run(t, d)
	waitStatus(t, q, a.Delivery.ID, news.DeliveryDelivered)
	r := rc.requests()[0]
	if r.verifyErr != nil {
		t.Errorf("signature: %v", r.verifyErr)
	}
	if r.header.Get("webhook-id") != a.Delivery.ID {
		t.Errorf("webhook-id = %q, want %q", r.header.Get("webhook-id"), a.Delivery.ID)
	}
	var e Event
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatal(err)
	}
	if e.Type != news.EventMatchUpdated || e.Update == nil || e.Update.Kind != news.UpdateAlsoReported || e.Topic.Title != "Xinjiang & Uyghurs" {
		t.Errorf("event = %+v", e)
	}
}
