package store

import (
	"context"
	"fmt"

	"wirewatch/news"
)

// Stats counts what the store holds, for operators (an /api/stats endpoint,
// a log line at start-up). The JSON tags let it be served as it is.
type Stats struct {
	Sources int `json:"sources"`
	Items   int `json:"items"`
	Matches int `json:"matches"`
	// BaselineMatches counts the matches among Matches that were never
	// alerted by design (first fetch of a source, backfill).
	BaselineMatches int `json:"baseline_matches"`
	// Deliveries counts outbox rows by status; every status is present,
	// with 0 when there are none.
	Deliveries map[news.DeliveryStatus]int `json:"deliveries"`
}

// Stats returns the store's counts. They come from one statement, so they
// are consistent with each other even while polls are being saved.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var (
		st                               Stats
		pending, delivered, failed, dead int
	)
	err := s.db.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM sources),
			(SELECT COUNT(*) FROM items),
			(SELECT COUNT(*) FROM matches),
			(SELECT COUNT(*) FROM matches WHERE baseline),
			(SELECT COUNT(*) FROM deliveries WHERE status = 'pending'),
			(SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'),
			(SELECT COUNT(*) FROM deliveries WHERE status = 'failed'),
			(SELECT COUNT(*) FROM deliveries WHERE status = 'dead')`).
		Scan(&st.Sources, &st.Items, &st.Matches, &st.BaselineMatches, &pending, &delivered, &failed, &dead)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats: %w", err)
	}
	st.Deliveries = map[news.DeliveryStatus]int{
		news.DeliveryPending:   pending,
		news.DeliveryDelivered: delivered,
		news.DeliveryFailed:    failed,
		news.DeliveryDead:      dead,
	}
	return st, nil
}
