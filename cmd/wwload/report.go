package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"wirewatch/store"
)

// runMany runs o.runs fresh runs, each a `wwload run -runs 1 -json` child
// (a fresh process, so each run's peak RSS is its own), and reports the
// median of each figure. A prefill is made once and copied for each run.
func runMany(ctx context.Context, o options, stderr io.Writer) (*report, error) {
	dir, err := os.MkdirTemp("", "wwload-runs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	topicsPath := o.topics
	if topicsPath == "" {
		if topicsPath, err = defaultTopicsPath(); err != nil {
			return nil, err
		}
	}
	var prefill *prefillResult
	template := ""
	if o.prefill > 0 {
		template = filepath.Join(dir, "prefill.db")
		fmt.Fprintf(stderr, "wwload: prefilling %d items once for %d runs (child process)...\n", o.prefill, o.runs)
		if prefill, err = runPrefill(ctx, template, o.prefill, o.prefillBatch, topicsPath, stderr); err != nil {
			return nil, err
		}
	}
	var reps []*report
	for r := 1; r <= o.runs; r++ {
		db := filepath.Join(dir, fmt.Sprintf("run%d.db", r))
		switch {
		case store.IsPostgres(o.db):
			db = o.db // each run makes its own schema in it
		case o.db != "":
			db = fmt.Sprintf("%s.run%d", o.db, r)
		}
		args := []string{"run", "-runs", "1", "-json", "-n", strconv.Itoa(o.n), "-items", strconv.Itoa(o.items),
			"-per-host", strconv.Itoa(o.perHost), "-workers", strconv.Itoa(o.workers),
			"-cycles", strings.Join(o.cycles, ","), "-db", db, "-keep=" + strconv.FormatBool(o.keep),
			"-steady-fraction", strconv.FormatFloat(o.steady, 'g', -1, 64), "-topics", topicsPath,
			"-gzip=" + strconv.FormatBool(o.gzip), "-seed", strconv.FormatUint(o.seed, 10),
			"-instances", strconv.Itoa(o.instances)}
		if template != "" {
			args = append(args, "-prefill-from", template)
		}
		fmt.Fprintf(stderr, "wwload: run %d of %d\n", r, o.runs)
		cmd, err := child(ctx, args, stderr)
		if err != nil {
			return nil, err
		}
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("run %d (%s): %w", r, exitCodeOf(cmd.ProcessState), err)
		}
		var rep report
		if err := json.Unmarshal(out, &rep); err != nil {
			return nil, fmt.Errorf("run %d: bad report: %w", r, err)
		}
		reps = append(reps, &rep)
	}
	med := medianReport(reps)
	med.Prefill = prefill
	return med, nil
}

// medianReport combines runs: per cycle, the median of each measured
// figure (the counts are the same in every run but errors, which take the
// worst run), with the spread of the main ones.
func medianReport(reps []*report) *report {
	out := *reps[0]
	out.Runs = len(reps)
	out.Cycles = slices.Clone(reps[0].Cycles)
	out.OpenSeconds = medianOf(reps, func(r *report) float64 { return r.OpenSeconds })
	out.DBBytes = int64(medianOf(reps, func(r *report) float64 { return float64(r.DBBytes) }))
	for j := range out.Cycles {
		at := func(f func(c *cycleResult) float64) float64 {
			return medianOf(reps, func(r *report) float64 {
				if j >= len(r.Cycles) {
					return 0
				}
				return f(&r.Cycles[j])
			})
		}
		c := &out.Cycles[j]
		c.WallSeconds = at(func(c *cycleResult) float64 { return c.WallSeconds })
		c.CPUSeconds = at(func(c *cycleResult) float64 { return c.CPUSeconds })
		c.PeakRSSBytes = int64(at(func(c *cycleResult) float64 { return float64(c.PeakRSSBytes) }))
		c.RSSBytes = int64(at(func(c *cycleResult) float64 { return float64(c.RSSBytes) }))
		c.HeapBytes = int64(at(func(c *cycleResult) float64 { return float64(c.HeapBytes) }))
		c.ItemsPerSecond = at(func(c *cycleResult) float64 { return c.ItemsPerSecond })
		c.Server.CPUSeconds = at(func(c *cycleResult) float64 { return c.Server.CPUSeconds })
		c.Server.Conns = int64(at(func(c *cycleResult) float64 { return float64(c.Server.Conns) }))
		c.WriterBusy = at(func(c *cycleResult) float64 { return c.WriterBusy })
		if c.Stages != nil {
			stage := func(f func(s *stageSeconds) float64) float64 {
				return at(func(c *cycleResult) float64 {
					if c.Stages == nil {
						return 0
					}
					return f(c.Stages)
				})
			}
			c.Stages = &stageSeconds{
				Fetch:  stage(func(s *stageSeconds) float64 { return s.Fetch }),
				Match:  stage(func(s *stageSeconds) float64 { return s.Match }),
				Read:   stage(func(s *stageSeconds) float64 { return s.Read }),
				Write:  stage(func(s *stageSeconds) float64 { return s.Write }),
				Writes: int64(stage(func(s *stageSeconds) float64 { return float64(s.Writes) })),
			}
		}
		sp := &cycleSpread{WallMin: c.WallSeconds, WallMax: c.WallSeconds, ItemsPerSecMin: c.ItemsPerSecond,
			ItemsPerSecMax: c.ItemsPerSecond, PeakRSSMin: c.PeakRSSBytes, PeakRSSMax: c.PeakRSSBytes}
		c.FirstErrors = nil
		for _, r := range reps {
			if j >= len(r.Cycles) {
				continue
			}
			rc := r.Cycles[j]
			sp.WallMin, sp.WallMax = min(sp.WallMin, rc.WallSeconds), max(sp.WallMax, rc.WallSeconds)
			sp.ItemsPerSecMin, sp.ItemsPerSecMax = min(sp.ItemsPerSecMin, rc.ItemsPerSecond), max(sp.ItemsPerSecMax, rc.ItemsPerSecond)
			sp.PeakRSSMin, sp.PeakRSSMax = min(sp.PeakRSSMin, rc.PeakRSSBytes), max(sp.PeakRSSMax, rc.PeakRSSBytes)
			c.Errors = max(c.Errors, rc.Errors)
			for _, e := range rc.FirstErrors {
				if len(c.FirstErrors) < keepErrors {
					c.FirstErrors = append(c.FirstErrors, e)
				}
			}
		}
		c.Spread = sp
	}
	return &out
}

func medianOf(reps []*report, f func(*report) float64) float64 {
	v := make([]float64, len(reps))
	for i, r := range reps {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// printReport writes the human-readable report.
func printReport(w io.Writer, r *report) {
	fmt.Fprintf(w, "wwload: %s sources on %s hosts (%d per host; wirewatch fetches at most %d at once per host), %d items per feed, %d workers\n",
		thousands(int64(r.Sources)), thousands(int64(r.Hosts)), (r.Sources+r.Hosts-1)/max(r.Hosts, 1), r.PerHostLimit, r.ItemsPerFeed, r.Workers)
	gz := "identity"
	if r.Gzip {
		gz = "gzip"
	}
	fmt.Fprintf(w, "feeds: %s raw, %s as served (%s) per full pass; server built them in %.1f s\n",
		mib(r.FeedBytes), mib(r.WireBytes), gz, r.ServerBuild)
	fmt.Fprintf(w, "topics: %s (%s); %s, GOMAXPROCS %d, %d CPUs", strings.Join(r.Topics, ", "), r.TopicsFile, r.GoVersion, r.GOMAXPROCS, r.NumCPU)
	if r.Runs > 1 {
		fmt.Fprintf(w, "; median of %d runs (each a fresh process, store and server)", r.Runs)
	}
	fmt.Fprintln(w)
	if p := r.Prefill; p != nil {
		fmt.Fprintf(w, "prefill: %s items (%s matches, %s fake sources) in %.1f s (%s items/s, %.1f s CPU), database %s\n",
			thousands(int64(p.Items)), thousands(int64(p.Matches)), thousands(int64(p.Sources)), p.Seconds,
			thousands(int64(float64(p.Items)/p.Seconds)), p.CPUSeconds, mib(p.DBBytes))
	}
	fmt.Fprintf(w, "store opened in %.2f s; database at the end %s; load average %.2f before the cycles, %.2f after\n\n",
		r.OpenSeconds, mib(r.DBBytes), r.LoadAvg[0], r.LoadAvg[1])

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "cycle\twall\tCPU\tCPU/wall\tpeak RSS\tRSS end\tGo heap\tpolls\t200\t304\terrors\tnew items\titems/s\tmatches\tdup\toutbox\tserver CPU\tconns\t")
	for _, c := range r.Cycles {
		fmt.Fprintf(tw, "%s\t%.2f s\t%.2f s\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%.2f s\t%s\t\n",
			c.Name, c.WallSeconds, c.CPUSeconds, c.CPUSeconds/max(c.WallSeconds, 1e-9),
			mib(c.PeakRSSBytes), mib(c.RSSBytes), mib(c.HeapBytes),
			thousands(int64(c.Polls)), thousands(int64(c.OK)), thousands(int64(c.NotModified)), c.Errors,
			thousands(int64(c.ItemsNew)), thousands(int64(c.ItemsPerSecond)),
			thousands(int64(c.Matches)), thousands(int64(c.Duplicates)), thousands(int64(c.Deliveries)),
			c.Server.CPUSeconds, thousands(c.Server.Conns))
	}
	tw.Flush()
	if slices.ContainsFunc(r.Cycles, func(c cycleResult) bool { return c.Stages != nil }) {
		fmt.Fprintln(w, "\nwhere the time went (wall time inside each stage, summed over the workers; store writes: wall time with a write in flight):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "cycle\tfetch+parse\tmatch\tstore reads\tstore writes\tsaves\tper save\twriter busy\t")
		for _, c := range r.Cycles {
			if s := c.Stages; s != nil {
				fmt.Fprintf(tw, "%s\t%.2f s\t%.2f s\t%.2f s\t%.2f s\t%s\t%.0f µs\t%.0f %%\t\n", c.Name, s.Fetch, s.Match, s.Read, s.Write,
					thousands(s.Writes), s.Write/float64(max(s.Writes, 1))*1e6, 100*c.WriterBusy)
			}
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	for _, c := range r.Cycles {
		if c.Bumped != nil {
			fmt.Fprintf(w, "%s: %s sources got %s new items before the cycle\n", c.Name, thousands(int64(c.Bumped.Sources)), thousands(int64(c.Bumped.Items)))
		}
		if sp := c.Spread; sp != nil {
			fmt.Fprintf(w, "%s over %d runs: wall %.2f–%.2f s, items/s %s–%s, peak RSS %s–%s\n", c.Name, r.Runs,
				sp.WallMin, sp.WallMax, thousands(int64(sp.ItemsPerSecMin)), thousands(int64(sp.ItemsPerSecMax)),
				mib(sp.PeakRSSMin), mib(sp.PeakRSSMax))
		}
		for _, e := range c.FirstErrors {
			fmt.Fprintf(w, "%s error: %s\n", c.Name, e)
		}
	}
	for _, p := range r.CPUProfiles {
		fmt.Fprintf(w, "CPU profile: %s\n", p)
	}
	fmt.Fprintln(w, "\nCPU and peak RSS are this process's (getrusage); the feed server is a child process, its CPU shown apart.")
	fmt.Fprintln(w, "baseline: a raw net/http client sending the same conditional GETs with the same workers, nothing else.")
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// thousands formats n with thin-space-free comma grouping: 12,345.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
