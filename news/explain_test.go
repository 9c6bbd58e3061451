package news

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func sp(start, end int) Span { return Span{Start: start, End: end} }

func TestValidSpans(t *testing.T) {
	const s = "Uyghurs in Ürümqi: “camps” & more"
	i := strings.Index(s, "Ürümqi")
	u := sp(i, i+len("Ürümqi"))
	more := sp(len(s)-len("more"), len(s))
	for _, tc := range []struct {
		name  string
		s     string
		spans []Span
		want  []Span
	}{
		{"none", s, nil, nil},
		{"one", s, []Span{u}, []Span{u}},
		{"at both ends", s, []Span{sp(0, 7), more}, []Span{sp(0, 7), more}},
		{"clamped", s, []Span{sp(-10, 7), sp(more.Start, len(s)+50)}, []Span{sp(0, 7), more}},
		{"wholly outside", s, []Span{sp(-5, -1), sp(len(s), len(s)+2), sp(len(s)+3, len(s)+9)}, nil},
		{"overlap skipped", s, []Span{sp(0, 10), sp(5, 12)}, []Span{sp(0, 10)}},
		{"unsorted skipped", s, []Span{u, sp(0, 7)}, []Span{u}},
		{"overlapping and unsorted skipped", s, []Span{u, sp(0, 7), sp(u.Start+2, u.End+3)}, []Span{u}},
		{"empty and reversed skipped", s, []Span{sp(3, 3), sp(9, 2)}, nil},
		// "Ü" is two bytes: a span starting or ending inside it is skipped,
		// not moved to the rune's edge.
		{"mid-rune start", s, []Span{sp(u.Start+1, u.End)}, nil},
		{"mid-rune end", s, []Span{sp(u.Start, u.Start+1)}, nil},
		{"skipped span does not block the next", s, []Span{sp(u.Start+1, u.End), u}, []Span{u}},
		// Merging adjacent spans is the renderer's business.
		{"adjacent kept apart", s, []Span{sp(0, 3), sp(3, 7)}, []Span{sp(0, 3), sp(3, 7)}},
		// Invalid bytes are not continuation bytes, so they bound spans;
		// a stray continuation byte does not.
		{"invalid bytes", "\xff\xfeUyghurs \xc3", []Span{sp(0, 1), sp(2, 9)}, []Span{sp(0, 1), sp(2, 9)}},
		{"stray continuation byte", "a\x80b", []Span{sp(1, 3), sp(0, 1)}, nil},
		{"empty text", "", []Span{sp(0, 0), sp(0, 1), sp(-1, 1)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidSpans(tc.s, tc.spans); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ValidSpans(%q, %v) = %v, want %v", tc.s, tc.spans, got, tc.want)
			}
		})
	}
}

func TestSplitSpans(t *testing.T) {
	const s = "Uyghurs in Ürümqi"
	for _, tc := range []struct {
		name  string
		spans []Span
		want  []Run
	}{
		{"none", nil, []Run{{Text: s}}},
		{"middle", []Span{sp(8, 10)}, []Run{{Text: "Uyghurs "}, {Text: "in", Mark: true}, {Text: " Ürümqi"}}},
		// Empty runs stay: the caller cleans each run before merging.
		{"both ends", []Span{sp(0, 7), sp(11, len(s))},
			[]Run{{}, {Text: "Uyghurs", Mark: true}, {Text: " in "}, {Text: "Ürümqi", Mark: true}, {}}},
		{"adjacent", []Span{sp(0, 3), sp(3, 7)},
			[]Run{{}, {Text: "Uyg", Mark: true}, {}, {Text: "hurs", Mark: true}, {Text: " in Ürümqi"}}},
		{"invalid skipped", []Span{sp(12, 14), sp(-1, 2), sp(1, 5)}, []Run{{}, {Text: "Uy", Mark: true}, {Text: "ghurs in Ürümqi"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SplitSpans(s, tc.spans); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SplitSpans(%q, %v) = %#v, want %#v", s, tc.spans, got, tc.want)
			}
		})
	}
	if got, want := SplitSpans("", []Span{sp(0, 1)}), []Run{{}}; !reflect.DeepEqual(got, want) {
		t.Errorf("SplitSpans of empty text = %#v, want %#v", got, want)
	}
}

func TestMergeRuns(t *testing.T) {
	in := []Run{{}, {Text: "Uyg", Mark: true}, {}, {Text: "hurs", Mark: true}, {Text: " in"}, {Text: " "}, {Text: "", Mark: true}, {Text: "camps"}}
	want := []Run{{Text: "Uyghurs", Mark: true}, {Text: " in camps"}}
	if got := MergeRuns(in); !reflect.DeepEqual(got, want) {
		t.Errorf("MergeRuns = %#v, want %#v", got, want)
	}
	if in[1].Text != "Uyg" {
		t.Errorf("MergeRuns changed its input: %#v", in)
	}
	if got := MergeRuns([]Run{{}, {Mark: true}}); got != nil {
		t.Errorf("MergeRuns of empty runs = %#v, want nil", got)
	}
}

// FuzzValidSpans checks that whatever the spans, the result can be sliced
// and rendered: inside s, non-empty, on rune boundaries, in order, not
// overlapping, and each one an input span clamped, in input order; and that
// SplitSpans and MergeRuns keep the text and mark exactly those spans.
func FuzzValidSpans(f *testing.F) {
	f.Add("…the detention of Uyghurs…", 20, 27, 5, 9, 25, 40)
	f.Add("a\x00b\xffc ü", -1, 3, 6, 8, 7, 8)
	f.Add("🌏🌏 x", 1, 4, 4, 9, 0, 0)
	f.Fuzz(func(t *testing.T, s string, a, b, c, d, e, g int) {
		in := []Span{sp(a, b), sp(c, d), sp(e, g)}
		got := ValidSpans(s, in)
		prev, next := 0, 0
		for _, o := range got {
			if o.Start < prev || o.Start >= o.End || o.End > len(s) ||
				!utf8.RuneStart(s[o.Start]) || (o.End < len(s) && !utf8.RuneStart(s[o.End])) {
				t.Fatalf("ValidSpans(%q, %v) = %v: %v does not fit", s, in, got, o)
			}
			prev = o.End
			for next < len(in) && sp(max(in[next].Start, 0), min(in[next].End, len(s))) != o {
				next++
			}
			if next == len(in) {
				t.Fatalf("ValidSpans(%q, %v) = %v: %v is no clamped input span, in order", s, in, got, o)
			}
			next++
		}

		runs := SplitSpans(s, in)
		var joined strings.Builder
		var marked []Span
		for _, r := range runs {
			if r.Mark {
				marked = append(marked, sp(joined.Len(), joined.Len()+len(r.Text)))
			}
			joined.WriteString(r.Text)
		}
		if joined.String() != s || !reflect.DeepEqual(marked, got) {
			t.Fatalf("SplitSpans(%q, %v) = %#v: text or marks changed (valid %v)", s, in, runs, got)
		}
		merged := MergeRuns(runs)
		joined.Reset()
		for i, r := range merged {
			if r.Text == "" || (i > 0 && merged[i-1].Mark == r.Mark) {
				t.Fatalf("MergeRuns(%#v) = %#v: not merged", runs, merged)
			}
			joined.WriteString(r.Text)
		}
		if joined.String() != s {
			t.Fatalf("MergeRuns(%#v) = %#v: text changed", runs, merged)
		}
	})
}

func TestMatchExplained(t *testing.T) {
	m := Match{
		Terms: []string{"Uyghur*", " ", "crimes against humanity"},
		Hits: []Hit{
			{Term: "Uyghur*", Field: "title"},
			{Term: "crimes against humanity", Field: "summary"},
			{Term: "Uyghur*", Field: "summary"},
			{Term: "Uyghur*", Field: "title"}, // repeated
			{Term: "Uyghur*", Field: " "},     // blank field
			{Term: "Uyghur*", Field: ""},      // empty field
			{Term: "Xinjiang", Field: "content"},
			{Term: " ", Field: "title"},
			{Term: "", Field: "title"},
		},
	}
	want := []TermFields{
		{Term: "Uyghur*", Fields: []string{"title", "summary"}},
		{Term: "crimes against humanity", Fields: []string{"summary"}},
		{Term: "Xinjiang", Fields: []string{"content"}},
	}
	got := m.Explained(nil)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Explained = %#v, want %#v", got, want)
	}
	if s, want := TermFieldsText(got), "Uyghur* (title, summary), crimes against humanity (summary), Xinjiang (content)"; s != want {
		t.Errorf("TermFieldsText = %q, want %q", s, want)
	}

	// Terms are compared after norm and trimming: terms that normalise
	// alike are one term, and a term normalised to blank is dropped.
	dirty := Match{
		Terms: []string{" Uyg\x00hur* ", "Uyghur*", "\x00"},
		Hits:  []Hit{{Term: "Uyghur*\x00", Field: "ti\x00tle"}, {Term: "\x00", Field: "title"}, {Term: "Uyghur*", Field: "title "}},
	}
	drop := func(s string) string { return strings.ReplaceAll(s, "\x00", "") }
	if got, want := dirty.Explained(drop), []TermFields{{Term: "Uyghur*", Fields: []string{"title"}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Explained(drop NUL) = %#v, want %#v", got, want)
	}
	raw := []TermFields{
		{Term: "Uyg\x00hur*", Fields: []string{}},
		{Term: "Uyghur*", Fields: []string{"title"}},
		{Term: "\x00", Fields: []string{"title"}},
		{Term: "Uyghur*\x00", Fields: []string{"ti\x00tle"}},
	}
	if got := dirty.Explained(nil); !reflect.DeepEqual(got, raw) {
		t.Errorf("Explained(nil) = %#v, want the terms only trimmed %#v", got, raw)
	}

	// Nothing matched, or a term without hits, still gives JSON arrays.
	for _, m := range []Match{{}, {Terms: []string{"x"}}} {
		b, err := json.Marshal(m.Explained(nil))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int]string{0: `[]`, 1: `[{"term":"x","fields":[]}]`}[len(m.Terms)]; string(b) != want {
			t.Errorf("Explained of %+v marshals to %s, want %s", m, b, want)
		}
	}
	if s := TermFieldsText([]TermFields{{Term: "y", Fields: []string{}}}); s != "y" {
		t.Errorf("TermFieldsText without fields = %q, want %q", s, "y")
	}
	if s := TermFieldsText(nil); s != "" {
		t.Errorf("TermFieldsText(nil) = %q", s)
	}
}
