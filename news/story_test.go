package news

import "testing"

func TestCanonicalURLMergesCopiesOfOneStory(t *testing.T) {
	same := []string{
		"https://www.example.com/world/2022/08/31/xinjiang-report",
		"http://example.com/world/2022/08/31/xinjiang-report/",
		"https://example.com/world/2022/08/31/xinjiang-report?utm_source=rss&utm_medium=feed#comments",
		"https://m.example.com/world/2022/08/31/xinjiang-report?fbclid=abc",
		"https://amp.example.com/world/2022/08/31/xinjiang-report",
		"https://example.com/amp/world/2022/08/31/xinjiang-report",
		"https://example.com/world/2022/08/31/xinjiang-report/amp",
		"HTTPS://EXAMPLE.COM/world/2022/08/31/xinjiang-report",
	}
	want := CanonicalURL(same[0])
	if want != "https://example.com/world/2022/08/31/xinjiang-report" {
		t.Fatalf("canonical = %q", want)
	}
	for _, u := range same[1:] {
		if got := CanonicalURL(u); got != want {
			t.Errorf("CanonicalURL(%q) = %q, want %q", u, got, want)
		}
	}
	if got := CanonicalURL("https://example.com/story.amp.html?b=2&a=1&utm_campaign=x"); got != "https://example.com/story.html?a=1&b=2" {
		t.Errorf("amp.html with params = %q", got)
	}
	// Parameters that pick the article are kept: different ids stay different.
	if CanonicalURL("https://example.com/article?id=1") == CanonicalURL("https://example.com/article?id=2") {
		t.Error("different article ids merged")
	}
	for _, bad := range []string{"", "javascript:alert(1)", "/relative/path", "ftp://example.com/x", "http://"} {
		if got := CanonicalURL(bad); got != "" {
			t.Errorf("CanonicalURL(%q) = %q, want empty", bad, got)
		}
	}
}

func TestTitleKey(t *testing.T) {
	a := TitleKey("UN says China's treatment of Uyghurs may be crimes against humanity - BBC News")
	b := TitleKey("UN says China’s treatment of Uyghurs may be crimes against humanity | The Guardian")
	c := TitleKey("un says china's treatment of uyghurs may be crimes against humanity")
	if a == "" || a != c {
		t.Errorf("keys differ: %q vs %q", a, c)
	}
	// Curly and straight apostrophes both split the word the same way.
	if b != a {
		t.Errorf("outlet suffix or apostrophe not normalised: %q vs %q", b, a)
	}
	// A dash inside the headline is not an outlet suffix when the tail is long.
	if k := TitleKey("Xinjiang report - the long road to a UN finding on crimes against humanity"); k == TitleKey("Xinjiang report") {
		t.Error("long tail after a dash was dropped")
	}
	for _, short := range []string{"", "Breaking", "Xinjiang report", "Live updates - CNN"} {
		if k := TitleKey(short); k != "" {
			t.Errorf("TitleKey(%q) = %q, want empty (too short to identify a story)", short, k)
		}
	}
}
