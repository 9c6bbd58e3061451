package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"wirewatch/alert"
	"wirewatch/feed"
	"wirewatch/match"
	"wirewatch/netguard"
	"wirewatch/news"
	"wirewatch/store"
	"wirewatch/watch"
	"wirewatch/websub"
)

// appStore is everything the app needs from storage. The SQLite store
// implements it today; a PostgreSQL store only has to implement the same
// methods for every caller to work unchanged.
type appStore interface {
	watch.Store
	feed.Lister
	alert.Queue
	watch.BackfillStore
	explainStore
	SourceStates(ctx context.Context) ([]news.SourceState, error)
	subscriptionStore
	watch.PollLeaser
	itemPruner
	Backup(ctx context.Context, path string) error
	WebhookStates(ctx context.Context) ([]news.WebhookState, error)
	PendingDeliveries(ctx context.Context, webhookIDs ...string) (int, error)
	Stats(ctx context.Context) (store.Stats, error)
	Deliveries(ctx context.Context, f store.DeliveryFilter) ([]news.Delivery, error)
	Ping(ctx context.Context) error
	Close() error
}

// openStore opens the configured database: PostgreSQL for a postgres://
// URL, else a SQLite file.
func openStore(ctx context.Context, database string) (appStore, error) {
	return store.Open(ctx, database)
}

// instanceName names this process among the instances sharing a database,
// in poll leases and logs.
func instanceName() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%x", host, os.Getpid(), b)
}

// app is one wired wirewatch: the concrete store, fetcher, matcher,
// dispatcher and scheduler built from a config.
type app struct {
	cfg        *Config
	logger     *slog.Logger
	store      appStore
	index      *match.Index
	poller     *watch.Poller
	scheduler  *watch.Scheduler
	dispatcher *alert.Dispatcher
	websub     *websub.Subscriber // nil unless websub.enabled
	instance   string             // this process, in leases
	// explaining admits one "Why didn't I get this?" page at a time: a
	// lookup by link reads a week of items, and the page is as public
	// as the feeds.
	explaining chan struct{}
}

func netPolicy(allowPrivate bool) netguard.Policy {
	return netguard.Policy{AllowPrivate: allowPrivate}
}

func userAgent(cfg *Config) string {
	contact := cfg.Contact
	if contact == "" {
		contact = "https://github.com/wirewatch/wirewatch"
	}
	return fmt.Sprintf("wirewatch/%s (+%s)", version, contact)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated with the config
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// newApp opens the store, wires every part and backfills new or changed
// topics. The caller closes it.
func newApp(ctx context.Context, cfg *Config, logger *slog.Logger) (*app, error) {
	index, err := match.Compile(cfg.Topics)
	if err != nil {
		return nil, fmt.Errorf("topics: %w", err)
	}
	st, err := openStore(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	policy := netPolicy(cfg.AllowPrivateNetworks)
	ua := userAgent(cfg)
	disp := alert.NewDispatcher(st, cfg.Webhooks, cfg.Topics, alert.Options{
		Policy: policy, UserAgent: ua, Logger: logger,
	})
	sub, push, err := newWebSub(cfg, st, policy, ua, logger)
	if err != nil {
		st.Close()
		return nil, err
	}
	pc := watch.PollerConfig{
		Fetcher: newFeedFetcher(cfg), Matcher: index, Store: st, Notifier: disp,
		Webhooks: cfg.Webhooks, Logger: logger, DedupWindow: cfg.DedupWindow, Politeness: cfg.Polling,
	}
	if sub != nil {
		pc.Hubs, pc.HubFallback = hubs{sub: sub, st: st}, cfg.WebSub.FallbackEvery
	}
	poller := watch.NewPoller(pc)
	if push != nil {
		push.poller = poller
	}
	sched, err := watch.NewScheduler(poller, cfg.Jobs(), logger)
	if err != nil {
		st.Close()
		return nil, err
	}
	a := &app{cfg: cfg, logger: logger, store: st, index: index, poller: poller, scheduler: sched, dispatcher: disp, websub: sub,
		instance: instanceName(), explaining: make(chan struct{}, 1)}
	if store.IsPostgres(cfg.Database) {
		sched.Share(st, a.instance, cfg.PollLease)
		logger.Info("sharing polls with other instances on this database", "instance", a.instance, "lease", cfg.PollLease)
	}
	// New or changed topics get their feeds filled from stored items
	// before anything else runs.
	if err := a.backfill(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// loadApp loads the config at path and wires an app from it, logging to
// stderr at the config's level.
func loadApp(ctx context.Context, path string, stderr io.Writer) (*app, error) {
	cfg, err := LoadConfig(path, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return newApp(ctx, cfg, newLogger(stderr, cfg.LogLevel))
}

func (a *app) Close() error { return a.store.Close() }

// backfill fills the feeds of new or changed topics from stored items.
func (a *app) backfill(ctx context.Context) error {
	_, err := watch.BackfillTopics(ctx, a.store, topicMatcher{a.index}, a.cfg.Topics, time.Now(), a.logger)
	return err
}

// handler is the HTTP surface: topic feeds and the index page, health and
// the JSON API.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", feed.NewHandler(a.store, feed.Options{
		BaseURL: a.cfg.BaseURL, Topics: a.cfg.Topics, Logger: a.logger, Explain: a.explainPage,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.store.Ping(ctx); err != nil {
			a.logger.Error("health check: database unreachable", "err", err)
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /api/sources", a.apiSources)
	mux.HandleFunc("GET /api/deliveries", a.apiDeliveries)
	mux.HandleFunc("GET /api/webhooks", a.apiWebhooks)
	mux.HandleFunc("GET /api/stats", a.apiStats)
	if a.websub != nil {
		// Hubs verify subscriptions (GET) and push content (POST) here.
		mux.Handle("/websub/", a.websub.Handler())
	}
	return mux
}

// explainPageWait bounds how long the "Why didn't I get this?" page waits
// for its turn and its answer.
const explainPageWait = 20 * time.Second

// explainPage answers the "Why didn't I get this?" page: what 'wirewatch
// match --explain REF' prints, without the operator's commands.
func (a *app) explainPage(ctx context.Context, ref string) (text string, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, explainPageWait)
	defer cancel()
	select {
	case a.explaining <- struct{}{}:
		defer func() { <-a.explaining }()
	case <-ctx.Done():
		return "", false, fmt.Errorf("explain: waiting for another: %w", ctx.Err())
	}
	var buf bytes.Buffer
	e := explainer{cfg: a.cfg, ix: a.index, topics: a.cfg.Topics, st: a.store, days: 7}
	err = e.explain(ctx, &buf, nil, ref)
	var nf errNotStored
	if errors.As(err, &nf) {
		return nf.Error(), false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("explain %q: %w", ref, err)
	}
	return buf.String(), true, nil
}

// sourceView is a source's health as the API and CLI show it.
type sourceView struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	MovedTo  string `json:"moved_to,omitempty"`
	Title    string `json:"title,omitempty"`
	Schedule string `json:"schedule"`
	// State is "new" (never polled), "ok", "failing", "failed" or
	// "silent".
	State       string    `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	LastPoll    time.Time `json:"last_poll,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Failures    int       `json:"consecutive_failures"`
	// ItemsPerDay is the mean over the last week.
	ItemsPerDay float64   `json:"items_per_day"`
	NextPoll    time.Time `json:"next_poll,omitzero"`
	// AskedInterval is the polling interval the publisher asks for.
	AskedInterval string `json:"asked_interval,omitempty"`
}

// sourceViews reads every configured source's state in one query, and
// its last week's items with one query each.
func sourceViews(ctx context.Context, cfg *Config, st sourceStateReader, now time.Time) ([]sourceView, error) {
	states, err := st.SourceStates(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]news.SourceState, len(states))
	for _, s := range states {
		byID[s.SourceID] = s
	}
	jobs := cfg.Jobs()
	out := make([]sourceView, 0, len(cfg.Sources))
	for i, s := range cfg.Sources {
		state := byID[s.Source.ID]
		if state.URL != "" && state.URL != s.Source.URL {
			// The config changed the URL: the old state no longer applies.
			state = news.SourceState{SourceID: s.Source.ID}
		}
		items, _, err := st.SourceActivity(ctx, s.Source.ID, now.Add(-7*24*time.Hour))
		if err != nil {
			return nil, err
		}
		v := sourceView{
			ID: s.Source.ID, URL: s.Source.URL, MovedTo: state.MovedTo, Title: firstNonEmpty(s.Source.Title, state.Title),
			Schedule: s.Schedule.String(), State: state.Health, Reason: state.ErrorReason,
			LastPoll: state.LastPoll, LastSuccess: state.LastSuccess, LastError: state.LastError, Failures: state.Failures,
			ItemsPerDay: math.Round(float64(items)/7*10) / 10, NextPoll: jobs[i].NextPoll(state, now),
		}
		if s.Adaptive != nil {
			v.Schedule = fmt.Sprintf("adaptive %v–%v", s.Adaptive.Min, s.Adaptive.Max)
		}
		if state.MinInterval > 0 {
			v.AskedInterval = state.MinInterval.String()
		}
		switch {
		case state.LastPoll.IsZero():
			v.State = "new"
		case v.State == "" && state.Failures > 0:
			v.State = news.HealthFailing
		case v.State == "":
			v.State = news.HealthOK
		}
		out = append(out, v)
	}
	return out, nil
}

// sourceStateReader is what the sources view reads.
type sourceStateReader interface {
	SourceStates(ctx context.Context) ([]news.SourceState, error)
	SourceActivity(ctx context.Context, sourceID string, since time.Time) (int, time.Time, error)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func (a *app) apiSources(w http.ResponseWriter, r *http.Request) {
	views, err := sourceViews(r.Context(), a.cfg, a.store, time.Now())
	if err != nil {
		a.logger.Error("api: list sources", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"sources": views})
}

func (a *app) apiDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, err := parseSince(q.Get("since"), time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f := store.DeliveryFilter{
		WebhookID: q.Get("webhook"),
		TopicID:   q.Get("topic"),
		Status:    news.DeliveryStatus(q.Get("status")),
		Since:     since,
		Limit:     min(atoiOr(q.Get("limit"), 100), 1000),
	}
	ds, err := a.store.Deliveries(r.Context(), f)
	if err != nil {
		a.logger.Error("api: list deliveries", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"deliveries": deliveryViews(ds)})
}

func (a *app) apiWebhooks(w http.ResponseWriter, r *http.Request) {
	views, err := webhookViews(r.Context(), a.cfg, a.store)
	if err != nil {
		a.logger.Error("api: list webhooks", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"webhooks": views})
}

func (a *app) apiStats(w http.ResponseWriter, r *http.Request) {
	st, err := a.store.Stats(r.Context())
	if err != nil {
		a.logger.Error("api: stats", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeJSON(w, st)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// serve runs the HTTP server, the dispatcher and the scheduler until ctx is
// cancelled, then shuts them down in order: stop taking requests and polls,
// let in-flight work finish, close the store.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	if a.websub != nil {
		unsubscribeRemoved(ctx, a.cfg, a.store, a.websub, a.logger)
		wg.Go(func() {
			if err := a.websub.Run(ctx); err != nil {
				errs <- fmt.Errorf("websub: %w", err)
			}
		})
	}
	var leases watch.PollLeaser
	if store.IsPostgres(a.cfg.Database) {
		leases = a.store
	}
	wg.Go(func() { runRetention(ctx, a.store, leases, a.instance, a.cfg.Retention, a.logger) })
	wg.Add(3)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("http: %w", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := a.dispatcher.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			errs <- fmt.Errorf("dispatcher: %w", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := a.scheduler.Run(ctx); err != nil {
			errs <- fmt.Errorf("scheduler: %w", err)
		}
	}()

	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
	}
	a.logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	wg.Wait()
	return first
}

// pollAll polls every source once, a few at a time, and returns the reports
// in config order with each source's error.
func (a *app) pollAll(ctx context.Context) ([]watch.Report, []error) {
	reps := make([]watch.Report, len(a.cfg.Sources))
	errs := make([]error, len(a.cfg.Sources))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, s := range a.cfg.Sources {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			reps[i], errs[i] = a.poller.Poll(ctx, s.Source)
		}()
	}
	wg.Wait()
	return reps, errs
}

// webhookIDs lists the configured webhooks' ids.
func (a *app) webhookIDs() []string {
	ids := make([]string, len(a.cfg.Webhooks))
	for i, w := range a.cfg.Webhooks {
		ids[i] = w.ID
	}
	return ids
}

// sortedTopicIDs is used in messages.
func sortedTopicIDs(ts []news.Topic) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	sort.Strings(ids)
	return ids
}
