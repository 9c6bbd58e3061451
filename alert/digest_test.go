package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"wirewatch/news"
)

// digestSchema compiles DigestSchema with EventSchema, which its alerts
// refer to.
func digestSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, r := range []struct {
		url string
		doc []byte
	}{
		{"https://github.com/wirewatch/wirewatch/blob/main/alert/event.schema.json", EventSchema},
		{"https://github.com/wirewatch/wirewatch/blob/main/alert/digest.schema.json", DigestSchema},
	} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.doc))
		if err != nil {
			t.Fatalf("%s is not JSON: %v", r.url, err)
		}
		if err := c.AddResource(r.url, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("https://github.com/wirewatch/wirewatch/blob/main/alert/digest.schema.json")
	if err != nil {
		t.Fatalf("DigestSchema does not compile: %v", err)
	}
	return s
}

func TestDigestSchema(t *testing.T) {
	s := digestSchema(t)
	hostile := goldenDigest(4)
	hostile.Digest[2].Entry.Item.Title = strings.Repeat("\xff<b>", 3000)
	hostile.Digest[3].Entry.Match.Marks = []news.Span{{Start: -3, End: 900}}
	for name, a := range map[string]news.Alert{"golden": goldenDigest(3), "one": goldenDigest(1), "hostile": hostile, "big": goldenDigest(150)} {
		body, _, err := Render("json", a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := validate(t, s, body); err != nil {
			t.Errorf("%s: digest does not validate: %v", name, err)
		}
		var d DigestEvent
		if err := json.Unmarshal(body, &d); err != nil || d.Digest.Count != len(a.Digest) || len(d.Digest.Alerts) != len(a.Digest) {
			t.Errorf("%s: digest carries %d of %d alerts (%v)", name, d.Digest.Count, len(a.Digest), err)
		}
	}
	// The schema refuses what a receiver must never get.
	good, _, _ := Render("json", goldenDigest(2))
	for name, mutate := range map[string]func(m map[string]any){
		"no alerts":  func(m map[string]any) { m["digest"].(map[string]any)["alerts"] = []any{} },
		"bad reason": func(m map[string]any) { m["digest"].(map[string]any)["reasons"] = []any{"boredom"} },
		"alert no id": func(m map[string]any) {
			delete(m["digest"].(map[string]any)["alerts"].([]any)[0].(map[string]any), "id")
		},
		"not a digest":  func(m map[string]any) { m["type"] = "match.created" },
		"count missing": func(m map[string]any) { delete(m["digest"].(map[string]any), "count") },
	} {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		mutate(m)
		body, _ := json.Marshal(m)
		if err := validate(t, s, body); err == nil {
			t.Errorf("%s: validates", name)
		}
	}
}

// A big digest stays within every chat service's limits and says how many
// alerts it could not list.
func TestDigestWithinChatLimits(t *testing.T) {
	a := goldenDigest(120)
	for i := range a.Digest {
		a.Digest[i].Entry.Item.Title = strings.Repeat("Xinjiang <&> *report* ", 40)
		a.Digest[i].Entry.Item.Link = "https://example.com/" + strings.Repeat("a", 1400) + fmt.Sprint(i)
	}
	var sl slackPayload
	mustRender(t, "slack", a, &sl)
	if len(sl.Blocks) > 50 {
		t.Errorf("slack: %d blocks, the limit is 50", len(sl.Blocks))
	}
	for _, b := range sl.Blocks {
		if b.Text != nil && width(b.Text.Text) > slackSectionMax {
			t.Errorf("slack: section of %d units", width(b.Text.Text))
		}
	}
	last := sl.Blocks[len(sl.Blocks)-1]
	if last.Type != "context" || !strings.Contains(last.Elements[0].Text, "more in this digest") {
		t.Errorf("slack: the last block does not count what is left out: %+v", last)
	}

	var dc discordPayload
	mustRender(t, "discord", a, &dc)
	em := dc.Embeds[0]
	total := width(em.Title) + width(em.Description) + width(em.Footer.Text)
	if width(em.Description) > discordDescriptionMax || total > discordEmbedTotalMax || width(dc.Content) > discordContentMax {
		t.Errorf("discord: description %d, embed total %d, content %d", width(em.Description), total, width(dc.Content))
	}
	if !strings.Contains(em.Description, "more in this digest") {
		t.Errorf("discord: description does not count what is left out")
	}

	body, _, err := Render("teams", a)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > teamsMaxBody {
		t.Errorf("teams: %d bytes, Teams takes %d", len(body), teamsMaxBody)
	}
	if !bytes.Contains(body, []byte("more in this digest")) {
		t.Errorf("teams: does not count what is left out")
	}
}

func mustRender(t *testing.T, format string, a news.Alert, v any) {
	t.Helper()
	body, _, err := Render(format, a)
	if err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
}

func TestEmptyDigestIsAnError(t *testing.T) {
	a := goldenDigest(1)
	a.Digest = nil
	for _, f := range []string{"json", "slack"} {
		if _, _, err := Render(f, a); err == nil || !strings.Contains(err.Error(), "no alerts") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestParseTemplateForNoiseControl(t *testing.T) {
	w := news.Webhook{ID: "w", Format: "template", Template: goldenTemplate, Noise: news.Noise{RateCount: 5, RatePer: 60e9}}
	if err := ParseTemplateFor(w); err != nil {
		t.Errorf("golden template with noise control: %v", err)
	}
	w.Template = `{{.Item.Title}}`
	if err := ParseTemplateFor(w); err == nil || !strings.Contains(err.Error(), ".Digest") {
		t.Errorf("template without .Digest: %v", err)
	}
	w.Template = `{{if .Digest}}{{index .Digest.Alerts 9}}{{else}}{{.Item.Title}}{{end}}`
	if err := ParseTemplateFor(w); err == nil || !strings.Contains(err.Error(), "on a digest") {
		t.Errorf("template failing on a digest: %v", err)
	}
	w.Noise = news.Noise{}
	w.Template = `{{.Item.Title}}`
	if err := ParseTemplateFor(w); err != nil {
		t.Errorf("template without noise control: %v", err)
	}
	w.SourceHealth = true
	if err := ParseTemplateFor(w); err == nil || !strings.Contains(err.Error(), ".Health") {
		t.Errorf("source_health template without .Health: %v", err)
	}
	w.Template = goldenTemplate
	if err := ParseTemplateFor(w); err != nil {
		t.Errorf("golden template with source_health: %v", err)
	}
}

func TestSourceHealthSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SourceHealthSchema))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("h.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("h.json")
	if err != nil {
		t.Fatal(err)
	}
	recovered := goldenHealth()
	recovered.Delivery.Health = &news.SourceHealth{SourceID: "x", State: news.HealthOK, Previous: news.HealthSilent}
	for name, a := range map[string]news.Alert{"failed": goldenHealth(), "recovered": recovered} {
		body, _, err := Render("json", a)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(t, s, body); err != nil {
			t.Errorf("%s: %v\n%s", name, err, body)
		}
	}
	a := goldenHealth()
	a.Delivery.Health = nil
	if _, _, err := Render("slack", a); err == nil {
		t.Error("a source.health delivery without its report rendered")
	}
}
