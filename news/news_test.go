package news

import "testing"

func TestTopicFingerprint(t *testing.T) {
	a := Topic{ID: "x", Title: "X", Query: "Xinjiang", Synonyms: map[string][]string{"Uyghur": {"Uighur", "Uygur"}, "UN": {"United Nations"}}}
	b := a
	b.Title = "Another title"
	b.Synonyms = map[string][]string{"UN": {"United Nations"}, "Uyghur": {"Uighur", "Uygur"}}
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("fingerprint depends on the title or on map order; want only on what decides matching")
	}
	c := a
	c.Query = "Xinjiang AND Uyghur"
	d := a
	d.MinScore = 2
	for _, other := range []Topic{c, d} {
		if other.Fingerprint() == a.Fingerprint() {
			t.Errorf("changing %+v kept the fingerprint", other)
		}
	}
}

func TestIDsAreStableAndDistinct(t *testing.T) {
	if ItemID("a", "k") != ItemID("a", "k") || ItemID("a", "k") == ItemID("b", "k") || ItemID("a", "bk") == ItemID("ab", "k") {
		t.Error("ItemID must be a function of (source, key) only, without ambiguity")
	}
	if DeliveryID(EventMatchCreated, "t", "i", "w1") == DeliveryID(EventMatchCreated, "t", "i", "w2") {
		t.Error("DeliveryID must differ per webhook")
	}
}
