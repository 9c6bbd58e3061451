package feed

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"wirewatch/internal/shared"
)

// TestJSONFeedSchema checks our JSON Feed against the JSON Feed 1.1 JSON
// Schema from sonicdoe/jsonfeed-schema, with a small validator covering the
// keywords that schema uses (no new modules).
func TestJSONFeedSchema(t *testing.T) {
	path := shared.Path(t, "corpora", "jsonfeed", "sonicdoe-jsonfeed-schema", "schema-v1.1.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("JSON Feed schema not available: %v", err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("schema: %v", err)
	}
	v := &validator{root: schema}

	// The validator must be able to fail: a feed without items and with an
	// unknown key is rejected.
	if errs := v.validate(map[string]any{"version": "https://jsonfeed.org/version/1.1", "title": "x", "bogus": 1}, schema, "$"); len(errs) < 2 {
		t.Fatalf("validator accepted an invalid feed: %v", errs)
	}

	// ...and it accepts the schema project's own 1.1 examples.
	examples, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "test", "examples", "v1.1", "*.json"))
	for _, ex := range examples {
		b, err := os.ReadFile(ex)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if errs := v.validate(doc, schema, "$"); len(errs) > 0 {
			t.Errorf("validator rejects valid example %s: %v", filepath.Base(ex), errs)
		}
	}

	for name, entries := range map[string]int{"full": len(testEntries()), "empty": 0} {
		b := render(t, FormatJSON, testTopic(), testEntries()[:entries], testOptions())
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for _, e := range v.validate(doc, schema, "$") {
			t.Errorf("%s feed: %s", name, e)
		}
	}
}

type validator struct{ root map[string]any }

func (v *validator) resolve(s map[string]any) map[string]any {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s
	}
	cur := any(v.root)
	for _, p := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		cur = cur.(map[string]any)[p]
	}
	return cur.(map[string]any)
}

// validate returns every violation of schema s by x, located by path.
func (v *validator) validate(x any, s map[string]any, path string) []string {
	s = v.resolve(s)
	var errs []string
	fail := func(msg string) { errs = append(errs, path+": "+msg) }

	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, v.validate(x, sub.(map[string]any), path)...)
		}
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		passed := false
		for _, sub := range anyOf {
			if len(v.validate(x, sub.(map[string]any), path)) == 0 {
				passed = true
			}
		}
		if !passed {
			fail("matches none of anyOf")
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if e == x {
				found = true
			}
		}
		if !found {
			fail("not in enum")
		}
	}
	switch s["type"] {
	case "string":
		str, ok := x.(string)
		if !ok {
			fail("not a string")
			break
		}
		switch s["format"] {
		case "uri":
			if u, err := url.Parse(str); err != nil || !u.IsAbs() {
				fail("not an absolute URI: " + str)
			}
		case "date-time":
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				fail("not an RFC 3339 date-time: " + str)
			}
		}
	case "number":
		if _, ok := x.(float64); !ok {
			fail("not a number")
		}
	case "boolean":
		if _, ok := x.(bool); !ok {
			fail("not a boolean")
		}
	case "array":
		arr, ok := x.([]any)
		if !ok {
			fail("not an array")
			break
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, el := range arr {
				errs = append(errs, v.validate(el, items, path+"["+strconv.Itoa(i)+"]")...)
			}
		}
	}
	obj, isObj := x.(map[string]any)
	if s["type"] == "object" && !isObj {
		fail("not an object")
	}
	if !isObj {
		return errs
	}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				fail("missing required " + r.(string))
			}
		}
	}
	if minP, ok := s["minProperties"].(float64); ok && float64(len(obj)) < minP {
		fail("too few properties")
	}
	props, _ := s["properties"].(map[string]any)
	patterns, _ := s["patternProperties"].(map[string]any)
	for k, val := range obj {
		matched := false
		if sub, ok := props[k].(map[string]any); ok {
			matched = true
			errs = append(errs, v.validate(val, sub, path+"."+k)...)
		}
		for pat, sub := range patterns {
			if regexp.MustCompile(pat).MatchString(k) {
				matched = true
				errs = append(errs, v.validate(val, sub.(map[string]any), path+"."+k)...)
			}
		}
		if !matched && s["additionalProperties"] == false {
			fail("unexpected property " + k)
		}
	}
	return errs
}
