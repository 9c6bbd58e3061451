package watch

import (
	"context"
	"strings"
	"testing"
	"time"

	"wirewatch/news"
)

type backfillStore struct {
	fingerprints map[string]string
	items        []news.Item
	calls        []string
	matches      map[string][]news.Match
}

func (b *backfillStore) TopicFingerprint(_ context.Context, id string) (string, error) {
	return b.fingerprints[id], nil
}

func (b *backfillStore) ItemsSince(_ context.Context, since time.Time, _ []string, _ int) ([]news.Item, error) {
	var out []news.Item
	for _, it := range b.items {
		if !it.FetchedAt.Before(since) {
			out = append(out, it)
		}
	}
	return out, nil
}

func (b *backfillStore) Backfill(_ context.Context, id, fp string, _ []string, ms []news.Match, _ time.Time) error {
	b.calls = append(b.calls, id)
	b.fingerprints[id] = fp
	b.matches[id] = ms
	return nil
}

type titleTopicMatcher struct{}

func (titleTopicMatcher) MatchTopic(topicID string, it news.Item, now time.Time) (news.Match, bool) {
	if strings.Contains(it.Title, "Xinjiang") {
		return news.Match{TopicID: topicID, ItemID: it.ID, MatchedAt: now}, true
	}
	return news.Match{}, false
}

func TestBackfillOnlyNewOrChangedTopicsWithinPeriod(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	unchanged := news.Topic{ID: "same", Query: "Xinjiang", Backfill: 7 * 24 * time.Hour}
	st := &backfillStore{
		fingerprints: map[string]string{"same": unchanged.Fingerprint(), "changed": "old"},
		matches:      map[string][]news.Match{},
		items: []news.Item{
			{ID: "recent", Title: "Xinjiang report", FetchedAt: now.Add(-24 * time.Hour)},
			{ID: "old", Title: "Xinjiang archive", FetchedAt: now.Add(-30 * 24 * time.Hour)},
			{ID: "other", Title: "Football", FetchedAt: now.Add(-time.Hour)},
		},
	}
	topics := []news.Topic{
		unchanged,
		{ID: "changed", Query: "Xinjiang AND report", Backfill: 7 * 24 * time.Hour},
		{ID: "new", Query: "Xinjiang", Backfill: 7 * 24 * time.Hour},
		{ID: "no-backfill", Query: "Xinjiang"},
	}
	res, err := BackfillTopics(context.Background(), st, titleTopicMatcher{}, topics, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(st.calls, ","); got != "changed,new,no-backfill" {
		t.Errorf("backfilled %q, want changed,new,no-backfill (not the unchanged topic)", got)
	}
	if len(res) != 3 || res[0].Items != 2 || res[0].Matches != 1 || res[2].Items != 0 {
		t.Errorf("results = %+v", res)
	}
	if ms := st.matches["new"]; len(ms) != 1 || ms[0].ItemID != "recent" || !ms[0].Baseline {
		t.Errorf("new topic matches = %+v, want the recent item only, as a baseline match", ms)
	}
	// A second start with the same topics does nothing.
	st.calls = nil
	if _, err := BackfillTopics(context.Background(), st, titleTopicMatcher{}, topics, now, nil); err != nil {
		t.Fatal(err)
	}
	if len(st.calls) != 0 {
		t.Errorf("second start backfilled %v again", st.calls)
	}
}
