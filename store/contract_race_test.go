package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

// raceHooks are the webhooks of the save-time story check: one that opted
// in to updates, one that did not, and one of another topic.
var raceHooks = []news.Webhook{
	{ID: "w-updates", Updates: true},
	{ID: "w-plain"},
	{ID: "w-other", Topics: []string{"t2"}, Updates: true},
}

// firstSightingPoll is a poll of src whose one item it takes for topic
// t1's first sighting of its story (the caller found none when it looked),
// with match.created alerts to every webhook, and the save-time check on
// when check is set.
func firstSightingPoll(src, key, title, link string, matchedAt time.Time, check bool) news.PollResult {
	it := storyItem(src, key, title, link)
	m := testMatch("t1", it, matchedAt, false)
	p := news.PollResult{State: testState(src), Items: []news.Item{it}, Matches: []news.Match{m}}
	for _, w := range raceHooks {
		if w.Wants("t1") {
			p.Deliveries = append(p.Deliveries, testDelivery(w.ID, m, matchedAt))
		}
	}
	if check {
		p.Stories = &news.StoryCheck{Since: matchedAt.Add(-24 * time.Hour), Webhooks: raceHooks}
	}
	return p
}

// testStoryRaceContract covers the save-time check of first sightings
// (news.PollResult.Stories): two polls that each looked a story up before
// the other saved it must still give one first sighting and one alert,
// within one instance and across instances.
func testStoryRaceContract(t *testing.T, b backend) {
	ctx := context.Background()
	link := "https://www.example.com/world/xinjiang-report"

	t.Run("SaveTimeCheckMergesALateFirstSighting", func(t *testing.T) {
		st := b.open(t)
		first := firstSightingPoll("s1", "a", headline, link, at(time.Minute), true)
		if n := mustSave(t, st, first); n != 2 {
			t.Fatalf("first sighting saved %d deliveries, want 2 match.created", n)
		}
		if first.Stories.Merged != 0 {
			t.Fatalf("first sighting: Merged = %d, want 0", first.Stories.Merged)
		}
		// The same story from another outlet, decided "first" before the
		// poll above was saved.
		late := firstSightingPoll("s2", "b", headline+" - Example News", link+"?utm_source=rss", at(2*time.Minute), true)
		if n := mustSave(t, st, late); n != 1 {
			t.Fatalf("late sighting saved %d deliveries, want 1 (the update to w-updates)", n)
		}
		if late.Stories.Merged != 1 {
			t.Fatalf("late sighting: Merged = %d, want 1", late.Stories.Merged)
		}
		a, bItem := first.Items[0], late.Items[0]

		entries, err := st.TopicEntries(ctx, "t1", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Item.ID != a.ID {
			t.Fatalf("topic feed lists %v, want only the first sighting %q", entryTitles(entries), a.ID)
		}
		if got := entries[0].AlsoReportedBy; len(got) != 1 || got[0].ItemID != bItem.ID {
			t.Fatalf("also reported by = %+v, want the late sighting %q", got, bItem.ID)
		}

		ds, err := st.Deliveries(ctx, DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		created, updates := 0, 0
		for _, d := range ds {
			switch d.EventType {
			case news.EventMatchCreated:
				created++
				if d.ItemID != a.ID {
					t.Errorf("match.created for %q: the late sighting was alerted", d.ItemID)
				}
			case news.EventMatchUpdated:
				updates++
				if d.WebhookID != "w-updates" || d.ItemID != a.ID || d.Update == nil ||
					d.Update.Kind != news.UpdateAlsoReported || d.Update.Sighting == nil {
					t.Fatalf("update = %+v, want also_reported on %q to w-updates", d, a.ID)
				}
				want := sightingOf(bItem, "Source s2", at(2*time.Minute))
				if got := *d.Update.Sighting; got != want {
					t.Errorf("sighting = %+v, want %+v", got, want)
				}
				if d.NextAttempt.IsZero() || d.Status != news.DeliveryPending {
					t.Errorf("update is not due: %+v", d)
				}
				if !d.CreatedAt.Equal(at(2 * time.Minute)) {
					t.Errorf("update created at %v, want the skipped alert's place in the outbox (%v)", d.CreatedAt, at(2*time.Minute))
				}
			}
		}
		if created != 2 || updates != 1 {
			t.Fatalf("outbox has %d match.created and %d match.updated, want 2 and 1", created, updates)
		}
	})

	t.Run("UpdateNeverPrecedesTheFirstAlert", func(t *testing.T) {
		st := b.open(t)
		// The other save spaced its alerts later in the outbox than the
		// late sighting's skipped alert.
		first := firstSightingPoll("s1", "a", headline, link, at(10*time.Minute), true)
		mustSave(t, st, first)
		mustSave(t, st, firstSightingPoll("s2", "b", headline, link, at(2*time.Minute), true))
		ds, err := st.Deliveries(ctx, DeliveryFilter{WebhookID: "w-updates"})
		if err != nil {
			t.Fatal(err)
		}
		// Deliveries lists the newest first.
		if len(ds) != 2 || ds[0].EventType != news.EventMatchUpdated || ds[1].EventType != news.EventMatchCreated {
			t.Fatalf("w-updates outbox = %+v, want the alert, then the update", ds)
		}
		if want := at(10*time.Minute + time.Millisecond); !ds[0].CreatedAt.Equal(want) {
			t.Fatalf("update created at %v, want just after the first sighting's alert (%v)", ds[0].CreatedAt, want)
		}
	})

	t.Run("WithoutCheckTheCallersDecisionStands", func(t *testing.T) {
		st := b.open(t)
		mustSave(t, st, firstSightingPoll("s1", "a", headline, link, at(time.Minute), false))
		mustSave(t, st, firstSightingPoll("s2", "b", headline, link, at(2*time.Minute), false))
		entries, err := st.TopicEntries(ctx, "t1", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 {
			t.Fatalf("topic feed lists %v, want both items (dedup off)", entryTitles(entries))
		}
	})

	t.Run("FirstSightingOutsideTheWindowDoesNotMerge", func(t *testing.T) {
		st := b.open(t)
		mustSave(t, st, firstSightingPoll("s1", "a", headline, link, at(time.Minute), true))
		late := firstSightingPoll("s2", "b", headline, link, at(48*time.Hour), true)
		if n := mustSave(t, st, late); n != 2 || late.Stories.Merged != 0 {
			t.Fatalf("a sighting two days later: %d deliveries, Merged %d; want 2 alerts, 0", n, late.Stories.Merged)
		}
	})

	t.Run("BaselineIsMergedSilently", func(t *testing.T) {
		st := b.open(t)
		mustSave(t, st, firstSightingPoll("s1", "a", headline, link, at(time.Minute), true))
		late := firstSightingPoll("s2", "b", headline, link, at(2*time.Minute), true)
		late.Matches[0].Baseline = true
		late.Deliveries = nil // a backlog is not alerted
		if n := mustSave(t, st, late); n != 0 || late.Stories.Merged != 1 {
			t.Fatalf("baseline late sighting: %d deliveries, Merged %d; want 0, 1", n, late.Stories.Merged)
		}
	})

	t.Run("ConcurrentInstancesAlertAStoryOnce", func(t *testing.T) {
		const instances, stories = 4, 12
		first := b.open(t)
		stores := []contractStore{first}
		for len(stores) < instances {
			stores = append(stores, b.another(t, first))
		}
		merged := make([][]int, stories)
		for s := range stories {
			merged[s] = make([]int, instances)
			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make(chan error, instances)
			for i, st := range stores {
				p := firstSightingPoll(fmt.Sprintf("s%d-%d", s, i), "k", fmt.Sprintf("%s, part %d", headline, s),
					fmt.Sprintf("%s-%d", link, s), at(time.Minute), true)
				wg.Go(func() {
					<-start
					if _, err := st.SavePoll(ctx, p); err != nil {
						errs <- err
						return
					}
					merged[s][i] = p.Stories.Merged
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("SavePoll: %v", err)
			}
		}
		entries, err := first.TopicEntries(ctx, "t1", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != stories {
			t.Fatalf("%d stories saved by %d instances at once gave %d first sightings, want %d",
				stories, instances, len(entries), stories)
		}
		for _, e := range entries {
			if len(e.AlsoReportedBy) != instances-1 {
				t.Errorf("%q: %d later sightings, want %d", e.Item.Title, len(e.AlsoReportedBy), instances-1)
			}
		}
		for s, m := range merged {
			total := 0
			for _, n := range m {
				total += n
			}
			if total != instances-1 {
				t.Errorf("story %d: Merged adds up to %d, want %d", s, total, instances-1)
			}
		}
		ds, err := first.Deliveries(ctx, DeliveryFilter{Status: news.DeliveryPending, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		perStory := map[string]int{}
		for _, d := range ds {
			if d.EventType == news.EventMatchCreated && d.WebhookID == "w-plain" {
				perStory[d.ItemID]++
			}
		}
		if len(perStory) != stories {
			t.Fatalf("w-plain got match.created for %d items, want one per story (%d)", len(perStory), stories)
		}
	})
}
