package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"wirewatch/news"
)

// groupPoll is a valid poll of source src with one item, its match and
// delivery; broken makes it invalid (its delivery has no match), so that
// SavePoll must refuse it and save nothing of it.
func groupPoll(src string, broken bool) news.PollResult {
	it := testItem(src, "item-of-"+src, at(0))
	m := testMatch("t1", it, at(time.Minute), false)
	d := testDelivery("w1", m, at(time.Minute))
	if broken {
		d = testDelivery("w1", testMatch("no-such-topic", it, at(0), false), at(0))
	}
	return news.PollResult{State: testState(src), Items: []news.Item{it},
		Matches: []news.Match{m}, Deliveries: []news.Delivery{d}}
}

// checkGroupPoll asserts that the poll of src was saved entirely (want) or
// not at all.
func checkGroupPoll(t *testing.T, st contractStore, src string, want bool) {
	t.Helper()
	ctx := context.Background()
	p := groupPoll(src, false)
	unseen, err := st.UnseenItems(ctx, []string{p.Items[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	state, err := st.SourceState(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.TopicEntries(ctx, "t1", 1000)
	if err != nil {
		t.Fatal(err)
	}
	inFeed := false
	for _, e := range entries {
		inFeed = inFeed || e.Item.ID == p.Items[0].ID
	}
	saved := len(unseen) == 0
	if saved != want || (state.URL != "") != want || inFeed != want {
		t.Errorf("poll of %s: item stored %v, state stored %v, in feed %v; want all %v",
			src, saved, state.URL != "", inFeed, want)
	}
}

// testGroupCommitContract: SavePolls that share a group commit succeed or
// fail each on its own.
func testGroupCommitContract(t *testing.T, b backend) {
	ctx := context.Background()

	t.Run("GroupCommitConcurrentPollsEachOnTheirOwn", func(t *testing.T) {
		st := b.open(t)
		const polls = 96 // several groups of up to maxGroup
		var (
			wg   sync.WaitGroup
			errs = make([]error, polls)
			ns   = make([]int, polls)
		)
		for i := range polls {
			wg.Go(func() {
				ns[i], errs[i] = st.SavePoll(ctx, groupPoll(fmt.Sprintf("g%02d", i), i%7 == 3))
			})
		}
		wg.Wait()
		valid := 0
		for i := range polls {
			src, broken := fmt.Sprintf("g%02d", i), i%7 == 3
			if !broken {
				valid++
			}
			switch {
			case broken && errs[i] == nil:
				t.Errorf("broken poll of %s was accepted", src)
			case broken && !strings.Contains(errs[i].Error(), fmt.Sprintf("save poll for source %q", src)):
				t.Errorf("error of %s does not name its source: %v", src, errs[i])
			case !broken && errs[i] != nil:
				t.Errorf("poll of %s failed: %v", src, errs[i])
			case !broken && ns[i] != 1:
				t.Errorf("poll of %s reported %d new deliveries, want 1", src, ns[i])
			}
			checkGroupPoll(t, st, src, !broken)
		}
		mustPending(t, st, valid)
	})

	t.Run("GroupCommitOneBatchMixed", func(t *testing.T) {
		st := b.open(t).(*Store)
		// One group, built by hand so that valid and failing polls surely
		// share a transaction: the failing ones roll back to their
		// savepoints, the others stay.
		var batch []*pendingSave
		for i := range 6 {
			batch = append(batch, newPendingSave(ctx, groupPoll(fmt.Sprintf("m%d", i), i%2 == 1)))
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		batch = append(batch, newPendingSave(cancelled, groupPoll("m-cancelled", false)))
		st.saveBatch(ctx, batch)
		for i, req := range batch {
			select {
			case <-req.done:
			default:
				t.Fatalf("poll %d not answered", i)
			}
		}
		for i := range 6 {
			req, src := batch[i], fmt.Sprintf("m%d", i)
			if ok := i%2 == 0; ok != (req.err == nil) || (ok && req.n != 1) {
				t.Errorf("poll of %s: n=%d err=%v", src, req.n, req.err)
			}
			checkGroupPoll(t, st, src, i%2 == 0)
		}
		if last := batch[len(batch)-1]; !errors.Is(last.err, context.Canceled) {
			t.Errorf("poll with an ended context: err = %v, want context.Canceled", last.err)
		}
		checkGroupPoll(t, st, "m-cancelled", false)
	})

	t.Run("GroupCommitWaitingPollHonoursItsContext", func(t *testing.T) {
		st := b.open(t).(*Store)
		// Hold the leader's slot, as a long group would: the poll queues.
		st.group.slot <- struct{}{}
		pctx, cancel := context.WithCancel(ctx)
		result := make(chan error, 1)
		go func() {
			_, err := st.SavePoll(pctx, groupPoll("waiting", false))
			result <- err
		}()
		// Wait until it is queued, then give up on it.
		for deadline := time.Now().Add(5 * time.Second); ; {
			st.group.mu.Lock()
			queued := len(st.group.queue)
			st.group.mu.Unlock()
			if queued == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the poll never queued")
			}
			time.Sleep(time.Millisecond)
		}
		cancel()
		err := <-result
		<-st.group.slot
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		st.group.mu.Lock()
		left := len(st.group.queue)
		st.group.mu.Unlock()
		if left != 0 {
			t.Fatalf("%d polls still queued after their caller gave up", left)
		}
		// Withdrawn, never saved; the next poll goes through.
		checkGroupPoll(t, st, "waiting", false)
		mustSave(t, st, groupPoll("next", false))
		checkGroupPoll(t, st, "next", true)
	})
}
