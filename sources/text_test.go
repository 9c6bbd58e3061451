package sources

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestVisibleText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain text is only collapsed", "  Xinjiang \n\t report  ", "Xinjiang report"},
		{"tags stripped", "<p>UN <b>human</b>-rights <a href='x'>report</a></p>", "UN human-rights report"},
		{"block tags separate words", "<p>first</p><p>second</p>line<br>break<li>item</li>", "first second line break item"},
		{"inline tags join words", "<b>Hel</b>lo <em>wor</em>ld", "Hello world"},
		{"script and style dropped", "a<script>var x = '<p>no</p>';</script>b<style>.x{}</style>c", "a b c"},
		{"self-closing script swallows nothing visible", "before<script/>alert(1)", "before"},
		{"noscript and iframe dropped", "a<noscript><img src=x>fallback</noscript><iframe>frame text</iframe>b", "a b"},
		{"comments dropped", "a<!-- hidden -->b", "ab"},
		{"named entities", "caf&eacute; &ldquo;quoted&rdquo; &amp; more&nbsp;text", "café “quoted” & more text"},
		{"numeric entities", "7&#8211;2 &#x263A;", "7–2 ☺"},
		{"unknown entity kept", "AT&T &bogus; R&D", "AT&T &bogus; R&D"},
		{"escaped markup becomes literal text", "&lt;p&gt;kept&lt;/p&gt;", "<p>kept</p>"},
		{"lone less-than survives", "a < b and c<3", "a < b and c<3"},
		{"control characters removed", "bell\x07 nul\x00 c1\u0081end\u009d", "bell nul c1 end"},
		{"cp1252 C1 characters mapped", "don\u0092t \u0093quote\u0094 \u0080100\u0085", "don’t “quote” €100…"},
		{"no-break and ideographic spaces collapse", "a\u00a0\u00a0b\u3000c", "a b c"},
		{"invalid utf-8 repaired", "ok\xff\xfebad", "ok\uFFFDbad"},
		{"invalid utf-8 repaired in html", "<b>ok\xff</b>", "ok\uFFFD"},
		{"unterminated tag", "text <a href=\"", "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := VisibleText(tt.in)
			if got != tt.want {
				t.Errorf("VisibleText(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("VisibleText(%q) returned invalid UTF-8 %q", tt.in, got)
			}
		})
	}
}

func TestTruncateWords(t *testing.T) {
	short := "Short enough"
	if got := truncateWords(short, 80); got != short {
		t.Errorf("truncateWords(short) = %q, want unchanged", got)
	}
	long := strings.Repeat("word ", 40) // 200 runes
	got := truncateWords(long, 80)
	if !strings.HasSuffix(got, "…") {
		t.Errorf("truncated text %q lacks an ellipsis", got)
	}
	if n := utf8.RuneCountInString(got); n > 81 || n < 40 {
		t.Errorf("truncated to %d runes, want about 80: %q", n, got)
	}
	if strings.Contains(got, "wor…") {
		t.Errorf("cut inside a word: %q", got)
	}
	// Multi-byte runes are never split.
	cjk := strings.Repeat("新疆人权报告", 30)
	if got := truncateWords(cjk, 80); !utf8.ValidString(got) || utf8.RuneCountInString(got) != 81 {
		t.Errorf("CJK truncation = %q (%d runes), want 80 runes + ellipsis", got, utf8.RuneCountInString(got))
	}
}
