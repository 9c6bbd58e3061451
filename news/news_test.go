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
	if a, b := ItemID("wire", "story-1"), ItemID("wire", "story-2"); len(a) != 24 || a[:8] != b[:8] || a == b {
		t.Errorf("items of one source must share their first 8 digits and differ after: %s %s", a, b)
	}
	if a, b := ItemID("wire", "k"), ItemID("daily", "k"); a[:8] == b[:8] {
		t.Errorf("sources must have their own prefixes: %s %s", a, b)
	}
	// The IDs that items stored before the source prefix have, computed by
	// the old ItemID (a store's rows show the second).
	for _, c := range []struct{ src, key, id string }{
		{"example-wire", "story-1", "833a0e25b581198dde051abe"},
		{"src-00049", "urn:wwload:49:1", "ce98e46afd7dd4c789d91dae"},
	} {
		if got := LegacyItemID(c.src, c.key); got != c.id {
			t.Errorf("LegacyItemID(%q, %q) = %s, want %s", c.src, c.key, got, c.id)
		}
		if ItemID(c.src, c.key) == c.id {
			t.Errorf("ItemID(%q, %q) is still the legacy ID", c.src, c.key)
		}
	}
	if DeliveryID(EventMatchCreated, "t", "i", "w1") == DeliveryID(EventMatchCreated, "t", "i", "w2") {
		t.Error("DeliveryID must differ per webhook")
	}
}

func TestUpdateDeliveries(t *testing.T) {
	hooks := []Webhook{
		{ID: "desk", Updates: true},
		{ID: "plain"}, // no updates
		{ID: "other", Updates: true, Topics: []string{"t2"}}, // another topic
		{ID: "mine", Updates: true, Topics: []string{"t1"}},
	}
	u := &Update{Kind: UpdateAlsoReported, Sighting: &Sighting{ItemID: "b"}}
	got := UpdateDeliveries(hooks, "t1", "a", AlsoReportedChange("b"), u)
	if len(got) != 2 || got[0].WebhookID != "desk" || got[1].WebhookID != "mine" {
		t.Fatalf("deliveries to %+v, want desk and mine", got)
	}
	for _, d := range got {
		if d.ID != UpdateDeliveryID("t1", "a", d.WebhookID, "also:b") || d.EventType != EventMatchUpdated ||
			d.TopicID != "t1" || d.ItemID != "a" || d.Update != u {
			t.Errorf("delivery %+v", d)
		}
	}
}
