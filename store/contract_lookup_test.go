package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"wirewatch/news"
)

// testLookupContract covers what 'wirewatch match --explain' asks of a
// store: finding an item by the link or guid a reporter holds, its
// matches in each topic, and the outbox rows about it.
func testLookupContract(t *testing.T, b backend) {
	ctx := context.Background()

	t.Run("FindItemsByKeyLinkAndCanonicalLink", func(t *testing.T) {
		st := b.open(t)
		// One article carried by two sources, one of them with a guid of
		// its own and a tracking parameter on the link; another article;
		// and an old copy outside the window.
		a1 := storyItem("s1", "https://example.org/world/uyghur-report", headline, "https://example.org/world/uyghur-report")
		a2 := storyItem("s2", "tag:wire,2025:4711", headline, "https://www.example.org/world/uyghur-report/?utm_source=rss")
		other := storyItem("s1", "https://example.org/sport", "Cup final goes to extra time after late equaliser", "https://example.org/sport")
		old := storyItem("s3", "https://example.org/world/uyghur-report", headline, "https://example.org/world/uyghur-report")
		shouty := storyItem("s3", "tag:wire,2025:4712", headline, "HTTPS://WWW.Example.ORG/world/Exiles")
		shouty.FetchedAt = at(time.Hour)
		a1.FetchedAt, a2.FetchedAt, other.FetchedAt = at(2*time.Hour), at(3*time.Hour), at(2*time.Hour)
		old.FetchedAt = at(-48 * time.Hour)
		for _, it := range []news.Item{a1, a2, other, old, shouty} {
			mustSave(t, st, news.PollResult{State: testState(it.SourceID), Items: []news.Item{it}})
		}
		s := st
		for _, c := range []struct {
			name, ref string
			want      []string
		}{
			{"the link as stored", "https://example.org/world/uyghur-report", []string{a2.ID, a1.ID}},
			{"the link as shared", "http://m.example.org/world/uyghur-report?utm_campaign=x#top", []string{a2.ID, a1.ID}},
			{"a guid", "tag:wire,2025:4711", []string{a2.ID}},
			{"another article", "https://example.org/sport", []string{other.ID}},
			{"a link whose host was written in capitals", "https://example.org/world/Exiles", []string{shouty.ID}},
			{"unknown", "https://example.org/nothing", nil},
			{"not a URL", "Xinjiang", nil},
		} {
			got, err := s.FindItems(ctx, c.ref, at(0))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s: FindItems(%q) = %v, want %v (newest first, window from t0)", c.name, c.ref, got, c.want)
			}
		}
		if got, err := s.FindItems(ctx, "https://example.org/world/uyghur-report", at(-72*time.Hour)); err != nil || len(got) != 3 {
			t.Errorf("a wider window finds the old copy too: %v, %v", got, err)
		}
	})

	t.Run("ItemMatchesAndItsDeliveries", func(t *testing.T) {
		st := b.open(t)
		first := storyItem("s1", "a", headline, "https://example.org/a")
		later := storyItem("s2", "b", headline, "https://example.net/b")
		quiet := storyItem("s3", "c", "Quarterly cotton output rises in the north-west region", "https://example.org/c")
		m1 := testMatch("beat", first, at(time.Minute), false)
		m2 := testMatch("report", first, at(time.Minute), false)
		d1 := testDelivery("desk", m1, at(time.Minute))
		d2 := testDelivery("desk", m2, at(time.Minute))
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{first},
			Matches: []news.Match{m1, m2}, Deliveries: []news.Delivery{d1, d2}})
		dup := dupMatch("beat", later, first, at(2*time.Minute))
		upd := updateDelivery("desk", "beat", first, news.Update{Kind: news.UpdateAlsoReported,
			Sighting: &news.Sighting{ItemID: later.ID, SourceID: "s2"}}, at(2*time.Minute))
		upd.ID = news.UpdateDeliveryID("beat", first.ID, "desk", news.AlsoReportedChange(later.ID))
		mustSave(t, st, news.PollResult{State: testState("s2"), Items: []news.Item{later},
			Matches: []news.Match{dup}, Deliveries: []news.Delivery{upd}})
		base := testMatch("beat", quiet, at(3*time.Minute), true)
		mustSave(t, st, news.PollResult{State: testState("s3"), Items: []news.Item{quiet}, Matches: []news.Match{base}})
		if err := st.MarkDelivered(ctx, d1.ID, 1, at(time.Minute+time.Second)); err != nil {
			t.Fatal(err)
		}

		s := st
		topics := []string{"report", "beat", "gone"}
		got, err := s.ItemMatches(ctx, first.ID, topics)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].TopicID != "report" || got[1].TopicID != "beat" || got[1].Score != m1.Score ||
			!reflect.DeepEqual(got[1].Terms, m1.Terms) || got[1].DuplicateOf != "" || got[1].Baseline {
			t.Errorf("first sighting's matches = %+v, want report then beat, as saved", got)
		}
		if got, err := s.ItemMatches(ctx, later.ID, topics); err != nil || len(got) != 1 || got[0].DuplicateOf != first.ID {
			t.Errorf("later sighting's matches = %+v, %v; want beat, a duplicate of %s", got, err, first.ID)
		}
		if got, err := s.ItemMatches(ctx, quiet.ID, topics); err != nil || len(got) != 1 || !got[0].Baseline {
			t.Errorf("baseline item's matches = %+v, %v; want one baseline match", got, err)
		}
		if got, err := s.ItemMatches(ctx, quiet.ID, []string{"report"}); err != nil || len(got) != 0 {
			t.Errorf("a topic that did not match = %+v, %v; want none", got, err)
		}
		if got, err := s.ItemMatches(ctx, first.ID, nil); err != nil || len(got) != 0 {
			t.Errorf("no topics = %+v, %v; want none", got, err)
		}

		ds, err := st.Deliveries(ctx, DeliveryFilter{TopicID: "beat", ItemID: first.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 2 || ds[0].ID != upd.ID || ds[1].ID != d1.ID || ds[1].Status != news.DeliveryDelivered ||
			ds[0].Update == nil || ds[0].Update.Sighting == nil || ds[0].Update.Sighting.ItemID != later.ID {
			t.Errorf("beat's deliveries of the first sighting = %+v; want the update, then the delivered alert", ds)
		}
		if ds, err := st.Deliveries(ctx, DeliveryFilter{ItemID: first.ID}); err != nil || len(ds) != 3 {
			t.Errorf("every delivery about the first sighting = %d, %v; want 3", len(ds), err)
		}
		if ds, err := st.Deliveries(ctx, DeliveryFilter{ItemID: later.ID}); err != nil || len(ds) != 0 {
			t.Errorf("deliveries about the later sighting = %+v, %v; want none (its update is about the first)", ds, err)
		}
	})
}
