package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"wirewatch/news"
	"wirewatch/store"
)

// opsStore is what the operations commands need from storage.
type opsStore interface {
	Deliveries(ctx context.Context, f store.DeliveryFilter) ([]news.Delivery, error)
	RetryDeliveries(ctx context.Context, f store.RetryFilter, now time.Time) (int, error)
	WebhookStates(ctx context.Context) ([]news.WebhookState, error)
	EnableWebhook(ctx context.Context, webhookID string) error
	sourceStateReader
	Close() error
}

func openOps(ctx context.Context, path string) (*Config, opsStore, error) {
	cfg, err := LoadConfig(path, os.LookupEnv)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// parseSince reads --since as a duration back from now (24h, 7d) or an
// RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := parseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("--since %q: want a duration back from now (24h, 7d) or an RFC 3339 time", s)}
	}
	return t, nil
}

func cmdDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "retry" {
		return cmdDeliveriesRetry(ctx, args[1:], stdout, stderr)
	}
	fs := newFlags("deliveries", `List webhook deliveries from the outbox, newest first: status (pending, delivered,
failed, dead; held and digested under noise control), attempts, last error and next attempt.

  wirewatch deliveries --config F --status dead
  wirewatch deliveries retry --config F --dead        # replay dead-lettered deliveries
  wirewatch deliveries retry --config F msg_2f6c…     # replay one`, stderr)
	path := configFlag(fs)
	status := fs.String("status", "", "only this status: pending, delivered, failed, dead, held or digested")
	webhook := fs.String("webhook", "", "only this webhook")
	topic := fs.String("topic", "", "only this topic")
	since := fs.String("since", "", "only deliveries created since (24h, 7d, or an RFC 3339 time)")
	limit := fs.Int("limit", 50, "at most this many")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch news.DeliveryStatus(*status) {
	case "", news.DeliveryPending, news.DeliveryDelivered, news.DeliveryFailed, news.DeliveryDead,
		news.DeliveryHeld, news.DeliveryDigested:
	default:
		return usageError{fmt.Errorf("--status %q: want pending, delivered, failed, dead, held or digested", *status)}
	}
	sinceT, err := parseSince(*since, time.Now())
	if err != nil {
		return err
	}
	_, st, err := openOps(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	ds, err := st.Deliveries(ctx, store.DeliveryFilter{
		WebhookID: *webhook, TopicID: *topic, Status: news.DeliveryStatus(*status), Since: sinceT, Limit: *limit,
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, map[string]any{"deliveries": deliveryViews(ds)})
	}
	if len(ds) == 0 {
		fmt.Fprintln(stdout, "no deliveries match")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWEBHOOK\tTOPIC\tSTATUS\tATTEMPTS\tCREATED\tNEXT ATTEMPT\tLAST ERROR")
	for _, d := range ds {
		next := "-"
		if d.Status == news.DeliveryPending && !d.NextAttempt.IsZero() {
			next = d.NextAttempt.Local().Format("2006-01-02 15:04:05")
		}
		topic, status, note := d.TopicID, string(d.Status), oneLine(d.LastError, 80)
		switch d.Status {
		case news.DeliveryHeld:
			status += " (" + d.HoldReason + ")"
		case news.DeliveryDigested:
			note = "in digest " + d.DigestID
		}
		if d.EventType == news.EventDigest {
			topic = "(digest: " + d.HoldReason + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.WebhookID, topic, status, d.Attempts,
			d.CreatedAt.Local().Format("2006-01-02 15:04:05"), next, note)
	}
	return tw.Flush()
}

func cmdDeliveriesRetry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("deliveries retry", `Replay deliveries: put them back in the outbox, due now, with a fresh retry
schedule. A running 'wirewatch serve' picks them up within a second. A replay keeps
the delivery's webhook-id, so receivers that drop repeated ids will drop it.

  wirewatch deliveries retry --config F ID [ID …]
  wirewatch deliveries retry --config F --dead [--webhook W] [--since 24h]
  wirewatch deliveries retry --config F --failed --since 2026-11-27T08:00:00Z`, stderr)
	path := configFlag(fs)
	dead := fs.Bool("dead", false, "replay dead-lettered deliveries (retries exhausted)")
	failed := fs.Bool("failed", false, "replay failed deliveries (refused by the receiver with a 4xx)")
	webhook := fs.String("webhook", "", "only this webhook")
	since := fs.String("since", "", "only deliveries created since (24h, 7d, or an RFC 3339 time)")
	ids, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	now := time.Now()
	sinceT, err := parseSince(*since, now)
	if err != nil {
		return err
	}
	f := store.RetryFilter{IDs: ids, Since: sinceT, WebhookID: *webhook}
	if *dead {
		f.Statuses = append(f.Statuses, news.DeliveryDead)
	}
	if *failed {
		f.Statuses = append(f.Statuses, news.DeliveryFailed)
	}
	if len(ids) == 0 && len(f.Statuses) == 0 && sinceT.IsZero() {
		return usageError{fmt.Errorf("deliveries retry: name delivery ids, or --dead, --failed or --since")}
	}
	if len(ids) == 0 && len(f.Statuses) == 0 {
		f.Statuses = []news.DeliveryStatus{news.DeliveryDead, news.DeliveryFailed}
	}
	_, st, err := openOps(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.RetryDeliveries(ctx, f, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d deliver%s queued again\n", n, plural(n, "y", "ies"))
	if len(ids) > 0 && n < len(ids) {
		return fmt.Errorf("deliveries retry: %d of %d ids not found", len(ids)-n, len(ids))
	}
	return nil
}

func cmdWebhooks(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "enable" {
		fs := newFlags("webhooks enable", "Enable a webhook that was disabled because its receiver answered 410 Gone.", stderr)
		path := configFlag(fs)
		ids, err := parseInterleaved(fs, args[1:])
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return usageError{fmt.Errorf("webhooks enable: name the webhook id(s)")}
		}
		cfg, st, err := openOps(ctx, *path)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, id := range ids {
			if !hasWebhook(cfg, id) {
				return usageError{fmt.Errorf("no webhook %q in %s", id, cfg.Path)}
			}
			if err := st.EnableWebhook(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "webhook %s enabled\n", id)
		}
		return nil
	}
	fs := newFlags("webhooks", "List webhooks with their health: last success, last failure, consecutive failures,\nand whether they are disabled (a receiver that answered 410 Gone).", stderr)
	path := configFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, st, err := openOps(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	views, err := webhookViews(ctx, cfg, st)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, map[string]any{"webhooks": views})
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WEBHOOK\tFORMAT\tSTATE\tLAST SUCCESS\tFAILURES\tLAST ERROR")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", v.ID, v.Format, v.State, timeOrDash(v.LastSuccess), v.ConsecutiveFailures, oneLine(v.LastError, 80))
	}
	return tw.Flush()
}

// webhookView is a webhook's health as the API and CLI show it.
type webhookView struct {
	ID                  string    `json:"id"`
	Format              string    `json:"format"`
	State               string    `json:"state"` // ok, failing, disabled, new
	LastSuccess         time.Time `json:"last_success,omitzero"`
	LastFailure         time.Time `json:"last_failure,omitzero"`
	LastError           string    `json:"last_error,omitempty"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	DisabledAt          time.Time `json:"disabled_at,omitzero"`
	DisabledReason      string    `json:"disabled_reason,omitempty"`
}

func webhookViews(ctx context.Context, cfg *Config, st interface {
	WebhookStates(ctx context.Context) ([]news.WebhookState, error)
}) ([]webhookView, error) {
	states, err := st.WebhookStates(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]news.WebhookState{}
	for _, s := range states {
		byID[s.WebhookID] = s
	}
	out := make([]webhookView, 0, len(cfg.Webhooks))
	for _, w := range cfg.Webhooks {
		s := byID[w.ID]
		state := "ok"
		switch {
		case !s.DisabledAt.IsZero():
			state = "disabled"
		case s.ConsecutiveFailures > 0:
			state = "failing"
		case s.LastSuccess.IsZero():
			state = "new"
		}
		out = append(out, webhookView{
			ID: w.ID, Format: w.Format, State: state, LastSuccess: s.LastSuccess, LastFailure: s.LastFailure,
			LastError: s.LastError, ConsecutiveFailures: s.ConsecutiveFailures,
			DisabledAt: s.DisabledAt, DisabledReason: s.DisabledReason,
		})
	}
	return out, nil
}

// deliveryView is a delivery as the API and CLI show it.
type deliveryView struct {
	ID          string    `json:"id"`
	Webhook     string    `json:"webhook"`
	Event       string    `json:"event"`
	Topic       string    `json:"topic"`
	Item        string    `json:"item"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// Noise control: when and why a delivery was held, and the digest it
	// went out in.
	HeldAt     time.Time `json:"held_at,omitzero"`
	HoldReason string    `json:"hold_reason,omitempty"`
	Digest     string    `json:"digest,omitempty"`
}

func deliveryViews(ds []news.Delivery) []deliveryView {
	out := make([]deliveryView, len(ds))
	for i, d := range ds {
		next := d.NextAttempt
		if d.Status != news.DeliveryPending {
			next = time.Time{}
		}
		out[i] = deliveryView{d.ID, d.WebhookID, d.EventType, d.TopicID, d.ItemID, string(d.Status), d.Attempts,
			next, d.LastError, d.CreatedAt, d.DeliveredAt, d.HeldAt, d.HoldReason, d.DigestID}
	}
	return out
}

func hasWebhook(cfg *Config, id string) bool {
	for _, w := range cfg.Webhooks {
		if w.ID == id {
			return true
		}
	}
	return false
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// printJSON writes v as indented JSON, the --json output of the commands.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
