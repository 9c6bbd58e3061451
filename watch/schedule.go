package watch

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"wirewatch/news"
)

// DefaultEvery is how often a source without a schedule is polled.
const DefaultEvery = 10 * time.Minute

// Schedule says when a source is polled: every fixed interval, or on a
// standard five-field cron expression (descriptors such as @hourly and a
// CRON_TZ= prefix are accepted too). Exactly one may be set; neither means
// DefaultEvery.
type Schedule struct {
	Every time.Duration
	Cron  string
}

// String describes the schedule the way the config spells it.
func (s Schedule) String() string {
	if s.Cron != "" {
		return "cron " + s.Cron
	}
	return "every " + s.every().String()
}

func (s Schedule) every() time.Duration {
	if s.Every == 0 {
		return DefaultEvery
	}
	return s.Every
}

// Validate reports a schedule that cannot run.
func (s Schedule) Validate() error {
	_, err := s.compile("")
	return err
}

// compile turns the schedule into a cron.Schedule whose phase is spread by
// the source id, so that a hundred sources on "every 10m" do not all fire
// in the same second — yet each keeps the same phase across restarts.
func (s Schedule) compile(sourceID string) (cron.Schedule, error) {
	if s.Cron != "" && s.Every != 0 {
		return nil, errors.New("set either every or cron, not both")
	}
	if s.Cron != "" {
		inner, err := cron.ParseStandard(s.Cron)
		if err != nil {
			return nil, fmt.Errorf("bad cron expression %q: %w", s.Cron, err)
		}
		return offsetSchedule{inner: inner, offset: spread(sourceID, 30*time.Second)}, nil
	}
	every := s.every()
	if every < time.Second {
		return nil, fmt.Errorf("every %s is too short: the minimum is 1s", every)
	}
	return phasedEvery{every: every, offset: spread(sourceID, every)}, nil
}

// spread maps a source id to a stable offset in [0, max).
func spread(sourceID string, max time.Duration) time.Duration {
	if max <= 0 || sourceID == "" {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(sourceID))
	return time.Duration(h.Sum64() % uint64(max))
}

// phasedEvery fires every `every`, at a fixed phase `offset` past the epoch.
type phasedEvery struct {
	every, offset time.Duration
}

func (p phasedEvery) Next(t time.Time) time.Time {
	base := t.UnixNano() - int64(p.offset)
	k := base/int64(p.every) + 1
	if base < 0 && base%int64(p.every) != 0 {
		k--
	}
	return time.Unix(0, k*int64(p.every)+int64(p.offset)).In(t.Location())
}

// offsetSchedule delays a cron schedule by a fixed per-source offset.
type offsetSchedule struct {
	inner  cron.Schedule
	offset time.Duration
}

func (o offsetSchedule) Next(t time.Time) time.Time {
	return o.inner.Next(t.Add(-o.offset)).Add(o.offset)
}

// kickoff makes the first run happen at a chosen time (a source that is
// overdue when wirewatch starts is polled soon, not a whole period later),
// then follows the regular schedule. cron calls Next only from its own
// goroutine, so the flag needs no lock.
type kickoff struct {
	first time.Time
	used  bool
	rest  cron.Schedule
}

func (k *kickoff) Next(t time.Time) time.Time {
	if !k.used {
		k.used = true
		if k.first.After(t) {
			return k.first
		}
	}
	return k.rest.Next(t)
}

// Job is one source and its schedule.
type Job struct {
	Source   news.Source
	Schedule Schedule
	// Adaptive, when set, polls busy sources more often and quiet ones
	// less: the schedule ticks every Min, and after each poll the source
	// waits half its mean gap between new items (over the last week),
	// within [Min, Max].
	Adaptive *Adaptive
}

// NextPoll is when the scheduler will next poll the job's source, given
// the source's state: its next scheduled time at or after the state's
// NextPoll (a backoff or a publisher's interval), zero if the schedule is
// invalid.
func (j Job) NextPoll(st news.SourceState, now time.Time) time.Time {
	sched, err := j.schedule().compile(j.Source.ID)
	if err != nil {
		return time.Time{}
	}
	t := sched.Next(now)
	for i := 0; i < 100000 && !t.IsZero() && t.Before(st.NextPoll); i++ {
		t = sched.Next(t)
	}
	return t
}

// Adaptive bounds an adaptive schedule.
type Adaptive struct{ Min, Max time.Duration }

// schedule is the job's cron schedule: its own, or every Adaptive.Min.
func (j Job) schedule() Schedule {
	if j.Adaptive != nil {
		return Schedule{Every: j.Adaptive.Min}
	}
	return j.Schedule
}

// PollLeaser shares the polling of one database's sources among several
// instances: each (source, due time) goes to one of them (package store
// implements it in the database).
type PollLeaser interface {
	ClaimPoll(ctx context.Context, sourceID string, due time.Time, owner string, lease time.Duration, now time.Time) (bool, error)
	ReleasePoll(ctx context.Context, sourceID, owner string) error
}

// Scheduler polls every source on its own schedule through robfig/cron.
type Scheduler struct {
	poller *Poller
	jobs   []Job
	logger *slog.Logger
	now    func() time.Time
	// leases, owner and lease share the polls with other instances (see
	// Share); nil leases: this instance polls everything.
	leases PollLeaser
	owner  string
	lease  time.Duration
	// Grace is how long in-flight polls may run after shutdown begins
	// before their context is cancelled. Work cut short commits nothing and
	// is simply done again on the next start.
	grace time.Duration
}

// NewScheduler validates every schedule up front and fails naming the source.
func NewScheduler(p *Poller, jobs []Job, logger *slog.Logger) (*Scheduler, error) {
	if logger == nil {
		logger = slog.Default()
	}
	var errs []error
	for _, j := range jobs {
		if a := j.Adaptive; a != nil && (a.Min < time.Second || a.Max < a.Min) {
			errs = append(errs, fmt.Errorf("source %q: adaptive bounds %v–%v: want 1s <= min <= max", j.Source.ID, a.Min, a.Max))
			continue
		}
		if _, err := j.schedule().compile(j.Source.ID); err != nil {
			errs = append(errs, fmt.Errorf("source %q: %w", j.Source.ID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	return &Scheduler{poller: p, jobs: jobs, logger: logger, now: p.now, grace: 10 * time.Second}, nil
}

// Share makes the scheduler one of several instances on one database: it
// still fires for every source on its schedule, but polls a source only
// when it wins that due time's lease (the scheduled time, the same on every
// instance), as owner, for lease. An instance that dies mid-poll holds the
// source until the lease ends; then another polls it. Call before Run.
func (s *Scheduler) Share(l PollLeaser, owner string, lease time.Duration) {
	s.leases, s.owner, s.lease = l, owner, lease
}

// dueTime is the scheduled time a firing stands for: the latest tick of the
// schedule at or before now. Every instance computes the same one, also
// for the kick-off poll after a start (it stands for the tick it missed).
func dueTime(sched cron.Schedule, now time.Time) time.Time {
	n1 := sched.Next(now)
	period := sched.Next(n1).Sub(n1)
	if period <= 0 {
		return now.Truncate(time.Second)
	}
	back := 2*period + time.Second
	for range 12 {
		t := sched.Next(now.Add(-back))
		if !t.After(now) {
			prev := t
			for i := 0; i < 10000; i++ {
				next := sched.Next(prev)
				if next.IsZero() || next.After(now) {
					return prev
				}
				prev = next
			}
			return prev
		}
		back *= 2
	}
	return now.Truncate(time.Second)
}

// Run schedules every job and blocks until ctx is cancelled, then stops
// taking new polls and waits (up to the grace period) for running ones.
func (s *Scheduler) Run(ctx context.Context) error {
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()

	clog := cronLogger{s.logger}
	c := cron.New(
		cron.WithLogger(clog),
		cron.WithChain(cron.Recover(clog)),
	)
	now := s.now()
	for _, j := range s.jobs {
		sched, _ := j.schedule().compile(j.Source.ID) // validated in NewScheduler
		first := s.firstRun(ctx, j, sched, now)
		job := cron.NewChain(cron.SkipIfStillRunning(clog)).Then(cron.FuncJob(func() {
			if s.leases != nil && !s.claim(jobCtx, j, sched) {
				return
			}
			s.pollAndLog(jobCtx, j)
			if s.leases != nil {
				if err := s.leases.ReleasePoll(context.WithoutCancel(jobCtx), j.Source.ID, s.owner); err != nil {
					s.logger.Warn("release poll lease", "source", j.Source.ID, "err", err)
				}
			}
		}))
		c.Schedule(&kickoff{first: first, rest: sched}, job)
		desc := j.Schedule.String()
		if j.Adaptive != nil {
			desc = fmt.Sprintf("adaptive %v–%v", j.Adaptive.Min, j.Adaptive.Max)
		}
		s.logger.Info("source scheduled", "source", j.Source.ID, "schedule", desc, "first_poll", first.Format(time.RFC3339))
	}
	c.Start()
	<-ctx.Done()

	stopped := c.Stop()
	select {
	case <-stopped.Done():
	case <-time.After(s.grace):
		s.logger.Warn("polls still running at shutdown; cancelling them (they are retried on the next start)")
		cancelJobs()
		<-stopped.Done()
	}
	return nil
}

// firstRun picks when a source is first polled after start: soon (spread
// over a few seconds) if it is overdue or new, else at its regular time.
func (s *Scheduler) firstRun(ctx context.Context, j Job, sched cron.Schedule, now time.Time) time.Time {
	regular := sched.Next(now)
	period := sched.Next(regular).Sub(regular)
	st, err := s.poller.store.SourceState(ctx, j.Source.ID)
	if err != nil || st.LastPoll.IsZero() || !st.LastPoll.Add(period).After(now) {
		window := min(period, 5*time.Second)
		soon := now.Add(time.Second + spread(j.Source.ID, window))
		if soon.Before(regular) {
			return soon
		}
	}
	return regular
}

// claim wins this firing's poll of the job's source for this instance, or
// reports that another instance has it.
func (s *Scheduler) claim(ctx context.Context, j Job, sched cron.Schedule) bool {
	now := s.now()
	due := dueTime(sched, now)
	ok, err := s.leases.ClaimPoll(ctx, j.Source.ID, due, s.owner, s.lease, now)
	switch {
	case err != nil:
		s.logger.Error("claim poll lease; skipping this poll", "source", j.Source.ID, "err", err)
		return false
	case !ok:
		s.logger.Debug("poll taken by another instance", "source", j.Source.ID, "due", due.Format(time.RFC3339Nano))
		return false
	}
	return true
}

func (s *Scheduler) pollAndLog(ctx context.Context, j Job) {
	src := j.Source
	rep, err := s.poller.pollWith(ctx, src, pollOptions{honourNextPoll: true, adaptive: j.Adaptive})
	switch {
	case errors.Is(err, ErrBusy):
		s.logger.Info("poll skipped: previous poll still running", "source", src.ID)
	case rep.Outage:
		s.logger.Warn("poll failed during a suspected network outage (not counted)", "source", src.ID, "err", err)
	case err != nil:
		s.logger.Warn("poll failed", "source", src.ID, "err", err, "health", rep.Health,
			"next_poll", rep.NextPoll.Format(time.RFC3339))
	case rep.Skipped:
		s.logger.Debug("poll skipped: not due yet", "source", src.ID, "next_poll", rep.NextPoll.Format(time.RFC3339))
	default:
		s.logger.Info("polled", "source", src.ID, "not_modified", rep.NotModified,
			"items", rep.Fetched, "new", rep.New, "matches", rep.Matches,
			"alerts", rep.Deliveries, "baseline", rep.Baseline, "took", rep.Duration.Round(time.Millisecond))
	}
}

// cronLogger adapts slog to cron's logger interface.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append([]any{"err", err}, kv...)...)
}
