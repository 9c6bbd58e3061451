package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"wirewatch/match"
	"wirewatch/netguard"
	"wirewatch/news"
	"wirewatch/sources"
	"wirewatch/store"
	"wirewatch/watch"
)

// Cycle kinds.
const (
	cycleCold     = "cold"     // every source new: its first fetch is its baseline
	cycleWarm     = "warm"     // nothing changed: every poll a 304
	cycleSteady   = "steady"   // a fraction of the sources got 1–3 new items
	cycleBaseline = "baseline" // a raw net/http client's conditional GETs, no wirewatch
)

// options are `wwload run`'s flags.
type options struct {
	n, items, perHost, workers int
	cycles                     []string
	db                         string
	keep                       bool
	prefill, prefillBatch      int
	prefillFrom                string
	steady                     float64
	cpuProfile, memProfile     string
	jsonOut                    bool
	topics                     string
	gzip                       bool
	seed                       uint64
	runs                       int
	stages                     bool
	instances                  int
}

func parseRunFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("wwload run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.n, "n", 1000, "number of sources")
	fs.IntVar(&o.items, "items", 50, "items per feed")
	fs.IntVar(&o.perHost, "per-host", 20, "sources per host (each host a 127.0.x.y address)")
	fs.IntVar(&o.workers, "workers", 128, "polls in flight at once")
	cycles := fs.String("cycles", "cold,warm,warm,baseline,steady", "cycles to run, in order: cold, warm, steady, baseline")
	fs.StringVar(&o.db, "db", "", "SQLite file to create (default: a temporary file, removed after)")
	fs.BoolVar(&o.keep, "keep", false, "keep the database file")
	fs.IntVar(&o.prefill, "prefill", 0, "store this many items before measuring (in a child process)")
	fs.IntVar(&o.prefillBatch, "prefill-batch", 1000, "prefill items per fake source and transaction")
	fs.StringVar(&o.prefillFrom, "prefill-from", "", "copy this prefilled database instead of prefilling (internal: -runs uses it)")
	fs.Float64Var(&o.steady, "steady-fraction", 0.05, "fraction of sources that get 1–3 new items before a steady cycle")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile per cycle: FILE becomes FILE's name with .<cycle> before its extension")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile after the last cycle")
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as JSON")
	fs.StringVar(&o.topics, "topics", "", "wirewatch config whose topics to match (default examples/xinjiang-report.yaml)")
	fs.BoolVar(&o.gzip, "gzip", true, "serve feeds gzip-compressed to clients that accept it")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the steady cycles' choice of sources")
	fs.IntVar(&o.runs, "runs", 1, "fresh runs (each in its own process); the report gives medians")
	fs.BoolVar(&o.stages, "stages", true, "clock the fetch, match, store read and store write stages")
	fs.IntVar(&o.instances, "instances", 1, "pollers sharing the database through poll leases, as several wirewatch instances do (each its own store pool and fetcher)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, c := range strings.Split(*cycles, ",") {
		c = strings.TrimSpace(c)
		switch c {
		case cycleCold, cycleWarm, cycleSteady, cycleBaseline:
			o.cycles = append(o.cycles, c)
		case "":
		default:
			return o, fmt.Errorf("unknown cycle %q (want cold, warm, steady or baseline)", c)
		}
	}
	switch {
	case o.n < 1 || o.items < 1 || o.perHost < 1 || o.workers < 1 || o.runs < 1:
		return o, errors.New("-n, -items, -per-host, -workers and -runs must be at least 1")
	case len(o.cycles) == 0:
		return o, errors.New("no cycles to run")
	case o.instances < 1:
		return o, errors.New("-instances must be at least 1")
	case store.IsPostgres(o.db) && (o.prefill > 0 || o.prefillFrom != ""):
		return o, errors.New("-prefill works with SQLite only")
	case o.steady < 0 || o.steady > 1:
		return o, errors.New("-steady-fraction must be in [0, 1]")
	case o.runs > 1 && (o.cpuProfile != "" || o.memProfile != ""):
		return o, errors.New("profile one run at a time (-runs 1): profiling slows the run it measures")
	case o.prefill < 0 || o.prefillBatch < 1:
		return o, errors.New("-prefill must be >= 0 and -prefill-batch >= 1")
	}
	return o, nil
}

// cycleResult is one measured cycle.
type cycleResult struct {
	Name        string  `json:"name"`
	Kind        string  `json:"kind"`
	WallSeconds float64 `json:"wall_seconds"`
	// CPUSeconds is user + system time of this process (all threads)
	// during the cycle, from getrusage(RUSAGE_SELF).
	CPUSeconds float64 `json:"cpu_seconds"`
	// PeakRSSBytes is ru_maxrss after the cycle: the process's peak so far.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	RSSBytes     int64 `json:"rss_bytes"`  // resident at the cycle's end
	HeapBytes    int64 `json:"heap_bytes"` // Go heap in use at the cycle's end
	Polls        int   `json:"polls"`
	OK           int   `json:"ok"`           // 200: fetched and parsed
	NotModified  int   `json:"not_modified"` // 304
	Errors       int   `json:"errors"`
	ItemsFetched int   `json:"items_fetched"`
	// ItemsNew are the items stored by the cycle (ingested).
	ItemsNew       int         `json:"items_new"`
	ItemsPerSecond float64     `json:"items_per_second"`
	Matches        int         `json:"matches"`
	Duplicates     int         `json:"duplicates"`
	Deliveries     int         `json:"deliveries"`
	Bumped         *bumpResult `json:"bumped,omitempty"`
	Server         serverStats `json:"server"` // the server's work during the cycle
	FirstErrors    []string    `json:"first_errors,omitempty"`
	// Stages is where the time went (see stages.go); WriterBusy is the
	// share of the wall time with a store write in flight.
	Stages     *stageSeconds `json:"stages,omitempty"`
	WriterBusy float64       `json:"writer_busy,omitempty"`
	Spread     *cycleSpread  `json:"spread,omitempty"` // -runs > 1: min and max over the runs
}

// cycleSpread is the range of a cycle's main figures over several runs.
type cycleSpread struct {
	WallMin, WallMax               float64
	ItemsPerSecMin, ItemsPerSecMax float64
	PeakRSSMin, PeakRSSMax         int64
}

// report is a whole run.
type report struct {
	Sources       int            `json:"sources"`
	Hosts         int            `json:"hosts"`
	PerHostLimit  int            `json:"per_host_limit"`
	ItemsPerFeed  int            `json:"items_per_feed"`
	Workers       int            `json:"workers"`
	GOMAXPROCS    int            `json:"gomaxprocs"`
	NumCPU        int            `json:"num_cpu"`
	GoVersion     string         `json:"go_version"`
	Topics        []string       `json:"topics"`
	TopicsFile    string         `json:"topics_file"`
	Gzip          bool           `json:"gzip"`
	FeedBytes     int64          `json:"feed_bytes"`
	WireBytes     int64          `json:"wire_bytes"`
	ServerBuild   float64        `json:"server_build_seconds"`
	Prefill       *prefillResult `json:"prefill,omitempty"`
	OpenSeconds   float64        `json:"open_seconds"`
	Cycles        []cycleResult  `json:"cycles"`
	DBBytes       int64          `json:"db_bytes"`
	Runs          int            `json:"runs"`
	CPUProfiles   []string       `json:"cpu_profiles,omitempty"`
	StartRSSBytes int64          `json:"start_rss_bytes"`
	// LoadAvg is /proc/loadavg's 1-minute figure before and after the
	// cycles: the machine is shared, and other work skews the timings.
	LoadAvg [2]float64 `json:"load_avg"`
}

// loadStore is what the harness needs of the store: what the poller
// needs, the validators for the baseline, and Close.
type loadStore interface {
	watch.Store
	SourceStates(ctx context.Context) ([]news.SourceState, error)
	Close() error
}

// cmdRun is `wwload run`, the measured process.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseRunFlags(args, stderr)
	if err != nil {
		return err
	}
	var rep *report
	if o.runs > 1 {
		rep, err = runMany(ctx, o, stderr)
	} else {
		rep, err = runOnce(ctx, o, stderr)
	}
	if err != nil {
		return err
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(stdout, rep)
	return nil
}

// harness is one run's wiring: the server child, the store and the poller
// built the way cmd/wirewatch/app.go builds them.
type harness struct {
	o      options
	stderr io.Writer
	srv    *serverProc
	store  loadStore
	poller *watch.Poller
	// extra are the other instances of -instances (their stores and
	// pollers); with any, every instance claims each poll through a lease.
	extra   []instance
	sources []news.Source
	stages  *stageTimes // nil: not clocked
	// fetchers are every instance's, so that their keep-alive connections
	// close before the server stops (it waits for open ones).
	fetchers []*sources.Fetcher
}

// runOnce measures one fresh run in this process.
func runOnce(ctx context.Context, o options, stderr io.Writer) (*report, error) {
	rep := &report{Sources: o.n, ItemsPerFeed: o.items, Workers: o.workers, PerHostLimit: watchPerHost,
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(),
		Gzip: o.gzip, Runs: 1, StartRSSBytes: currentRSS()}
	topicsPath := o.topics
	if topicsPath == "" {
		p, err := defaultTopicsPath()
		if err != nil {
			return nil, err
		}
		topicsPath = p
	}
	topics, err := loadTopics(topicsPath)
	if err != nil {
		return nil, err
	}
	rep.TopicsFile = topicsPath
	for _, t := range topics {
		rep.Topics = append(rep.Topics, t.ID)
	}

	dbPath := o.db
	var pgSchema string
	if store.IsPostgres(dbPath) {
		var err error
		if dbPath, pgSchema, err = pgFreshSchema(dbPath, stderr); err != nil {
			return nil, err
		}
		if !o.keep {
			defer pgDropSchema(o.db, pgSchema, stderr)
		}
	} else if dbPath == "" {
		dir, err := os.MkdirTemp("", "wwload-")
		if err != nil {
			return nil, err
		}
		dbPath = filepath.Join(dir, "wwload.db")
		if o.keep {
			fmt.Fprintf(stderr, "wwload: the database is kept at %s\n", dbPath)
		} else {
			defer os.RemoveAll(dir)
		}
	} else if _, err := os.Stat(dbPath); err == nil {
		return nil, fmt.Errorf("%s exists; the store must be a fresh file", dbPath)
	}
	if o.db != "" && !o.keep && pgSchema == "" {
		defer removeDB(dbPath)
	}

	switch {
	case o.prefillFrom != "":
		if err := copyDB(o.prefillFrom, dbPath); err != nil {
			return nil, err
		}
	case o.prefill > 0:
		fmt.Fprintf(stderr, "wwload: prefilling %d items (child process)...\n", o.prefill)
		p, err := runPrefill(ctx, dbPath, o.prefill, o.prefillBatch, topicsPath, stderr)
		if err != nil {
			return nil, err
		}
		rep.Prefill = p
	}

	h := &harness{o: o, stderr: stderr}
	fmt.Fprintf(stderr, "wwload: starting the feed server for %d sources (child process)...\n", o.n)
	h.srv, err = startServer(ctx, []string{"serve", "-n", strconv.Itoa(o.n), "-items", strconv.Itoa(o.items),
		"-per-host", strconv.Itoa(o.perHost), "-gzip=" + strconv.FormatBool(o.gzip)}, stderr)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, f := range h.fetchers {
			f.CloseIdleConnections()
		}
		if err := h.srv.stop(); err != nil {
			fmt.Fprintf(stderr, "wwload: feed server: %v\n", err)
		}
	}()
	rep.Hosts, rep.FeedBytes, rep.WireBytes, rep.ServerBuild = h.srv.info.Hosts, h.srv.info.FeedBytes, h.srv.info.WireBytes, h.srv.info.BuildSeconds
	lay := layout{sources: o.n, perHost: o.perHost}
	for i := 0; i < o.n; i++ {
		h.sources = append(h.sources, news.Source{ID: sourceID(i), URL: lay.url(i, h.srv.info.Port)})
	}

	t0 := time.Now()
	if err := h.wire(ctx, dbPath, topics); err != nil {
		return nil, err
	}
	defer h.store.Close()
	for i := 1; i < o.instances; i++ {
		in, err := h.wireInstance(ctx, dbPath, topics)
		if err != nil {
			return nil, err
		}
		defer in.store.Close()
		h.extra = append(h.extra, in)
	}
	rep.OpenSeconds = time.Since(t0).Seconds()

	rep.LoadAvg[0] = loadAvg()
	labels := cycleLabels(o.cycles)
	steadyRound := uint64(0)
	for i, kind := range o.cycles {
		var bumped *bumpResult
		if kind == cycleSteady {
			steadyRound++
			b, err := h.srv.bump(ctx, o.steady, o.seed*1000+steadyRound)
			if err != nil {
				return nil, err
			}
			bumped = &b
		}
		fmt.Fprintf(stderr, "wwload: cycle %s...\n", labels[i])
		c, profile, err := h.measure(ctx, labels[i], kind)
		if err != nil {
			return nil, err
		}
		c.Bumped = bumped
		rep.Cycles = append(rep.Cycles, c)
		if profile != "" {
			rep.CPUProfiles = append(rep.CPUProfiles, profile)
		}
	}
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return nil, err
		}
	}
	rep.LoadAvg[1] = loadAvg()
	if pgSchema != "" {
		rep.DBBytes = pgSchemaSize(o.db, pgSchema)
	} else {
		rep.DBBytes = dbSize(dbPath)
	}
	return rep, nil
}

// watchPerHost is the poller's default per-host limit, which the harness
// keeps (watch.Politeness zero value), reported for the record.
const watchPerHost = 2

// wire builds the pipeline as cmd/wirewatch/app.go does: the real fetcher
// (SSRF guard open to private addresses, as allow_private_networks: true
// does), the compiled topic index, a fresh SQLite store and the poller
// with the default politeness (2 fetches per host at once) and the
// default 48 h dedup window. No alert dispatcher runs: outbox rows are
// written, not delivered (delivery is measured on its own, see
// docs/benchmarks.md).
func (h *harness) wire(ctx context.Context, dbPath string, topics []news.Topic) error {
	index, err := match.Compile(topics)
	if err != nil {
		return fmt.Errorf("topics: %w", err)
	}
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	h.store = st
	var (
		fetcher watch.Fetcher = h.newFetcher()
		matcher watch.Matcher = index
		pstore  watch.Store   = st
	)
	if h.o.stages {
		h.stages = &stageTimes{}
		fetcher, matcher = timedFetcher{fetcher, h.stages}, timedMatcher{matcher, h.stages}
		pstore = &timedStore{loadStore: st, t: h.stages}
	}
	h.poller = h.newPoller(fetcher, matcher, pstore)
	return nil
}

// newFetcher returns a fetcher as wirewatch builds one, with the SSRF
// guard open to the loopback feed server, and records it so that its
// connections close before the server stops.
func (h *harness) newFetcher() *sources.Fetcher {
	f := sources.NewFetcher(sources.Options{
		UserAgent: "wirewatch-wwload/dev (+https://github.com/wirewatch/wirewatch)",
		Policy:    netguard.Policy{AllowPrivate: true},
	})
	h.fetchers = append(h.fetchers, f)
	return f
}

// newPoller returns a poller with wirewatch's defaults (see wire).
func (h *harness) newPoller(f watch.Fetcher, m watch.Matcher, st watch.Store) *watch.Poller {
	return watch.NewPoller(watch.PollerConfig{
		Fetcher: f, Matcher: m, Store: st, Webhooks: deskWebhooks(),
		Logger:      slog.New(slog.NewTextHandler(h.stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		DedupWindow: 48 * time.Hour,
	})
}

// measure runs one cycle and measures it: wall time, this process's CPU
// time and peak RSS, and the server's work in the same interval.
func (h *harness) measure(ctx context.Context, label, kind string) (cycleResult, string, error) {
	c := cycleResult{Name: label, Kind: kind}
	// The baseline's validators are read before the clock starts.
	var validators []news.SourceState
	if kind == cycleBaseline {
		states, err := h.store.SourceStates(ctx)
		if err != nil {
			return c, "", err
		}
		byID := make(map[string]news.SourceState, len(states))
		for _, s := range states {
			byID[s.SourceID] = s
		}
		for _, src := range h.sources {
			st := byID[src.ID]
			st.URL = src.URL
			validators = append(validators, st)
		}
	}
	// Each cycle starts from a collected heap, as a long-running wirewatch
	// between cycles would (its GC runs while it idles), so one cycle's
	// garbage is not billed to the next.
	runtime.GC()
	s0, err := h.srv.stats(ctx)
	if err != nil {
		return c, "", err
	}
	var profile string
	var stopProfile func()
	if h.o.cpuProfile != "" {
		profile = profilePath(h.o.cpuProfile, label)
		f, err := os.Create(profile)
		if err != nil {
			return c, "", err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return c, "", err
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
	}
	var st0 stageSeconds
	if h.stages != nil {
		st0 = h.stages.snapshot()
	}
	ru0 := getRusage()
	t0 := time.Now()
	var t tally
	if kind == cycleBaseline {
		t = rawConditionalGETs(ctx, validators, h.o.workers)
	} else {
		t = h.pollCycle(ctx)
	}
	wall := time.Since(t0)
	ru1 := getRusage()
	if h.stages != nil && kind != cycleBaseline {
		d := h.stages.snapshot().minus(st0)
		c.Stages, c.WriterBusy = &d, d.Write/wall.Seconds()
	}
	if stopProfile != nil {
		stopProfile()
	}
	s1, err := h.srv.stats(ctx)
	if err != nil {
		return c, "", err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	c.WallSeconds = wall.Seconds()
	c.CPUSeconds = (ru1.cpu - ru0.cpu).Seconds()
	c.PeakRSSBytes = ru1.maxRSS
	c.RSSBytes = currentRSS()
	c.HeapBytes = int64(ms.HeapInuse)
	c.Polls, c.OK, c.NotModified, c.Errors = t.polls, t.ok, t.notModified, t.errors
	c.ItemsFetched, c.ItemsNew, c.Matches, c.Duplicates, c.Deliveries = t.fetched, t.fresh, t.matches, t.duplicates, t.deliveries
	c.ItemsPerSecond = float64(t.fresh) / wall.Seconds()
	c.FirstErrors = t.firstErrors
	c.Server = serverStats{OK: s1.OK - s0.OK, NotModified: s1.NotModified - s0.NotModified, Other: s1.Other - s0.Other,
		Bytes: s1.Bytes - s0.Bytes, Conns: s1.Conns - s0.Conns, CPUSeconds: s1.CPUSeconds - s0.CPUSeconds, MaxRSSBytes: s1.MaxRSSBytes}
	return c, profile, nil
}

// tally counts one cycle's outcomes.
type tally struct {
	polls, ok, notModified, errors                  int
	fetched, fresh, matches, duplicates, deliveries int
	firstErrors                                     []string
}

const keepErrors = 5

// record counts one poll's outcome (t.polls is counted by the caller).
func (t *tally) record(rep watch.Report, err error) {
	if err != nil {
		t.fail(err)
		return
	}
	if rep.NotModified {
		t.notModified++
	} else {
		t.ok++
	}
	t.fetched += rep.Fetched
	t.fresh += rep.New
	t.matches += rep.Matches
	t.duplicates += rep.Duplicates
	t.deliveries += rep.Deliveries
}

func (t *tally) add(o tally) {
	t.polls += o.polls
	t.ok += o.ok
	t.notModified += o.notModified
	t.errors += o.errors
	t.fetched += o.fetched
	t.fresh += o.fresh
	t.matches += o.matches
	t.duplicates += o.duplicates
	t.deliveries += o.deliveries
	for _, e := range o.firstErrors {
		if len(t.firstErrors) < keepErrors {
			t.firstErrors = append(t.firstErrors, e)
		}
	}
}

func (t *tally) fail(err error) {
	t.errors++
	if len(t.firstErrors) < keepErrors {
		t.firstErrors = append(t.firstErrors, err.Error())
	}
}

// pollCycle polls every source once through Poller.Poll, from a pool of
// workers. This is what the scheduler does when every source comes due,
// minus robfig/cron: cron only decides when each poll starts (each source
// on its own phase-spread schedule) and runs it on a goroutine of its
// own, which at the scale of a cycle is a bounded pool without the
// timers; the per-host limit and the store's single writer, which decide
// how polls contend, are inside Poll and run for real. Poll (not the
// scheduler's path) also ignores a source's NextPoll, so a publisher's
// requested interval cannot skip sources mid-measurement.
func (h *harness) pollCycle(ctx context.Context) tally {
	if len(h.extra) > 0 {
		return h.sharedCycle(ctx)
	}
	return fanOut(h.sources, h.o.workers, func(src news.Source, t *tally) {
		t.polls++
		rep, err := h.poller.Poll(ctx, src)
		t.record(rep, err)
	})
}

// fanOut hands the jobs, in order, to a pool of workers that run work on
// each into a tally of their own, and returns the sum of the tallies.
func fanOut[J any](jobs []J, workers int, work func(J, *tally)) tally {
	ch := make(chan J)
	results := make(chan tally, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var t tally
			for j := range ch {
				work(j, &t)
			}
			results <- t
		})
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	close(results)
	var total tally
	for t := range results {
		total.add(t)
	}
	return total
}

// cycleLabels names the cycles, numbering repeated kinds (warm, warm2).
func cycleLabels(kinds []string) []string {
	seen := map[string]int{}
	out := make([]string, len(kinds))
	for i, k := range kinds {
		seen[k]++
		out[i] = k
		if seen[k] > 1 {
			out[i] = k + strconv.Itoa(seen[k])
		}
	}
	return out
}

// profilePath puts the cycle's label before the extension: cpu.pprof ->
// cpu.cold.pprof.
func profilePath(path, label string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + label + ext
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	return errors.Join(pprof.WriteHeapProfile(f), f.Close())
}

// currentRSS is the resident set size now (Linux; 0 elsewhere).
func currentRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// loadAvg is the 1-minute load average (Linux; 0 elsewhere).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// rusage is this process's resource use so far.
type rusage struct {
	cpu    time.Duration
	maxRSS int64 // bytes
}
