package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

// outagePoll is poll n of the outage tests: two new items, each matched
// and alerted to w1.
func outagePoll(n int) news.PollResult {
	p := news.PollResult{State: testState("s1")}
	for k := range 2 {
		it := testItem("s1", fmt.Sprintf("outage-%d-%d", n, k), at(time.Duration(n)*time.Second))
		m := testMatch("t1", it, it.FetchedAt, false)
		p.Items, p.Matches = append(p.Items, it), append(p.Matches, m)
		p.Deliveries = append(p.Deliveries, testDelivery("w1", m, it.FetchedAt))
	}
	return p
}

// testOutage checks that a store rides out its database going away
// (outage, called once while idle and again while polls are being saved):
// calls fail with errors, never panics; the first call once the database
// is back succeeds; and the outbox ends up with every alert exactly once
// after the polls that failed are saved again, as the next poll would.
func testOutage(t *testing.T, s *Store, outage func(t *testing.T)) {
	ctx := context.Background()
	// Open several connections, so that the pool holds dead ones after.
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, err := s.TopicEntries(ctx, "t1", 10); err != nil {
				t.Errorf("TopicEntries: %v", err)
			}
		})
	}
	wg.Wait()
	if _, err := s.SavePoll(ctx, outagePoll(0)); err != nil {
		t.Fatal(err)
	}

	outage(t)
	// The next calls find the pool's connections dead and replace them.
	if n, err := s.SavePoll(ctx, outagePoll(1)); err != nil || n != 2 {
		t.Fatalf("first SavePoll after the outage = %d, %v", n, err)
	}
	if es, err := s.TopicEntries(ctx, "t1", 10); err != nil || len(es) != 4 {
		t.Fatalf("first TopicEntries after the outage = %d entries, %v", len(es), err)
	}

	// Again, while polls are being saved.
	const polls = 40
	failed := map[int]error{}
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for n := 2; n < polls; n++ {
			if _, err := s.SavePoll(ctx, outagePoll(n)); err != nil {
				failed[n] = err
			}
			time.Sleep(2 * time.Millisecond)
		}
	})
	time.Sleep(10 * time.Millisecond)
	outage(t)
	<-done
	wg.Wait()
	t.Logf("%d of %d polls failed during the outage: %v", len(failed), polls-2, failed)
	for n, err := range failed {
		if err == nil {
			t.Fatalf("poll %d failed without an error", n)
		}
		if _, err := s.SavePoll(ctx, outagePoll(n)); err != nil {
			t.Fatalf("poll %d saved again: %v", n, err)
		}
	}

	// Every alert is queued once: none lost, none doubled.
	want := map[string]bool{}
	for n := range polls {
		for _, d := range outagePoll(n).Deliveries {
			want[d.ID] = true
		}
	}
	if n, err := s.PendingDeliveries(ctx); err != nil || n != len(want) {
		t.Fatalf("pending = %d, %v; want %d", n, err, len(want))
	}
	claimed := map[string]int{}
	for {
		a, ok, err := s.ClaimNext(ctx, "w1", false, at(time.Hour), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		claimed[a.Delivery.ID]++
		if err := s.MarkDelivered(ctx, a.Delivery.ID, 1, at(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if len(claimed) != len(want) {
		t.Fatalf("%d deliveries claimed, want %d", len(claimed), len(want))
	}
	for id, n := range claimed {
		if !want[id] || n != 1 {
			t.Fatalf("delivery %s claimed %d times (expected: %v)", id, n, want[id])
		}
	}
}

// The server drops every connection of the store (as an administrator or a
// failover does), twice: the store recovers each time.
func TestPostgresSurvivesTerminatedConnections(t *testing.T) {
	// A name of its own, so that only this store's connections are cut,
	// not those of tests running beside it.
	app := fmt.Sprintf("wirewatch_outage_%d_%d", os.Getpid(), time.Now().UnixNano())
	s := openPostgresAt(t, withParam(t, freshSchema(t), "application_name", app))
	admin := openAdmin(t, postgresDSN(t))
	testOutage(t, s, func(t *testing.T) {
		var n int
		err := admin.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&n)
		if err != nil {
			t.Fatalf("terminate backends: %v", err)
		}
		if n == 0 {
			t.Fatal("no connection of the store to terminate")
		}
	})
}

// restartEnv, set to 1, lets a test restart the PostgreSQL server
// (pg_ctlcluster 15 main restart): only on a machine of one's own.
const restartEnv = "WIREWATCH_TEST_POSTGRES_RESTART"

// The server restarts under the store: while it is down calls fail, and
// once it is back the store carries on.
func TestPostgresSurvivesRestart(t *testing.T) {
	if os.Getenv(restartEnv) != "1" {
		t.Skip(restartEnv + " is not 1: PostgreSQL restart test skipped")
	}
	s := openPostgresAt(t, freshSchema(t))
	testOutage(t, s, func(t *testing.T) {
		out, err := exec.Command("pg_ctlcluster", "15", "main", "restart").CombinedOutput()
		if err != nil {
			t.Fatalf("pg_ctlcluster restart: %v: %s", err, out)
		}
	})
}
