package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"wirewatch/news"
)

// headline is long enough to have a title key (news.TitleKey).
const headline = "UN report finds serious human rights violations in Xinjiang"

// storyItem is a test item with the given title and link.
func storyItem(src, key, title, link string) news.Item {
	it := testItem(src, key, at(0))
	it.Title, it.Link = title, link
	return it
}

// dupMatch is topic's match of it as a later sighting of first.
func dupMatch(topic string, it, first news.Item, matchedAt time.Time) news.Match {
	m := testMatch(topic, it, matchedAt, false)
	m.DuplicateOf = first.ID
	return m
}

// sightingOf is the sighting of it as an Update or Entry shows it.
func sightingOf(it news.Item, sourceTitle string, seen time.Time) news.Sighting {
	return news.Sighting{ItemID: it.ID, SourceID: it.SourceID, SourceTitle: sourceTitle,
		Title: it.Title, Link: it.Link, SeenAt: seen}
}

// updateDelivery is a match.updated delivery of topic's match of item.
func updateDelivery(webhook, topic string, item news.Item, u news.Update, created time.Time) news.Delivery {
	return news.Delivery{WebhookID: webhook, EventType: news.EventMatchUpdated, TopicID: topic,
		ItemID: item.ID, Update: &u, NextAttempt: created, CreatedAt: created}
}

func untitledState(src string) news.SourceState {
	st := testState(src)
	st.Title = ""
	return st
}

// testStoryContract covers cross-source dedup (FindStory, duplicates,
// "also reported by"), corrections and match.updated deliveries.
func testStoryContract(t *testing.T, b backend) {
	ctx := context.Background()

	t.Run("FindStory", func(t *testing.T) {
		st := b.open(t)
		url := "https://www.example.com/world/xinjiang-report?utm_source=rss"
		a := storyItem("s1", "a", headline+" - BBC News", url)
		ma := testMatch("t1", a, at(time.Minute), false)
		// d repeats a's link later, as a duplicate: never a first sighting.
		d := storyItem("s2", "d", "Xinjiang: the UN speaks", "https://example.com/world/xinjiang-report/")
		md := dupMatch("t1", d, a, at(2*time.Minute))
		// e and f share a headline and are both first sightings (stored
		// before dedup, say); f, a baseline match, is the older.
		flood := "Flood waters rise again in the northern province"
		e := storyItem("s3", "e", flood, "https://e.example/1")
		f := storyItem("s4", "f", flood+" | The Outlet", "https://f.example/1")
		me := testMatch("t1", e, at(5*time.Minute), false)
		mf := testMatch("t1", f, at(3*time.Minute), true)
		// t2 saw the story first, through g.
		g := storyItem("s5", "g", headline, url)
		mg := testMatch("t2", g, at(0), false)
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a}, Matches: []news.Match{ma}})
		mustSave(t, st, news.PollResult{State: testState("s2"), Items: []news.Item{d}, Matches: []news.Match{md}})
		mustSave(t, st, news.PollResult{State: testState("s3"), Items: []news.Item{e}, Matches: []news.Match{me}})
		mustSave(t, st, news.PollResult{State: testState("s4"), Items: []news.Item{f}, Matches: []news.Match{mf}})
		mustSave(t, st, news.PollResult{State: testState("s5"), Items: []news.Item{g}, Matches: []news.Match{mg}})

		find := func(name, topic, url, key string, since time.Time, want string) {
			t.Helper()
			got, ok, err := st.FindStory(ctx, topic, url, key, since)
			if err != nil {
				t.Fatalf("%s: FindStory: %v", name, err)
			}
			if want == "" && ok {
				t.Errorf("%s: found %s, want none", name, got)
			}
			if want != "" && (!ok || got != want) {
				t.Errorf("%s: found %q (ok=%v), want %q", name, got, ok, want)
			}
		}
		canon := news.CanonicalURL("http://example.com/world/xinjiang-report/")
		key := news.TitleKey(headline + " | The Guardian")
		find("by canonical URL", "t1", canon, "", at(0), a.ID)
		find("by title key", "t1", "", key, at(0), a.ID)
		find("URL matches, title does not", "t1", canon, news.TitleKey("Some other headline about something else"), at(0), a.ID)
		find("title matches, URL does not", "t1", "https://example.com/elsewhere", key, at(0), a.ID)
		find("zero since: no bound", "t1", canon, key, time.Time{}, a.ID)
		find("since = matched at: included", "t1", canon, key, at(time.Minute), a.ID)
		// Past a's match only the duplicate d is left, and it never counts.
		find("since past the first: duplicate not returned", "t1", canon, key, at(time.Minute+time.Millisecond), "")
		find("earliest wins, baseline included", "t1", "", news.TitleKey(flood), at(0), f.ID)
		find("earliest within the window", "t1", "", news.TitleKey(flood), at(3*time.Minute+time.Millisecond), e.ID)
		find("other topic", "t2", canon, "", at(0), g.ID)
		find("topic without the story", "t3", canon, key, time.Time{}, "")
		find("unknown keys", "t1", "https://nowhere.example/x", "no such words in any title", time.Time{}, "")
		find("no keys", "t1", "", "", time.Time{}, "")

		// Equal match times: the smaller item id wins.
		h := storyItem("s6", "h", "Tie breaking headline with enough words", "https://h.example/1")
		i := storyItem("s6", "i", "Tie breaking headline with enough words", "https://i.example/1")
		mustSave(t, st, news.PollResult{State: testState("s6"), Items: []news.Item{h, i},
			Matches: []news.Match{testMatch("t1", h, at(time.Hour), false), testMatch("t1", i, at(time.Hour), false)}})
		want := min(h.ID, i.ID)
		find("tie", "t1", "", news.TitleKey(h.Title), at(0), want)
	})

	t.Run("ItemTitles", func(t *testing.T) {
		st := b.open(t)
		a, c := testItem("s1", "a", at(0)), testItem("s1", "c", at(0))
		c.Title = "Ünïcode title"
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a, c}})
		got, err := st.ItemTitles(ctx, []string{a.ID, "nope", c.ID, a.ID})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{a.ID: a.Title, c.ID: c.Title}; !reflect.DeepEqual(got, want) {
			t.Fatalf("ItemTitles = %v, want %v", got, want)
		}
		if got, err := st.ItemTitles(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("ItemTitles(nil) = %v, %v", got, err)
		}
		many := make([]string, 1200)
		for i := range many {
			many[i] = fmt.Sprintf("id-%d", i)
		}
		many[900] = c.ID
		if got, err := st.ItemTitles(ctx, many); err != nil || !reflect.DeepEqual(got, map[string]string{c.ID: c.Title}) {
			t.Fatalf("ItemTitles over chunks = %v, %v", got, err)
		}
	})

	t.Run("AlertedTopics", func(t *testing.T) {
		st := b.open(t)
		a, c, d := testItem("s1", "a", at(0)), testItem("s1", "c", at(0)), testItem("s1", "d", at(0))
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a, c, d}, Matches: []news.Match{
			testMatch("t1", a, at(0), false), // alerted
			testMatch("t2", a, at(0), true),  // baseline
			dupMatch("t3", a, c, at(time.Minute)),
			testMatch("t3", c, at(0), false),
			testMatch("t1", c, at(0), false),
			testMatch("t2", d, at(0), true),
		}})
		got, err := st.AlertedTopics(ctx, []string{a.ID, c.ID, d.ID, "nope"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{a.ID: {"t1"}, c.ID: {"t1", "t3"}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("AlertedTopics = %v, want %v", got, want)
		}
		if got, err := st.AlertedTopics(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("AlertedTopics(nil) = %v, %v", got, err)
		}
	})

	t.Run("SavePollDuplicatesAndAlsoReported", func(t *testing.T) {
		st := b.open(t)
		url := "https://example.com/world/xinjiang-report"
		a := storyItem("s1", "a", headline, url)
		ma := testMatch("t1", a, at(time.Minute), false)
		da := testDelivery("w1", ma, at(time.Minute))
		if n := mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a},
			Matches: []news.Match{ma}, Deliveries: []news.Delivery{da}}); n != 1 {
			t.Fatalf("first sighting: %d deliveries, want 1", n)
		}

		// Another outlet reports it: its match is a duplicate, which is not
		// alerted itself; the first sighting's subscribers get an update.
		bItem := storyItem("s2", "b", headline+" - Other News", url+"?utm_source=feed")
		mb := dupMatch("t1", bItem, a, at(time.Hour))
		u := news.Update{Kind: news.UpdateAlsoReported, Sighting: &news.Sighting{ItemID: bItem.ID, SourceID: "s2",
			SourceTitle: "Source s2", Title: bItem.Title, Link: bItem.Link, SeenAt: at(time.Hour)}}
		upd := updateDelivery("w1", "t1", a, u, at(time.Hour)) // id derived by the store
		upd2 := updateDelivery("w2", "t1", a, u, at(time.Hour))
		upd2.ID = "msg_custom"
		created := testDelivery("w1", mb, at(time.Hour))        // of a duplicate: skipped
		gone := updateDelivery("w1", "t9", a, u, at(time.Hour)) // no such match: skipped
		p := news.PollResult{State: testState("s2"), Items: []news.Item{bItem}, Matches: []news.Match{mb},
			Deliveries: []news.Delivery{created, upd, gone, upd2}}
		if n := mustSave(t, st, p); n != 2 {
			t.Fatalf("also-reported poll: %d deliveries, want 2 (the two updates)", n)
		}
		if n := mustSave(t, st, p); n != 0 {
			t.Fatalf("repeated poll: %d deliveries, want 0", n)
		}
		// The same update from a later poll (b stored by then) adds nothing.
		if n := mustSave(t, st, news.PollResult{State: testState("s2"), Deliveries: []news.Delivery{upd}}); n != 0 {
			t.Fatalf("repeated update: %d deliveries, want 0", n)
		}
		mustPending(t, st, 3)

		wantUpd := upd
		wantUpd.ID = news.UpdateDeliveryID("t1", a.ID, "w1", news.UpdateAlsoReported+"\x00"+bItem.ID)
		wantUpd.Status = news.DeliveryPending
		if got := deliveryByID(t, st, wantUpd.ID); !reflect.DeepEqual(got, wantUpd) {
			t.Fatalf("update delivery:\n got %+v (%+v)\nwant %+v (%+v)", got, got.Update, wantUpd, wantUpd.Update)
		}
		if got := deliveryByID(t, st, "msg_custom"); !reflect.DeepEqual(got.Update, &u) || got.EventType != news.EventMatchUpdated {
			t.Fatalf("update with its own id: %+v", got)
		}
		if got := deliveryByID(t, st, da.ID); got.Update != nil {
			t.Fatalf("match.created delivery has an update: %+v", got.Update)
		}

		// A third outlet: a different sighting, so a different delivery.
		c := storyItem("s3", "c", headline, url)
		mc := dupMatch("t1", c, a, at(2*time.Hour))
		uc := news.Update{Kind: news.UpdateAlsoReported, Sighting: &news.Sighting{ItemID: c.ID, SourceID: "s3",
			SourceTitle: "Source s3", Title: c.Title, Link: c.Link}} // SeenAt unknown
		updC := updateDelivery("w1", "t1", a, uc, at(2*time.Hour))
		if n := mustSave(t, st, news.PollResult{State: testState("s3"), Items: []news.Item{c},
			Matches: []news.Match{mc}, Deliveries: []news.Delivery{updC}}); n != 1 {
			t.Fatalf("second sighting: %d deliveries, want 1", n)
		}

		// w1's queue: the alert, then the updates, whose entry is the
		// first sighting.
		now := at(3 * time.Hour)
		claim := func() news.Alert {
			t.Helper()
			al, ok, err := st.ClaimNext(ctx, "w1", true, now, time.Minute)
			if err != nil || !ok {
				t.Fatalf("ClaimNext = %v, %v", ok, err)
			}
			if err := st.MarkDelivered(ctx, al.Delivery.ID, 1, now); err != nil {
				t.Fatal(err)
			}
			return al
		}
		if al := claim(); al.Delivery.ID != da.ID || al.Delivery.Update != nil {
			t.Fatalf("first claim = %+v, want the match.created alert", al.Delivery)
		}
		al := claim()
		wantAlert := news.Alert{Delivery: wantUpd, Topic: news.Topic{ID: "t1"},
			Entry: news.Entry{Item: a, Match: ma, SourceTitle: "Source s1"}}
		if !reflect.DeepEqual(al, wantAlert) {
			t.Fatalf("claimed update:\n got %+v\nwant %+v", al, wantAlert)
		}
		if al := claim(); al.Delivery.ItemID != a.ID || !reflect.DeepEqual(al.Delivery.Update, &uc) || al.Entry.Item.ID != a.ID {
			t.Fatalf("second update = %+v (%+v)", al.Delivery, al.Delivery.Update)
		}

		// The feed shows the story once.
		es, err := st.TopicEntries(ctx, "t1", 10)
		if err != nil || len(es) != 1 || es[0].Item.ID != a.ID || len(es[0].AlsoReportedBy) != 2 {
			t.Fatalf("entries = %+v, %v; want a with two sightings", es, err)
		}
	})

	t.Run("SavePollRefusesBadUpdatesAndDuplicates", func(t *testing.T) {
		st := b.open(t)
		a := storyItem("s1", "a", headline, "https://example.com/a")
		ma := testMatch("t1", a, at(0), false)
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a}, Matches: []news.Match{ma}})

		c := testItem("s2", "c", at(0))
		mc := testMatch("t1", c, at(0), false)
		unknownKind := updateDelivery("w1", "t1", a, news.Update{Kind: "retracted"}, at(0))
		noUpdate := updateDelivery("w1", "t1", a, news.Update{}, at(0))
		noUpdate.Update = nil
		createdWithUpdate := testDelivery("w1", mc, at(0))
		createdWithUpdate.Update = &news.Update{Kind: news.UpdateCorrected}
		for name, p := range map[string]news.PollResult{
			"update without Update": {Deliveries: []news.Delivery{noUpdate}},
			"unknown update kind":   {Deliveries: []news.Delivery{unknownKind}},
			"match.created with an update": {Matches: []news.Match{mc},
				Deliveries: []news.Delivery{createdWithUpdate}},
			"duplicate of an unknown item": {Matches: []news.Match{dupMatch("t1", c, testItem("s9", "x", at(0)), at(0))}},
			"duplicate of itself":          {Matches: []news.Match{dupMatch("t1", c, c, at(0))}},
		} {
			p.State, p.Items = testState("s2"), []news.Item{c}
			if _, err := st.SavePoll(ctx, p); err == nil {
				t.Errorf("%s: accepted", name)
			}
			if unseen, _ := st.UnseenItems(ctx, []string{c.ID}); len(unseen) != 1 {
				t.Fatalf("%s: the failed poll's item was stored", name)
			}
		}
		mustPending(t, st, 0)
	})

	t.Run("Corrections", func(t *testing.T) {
		st := b.open(t)
		a := storyItem("s1", "a", "Minister resigns over the housing scandal in the capital", "https://example.org/a")
		k := storyItem("s1", "k", "Unrelated story that is never corrected at all", "https://example.org/k")
		ma, mk := testMatch("t1", a, at(time.Minute), false), testMatch("t1", k, at(time.Minute), false)
		da := testDelivery("w1", ma, at(time.Minute))
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{a, k},
			Matches: []news.Match{ma, mk}, Deliveries: []news.Delivery{da}})
		before := entriesByItem(t, st, "t1")

		// The headline is corrected, with the text around it. Published
		// and the fetch time are the first sighting's and stay.
		a2 := a
		a2.SourceID = "" // the state's
		a2.Title = "Minister denies resigning over the housing scandal in the capital"
		a2.Link, a2.Summary, a2.Content = "https://example.org/a-corrected", "corrected summary", "corrected content"
		a2.Authors, a2.Categories, a2.Updated = []string{"Ada"}, nil, at(time.Hour)
		a2.Published, a2.FetchedAt = at(5*time.Hour), at(6*time.Hour)
		wantA := a2
		wantA.SourceID, wantA.Published, wantA.FetchedAt = "s1", a.Published, a.FetchedAt

		upd := updateDelivery("w1", "t1", a, news.Update{Kind: news.UpdateCorrected, PreviousTitle: a.Title, Title: a2.Title}, at(time.Hour))
		// match.created for a stored item stays refused, whichever webhook.
		late := testDelivery("w3", ma, at(time.Hour))
		ghost := storyItem("s1", "ghost", "Never stored", "https://example.org/ghost")
		p := news.PollResult{State: testState("s1"), Corrected: []news.Item{a2, ghost}, Deliveries: []news.Delivery{upd, late}}
		if n := mustSave(t, st, p); n != 1 {
			t.Fatalf("correction poll: %d deliveries, want 1 (the update)", n)
		}
		if unseen, _ := st.UnseenItems(ctx, []string{ghost.ID}); len(unseen) != 1 {
			t.Fatal("a correction of an unknown item stored it")
		}
		if got, _, err := st.Item(ctx, a.ID); err != nil || !reflect.DeepEqual(got, wantA) {
			t.Fatalf("corrected item:\n got %+v, %v\nwant %+v", got, err, wantA)
		}
		entry := func(id string) news.Entry {
			t.Helper()
			e, ok := entriesByItem(t, st, "t1")[id]
			if !ok {
				t.Fatalf("no entry for %s", id)
			}
			return e
		}
		if e := entry(a.ID); !reflect.DeepEqual(e.Item, wantA) || e.PreviousTitle != a.Title || !reflect.DeepEqual(e.Match, ma) {
			t.Fatalf("corrected entry: %+v (previous %q)", e.Item, e.PreviousTitle)
		}
		if got, err := st.ItemTitles(ctx, []string{a.ID}); err != nil || got[a.ID] != a2.Title {
			t.Fatalf("ItemTitles after correction = %v, %v", got, err)
		}
		// The story keys follow the correction.
		for _, c := range []struct {
			url, key string
			found    bool
		}{
			{"", news.TitleKey(a2.Title), true}, {news.CanonicalURL(a2.Link), "", true},
			{"", news.TitleKey(a.Title), false}, {news.CanonicalURL(a.Link), "", false},
		} {
			if id, ok, err := st.FindStory(ctx, "t1", c.url, c.key, time.Time{}); err != nil || ok != c.found || (ok && id != a.ID) {
				t.Errorf("FindStory(%q, %q) = %s, %v, %v; want found=%v", c.url, c.key, id, ok, err, c.found)
			}
		}

		// The same correction again: the title did not change this time,
		// so the previous title stays; the update is not sent twice.
		if n := mustSave(t, st, p); n != 0 {
			t.Fatalf("repeated correction: %d deliveries", n)
		}
		if e := entry(a.ID); e.PreviousTitle != a.Title || !reflect.DeepEqual(e.Item, wantA) {
			t.Fatalf("after a repeated correction: %+v (previous %q)", e.Item, e.PreviousTitle)
		}
		// The summary alone is fixed: updated, previous title kept.
		a3 := a2
		a3.Summary = "second fix"
		mustSave(t, st, news.PollResult{State: testState("s1"), Corrected: []news.Item{a3}})
		if e := entry(a.ID); e.PreviousTitle != a.Title || e.Item.Summary != "second fix" {
			t.Fatalf("after a summary fix: summary %q, previous %q", e.Item.Summary, e.PreviousTitle)
		}
		// Another headline: the previous title is the one it replaced.
		a4 := a3
		a4.Title = "Minister resigns after all over the housing scandal"
		mustSave(t, st, news.PollResult{State: testState("s1"), Corrected: []news.Item{a4}})
		if e := entry(a.ID); e.PreviousTitle != a2.Title || e.Item.Title != a4.Title {
			t.Fatalf("after a second correction: title %q, previous %q", e.Item.Title, e.PreviousTitle)
		}

		// An unchanged item "corrected" changes nothing.
		mustSave(t, st, news.PollResult{State: testState("s1"), Corrected: []news.Item{k}})
		if e := entry(k.ID); !reflect.DeepEqual(e, before[k.ID]) || e.PreviousTitle != "" {
			t.Fatalf("unchanged correction changed the entry:\n got %+v\nwant %+v", e, before[k.ID])
		}
		// A correction of another source's item is refused, and nothing of
		// that poll is saved.
		other := a4
		other.SourceID, other.Title = "s2", "Hijacked headline from another source entirely"
		if _, err := st.SavePoll(ctx, news.PollResult{State: testState("s1"), Corrected: []news.Item{a4, other}}); err == nil {
			t.Fatal("a correction of another source's item was accepted")
		}

		// The update is claimed with the current entry and says what changed.
		now := at(24 * time.Hour)
		for _, want := range []string{da.ID, news.UpdateDeliveryID("t1", a.ID, "w1", news.UpdateCorrected+"\x00"+a2.Title)} {
			al, ok, err := st.ClaimNext(ctx, "w1", true, now, time.Minute)
			if err != nil || !ok || al.Delivery.ID != want {
				t.Fatalf("claim = %s, %v, %v; want %s", al.Delivery.ID, ok, err, want)
			}
			if want == da.ID {
				if err := st.MarkDelivered(ctx, da.ID, 1, now); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if !reflect.DeepEqual(al.Delivery.Update, upd.Update) || al.Entry.Item.Title != a4.Title || al.Entry.PreviousTitle != a2.Title {
				t.Fatalf("claimed correction: update %+v, title %q, previous %q", al.Delivery.Update, al.Entry.Item.Title, al.Entry.PreviousTitle)
			}
		}
	})

	t.Run("TopicEntriesHideDuplicatesListSightings", func(t *testing.T) {
		st := b.open(t)
		first := storyItem("s1", "first", headline, "https://example.com/x")
		first.Published = at(time.Hour)
		mFirst := testMatch("t1", first, at(time.Minute), false)
		other := testItem("s1", "other", at(2*time.Hour))
		mOther := testMatch("t1", other, at(time.Minute), false)
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{first, other},
			Matches: []news.Match{mFirst, mOther, testMatch("t2", first, at(time.Minute), false)}})

		// Later sightings, newer than everything by Published; s2 has no
		// title (its id stands in), s3's sighting is the older.
		dup := func(src, key string) news.Item {
			it := storyItem(src, key, headline+" - "+src, "https://"+src+".example/"+key)
			it.Published = at(10 * time.Hour)
			return it
		}
		b2, c3, e4 := dup("s2", "b"), dup("s3", "c"), dup("s4", "e")
		mustSave(t, st, news.PollResult{State: untitledState("s2"), Items: []news.Item{b2},
			Matches: []news.Match{dupMatch("t1", b2, first, at(3*time.Minute))}})
		mustSave(t, st, news.PollResult{State: testState("s3"), Items: []news.Item{c3},
			Matches: []news.Match{dupMatch("t1", c3, first, at(2*time.Minute))}})
		// e4 is a duplicate in t2 only.
		mustSave(t, st, news.PollResult{State: testState("s4"), Items: []news.Item{e4},
			Matches: []news.Match{dupMatch("t2", e4, first, at(time.Minute))}})

		es, err := st.TopicEntries(ctx, "t1", 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := entryTitles(es); !reflect.DeepEqual(got, []string{other.Title, first.Title}) {
			t.Fatalf("entries = %v, want other and first only", got)
		}
		want := []news.Sighting{sightingOf(c3, "Source s3", at(2*time.Minute)), sightingOf(b2, "s2", at(3*time.Minute))}
		if !reflect.DeepEqual(es[1].AlsoReportedBy, want) {
			t.Fatalf("also reported by:\n got %+v\nwant %+v", es[1].AlsoReportedBy, want)
		}
		if es[0].AlsoReportedBy != nil || es[1].PreviousTitle != "" {
			t.Fatalf("other has sightings %+v, first a previous title %q", es[0].AlsoReportedBy, es[1].PreviousTitle)
		}
		// Duplicates take no place in a page.
		if es, err := st.TopicEntries(ctx, "t1", 2); err != nil || len(es) != 2 {
			t.Fatalf("limit 2 = %v, %v", entryTitles(es), err)
		}
		if es, err := st.TopicEntries(ctx, "t1", 1); err != nil || len(es) != 1 || es[0].Item.ID != other.ID {
			t.Fatalf("limit 1 = %v, %v", entryTitles(es), err)
		}
		if got := entriesByItem(t, st, "t2")[first.ID].AlsoReportedBy; !reflect.DeepEqual(got, []news.Sighting{sightingOf(e4, "Source s4", at(time.Minute))}) {
			t.Fatalf("t2 sightings = %+v", got)
		}

		// At most 20 sightings an entry: the oldest.
		var many []news.Item
		var manyMatches []news.Match
		for i := range 25 {
			it := dup("s5", fmt.Sprint("m", i))
			many = append(many, it)
			manyMatches = append(manyMatches, dupMatch("t1", it, first, at(time.Duration(10+i)*time.Minute)))
		}
		mustSave(t, st, news.PollResult{State: testState("s5"), Items: many, Matches: manyMatches})
		got := entriesByItem(t, st, "t1")[first.ID].AlsoReportedBy
		if len(got) != maxSightings {
			t.Fatalf("%d sightings, want %d", len(got), maxSightings)
		}
		if !reflect.DeepEqual(got[:2], want) || got[19].ItemID != many[17].ID {
			t.Fatalf("capped sightings are not the oldest: %+v", got)
		}
	})

	t.Run("SightingsOnLongPages", func(t *testing.T) {
		st := b.open(t)
		// 120 entries, newest first by Published; the story of entry i has
		// a sighting when i%7 == 0, so pages span several lookups.
		var items, dups []news.Item
		var matches []news.Match
		for i := range 120 {
			it := testItem("s1", fmt.Sprint("e", i), at(-time.Duration(i)*time.Minute))
			items, matches = append(items, it), append(matches, testMatch("t1", it, at(0), false))
		}
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: items, Matches: matches})
		matches = nil
		for i := 0; i < len(items); i += 7 {
			d := testItem("s2", fmt.Sprint("d", i), at(time.Hour))
			dups, matches = append(dups, d), append(matches, dupMatch("t1", d, items[i], at(time.Hour)))
		}
		mustSave(t, st, news.PollResult{State: testState("s2"), Items: dups, Matches: matches})
		es, err := st.TopicEntries(ctx, "t1", 1000)
		if err != nil || len(es) != len(items) {
			t.Fatalf("entries = %d, %v; want %d", len(es), err, len(items))
		}
		for i, e := range es {
			if e.Item.ID != items[i].ID {
				t.Fatalf("entry %d is %s, want %s", i, e.Item.Key, items[i].Key)
			}
			want := 0
			if i%7 == 0 {
				want = 1
			}
			if len(e.AlsoReportedBy) != want || (want == 1 && e.AlsoReportedBy[0].ItemID != dups[i/7].ID) {
				t.Fatalf("entry %d sightings = %+v", i, e.AlsoReportedBy)
			}
		}
	})

	t.Run("BackfillKeepsAndPromotesDuplicates", func(t *testing.T) {
		st := b.open(t)
		first := storyItem("s1", "first", headline, "https://example.com/x")
		later := storyItem("s1", "later", headline+" - again", "https://example.com/x")
		third := storyItem("s1", "third", headline+" - once more", "https://example.com/x")
		mustSave(t, st, news.PollResult{State: testState("s1"), Items: []news.Item{first, later, third},
			Matches: []news.Match{testMatch("t1", first, at(0), true), dupMatch("t1", later, first, at(time.Minute))}})
		// A backfill adds third as a duplicate and rewrites later's match
		// without saying it is one: later stays a duplicate.
		laterAgain := testMatch("t1", later, at(0), false)
		if err := st.Backfill(ctx, "t1", "fp1", []string{first.ID, later.ID, third.ID},
			[]news.Match{testMatch("t1", first, at(0), false), laterAgain, dupMatch("t1", third, first, at(time.Hour))}, at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		es, err := st.TopicEntries(ctx, "t1", 10)
		if err != nil || len(es) != 1 || len(es[0].AlsoReportedBy) != 2 {
			t.Fatalf("after backfill = %+v, %v; want first with two sightings", es, err)
		}
		// The topic changes and first no longer matches: its duplicates
		// stand on their own rather than hide behind a missing entry.
		if err := st.Backfill(ctx, "t1", "fp2", []string{first.ID, later.ID, third.ID},
			[]news.Match{laterAgain, dupMatch("t1", third, first, at(time.Hour))}, at(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got := entriesByItem(t, st, "t1")
		if len(got) != 2 || got[later.ID].Match.DuplicateOf != "" || got[third.ID].Match.DuplicateOf != "" {
			t.Fatalf("after the first sighting went: %+v", got)
		}
		// The promoted sightings are first sightings for dedup now, found
		// by the keys the backfill gave their matches: later (matched at
		// 0) comes before third (matched an hour later).
		if id, ok, err := st.FindStory(ctx, "t1", "", news.TitleKey(headline), time.Time{}); err != nil || !ok || id != later.ID {
			t.Fatalf("FindStory after promotion = %s, %v, %v; want %s", id, ok, err, later.ID)
		}
		if id, ok, err := st.FindStory(ctx, "t1", news.CanonicalURL(third.Link), "", at(30*time.Minute)); err != nil || !ok || id != third.ID {
			t.Fatalf("FindStory by URL since 0:30 = %s, %v, %v; want %s", id, ok, err, third.ID)
		}
	})
}
