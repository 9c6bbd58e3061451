package terms

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzFromText: any input yields well-formed terms, a query in the promised
// syntax and a YAML block, without panicking, in bounded time.
func FuzzFromText(f *testing.F) {
	f.Add("Inquiry finds forced labour at Corvina\n\nThe Independent Mining Inquiry (IMI) said Amara Ndovu's \"worker hostels\" were locked.")
	f.Add("U.S. officials said the U.N.'s office (OHCHR) met Uighurs' leaders. KRC (Karsan Relief Committee)")
	f.Add("\"\"\" ((( ))) '' - -- re- -re 's 'S AND OR NOT * ** 1,2.3 ... \u2019s \u201c\u201d")
	f.Add(strings.Repeat("Telmir ", 500) + "\x00\xff\xfe")
	f.Add("A (B) C (D E F) G (HIJ) (Hij Ij Jj) ABC (Alpha Beta Charlie) (ABC")
	f.Add("İstanbul ΣΊΣΥΦΟΣ straße Ǆ ﬁnal 维吾尔 Ürümqi ǅemal")
	f.Fuzz(func(t *testing.T, s string) {
		start := time.Now()
		ts := FromText(s, 20)
		if len(ts) > 20 {
			t.Fatalf("%d terms for n=20", len(ts))
		}
		for _, x := range ts {
			if x.Text == "" || !utf8.ValidString(x.Text) || x.Count < 1 || x.Score <= 0 {
				t.Fatalf("malformed term %+v", x)
			}
			for _, v := range x.Variants {
				if v == "" || v == x.Text {
					t.Fatalf("bad variant in %+v", x)
				}
			}
		}
		q := SuggestQuery(ts)
		if q != "" {
			if _, err := checkQuery(q); err != nil {
				t.Fatalf("%v\n%q", err, q)
			}
		}
		y := TopicYAML("", s[:min(len(s), 80)], "r.txt", ts, q)
		if !strings.HasPrefix(y, "  - id: ") || !utf8.ValidString(y) {
			t.Fatalf("bad block %q", y)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v for %d bytes", d, len(s))
		}
	})
}

// FuzzFromHTML: any page extracts without panicking.
func FuzzFromHTML(f *testing.F) {
	f.Add(`<html><head><title>A | B</title></head><body><main><h1>T</h1><p>Corvina lithium</p></main></body></html>`)
	f.Add(`<header><h1>x</h1></header><article hidden><p>y</p></article><nav role=navigation>z</nav>`)
	f.Add(`<p>a<b>b<i>c</p></b></i><table><td>x<td>y`)
	f.Fuzz(func(t *testing.T, page string) {
		ts, title, err := FromHTML(strings.NewReader(page), 10)
		if err != nil {
			return
		}
		if !utf8.ValidString(title) && utf8.ValidString(page) {
			t.Fatalf("invalid title %q", title)
		}
		for _, x := range ts {
			if x.Text == "" || x.Count < 1 {
				t.Fatalf("malformed term %+v", x)
			}
		}
	})
}
