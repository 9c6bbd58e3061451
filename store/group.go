package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"

	"wirewatch/news"
)

// maxGroup bounds how many polls one group commit saves. Measured on a
// 10,000-source cold start: groups of up to 8 ingest as fast as groups of
// up to 32 (the commit is already a small share at 8) and keep 24 MiB less
// resident, the polls waiting in a group holding their items in memory.
const maxGroup = 8

// saveGroup gathers concurrent SavePolls so that one transaction saves many
// of them (group commit). A cold start polls thousands of sources at once,
// and a transaction per poll spent most of the writer's time committing:
// writing the same index pages to the WAL again and again, and on
// PostgreSQL waiting for one fsync per poll. Each poll still succeeds or
// fails on its own: it runs inside a savepoint, and a poll that fails is
// rolled back to it while the others in the group are kept.
//
// There is no background goroutine: the first waiting caller to get the
// slot leads, saving the oldest queued polls (up to maxGroup, usually its
// own among them) while later callers queue for the next group; a caller
// whose poll another leader saved just collects its result.
type saveGroup struct {
	// slot is held by the leader of the group being saved.
	slot chan struct{}

	mu    sync.Mutex
	queue []*pendingSave
}

func newSaveGroup() *saveGroup { return &saveGroup{slot: make(chan struct{}, 1)} }

// pendingSave is one SavePoll waiting for, or in, a group.
type pendingSave struct {
	ctx  context.Context
	poll news.PollResult
	// items are poll.Items prepared for the writer (itemInserts).
	items []itemInsert
	// n and err are the result, set before done is closed.
	n    int
	err  error
	done chan struct{}
}

func newPendingSave(ctx context.Context, p news.PollResult) *pendingSave {
	return &pendingSave{ctx: ctx, poll: p, items: itemInserts(p.State.SourceID, p.Items), done: make(chan struct{})}
}

func (g *saveGroup) enqueue(p *pendingSave) {
	g.mu.Lock()
	g.queue = append(g.queue, p)
	g.mu.Unlock()
}

// take removes and returns up to maxGroup polls from the front of the queue.
func (g *saveGroup) take() []*pendingSave {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := min(len(g.queue), maxGroup)
	batch := make([]*pendingSave, n)
	copy(batch, g.queue)
	rest := copy(g.queue, g.queue[n:])
	clear(g.queue[rest:])
	g.queue = g.queue[:rest]
	return batch
}

// withdraw removes p from the queue and reports whether it was still there
// (no leader has taken it).
func (g *saveGroup) withdraw(p *pendingSave) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, q := range g.queue {
		if q == p {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			return true
		}
	}
	return false
}

// savePollGrouped saves p in a group commit and returns its own result.
func (s *Store) savePollGrouped(ctx context.Context, p news.PollResult) (int, error) {
	req := newPendingSave(ctx, p)
	s.group.enqueue(req)
	for {
		select {
		case <-req.done:
			return req.n, req.err
		case s.group.slot <- struct{}{}:
			if batch := s.group.take(); len(batch) > 0 {
				s.saveBatch(ctx, batch)
			}
			<-s.group.slot
		case <-ctx.Done():
			if s.group.withdraw(req) {
				return 0, ctx.Err()
			}
			// A leader has it: its result is moments away, and returning
			// now would hide whether the poll was saved.
			<-req.done
			return req.n, req.err
		}
	}
}

// saveBatch saves batch in one transaction, each poll in its own
// savepoint, and hands every poll its result. The transaction runs without
// the leader's cancellation: cancelling a statement would roll back the
// whole group, the followers' polls included (a poll whose own context has
// ended is answered with that error instead of being saved).
func (s *Store) saveBatch(ctx context.Context, batch []*pendingSave) {
	ctx = context.WithoutCancel(ctx)
	results := make([]int, len(batch))
	errs := make([]error, len(batch))
	err := s.write(ctx, func(tx *sql.Tx) error {
		if s.eng == enginePostgres {
			if err := lockStories(ctx, tx, batch); err != nil {
				return err
			}
		}
		for i, req := range batch {
			results[i], errs[i] = 0, nil
			if err := req.ctx.Err(); err != nil {
				errs[i] = err
				continue
			}
			if len(batch) == 1 {
				results[i], errs[i] = s.savePoll(ctx, tx, req.poll, req.items)
				return errs[i] // nothing to keep: let write roll back
			}
			if _, err := tx.ExecContext(ctx, `SAVEPOINT poll`); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			results[i], errs[i] = s.savePoll(ctx, tx, req.poll, req.items)
			if errs[i] != nil && s.eng == enginePostgres && retryable(errs[i]) {
				// A deadlock or a lost connection says nothing about this
				// poll: run the whole group again, as write does for one.
				return errs[i]
			}
			if errs[i] != nil {
				results[i] = 0
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT poll`); err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT poll`); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		return nil
	})
	for i, req := range batch {
		switch {
		case errs[i] != nil:
			req.err = errs[i]
		case err != nil:
			// The group's transaction failed as a whole: nothing of it was
			// saved, this poll included.
			req.err = err
		default:
			req.n = results[i]
		}
		close(req.done)
	}
}

// lockStories takes, for the rest of tx, a PostgreSQL advisory lock on
// every story key of the batch's first sightings that are to be checked
// again (news.PollResult.Stories). Another instance saving the same story
// waits at its own lockStories until tx commits, and then finds this
// batch's first sighting, where both would otherwise have seen none and
// alerted the story twice. (SQLite needs nothing: one write transaction
// at a time holds the database.) The keys are locked in one sorted pass,
// so two batches never wait on each other crosswise; a deadlock all the
// same would be retried like any other.
func lockStories(ctx context.Context, tx *sql.Tx, batch []*pendingSave) error {
	var keys []int64
	for _, req := range batch {
		if req.poll.Stories == nil {
			continue
		}
		rows := make(map[string]*itemInsert, len(req.items))
		for i := range req.items {
			rows[req.items[i].it.ID] = &req.items[i]
		}
		for _, m := range req.poll.Matches {
			r, ok := rows[m.ItemID]
			if !ok || m.DuplicateOf != "" {
				continue
			}
			for _, k := range []sql.NullString{r.canon, r.key} {
				if k.Valid {
					keys = append(keys, storyLockKey(m.TopicID, k.String))
				}
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if _, err := tx.ExecContext(ctx, `SELECT count(pg_advisory_xact_lock(k))
		FROM (SELECT unnest($1::bigint[]) AS k ORDER BY 1) sorted`, keys); err != nil {
		return fmt.Errorf("lock stories: %w", err)
	}
	return nil
}

// storyLockKey is the advisory lock of a topic's story key. Two keys that
// collide only make two unrelated saves wait for each other.
func storyLockKey(topic, key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(topic))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int64(h.Sum64())
}
