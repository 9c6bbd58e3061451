package watch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"wirewatch/news"
)

// BackfillStore is what backfilling needs from storage.
type BackfillStore interface {
	TopicFingerprint(ctx context.Context, topicID string) (string, error)
	ItemsSince(ctx context.Context, since time.Time, sourceIDs []string, limit int) ([]news.Item, error)
	Backfill(ctx context.Context, topicID, fingerprint string, rematched []string, matches []news.Match, now time.Time) error
}

// TopicMatcher evaluates one topic on one item.
type TopicMatcher interface {
	MatchTopic(topicID string, item news.Item, now time.Time) (news.Match, bool)
}

// BackfillResult says what backfilling did for one topic.
type BackfillResult struct {
	TopicID string
	Items   int // stored items re-evaluated
	Matches int // of which matched
}

// backfillLimit bounds how many stored items one topic re-evaluates.
const backfillLimit = 100000

// BackfillTopics matches every new or changed topic (its fingerprint differs
// from the stored one) against the stored items of its backfill period, so
// its feed is full from the start. Backfilled matches are baseline matches:
// they are never alerted. Unchanged topics cost one lookup each.
func BackfillTopics(ctx context.Context, st BackfillStore, m TopicMatcher, topics []news.Topic, now time.Time, logger *slog.Logger) ([]BackfillResult, error) {
	if logger == nil {
		logger = slog.Default()
	}
	var out []BackfillResult
	for _, t := range topics {
		fp := t.Fingerprint()
		old, err := st.TopicFingerprint(ctx, t.ID)
		if err != nil {
			return out, fmt.Errorf("watch: backfill %q: %w", t.ID, err)
		}
		if old == fp {
			continue
		}
		var items []news.Item
		if t.Backfill > 0 {
			items, err = st.ItemsSince(ctx, now.Add(-t.Backfill), t.Sources, backfillLimit)
			if err != nil {
				return out, fmt.Errorf("watch: backfill %q: %w", t.ID, err)
			}
		}
		ids := make([]string, len(items))
		var matches []news.Match
		for i, it := range items {
			ids[i] = it.ID
			if mt, ok := m.MatchTopic(t.ID, it, now); ok {
				mt.Baseline = true
				matches = append(matches, mt)
			}
		}
		if err := st.Backfill(ctx, t.ID, fp, ids, matches, now); err != nil {
			return out, fmt.Errorf("watch: backfill %q: %w", t.ID, err)
		}
		res := BackfillResult{TopicID: t.ID, Items: len(items), Matches: len(matches)}
		out = append(out, res)
		why := "changed"
		if old == "" {
			why = "new"
		}
		logger.Info("topic backfilled from stored items", "topic", t.ID, "topic_is", why,
			"period", t.Backfill.String(), "items", res.Items, "matches", res.Matches)
	}
	return out, nil
}
