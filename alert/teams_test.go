package alert

import (
	"encoding/json"
	"strings"
	"testing"

	"wirewatch/news"
)

// teamsBody renders an alert as Teams and decodes it into our own types.
func teamsBody(t *testing.T, a news.Alert) (teamsPayload, []byte) {
	t.Helper()
	body, ct, err := Render("teams", a)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	var p teamsPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Attachments) != 1 || p.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("attachments = %+v", p.Attachments)
	}
	return p, body
}

// teamsTexts lists every Markdown text of a card: TextBlocks and facts.
func teamsTexts(p teamsPayload) []string {
	var out []string
	for _, el := range p.Attachments[0].Content.Body {
		if el.Text != "" {
			out = append(out, el.Text)
		}
		for _, f := range el.Facts {
			out = append(out, f.Title, f.Value)
		}
	}
	return out
}

func TestTeamsCard(t *testing.T) {
	p, body := teamsBody(t, goldenAlert())
	// The shape Teams Workflows requires, checked on the raw JSON.
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	att := raw["attachments"].([]any)[0].(map[string]any)
	if _, ok := att["contentUrl"]; !ok || att["contentUrl"] != nil {
		t.Errorf("contentUrl = %v, want null", att["contentUrl"])
	}
	card := att["content"].(map[string]any)
	if card["$schema"] != "http://adaptivecards.io/schemas/adaptive-card.json" || card["type"] != "AdaptiveCard" || card["version"] != "1.4" {
		t.Errorf("card header = %v %v %v", card["$schema"], card["type"], card["version"])
	}
	c := p.Attachments[0].Content
	if len(c.Actions) != 1 || c.Actions[0].Type != "Action.OpenUrl" || c.Actions[0].URL != goldenAlert().Entry.Item.Link {
		t.Errorf("actions = %+v", c.Actions)
	}
	texts := strings.Join(teamsTexts(p), "\n")
	for _, want := range []string{
		"[UN report on Xinjiang: \"serious\" <abuses> & detentions 🌏](https://example.com/world/xinjiang-report?id=42&ref=rss)",
		"Reuters — World · {{DATE(2024-05-14T07:30:00Z, SHORT)}} {{TIME(2024-05-14T07:30:00Z)}}",
		"the UN **human rights** office says **Uyghurs** <b>held</b>",
		"Xinjiang (title), Uyghur\\* (summary), human rights (summary)",
		"0.87",
	} {
		if !strings.Contains(texts, want) {
			t.Errorf("card lacks %q:\n%s", want, texts)
		}
	}
}

func TestTeamsEscaping(t *testing.T) {
	a := goldenAlert()
	a.Entry.Item.Title = "[click](https://evil.example) *now* _x_ `code` {{DATE(2030-01-01T00:00:00Z)}}"
	a.Entry.Item.Link = "https://example.com/a (b)/c<d>"
	a.Entry.SourceTitle = "- list {{TIME(2030-01-01T00:00:00Z)}}"
	a.Entry.Match.Snippet = "1. see [cheap](https://evil.example) \\*"
	a.Entry.Match.Marks = nil
	a.Topic.Title = "+ topic"
	p, _ := teamsBody(t, a)
	body := p.Attachments[0].Content.Body
	if got, want := body[1].Text, "[\\[click\\](https://evil.example) \\*now\\* \\_x\\_ \\`code\\` \\{\\{DATE(2030-01-01T00:00:00Z)\\}\\}](https://example.com/a%20%28b%29/c%3Cd%3E)"; got != want {
		t.Errorf("headline =\n %q\nwant\n %q", got, want)
	}
	for _, txt := range teamsTexts(p) {
		for _, bad := range []string{"[cheap](", "{{TIME(2030", "{{DATE(2030", "*now*"} {
			if strings.Contains(txt, bad) {
				t.Errorf("unescaped %q in %q", bad, txt)
			}
		}
	}
	if got := body[0].Text; got != "🔔 \\+ topic" {
		t.Errorf("topic = %q: a leading list marker must be escaped", got)
	}
	if got := body[2].Text; !strings.HasPrefix(got, "\\- list") {
		t.Errorf("context = %q", got)
	}
	if got := body[3].Text; !strings.HasPrefix(got, "1\\. see \\[cheap\\]") || !strings.HasSuffix(got, "\\\\\\*") {
		t.Errorf("snippet = %q", got)
	}
}

func TestTeamsBold(t *testing.T) {
	for _, tc := range []struct {
		name, snippet string
		marks         []string
		want          string
	}{
		{"words", "the UN human rights office", []string{"human rights"}, "the UN **human rights** office"},
		{"inside a word", "the Uyghurs", []string{"Uyghur"}, "the **Uyghur**s"},
		// "**" before punctuation opens only after space or punctuation.
		{"punctuation after a letter", `a"quoted" b`, []string{`"quoted"`}, `a"quoted" b`},
		{"punctuation after space", `a "quoted" b`, []string{`"quoted"`}, `a **"quoted"** b`},
		{"escaped star inside", "rated 5*star camps", []string{"5*star"}, `rated **5\*star** camps`},
		{"escaped bracket first", "x [y] z", []string{"[y]"}, `x **\[y\]** z`},
		{"edge whitespace", "says Uyghurs held", []string{" Uyghurs"}, "says Uyghurs held"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var marks []news.Span
			at := 0
			for _, m := range tc.marks {
				s := spanOf(tc.snippet[at:], m)
				marks = append(marks, sp(at+s.Start, at+s.End))
				at += s.End
			}
			a := goldenAlert()
			a.Entry.Match.Snippet, a.Entry.Match.Marks = tc.snippet, marks
			p, _ := teamsBody(t, a)
			if got := p.Attachments[0].Content.Body[3].Text; got != tc.want {
				t.Errorf("snippet = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTeamsUnsafeLink(t *testing.T) {
	for _, link := range []string{"javascript:alert(1)", "/relative", "", "https://example.com/" + strings.Repeat("x", teamsURLMax)} {
		a := goldenAlert()
		a.Entry.Item.Link = link
		p, _ := teamsBody(t, a)
		c := p.Attachments[0].Content
		if len(c.Actions) != 0 {
			t.Errorf("link %.40q: actions %+v", link, c.Actions)
		}
		if h := c.Body[1].Text; strings.Contains(h, "](") {
			t.Errorf("link %.40q: headline %.80q is linked", link, h)
		}
	}
}

func TestTeamsLimits(t *testing.T) {
	ctrl := goldenAlert()
	nasty := strings.Repeat("\x01\x02\"\\", 5000) // six JSON bytes per control character
	ctrl.Topic.Title, ctrl.Entry.Item.Title, ctrl.Entry.SourceTitle = nasty, nasty, nasty
	ctrl.Entry.Item.Summary, ctrl.Entry.Match.Snippet = nasty, ""
	ctrl.Entry.Match.Terms = []string{nasty}
	for name, a := range map[string]news.Alert{"huge": hugeAlert(), "control characters": ctrl} {
		t.Run(name, func(t *testing.T) {
			p, body := teamsBody(t, a)
			if len(body) > teamsMaxBody {
				t.Errorf("body is %d bytes, Teams takes %d", len(body), teamsMaxBody)
			}
			for _, txt := range teamsTexts(p) {
				checkText(t, "text", txt, teamsExcerptMax+10)
			}
			if h := p.Attachments[0].Content.Body[1].Text; !strings.Contains(h, "…") {
				t.Errorf("headline not cut: %.80q", h)
			}
		})
	}
}
