package alert

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

// goldenTemplate is a desk's template for a chat tool that takes
// {"text": ...} with Markdown (Mattermost, Rocket.Chat and the like): it
// uses every documented field and every added function.
const goldenTemplate = `{{if .Digest}}{
  "text": {{json (printf "%d alerts (%s)" .Digest.Count (join .Digest.Reasons ", "))}},
  "type": {{json .Type}}, "id": {{json .ID}}, "since": {{json .Digest.Since}},
  "alerts": [{{range $i, $a := .Digest.Alerts}}{{if $i}},{{end}}
    {{json (printf "[%s](%s) · %s · %s" $a.Item.Title $a.Item.Link $a.Topic.Title $a.ID)}}{{end}}]
}{{else if .Health}}{
  "text": {{json (printf "Source %s is %s (was %s): %s" .Health.Source.Title .Health.State .Health.Previous .Health.LastError)}},
  "type": {{json .Type}}, "id": {{json .ID}}, "failures": {{.Health.Failures}}{{with .Health.LastSuccess}}, "last_success": {{json .}}{{end}}
}{{else}}{
  "text": {{json (printf "**%s**: [%s](%s)" .Topic.Title .Item.Title .Item.Link)}},
  "type": {{json .Type}}, "id": {{json .ID}}, "topic_id": {{json .Topic.ID}},
  "when": {{json (.Timestamp.Format "2006-01-02 15:04 UTC")}},
  "published": {{json .Item.Published}},
  "item": {{json .Item.ID}}, "source": {{json (printf "%s (%s)" .Item.Source.Title .Item.Source.ID)}},
  "summary": {{json (truncate 40 .Item.Summary)}},
  "terms": {{json (join .MatchedTerms ", ")}},
  "why": [{{range $i, $m := .Matched}}{{if $i}}, {{end}}{{json (printf "%s in %s" $m.Term (join $m.Fields "+"))}}{{end}}],
  "snippet": {{json (mark . "**" "**")}},
  "marks": {{len .Marks}}, "score": {{printf "%.2f" .Score}}
{{- with .Update}},
  "update": {{json .Kind}}, "change": {{if eq .Kind "corrected" -}}
  {{json (printf "Correction: “%s” → “%s”" .PreviousTitle .Title)}}
  {{- else}}{{with .AlsoReportedBy -}}
  {{json (printf "Also reported by %s (%s) at %s: [%s](%s)" .Source.Title .Source.ID (.SeenAt.Format "15:04") .Title .Link)}}, "other_item": {{json .ItemID}}
  {{- end}}{{end}}
{{- end}}
}{{end}}`

// formatHook is a webhook of the format, with goldenTemplate for
// "template", for tests that go through every format.
func formatHook(format string) news.Webhook {
	w := news.Webhook{ID: "newsroom", Format: format}
	if format == "template" {
		w.Template = goldenTemplate
	}
	return w
}

func TestParseTemplate(t *testing.T) {
	if err := ParseTemplate(goldenTemplate); err != nil {
		t.Fatalf("golden template: %v", err)
	}
	for _, ok := range []string{
		"{{.Item.Title}}",
		`{{with .Item}}{{.Title}} <{{.Link}}>{{end}}`,
		`{{define "line"}}- {{.}}{{end}}{{range .MatchedTerms}}{{template "line" .}}{{end}}`,
		`{{range $m := .Marks}}{{index $m 0}}{{end}}.`,
		`{{with .Update}}{{.Kind}}{{with .AlsoReportedBy}} {{.Source.Title}} {{.SeenAt.Unix}}{{end}}{{end}}.`,
		// Silent on updates: fine for a webhook without updates: true.
		`{{if not .Update}}new: {{.Item.Title}}{{end}}`,
	} {
		if err := ParseTemplate(ok); err != nil {
			t.Errorf("ParseTemplate(%q) = %v, want nil", ok, err)
		}
	}
	for _, tc := range []struct{ text, want string }{
		{"", "empty"},
		{"   \n", "empty"},
		{"{{.Item.Title", "unclosed action"},
		{"{{.Item.Titel}}", "can't evaluate field Titel"},
		{"{{.Topic.Name}}", "can't evaluate field Name"},
		{"{{.Item.Source.URL}}", "can't evaluate field URL"},
		// .Update is nil on a new match: it has to be tested first.
		{"{{.Update.Kind}}", "nil pointer"},
		// Fields inside a guarded block are checked on the updates.
		{"x{{with .Update}}{{.Knd}}{{end}}", `can't evaluate field Knd`},
		{"x{{with .Update}}{{.AlsoReportedBy.Source.Name}}{{end}}", `on a "corrected" update`},
		{"x{{with .Update}}{{with .AlsoReportedBy}}{{.Source.Name}}{{end}}{{end}}", `on a "also_reported" update`},
		{"{{nosuchfunc .ID}}", `function "nosuchfunc" not defined`},
		{"{{if false}}x{{end}}", "body is empty"},
		{`{{template "missing" .}}`, `template "missing" not defined`},
		{"{{range 1000000000}}{{end}}x", "range over a number"},
		{"{{range $i := (1000000000)}}{{end}}x", "range over a number"},
		{`{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}`, "calls itself"},
		{`{{define "a"}}{{template "b" .}}{{end}}{{define "b"}}{{template "a" .}}{{end}}x`, "calls itself"},
		{strings.Repeat("x", maxTemplateSource+1), "bytes, more than"},
		// Output beyond the cap fails even though each piece is small.
		{`{{range .Marks}}` + strings.Repeat("{{printf \"%0999999d\" 1}}", 3) + `{{end}}`, "exceeds"},
	} {
		err := ParseTemplate(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseTemplate(%.60q) = %v, want an error with %q", tc.text, err, tc.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "alert: ") {
			t.Errorf("error %q is not prefixed with the package", err)
		}
	}
}

func TestTemplateContentType(t *testing.T) {
	for _, tc := range []struct{ text, ct, body string }{
		{`{"t":{{json .Item.Title}}}`, "application/json", `{"t":"UN report on Xinjiang: \"serious\" <abuses> & detentions 🌏"}`},
		{"New: {{.Item.Title}}", "text/plain; charset=utf-8", `New: UN report on Xinjiang: "serious" <abuses> & detentions 🌏`},
		{"{{json .Score}}", "application/json", "0.8731"},
		{`{"broken": {{.Item.Title}}}`, "text/plain; charset=utf-8", `{"broken": UN report on Xinjiang: "serious" <abuses> & detentions 🌏}`},
	} {
		body, ct, err := RenderFor(news.Webhook{Format: "template", Template: tc.text}, goldenAlert())
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if ct != tc.ct || string(body) != tc.body {
			t.Errorf("%q: %s %q, want %s %q", tc.text, ct, body, tc.ct, tc.body)
		}
	}
}

func TestTemplateFuncs(t *testing.T) {
	render := func(text string, a news.Alert) string {
		t.Helper()
		body, _, err := RenderFor(news.Webhook{Format: "template", Template: text}, a)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		return string(body)
	}
	a := goldenAlert()
	if got, want := render(`{{mark . "[" "]"}}`, a), "…the UN [human rights] office says [Uyghurs] <b>held</b> in camps & \"re-education\" centres…"; got != want {
		t.Errorf("mark = %q, want %q", got, want)
	}
	if got := render(`{{json .Item.Summary}}`, a); !json.Valid([]byte(got)) || strings.Contains(got, `\u0026`) {
		t.Errorf("json = %s: want valid JSON without HTML escapes", got)
	}
	if got := render(`{{truncate 8 .Item.Title}}`, a); got != "UN repo…" {
		t.Errorf("truncate = %q", got)
	}
	a.Entry.Match.Marks = nil
	if got := render(`{{mark . "[" "]"}}`, a); strings.Contains(got, "[") {
		t.Errorf("mark without marks = %q", got)
	}
	// json writes an update as the json format does, and nothing as null.
	if got := render(`{{json .Update}}`, goldenAlert()); got != "null" {
		t.Errorf("json .Update of a new match = %q", got)
	}
	if got, want := render(`{{json .Update}}`, goldenCorrected()), `{"kind":"corrected","previous_title":"UN report on Xinjiang: \"serious\" <abuses> & detentions 🌏","title":"UN report on Xinjiang: *grave* <abuses> & [detentions] 🌏"}`; got != want {
		t.Errorf("json .Update = %s, want %s", got, want)
	}
}

func TestTemplateRenderErrors(t *testing.T) {
	// Render cannot do templates: it has no webhook.
	if _, _, err := Render("template", goldenAlert()); err == nil || !strings.Contains(err.Error(), "RenderFor") {
		t.Errorf("Render(template) = %v, want an error pointing at RenderFor", err)
	}
	// An event too large for the cap is a render error, not a truncated body.
	a := goldenAlert()
	a.Entry.Match.Terms = make([]string, 5000)
	for i := range a.Entry.Match.Terms {
		a.Entry.Match.Terms[i] = strings.Repeat("t", 300)
	}
	_, _, err := RenderFor(news.Webhook{Format: "template", Template: "{{range .MatchedTerms}}{{.}}{{end}}"}, a)
	if !errors.Is(err, errTemplateOutput) {
		t.Errorf("1.5 MB body: err = %v, want the output cap", err)
	}
}

// A template that fails is a permanent failure: nothing is sent and the
// row is not retried.
func TestDeliverTemplateErrorIsPermanent(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	q := &memQueue{}
	q.add(testAlert("msg_tmpl", "hook"))
	w := testWebhook("hook", rc.URL)
	w.Format = "template"
	// It parses, but this alert has two marks: index out of range when
	// it is executed.
	w.Template = `{{index .Marks 5}}`
	d := NewDispatcher(q, []news.Webhook{w}, testTopics, testOptions())
	run(t, d)
	row := waitStatus(t, q, "msg_tmpl", news.DeliveryFailed)
	if row.attempts != 1 || !strings.Contains(row.lastErr, "execute template") {
		t.Errorf("row = %+v", row)
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("receiver saw %d requests", n)
	}
}

func TestDeliverTemplate(t *testing.T) {
	rc := newReceiver(t, statuses(204))
	d := NewDispatcher(&memQueue{}, nil, testTopics, testOptions())
	w := testWebhook("hook", rc.URL)
	w.Format, w.Template = "template", "ALERT {{.Topic.Title}}: {{.Item.Title}}"
	if o := d.Deliver(context.Background(), w, testAlert("msg_t", "hook"), 1); o.Err != nil {
		t.Fatal(o.Err)
	}
	r := rc.requests()[0]
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	// The topic title comes from the dispatcher's topics, as for json.
	if want := `ALERT Xinjiang & Uyghurs: UN report on Xinjiang: "serious" <abuses> & detentions 🌏`; string(r.body) != want {
		t.Errorf("body = %q", r.body)
	}
	if r.verifyErr != nil {
		t.Errorf("signature: %v", r.verifyErr)
	}
}

// TestEventTimesOutOfRange: a feed date JSON cannot hold must not make
// the alert unrenderable.
func TestEventTimesOutOfRange(t *testing.T) {
	a := goldenAlert()
	a.Entry.Item.Published = time.Date(12024, 1, 1, 0, 0, 0, 0, time.UTC)
	a.Entry.Match.MatchedAt = time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range Formats() {
		if _, _, err := RenderFor(formatHook(f), a); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if e := NewEvent(a); !e.Item.Published.IsZero() || !e.Timestamp.IsZero() {
		t.Errorf("published %v, timestamp %v: want zero", e.Item.Published, e.Timestamp)
	}
}
