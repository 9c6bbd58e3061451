package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"wirewatch/match"
	"wirewatch/news"
	"wirewatch/store"
)

// 'wirewatch match --explain REF' answers "why didn't I get this?". A
// reporter holds an article's link (or its guid, or the id a feed or alert
// shows), so REF may be any of them. For a stored item the answer does
// not stop at the query: the item may have matched and been alerted (to
// which webhooks, delivered or not and why), been the later sighting of a
// story another outlet broke, been part of a new source's backlog, or
// matched a topic that has changed since.

// itemURN is how feeds name an item (the guid of topic feed entries).
const itemURN = "urn:wirewatch:item:"

// explainStore is what explaining a stored item needs.
type explainStore interface {
	Item(ctx context.Context, id string) (news.Item, string, error)
	ItemTitles(ctx context.Context, ids []string) (map[string]string, error)
	FindItems(ctx context.Context, ref string, since time.Time) ([]string, error)
	ItemMatches(ctx context.Context, itemID string, topicIDs []string) ([]news.Match, error)
	Deliveries(ctx context.Context, f store.DeliveryFilter) ([]news.Delivery, error)
	WebhookStates(ctx context.Context) ([]news.WebhookState, error)
}

// findStoredItems returns the stored items ref names, with their sources'
// titles: by id; else by the ids the configured sources would give an
// entry keyed by ref (any age); else by guid or link among the items
// fetched since.
func findStoredItems(ctx context.Context, st explainStore, cfg *Config, ref string, since time.Time) ([]inputItem, error) {
	get := func(id string) (inputItem, bool, error) {
		it, title, err := st.Item(ctx, id)
		if errors.Is(err, news.ErrNotFound) {
			return inputItem{}, false, nil
		}
		return inputItem{item: it, origin: title}, err == nil, err
	}
	if in, ok, err := get(ref); ok || err != nil {
		return []inputItem{in}, err
	}
	keys := []string{ref}
	if u, err := url.Parse(ref); err == nil && u.Host != "" {
		// Sources key a guid-less entry by its link with the host lowercased.
		c := *u
		c.Host, c.User = strings.ToLower(c.Host), nil
		if k := c.String(); k != ref {
			keys = append(keys, k)
		}
	}
	// The ids every configured source would give an entry keyed by ref,
	// asked in one batch: a desk may have thousands of sources.
	var candidates []string
	for _, s := range cfg.Sources {
		for _, k := range keys {
			candidates = append(candidates, news.ItemID(s.Source.ID, k), news.LegacyItemID(s.Source.ID, k))
		}
	}
	stored, err := st.ItemTitles(ctx, candidates)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(stored))
	for _, id := range candidates {
		if _, ok := stored[id]; ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		if ids, err = st.FindItems(ctx, ref, since); err != nil {
			return nil, err
		}
	}
	var out []inputItem
	for _, id := range ids {
		in, ok, err := get(id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, in)
		}
	}
	return out, nil
}

// explainer answers "why (didn't I get) this?" for the CLI and the web
// page.
type explainer struct {
	cfg    *Config
	ix     *match.Index
	topics []news.Topic
	// st is the store to look items up in and read what was done with
	// them; nil when items are looked up among given inputs only.
	st explainStore
	// days bounds the search by guid or link (the newest items first).
	days int
	// hints adds the commands an operator would run next (try a feed,
	// replay a delivery, re-enable a webhook). The web page, read by
	// reporters, leaves them out, and with them the config's path.
	hints bool
}

// errNotStored is an explained "not found": no stored item is ref.
type errNotStored struct {
	ref           string
	sources, days int
}

func (e errNotStored) Error() string {
	return fmt.Sprintf(`no stored item has the id, guid or link %q: none of the %d sources carried it
in the last %d days. Either no source publishes it (add the outlet's feed), or retention has
removed it.`, e.ref, e.sources, e.days)
}

// explain prints, for each item ref names, each topic's full explanation
// and, for a stored item, what wirewatch did with it. items are the given
// inputs: when there are any, ref is looked up among them only.
func (e explainer) explain(ctx context.Context, w io.Writer, items []inputItem, ref string) error {
	ref = strings.TrimPrefix(strings.TrimSpace(ref), itemURN)
	named := news.NewItemRef(ref)
	var found []inputItem
	for _, in := range items {
		if named.Names(in.item.ID, in.item.Key, in.item.Link) {
			found = append(found, in)
		}
	}
	if len(items) > 0 || e.st == nil {
		if len(found) == 0 {
			return usageError{fmt.Errorf("no item %q among the given inputs (give its id, guid or link)", ref)}
		}
		e.st = nil // inputs: nothing stored to report
		return e.printExplanations(ctx, w, found)
	}
	found, err := findStoredItems(ctx, e.st, e.cfg, ref, time.Now().AddDate(0, 0, -e.days))
	if err != nil {
		return err
	}
	if len(found) == 0 {
		nf := errNotStored{ref: ref, sources: len(e.cfg.Sources), days: e.days}
		if !e.hints {
			return nf
		}
		return usageError{fmt.Errorf(`%w
Search further back with --days. To try the topics on a feed that carries it:
  wirewatch match --config %s --explain %s FEED-URL`, nf, e.cfg.Path, ref)}
	}
	return e.printExplanations(ctx, w, found)
}

func (e explainer) printExplanations(ctx context.Context, w io.Writer, found []inputItem) error {
	st, topics := e.st, e.topics
	var hooks map[string]news.WebhookState
	if st != nil {
		states, err := st.WebhookStates(ctx)
		if err != nil {
			return err
		}
		hooks = make(map[string]news.WebhookState, len(states))
		for _, s := range states {
			hooks[s.WebhookID] = s
		}
	}
	ids := make([]string, len(topics))
	for i, t := range topics {
		ids[i] = t.ID
	}
	for n, in := range found {
		if n > 0 {
			fmt.Fprintln(w)
		}
		it := in.item
		fmt.Fprintf(w, "Item %s  %q\n  from %s\n", it.ID, it.Title, in.origin)
		if !it.FetchedAt.IsZero() {
			fmt.Fprintf(w, "  fetched %s\n", when(it.FetchedAt))
		}
		fmt.Fprintf(w, "  link %s\n", it.Link)
		stored := map[string]news.Match{}
		if st != nil {
			ms, err := st.ItemMatches(ctx, it.ID, ids)
			if err != nil {
				return err
			}
			for _, m := range ms {
				stored[m.TopicID] = m
			}
		}
		for _, t := range topics {
			matched, text, err := e.ix.Explain(t.ID, it)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "\nTopic %s (%s)\n%s\n", t.ID, t.Title, indent(strings.TrimRight(text, "\n"), "  "))
			if st == nil {
				continue
			}
			m, ok := stored[t.ID]
			fmt.Fprintln(w, "  What wirewatch did:")
			if err := e.printOutcome(ctx, w, hooks, t, it, m, ok, matched); err != nil {
				return err
			}
		}
	}
	return nil
}

// printOutcome says what became of the stored item in topic t: m is its
// stored match (ok false: none), matchedNow the verdict of the topic as
// configured now.
func (e explainer) printOutcome(ctx context.Context, w io.Writer, hooks map[string]news.WebhookState,
	t news.Topic, it news.Item, m news.Match, ok, matchedNow bool) error {
	st := e.st
	say := func(format string, args ...any) { fmt.Fprintf(w, "    "+format+"\n", args...) }
	switch {
	case !ok && !matchedNow:
		say("nothing: the item does not match this topic, so it is not in its feed and no alert was sent.")
		return nil
	case !ok:
		say("nothing yet: the item did not match this topic when it was fetched, but the topic as configured now")
		say("matches it, so the topic has changed since. When wirewatch next starts it backfills the topic's feed")
		say("from items fetched in the last %s, without alerts.", humanDuration(t.Backfill))
		return nil
	}
	if !matchedNow {
		say("(it matched when it was fetched; the topic as configured now would not match it: it has changed since)")
	}
	switch {
	case m.Baseline && backfilled(it, m):
		say("matched %s, score %s, when the topic was added or changed: wirewatch then fills the topic's", when(m.MatchedAt), score(m.Score))
		say("feed from items already stored, without alerts, so a new topic does not flood the desk with old news.")
		return nil
	case m.Baseline:
		// Matched within minutes of its fetch: most likely on its source's
		// first fetch, but a topic changed right then is backfilled alike.
		say("matched %s, score %s, on its source's first fetch (or when the topic was added or changed", when(m.MatchedAt), score(m.Score))
		say("just after): it is in the topic's feed but was never alerted, so that a new source or topic does")
		say("not flood the desk with its backlog.")
		return nil
	case m.DuplicateOf != "":
		first, src, err := st.Item(ctx, m.DuplicateOf)
		name := m.DuplicateOf
		if err == nil {
			name = fmt.Sprintf("%s %q (%s, %s)", first.ID, first.Title, src, first.Link)
		} else if !errors.Is(err, news.ErrNotFound) {
			return err
		}
		say("matched %s, score %s, as a later sighting of a story this topic had already matched:", when(m.MatchedAt), score(m.Score))
		say("  %s", name)
		say("so it was not alerted on its own: it is listed under that item as \"also reported by\".")
		firsts, updates, err := e.matchDeliveries(ctx, t.ID, m.DuplicateOf)
		if err != nil {
			return err
		}
		updates = slices.DeleteFunc(updates, func(d news.Delivery) bool {
			return d.Update.Kind != news.UpdateAlsoReported || d.Update.Sighting == nil || d.Update.Sighting.ItemID != it.ID
		})
		say("The first sighting's alert:")
		e.printDeliveries(w, hooks, t.ID, firsts, "      ")
		if len(updates) > 0 {
			say("The \"also reported\" update about this item:")
			e.printDeliveries(w, hooks, "", updates, "      ")
		}
		return nil
	}
	say("matched %s, score %s, and alerted:", when(m.MatchedAt), score(m.Score))
	created, _, err := e.matchDeliveries(ctx, t.ID, it.ID)
	if err != nil {
		return err
	}
	e.printDeliveries(w, hooks, t.ID, created, "      ")
	return nil
}

// matchDeliveries returns the outbox rows of topicID's match of itemID:
// its alerts (match.created) and its updates (match.updated, with an
// Update).
func (e explainer) matchDeliveries(ctx context.Context, topicID, itemID string) (created, updates []news.Delivery, err error) {
	ds, err := e.st.Deliveries(ctx, store.DeliveryFilter{TopicID: topicID, ItemID: itemID, Limit: 1000})
	if err != nil {
		return nil, nil, err
	}
	for _, d := range ds {
		switch {
		case d.EventType == news.EventMatchCreated:
			created = append(created, d)
		case d.Update != nil:
			updates = append(updates, d)
		}
	}
	return created, updates, nil
}

// backfillGap tells backfilled matches from a new source's: a poll
// matches what it fetched within its own run (seconds, bounded by the fetch
// timeout), a backfill matches items stored earlier.
const backfillGap = 5 * time.Minute

// backfilled reports whether baseline match m of it was made by a topic's
// backfill rather than on its source's first fetch.
func backfilled(it news.Item, m news.Match) bool {
	return !it.FetchedAt.IsZero() && m.MatchedAt.Sub(it.FetchedAt) > backfillGap
}

// printDeliveries prints a line per delivery, and, when topicID is set, a
// line per configured webhook that has none: whether it does not take the
// topic or was added after the alert was queued.
func (e explainer) printDeliveries(w io.Writer, hooks map[string]news.WebhookState, topicID string, ds []news.Delivery, pad string) {
	has := map[string]bool{}
	for _, d := range ds {
		has[d.WebhookID] = true
		fmt.Fprintf(w, "%s%-14s %s\n", pad, d.WebhookID, e.deliveryOutcome(hooks[d.WebhookID], d))
	}
	if topicID == "" {
		return
	}
	for _, h := range e.cfg.Webhooks {
		switch {
		case has[h.ID]:
		case !h.Wants(topicID):
			fmt.Fprintf(w, "%s%-14s not sent: this webhook takes only the topics %s\n", pad, h.ID, strings.Join(h.Topics, ", "))
		default:
			fmt.Fprintf(w, "%s%-14s not sent: no alert was queued for it (was it added to the config after the match?)\n", pad, h.ID)
		}
	}
	if len(ds) == 0 && len(e.cfg.Webhooks) == 0 {
		fmt.Fprintf(w, "%sno webhooks are configured: the match is in the topic's feed only\n", pad)
	}
}

// deliveryOutcome describes one delivery's state in words, with what to
// do about it.
func (e explainer) deliveryOutcome(hook news.WebhookState, d news.Delivery) string {
	retry := "it can be replayed"
	if e.hints {
		retry = fmt.Sprintf("replay: wirewatch deliveries retry --config %s %s", e.cfg.Path, d.ID)
	}
	var s string
	switch d.Status {
	case news.DeliveryDelivered:
		s = fmt.Sprintf("delivered %s (%s)", when(d.DeliveredAt), count(d.Attempts, "attempt", "attempts"))
	case news.DeliveryPending:
		if d.Attempts == 0 {
			s = fmt.Sprintf("queued %s, not sent yet", when(d.CreatedAt))
		} else {
			s = fmt.Sprintf("not delivered yet: %s failed (%s); next attempt %s",
				count(d.Attempts, "attempt", "attempts"), lastError(d), when(d.NextAttempt))
		}
	case news.DeliveryHeld:
		s = fmt.Sprintf("held by noise control since %s (%s): it goes out in the next digest", when(d.HeldAt), d.HoldReason)
	case news.DeliveryDigested:
		s = fmt.Sprintf("sent in digest %s (%s)", d.DigestID, d.HoldReason)
	case news.DeliveryFailed:
		s = fmt.Sprintf("refused by the receiver (%s), not retried; %s", lastError(d), retry)
	case news.DeliveryDead:
		s = fmt.Sprintf("given up after %s (%s); %s", count(d.Attempts, "attempt", "attempts"), lastError(d), retry)
	default:
		s = string(d.Status)
	}
	if !hook.DisabledAt.IsZero() && d.Status == news.DeliveryPending {
		s += fmt.Sprintf("; the webhook is disabled since %s (%s)", when(hook.DisabledAt), hook.DisabledReason)
		if e.hints {
			s += fmt.Sprintf(": wirewatch webhooks enable --config %s %s", e.cfg.Path, d.WebhookID)
		}
	}
	return s
}

// when formats a time for a reader: local, to the second, with its zone.
func when(t time.Time) string {
	if t.IsZero() {
		return "(unknown time)"
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// humanDuration prints whole days as days ("7 days"), else as Go does.
func humanDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return count(int(d/(24*time.Hour)), "day", "days")
	}
	return d.String()
}

// count is n with its noun: "1 attempt", "3 attempts".
func count(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, plural(n, one, many))
}

// score prints a score as the match command does: one decimal.
func score(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// lastError is a delivery's last error without the prefix naming its
// webhook, which the line it is printed on already shows.
func lastError(d news.Delivery) string {
	e := strings.TrimPrefix(d.LastError, fmt.Sprintf("alert: webhook %q", d.WebhookID))
	return oneLine(strings.TrimPrefix(e, ": "), 100)
}
