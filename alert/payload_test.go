package alert

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"wirewatch/news"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenAlert is a realistic alert with the characters each format must
// handle: Slack's &, <, >, Discord markdown, a would-be mass mention,
// non-ASCII text and an emoji outside the BMP.
func goldenAlert() news.Alert {
	published := time.Date(2024, 5, 14, 9, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	matched := time.Date(2024, 5, 14, 7, 45, 12, 500_000_000, time.UTC)
	item := news.Item{
		ID:        news.ItemID("reuters-world", "https://example.com/world/xinjiang-report?id=42&ref=rss"),
		SourceID:  "reuters-world",
		Key:       "https://example.com/world/xinjiang-report?id=42&ref=rss",
		Title:     "UN report on Xinjiang: \"serious\" <abuses> & detentions 🌏",
		Link:      "https://example.com/world/xinjiang-report?id=42&ref=rss",
		Summary:   "The UN human rights office says @everyone *must* read [this](https://evil.example) — Uyghurs held in camps.",
		Published: published,
	}
	d := news.Delivery{
		ID:        news.DeliveryID(news.EventMatchCreated, "xinjiang", item.ID, "newsroom"),
		WebhookID: "newsroom",
		EventType: news.EventMatchCreated,
		TopicID:   "xinjiang",
		ItemID:    item.ID,
		Status:    news.DeliveryPending,
		CreatedAt: matched,
	}
	return news.Alert{
		Delivery: d,
		Topic:    news.Topic{ID: "xinjiang", Title: "Xinjiang & Uyghurs"},
		Entry: news.Entry{
			Item: item,
			Match: news.Match{
				TopicID: "xinjiang", ItemID: item.ID,
				Terms: []string{"Xinjiang", "Uyghur*", "human rights"},
				Hits: []news.Hit{
					{Term: "Xinjiang", Field: "title", Text: "Xinjiang"},
					{Term: "Uyghur*", Field: "summary", Text: "Uyghurs"},
					{Term: "human rights", Field: "summary", Text: "human rights"},
				},
				Score:     0.8731,
				Snippet:   goldenSnippet,
				Marks:     []news.Span{spanOf(goldenSnippet, "human rights"), spanOf(goldenSnippet, "Uyghurs")},
				MatchedAt: matched,
			},
			SourceTitle: "Reuters — World",
		},
	}
}

const goldenSnippet = "…the UN human rights office says Uyghurs <b>held</b> in camps & \"re-education\" centres…"

// spanOf is the byte range of the first sub in s.
func spanOf(s, sub string) news.Span {
	i := strings.Index(s, sub)
	if i < 0 {
		panic("spanOf: " + sub + " not in " + s)
	}
	return news.Span{Start: i, End: i + len(sub)}
}

// goldenCorrected is the golden alert's story with its headline corrected:
// the item carries the new title, the update both.
func goldenCorrected() news.Alert {
	a := goldenAlert()
	prev := a.Entry.Item.Title
	a.Entry.Item.Title = "UN report on Xinjiang: *grave* <abuses> & [detentions] 🌏"
	a.Entry.PreviousTitle = prev
	a.Delivery.ID = news.UpdateDeliveryID("xinjiang", a.Entry.Item.ID, "newsroom", "title:"+a.Entry.Item.Title)
	a.Delivery.EventType = news.EventMatchUpdated
	a.Delivery.CreatedAt = time.Date(2024, 5, 14, 9, 12, 0, 0, time.UTC)
	a.Delivery.Update = &news.Update{Kind: news.UpdateCorrected, PreviousTitle: prev, Title: a.Entry.Item.Title}
	return a
}

// goldenAlsoReported is the golden alert's story reported by another
// outlet, whose text tries Slack, Discord and Teams markup.
func goldenAlsoReported() news.Alert {
	a := goldenAlert()
	s := news.Sighting{
		ItemID:      news.ItemID("bbc-world", "https://bbc.example/news/world-1"),
		SourceID:    "bbc-world",
		SourceTitle: "BBC News <World> & *more*",
		Title:       "Xinjiang: UN says [abuses] _may_ be crimes @everyone <!here>",
		Link:        "https://bbc.example/news/world-1?a=1&b=(2)|x",
		SeenAt:      time.Date(2024, 5, 14, 8, 5, 30, 0, time.FixedZone("BST", 3600)),
	}
	a.Entry.AlsoReportedBy = []news.Sighting{s}
	a.Delivery.ID = news.UpdateDeliveryID("xinjiang", a.Entry.Item.ID, "newsroom", "seen:"+s.ItemID)
	a.Delivery.EventType = news.EventMatchUpdated
	a.Delivery.CreatedAt = time.Date(2024, 5, 14, 7, 5, 31, 0, time.UTC)
	a.Delivery.Update = &news.Update{Kind: news.UpdateAlsoReported, Sighting: &s}
	return a
}

// goldenCases are the alerts with golden files: a new match (testdata/
// FORMAT.golden) and an update of each kind (FORMAT.KIND.golden).
func goldenCases() []struct {
	name  string
	alert news.Alert
} {
	return []struct {
		name  string
		alert news.Alert
	}{
		{"", goldenAlert()},
		{news.UpdateCorrected, goldenCorrected()},
		{news.UpdateAlsoReported, goldenAlsoReported()},
		{news.EventDigest, goldenDigest(3)},
		{news.EventSourceHealth, goldenHealth()},
	}
}

// goldenHealth is a source that failed, with text that tries every format's
// markup.
func goldenHealth() news.Alert {
	at := time.Date(2024, 5, 14, 7, 45, 0, 0, time.UTC)
	return news.Alert{Delivery: news.Delivery{
		ID: news.DeliveryID(news.EventSourceHealth, "reuters-world", "failed@2024-05-14T07:45:00Z", "newsroom"), WebhookID: "newsroom",
		EventType: news.EventSourceHealth, Status: news.DeliveryPending, CreatedAt: at,
		Health: &news.SourceHealth{SourceID: "reuters-world", Title: "Reuters <World> & *more*", URL: "https://example.com/world.rss",
			State: news.HealthFailed, Previous: news.HealthFailing, Reason: "http-5xx",
			LastError: `sources: fetch "https://example.com/world.rss": 503 Service Unavailable @everyone`,
			Failures:  5, LastSuccess: at.Add(-3 * time.Hour), LastItem: at.Add(-4 * time.Hour), At: at},
	}}
}

// goldenDigest is a digest of n alerts held during quiet hours and over
// the rate limit: the golden alert, its correction, and more of the same
// story from other outlets (the golden case: the new match, the
// correction and one more).
func goldenDigest(n int) news.Alert {
	held := time.Date(2024, 5, 14, 22, 10, 0, 0, time.UTC)
	var members []news.Alert
	for i := range n {
		var m news.Alert
		switch i {
		case 0:
			m = goldenAlert()
		case 1:
			m = goldenCorrected()
		default:
			m = goldenAlert()
			m.Entry.Item.ID = news.ItemID("afp", fmt.Sprintf("story-%d", i))
			m.Entry.Item.SourceID = "afp"
			m.Entry.SourceTitle = "AFP"
			m.Entry.Item.Title = fmt.Sprintf("Xinjiang report, reaction %d", i)
			m.Entry.Item.Link = fmt.Sprintf("https://afp.example/%d", i)
			m.Delivery.ID = news.DeliveryID(news.EventMatchCreated, "xinjiang", m.Entry.Item.ID, "newsroom")
			m.Delivery.ItemID = m.Entry.Item.ID
		}
		m.Delivery.Status = news.DeliveryDigested
		m.Delivery.HeldAt = held.Add(time.Duration(i) * time.Minute)
		m.Delivery.HoldReason = news.HoldQuietHours
		members = append(members, m)
	}
	return news.Alert{
		Delivery: news.Delivery{
			ID: news.DeliveryID(news.EventDigest, "", members[0].Delivery.ID, "newsroom"), WebhookID: "newsroom",
			EventType: news.EventDigest, Status: news.DeliveryPending,
			CreatedAt: time.Date(2024, 5, 15, 7, 0, 0, 0, time.UTC), HoldReason: "quiet_hours,rate_limit",
		},
		Digest: members,
	}
}

func TestRenderGolden(t *testing.T) {
	for _, gc := range goldenCases() {
		for _, format := range Formats() {
			name := format
			if gc.name != "" {
				name += "." + gc.name
			}
			t.Run(name, func(t *testing.T) { checkGolden(t, format, name, gc.alert) })
		}
	}
}

func checkGolden(t *testing.T, format, name string, a news.Alert) {
	t.Helper()
	body, ct, err := RenderFor(formatHook(format), a)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "application/json" {
		t.Errorf("content type = %q", ct)
	}
	if !json.Valid(body) {
		t.Fatalf("body is not JSON: %s", body)
	}
	// Golden files hold the indented form so diffs are readable;
	// the body itself is compact, which is checked too. A
	// template's body is the desk's own layout: kept byte for byte.
	var pretty bytes.Buffer
	if format == "template" {
		pretty.Write(body)
	} else {
		if err := json.Compact(new(bytes.Buffer), body); err != nil || bytes.ContainsAny(body, "\n\t") {
			t.Errorf("body is not compact JSON: %s", body)
		}
		if err := json.Indent(&pretty, body, "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.WriteByte('\n')
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./alert/ -run Golden -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs from golden:\n got: %s\nwant: %s", name, pretty.Bytes(), want)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	for _, format := range Formats() {
		a, _, err := RenderFor(formatHook(format), goldenAlert())
		if err != nil {
			t.Fatal(err)
		}
		b, _, _ := RenderFor(formatHook(format), goldenAlert())
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renders of one alert differ", format)
		}
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	for _, f := range []string{"", "JSON", "Teams", "xml", "template"} {
		if body, _, err := Render(f, goldenAlert()); err == nil {
			t.Errorf("Render(%q) = %s, want error", f, body)
		}
	}
}

func TestEventJSON(t *testing.T) {
	a := goldenAlert()
	a.Entry.Match.Score = math.NaN()
	a.Entry.Match.Terms = nil
	a.Entry.Item.Title = "bad \xff\xfe bytes"
	a.Topic.Title = ""
	body, _, err := Render("json", a)
	if err != nil {
		t.Fatalf("NaN score or bad UTF-8 broke rendering: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got["score"] != 0.0 {
		t.Errorf("score = %v, want 0", got["score"])
	}
	if terms, ok := got["matched_terms"].([]any); !ok || len(terms) != 0 {
		t.Errorf("matched_terms = %#v, want []", got["matched_terms"])
	}
	item := got["item"].(map[string]any)
	if item["title"] != "bad \uFFFD bytes" {
		t.Errorf("item.title = %q", item["title"])
	}
	if got["id"] != a.Delivery.ID || got["type"] != "match.created" {
		t.Errorf("id/type = %v/%v", got["id"], got["type"])
	}
	if got["timestamp"] != "2024-05-14T07:45:12.5Z" {
		t.Errorf("timestamp = %v, want the match time in UTC", got["timestamp"])
	}
	if item["published"] != "2024-05-14T07:30:00Z" {
		t.Errorf("published = %v, want UTC", item["published"])
	}

	// Without a match time the delivery's creation time stands in.
	a.Entry.Match.MatchedAt = time.Time{}
	a.Delivery.CreatedAt = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if e := NewEvent(a); !e.Timestamp.Equal(a.Delivery.CreatedAt) {
		t.Errorf("Timestamp = %v, want CreatedAt", e.Timestamp)
	}
	// Ids fall back to the delivery row's.
	a.Topic.ID, a.Entry.Item.ID = "", ""
	if e := NewEvent(a); e.Topic.ID != "xinjiang" || e.Item.ID != a.Delivery.ItemID {
		t.Errorf("fallback ids = %q, %q", e.Topic.ID, e.Item.ID)
	}
}

// slackBody decodes a rendered Slack message back into our own types.
func slackBody(t *testing.T, a news.Alert) slackPayload {
	t.Helper()
	body, _, err := Render("slack", a)
	if err != nil {
		t.Fatal(err)
	}
	var p slackPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// slackTexts lists every text object in a Slack message.
func slackTexts(p slackPayload) []slackText {
	var out []slackText
	for _, b := range p.Blocks {
		if b.Text != nil {
			out = append(out, *b.Text)
		}
		out = append(out, b.Fields...)
		out = append(out, b.Elements...)
	}
	return out
}

func TestSlackEscaping(t *testing.T) {
	a := goldenAlert()
	a.Entry.Item.Title = "<!channel> Tom & Jerry <https://evil.example|click> > 1"
	a.Entry.Item.Link = "https://example.com/a?b=1&c=2|x>y"
	a.Entry.Match.Snippet = "ping <@U12345> and <!here>"
	a.Entry.SourceTitle = "A <b>&</b> B"
	a.Entry.Match.Terms = []string{"<!everyone>"}
	p := slackBody(t, a)

	for _, txt := range append(slackTexts(p), slackText{Type: "mrkdwn", Text: p.Text}) {
		if txt.Type != "mrkdwn" {
			continue
		}
		for _, bad := range []string{"<!channel>", "<!here>", "<!everyone>", "<@U12345>", "<https://evil", "<b>"} {
			if strings.Contains(txt.Text, bad) {
				t.Errorf("unescaped %q in %q", bad, txt.Text)
			}
		}
		if !txt.Verbatim && txt.Text != p.Text {
			t.Errorf("mrkdwn object without verbatim: %q", txt.Text)
		}
	}
	headline := p.Blocks[1].Text.Text
	want := "*<https://example.com/a?b=1&amp;c=2%7Cx%3Ey|&lt;!channel&gt; Tom &amp; Jerry &lt;https://evil.example|click&gt; &gt; 1>*"
	if headline != want {
		t.Errorf("headline =\n %q\nwant\n %q", headline, want)
	}
	all, err := marshal(p) // no HTML escaping, so entities are visible
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"&lt;@U12345&gt;", "A &lt;b&gt;&amp;&lt;/b&gt; B", "&lt;!everyone&gt;"} {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("body lacks %q: %s", want, all)
		}
	}
	// A plain "&" in ordinary text is escaped exactly once.
	if strings.Contains(string(all), "&amp;amp;") {
		t.Errorf("double escaping: %s", all)
	}
}

func TestUnsafeLinksAreNotLinked(t *testing.T) {
	for _, link := range []string{"javascript:alert(1)", "/relative/path", "ftp://example.com/x", "", "http://"} {
		a := goldenAlert()
		a.Entry.Item.Link = link
		p := slackBody(t, a)
		if h := p.Blocks[1].Text.Text; strings.Contains(h, "<") || strings.Contains(h, "|") {
			t.Errorf("link %q: headline %q is linked", link, h)
		}
		d := discordBody(t, a)
		if d.Embeds[0].URL != "" {
			t.Errorf("link %q: discord embed url = %q", link, d.Embeds[0].URL)
		}
	}
}

// huge returns feed text far beyond every platform limit: multi-byte runes,
// astral-plane emoji (two UTF-16 units each), markup characters to escape,
// and whitespace runs to collapse.
func huge(n int) string {
	return strings.Repeat("Ünïcödé 🌏 <&> *_[x](y)_* @everyone \n\t ", n)
}

func hugeAlert() news.Alert {
	a := goldenAlert()
	a.Topic.Title = huge(50)
	a.Entry.Item.Title = huge(500)
	a.Entry.Item.Summary = huge(5000)
	a.Entry.Match.Snippet = huge(2000)
	a.Entry.SourceTitle = huge(300)
	for i := 0; i < 300; i++ {
		a.Entry.Match.Terms = append(a.Entry.Match.Terms, huge(3))
	}
	return a
}

func TestSlackLimits(t *testing.T) {
	p := slackBody(t, hugeAlert())
	if len(p.Blocks) > 50 {
		t.Errorf("%d blocks, Slack allows 50", len(p.Blocks))
	}
	for _, b := range p.Blocks {
		if b.Text != nil {
			limit := slackSectionMax
			if b.Type == "header" {
				limit = slackHeaderMax
			}
			checkText(t, b.Type, b.Text.Text, limit)
		}
		if len(b.Fields) > 10 || len(b.Elements) > 10 {
			t.Errorf("%s block has %d fields, %d elements", b.Type, len(b.Fields), len(b.Elements))
		}
		for _, f := range b.Fields {
			checkText(t, "field", f.Text, slackFieldMax)
		}
		for _, e := range b.Elements {
			checkText(t, "context", e.Text, slackSectionMax)
		}
	}
	checkText(t, "text", p.Text, slackTextMax)
	if !strings.HasSuffix(p.Blocks[0].Text.Text, "…") {
		t.Errorf("truncated header does not end with …: %q", p.Blocks[0].Text.Text)
	}
}

// checkText asserts s is valid UTF-8 within limit, counted both in code
// points and in UTF-16 units (whichever a platform uses).
func checkText(t *testing.T, what, s string, limit int) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: invalid UTF-8", what)
	}
	if n := utf8.RuneCountInString(s); n > limit {
		t.Errorf("%s: %d runes, limit %d", what, n, limit)
	}
	if n := width(s); n > limit {
		t.Errorf("%s: %d UTF-16 units, limit %d", what, n, limit)
	}
	if s == "" {
		t.Errorf("%s: empty", what)
	}
}

func discordBody(t *testing.T, a news.Alert) discordPayload {
	t.Helper()
	body, _, err := Render("discord", a)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(body) {
		t.Fatal("discord body is not valid UTF-8")
	}
	var p discordPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	// allowed_mentions.parse must be present and an empty list, never
	// null or missing (either of which lets Discord parse mentions).
	var raw struct {
		AllowedMentions struct {
			Parse *[]string `json:"parse"`
		} `json:"allowed_mentions"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.AllowedMentions.Parse == nil || len(*raw.AllowedMentions.Parse) != 0 {
		t.Errorf("allowed_mentions = %s", body)
	}
	return p
}

func TestDiscordLimits(t *testing.T) {
	// With a snippet the description is bounded by the event's snippet
	// cap; without one the 4000-unit summary stands in and the 6000-unit
	// embed total is what binds.
	noSnippet := hugeAlert()
	noSnippet.Entry.Match.Snippet = ""
	for name, a := range map[string]news.Alert{"snippet": hugeAlert(), "summary": noSnippet} {
		t.Run(name, func(t *testing.T) {
			p := discordBody(t, a)
			if len(p.Embeds) != 1 {
				t.Fatalf("%d embeds, want 1", len(p.Embeds))
			}
			e := p.Embeds[0]
			checkText(t, "content", p.Content, discordContentMax)
			checkText(t, "title", e.Title, discordTitleMax)
			checkText(t, "description", e.Description, discordDescriptionMax)
			checkText(t, "footer", e.Footer.Text, discordFooterMax)
			if len(e.Fields) > 25 {
				t.Errorf("%d fields, Discord allows 25", len(e.Fields))
			}
			total := width(e.Title) + width(e.Description) + width(e.Footer.Text)
			runes := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description) + utf8.RuneCountInString(e.Footer.Text)
			for _, f := range e.Fields {
				checkText(t, "field name", f.Name, discordFieldNameMax)
				checkText(t, "field value", f.Value, discordFieldValueMax)
				total += width(f.Name) + width(f.Value)
				runes += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
			}
			if total > discordEmbedTotalMax || runes > discordEmbedTotalMax {
				t.Errorf("embed total = %d units / %d runes, limit %d", total, runes, discordEmbedTotalMax)
			}
			for what, s := range map[string]string{"title": e.Title, "description": e.Description, "content": p.Content} {
				if !strings.HasSuffix(s, "…") {
					t.Errorf("truncated %s does not end with …", what)
				}
			}
			// The budget is used, not wasted (an escape pair and the
			// ellipsis may leave a unit or two).
			if name == "summary" && total < discordEmbedTotalMax-3 {
				t.Errorf("embed total %d: description cut shorter than the budget", total)
			}
		})
	}
}

func TestDiscordEscaping(t *testing.T) {
	p := discordBody(t, goldenAlert())
	d := p.Embeds[0].Description
	// The snippet's "<b>" must not reach Discord as markup.
	if strings.Contains(d, "<b>") || !strings.Contains(d, `\<b\>`) {
		t.Errorf("description = %q", d)
	}
	a := goldenAlert()
	a.Entry.Match.Snippet = "see [cheap meds](https://evil.example) @everyone ||spoiler||"
	d = discordBody(t, a).Embeds[0].Description
	for _, bad := range []string{"[cheap meds](", "||spoiler||", " @everyone"} {
		if strings.Contains(d, bad) {
			t.Errorf("description keeps %q: %q", bad, d)
		}
	}
}

func TestEscTruncate(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int
		esc   func(rune) string
		want  string
	}{
		{"hello", 5, nil, "hello"},
		{"hello!", 5, nil, "hell…"},
		{"hello", 0, nil, ""},
		{"ab cd", 4, nil, "ab…"},      // trailing space before … dropped
		{"🌏🌏🌏", 4, nil, "🌏…"},         // emoji count two units
		{"a&b", 5, slackEscape, "a…"}, // never half an entity
		{"a&b", 7, slackEscape, "a&amp;b"},
		{"x*y", 3, discordEscape, "x…"},
	} {
		if got := escTruncate(tc.in, tc.limit, tc.esc); got != tc.want {
			t.Errorf("escTruncate(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
}
