package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"wirewatch/news"
)

// eventSchema compiles EventSchema (checking it against the draft 2020-12
// meta-schema) with format assertions on, so "date-time" is enforced.
func eventSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(EventSchema))
	if err != nil {
		t.Fatalf("EventSchema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("event.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("event.schema.json")
	if err != nil {
		t.Fatalf("EventSchema does not compile: %v", err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, body []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	return s.Validate(v)
}

// schemaAlerts are the golden alert and hostile ones: huge text, invalid
// UTF-8, NaN scores, marks that do not fit, dates JSON cannot hold, and
// the emptiest alert a queue could return.
func schemaAlerts() map[string]news.Alert {
	out := map[string]news.Alert{"golden": goldenAlert(), "huge": hugeAlert(), "sample": sampleAlert()}

	a := goldenAlert()
	a.Entry.Item.Title = "bad \xff\xfe bytes \x00 nul"
	a.Entry.Match.Snippet = "\xff\xfeUyghurs \xc3"
	a.Entry.Match.Marks = []news.Span{sp(2, 9), sp(-4, 3), sp(8, 2), sp(5, 500)}
	a.Entry.Match.Score = math.NaN()
	a.Entry.Match.Hits = append(a.Entry.Match.Hits, news.Hit{Term: "  ", Field: "\xff"}, news.Hit{Term: "Xinjiang", Field: "title"})
	out["hostile"] = a

	a = goldenAlert()
	a.Entry.Item.Published = time.Date(99999, 1, 1, 0, 0, 0, 0, time.UTC)
	a.Entry.Match.MatchedAt = time.Time{}
	a.Entry.Match.Score = math.Inf(-1)
	out["odd times"] = a

	a = news.Alert{Delivery: news.Delivery{ID: "msg_x", TopicID: "t", ItemID: "i", WebhookID: "w"}}
	out["empty"] = a

	a = goldenAlert()
	a.Entry.Match.Snippet = strings.Repeat("🌏 Uyghurs ", 400)
	for i := 0; i < 400; i++ {
		at := i * len("🌏 Uyghurs ")
		a.Entry.Match.Marks = append(a.Entry.Match.Marks, sp(at+len("🌏 "), at+len("🌏 Uyghurs")))
	}
	out["many marks"] = a

	out["corrected"] = goldenCorrected()
	out["also reported"] = goldenAlsoReported()
	for name, a := range hostileUpdates() {
		out["hostile "+name] = a
	}
	a = goldenCorrected()
	a.Delivery.Update.PreviousTitle, a.Delivery.Update.Title = "", strings.Repeat("🌏", 3000)
	out["huge correction"] = a
	a = goldenAlsoReported()
	a.Delivery.Update.Sighting = &news.Sighting{Title: strings.Repeat("\xff x", 2000), SeenAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}
	out["empty sighting"] = a
	return out
}

func TestEventSchemaValidatesRenderedEvents(t *testing.T) {
	s := eventSchema(t)
	for name, a := range schemaAlerts() {
		body, _, err := Render("json", a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := validate(t, s, body); err != nil {
			t.Errorf("%s: rendered event does not validate: %v\n%.500s", name, err, body)
		}
	}
}

func TestEventSchemaRejectsBrokenEvents(t *testing.T) {
	s := eventSchema(t)
	good, _, err := Render("json", goldenAlert())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"no id", func(m map[string]any) { delete(m, "id") }},
		{"unknown type", func(m map[string]any) { m["type"] = "match.deleted" }},
		{"score as string", func(m map[string]any) { m["score"] = "0.87" }},
		{"timestamp not a date", func(m map[string]any) { m["timestamp"] = "yesterday" }},
		{"item without title", func(m map[string]any) { delete(m["item"].(map[string]any), "title") }},
		{"published as number", func(m map[string]any) { m["item"].(map[string]any)["published"] = 1715671800 }},
		{"null terms", func(m map[string]any) { m["matched_terms"] = nil }},
		{"matched without fields", func(m map[string]any) { m["matched"] = []any{map[string]any{"term": "x"}} }},
		{"mark of one number", func(m map[string]any) { m["marks"] = []any{[]any{1}} }},
		{"mark of three numbers", func(m map[string]any) { m["marks"] = []any{[]any{1, 2, 3}} }},
		{"negative mark", func(m map[string]any) { m["marks"] = []any{[]any{-1, 2}} }},
		{"snippet too long", func(m map[string]any) { m["snippet"] = strings.Repeat("x", 1001) }},
		{"topic as string", func(m map[string]any) { m["topic"] = "xinjiang" }},
		{"created with an update", func(m map[string]any) {
			m["update"] = map[string]any{"kind": "corrected", "previous_title": "a", "title": "b"}
		}},
		{"updated without an update", func(m map[string]any) { m["type"] = "match.updated" }},
	} {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		tc.mutate(m)
		body, _ := json.Marshal(m)
		if err := validate(t, s, body); err == nil {
			t.Errorf("%s: broken event validates: %s", tc.name, body)
		}
	}

	// Broken updates, starting from a valid event of each kind.
	corrected, _, err := Render("json", goldenCorrected())
	if err != nil {
		t.Fatal(err)
	}
	also, _, err := Render("json", goldenAlsoReported())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		mutate func(u map[string]any)
	}{
		{"unknown kind", corrected, func(u map[string]any) { u["kind"] = "retracted" }},
		{"no kind", corrected, func(u map[string]any) { delete(u, "kind") }},
		{"correction without title", corrected, func(u map[string]any) { delete(u, "title") }},
		{"correction without previous title", corrected, func(u map[string]any) { delete(u, "previous_title") }},
		{"correction with a sighting", corrected, func(u map[string]any) { u["also_reported_by"] = map[string]any{} }},
		{"previous title too long", corrected, func(u map[string]any) { u["previous_title"] = strings.Repeat("x", 1001) }},
		{"sighting missing", also, func(u map[string]any) { delete(u, "also_reported_by") }},
		{"sighting with titles", also, func(u map[string]any) { u["title"] = "x" }},
		{"sighting as corrected", also, func(u map[string]any) { u["kind"] = "corrected" }},
		{"sighting without source", also, func(u map[string]any) { delete(u["also_reported_by"].(map[string]any), "source") }},
		{"sighting seen_at not a date", also, func(u map[string]any) { u["also_reported_by"].(map[string]any)["seen_at"] = "soon" }},
		{"sighting title too long", also, func(u map[string]any) {
			u["also_reported_by"].(map[string]any)["title"] = strings.Repeat("x", 1001)
		}},
	} {
		var m map[string]any
		if err := json.Unmarshal(tc.body, &m); err != nil {
			t.Fatal(err)
		}
		tc.mutate(m["update"].(map[string]any))
		body, _ := json.Marshal(m)
		if err := validate(t, s, body); err == nil {
			t.Errorf("%s: broken event validates: %s", tc.name, body)
		}
	}
}

// TestEventSchemaDocumentsEveryField walks rendered events (a new match
// and an update of each kind) and the schema side by side: every member an
// event has is a documented property, and every property the schema lists
// is one some event has, so the two cannot drift apart when a field is
// added to either.
func TestEventSchemaDocumentsEveryField(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(EventSchema, &schema); err != nil {
		t.Fatal(err)
	}
	if schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", schema["$schema"])
	}
	seen := map[string]bool{}
	var walk func(path string, v any, s map[string]any)
	walk = func(path string, v any, s map[string]any) {
		seen[path] = true
		if d, _ := s["description"].(string); strings.TrimSpace(d) == "" && path != "" {
			t.Errorf("%s: no description", path)
		}
		switch v := v.(type) {
		case map[string]any:
			props, _ := s["properties"].(map[string]any)
			for k, sub := range v {
				ps, ok := props[k].(map[string]any)
				if !ok {
					t.Errorf("%s.%s: in the event, not documented in the schema", path, k)
					continue
				}
				walk(path+"."+k, sub, ps)
			}
		case []any:
			if items, ok := s["items"].(map[string]any); ok && len(v) > 0 {
				// Array items are described by their parent.
				items = maps(items, "description", s["description"])
				walk(path+"[]", v[0], items)
			}
		}
	}
	for _, gc := range goldenCases() {
		if t := gc.alert.Delivery.EventType; t == news.EventDigest || t == news.EventSourceHealth {
			continue // DigestSchema's and SourceHealthSchema's (TestDigestSchema, TestSourceHealthSchema)
		}
		body, _, err := Render("json", gc.alert)
		if err != nil {
			t.Fatal(err)
		}
		var event any
		if err := json.Unmarshal(body, &event); err != nil {
			t.Fatal(err)
		}
		walk("", event, schema)
	}

	// Every property is sent by some event, and required always or in the
	// case it belongs to (then, or a oneOf branch): a receiver can rely
	// on every member the schema names for its case.
	var check func(path string, s map[string]any)
	check = func(path string, s map[string]any) {
		props, _ := s["properties"].(map[string]any)
		req := fmt.Sprint(s["required"])
		if then, ok := s["then"].(map[string]any); ok {
			req += fmt.Sprint(then["required"])
		}
		if branches, ok := s["oneOf"].([]any); ok {
			for _, b := range branches {
				req += fmt.Sprint(b.(map[string]any)["required"])
			}
		}
		var keys []string
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := path + "." + k
			if !seen[p] {
				t.Errorf("%s: in the schema, in no rendered event", p)
			}
			if !strings.Contains(req, k) {
				t.Errorf("%s: not required (every member is always sent in its case)", p)
			}
			ps := props[k].(map[string]any)
			check(p, ps)
			if items, ok := ps["items"].(map[string]any); ok {
				check(p+"[]", items)
			}
		}
	}
	check("", schema)
}

// maps returns m with key set to v if m lacks it.
func maps(m map[string]any, key string, v any) map[string]any {
	if _, ok := m[key]; ok {
		return m
	}
	c := map[string]any{key: v}
	for k, x := range m {
		c[k] = x
	}
	return c
}
