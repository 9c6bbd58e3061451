package news

import "testing"

func TestItemRefNames(t *testing.T) {
	const id, key, link = "9b2abfc2cd112c02a44c8ff5", "tag:wire,2026:99", "https://www.news.test/world/Bachelet-visit"
	for _, c := range []struct {
		ref  string
		want bool
	}{
		{id, true},
		{key, true},
		{link, true},
		{" " + link + " ", true},
		{"http://news.test/world/Bachelet-visit?utm_source=x#top", true},
		{"https://m.NEWS.test/world/Bachelet-visit/", true},
		{"https://news.test/world/bachelet-visit", false}, // paths are case-sensitive
		{"https://other.test/world/Bachelet-visit", false},
		{"Bachelet", false},
		{"", false},
	} {
		if got := NewItemRef(c.ref).Names(id, key, link); got != c.want {
			t.Errorf("NewItemRef(%q).Names = %v, want %v", c.ref, got, c.want)
		}
	}
	// A link whose host is written in capitals is the same article.
	if !NewItemRef("https://news.test/a").Names("", "", "HTTPS://WWW.News.TEST/a") {
		t.Errorf("a capitalised host is not recognised")
	}
	// An item without a key or link is not named by an empty field.
	if NewItemRef("x").Names("", "", "") {
		t.Errorf("empty fields name nothing")
	}
}
