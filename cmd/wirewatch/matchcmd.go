package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"wirewatch/match"
	"wirewatch/news"
	"wirewatch/sources"
)

// topicMatcher adapts the compiled index to watch.TopicMatcher.
type topicMatcher struct{ ix *match.Index }

func (m topicMatcher) MatchTopic(topicID string, it news.Item, now time.Time) (news.Match, bool) {
	v, err := m.ix.Evaluate(topicID, it)
	if err != nil || !v.Matched {
		return news.Match{}, false
	}
	return news.Match{
		TopicID: topicID, ItemID: it.ID, Terms: v.Terms, Hits: v.Hits, Score: v.Score,
		Snippet: v.Snippet, Marks: v.Marks, MatchedAt: now,
	}, true
}

// maxInputFile bounds a feed file given to `wirewatch match`.
const maxInputFile = 64 << 20

func cmdMatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("match", `Try topics before trusting them: run them over feed files, feed URLs or items
already stored (--stored) and print each item's verdict, score and explanation.
Nothing is stored and nothing is sent.

  wirewatch match --config F --topic xinjiang-beat feed.xml https://example.org/rss
  wirewatch match --config F --stored --days 3 --matches-only
  wirewatch match --config F --explain https://example.org/story     # why didn't I get this?
  wirewatch match --config F --topic xinjiang-beat --explain 6f0c1d… feed.xml`, stderr)
	path := configFlag(fs)
	var topicIDs listFlag
	fs.Var(&topicIDs, "topic", "topic id to run (repeat or comma-separate; default: every topic)")
	stored := fs.Bool("stored", false, "run over items stored in the database")
	days := fs.Int("days", 7, "with --stored, or --explain by guid or link: how many days back")
	asJSON := fs.Bool("json", false, "print one JSON object per item and topic")
	explain := fs.String("explain", "", "explain in full why an item did or did not match, and what was done with it: its id, guid or link")
	matchesOnly := fs.Bool("matches-only", false, "print only items that match")
	inputs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	cfg, err := LoadConfig(*path, os.LookupEnv)
	if err != nil {
		return err
	}
	topics, err := selectTopics(cfg.Topics, topicIDs)
	if err != nil {
		return err
	}
	ix, err := match.Compile(topics)
	if err != nil {
		return fmt.Errorf("topics: %w", err)
	}
	if len(inputs) == 0 && !*stored && *explain == "" {
		return usageError{errors.New("match: give feed files or URLs, or --stored, or --explain ID")}
	}

	var items []inputItem
	for _, in := range inputs {
		got, err := loadInput(ctx, cfg, in)
		if err != nil {
			return err
		}
		items = append(items, got...)
	}
	var st appStore
	if *stored || (*explain != "" && len(inputs) == 0) {
		st, err = openStore(ctx, cfg.Database)
		if err != nil {
			return err
		}
		defer st.Close()
	}
	if *stored && *explain == "" {
		its, err := st.ItemsSince(ctx, time.Now().AddDate(0, 0, -*days), nil, 0)
		if err != nil {
			return err
		}
		for _, it := range its {
			items = append(items, inputItem{item: it, origin: "stored:" + it.SourceID})
		}
	}

	if *explain != "" {
		e := explainer{cfg: cfg, ix: ix, topics: topics, days: *days, hints: true}
		if st != nil {
			e.st = st
		}
		return e.explain(ctx, stdout, items, *explain)
	}

	matched := map[string]int{}
	for _, in := range items {
		for _, t := range topics {
			v, err := ix.Evaluate(t.ID, in.item)
			if err != nil {
				return err
			}
			if v.Matched {
				matched[t.ID]++
			}
			if *matchesOnly && !v.Matched {
				continue
			}
			if *asJSON {
				writeVerdictJSON(stdout, t, in, v)
			} else {
				writeVerdictText(stdout, t, in, v)
			}
		}
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "\n%d item(s) checked.", len(items))
		for _, t := range topics {
			fmt.Fprintf(stdout, " %s: %d match(es).", t.ID, matched[t.ID])
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// inputItem is an item to try, with where it came from.
type inputItem struct {
	item   news.Item
	origin string
}

// loadInput reads a feed file or fetches a feed URL (through the same
// fetcher and network policy as serve).
func loadInput(ctx context.Context, cfg *Config, in string) ([]inputItem, error) {
	now := time.Now()
	if u, err := url.Parse(in); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		// A web page's announced feed is read, as a source's would be.
		res, err := newFeedFetcher(cfg).Fetch(ctx, news.FetchRequest{SourceID: "url", URL: in})
		if err != nil {
			return nil, fmt.Errorf("match: %w", err)
		}
		return wrapItems(res.Items, in), nil
	}
	f, err := os.Open(in)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxInputFile+1))
	if err != nil {
		return nil, fmt.Errorf("match: read %s: %w", in, err)
	}
	if len(body) > maxInputFile {
		return nil, fmt.Errorf("match: %s is larger than %d MiB", in, maxInputFile>>20)
	}
	_, items, err := sources.Parse(body, "", "file", now)
	if err != nil {
		return nil, fmt.Errorf("match: %s: %w", in, err)
	}
	return wrapItems(items, filepath.Base(in)), nil
}

func wrapItems(items []news.Item, origin string) []inputItem {
	out := make([]inputItem, len(items))
	for i, it := range items {
		out[i] = inputItem{item: it, origin: origin}
	}
	return out
}

func selectTopics(all []news.Topic, ids []string) ([]news.Topic, error) {
	if len(ids) == 0 {
		return all, nil
	}
	var out []news.Topic
	for _, id := range ids {
		i := slices.IndexFunc(all, func(t news.Topic) bool { return t.ID == id })
		if i < 0 {
			return nil, usageError{fmt.Errorf("no topic %q in the config (topics: %s)", id, strings.Join(sortedTopicIDs(all), ", "))}
		}
		out = append(out, all[i])
	}
	return out, nil
}

// highlight marks the matched spans of a snippet for a terminal: «term».
func highlight(snippet string, marks []news.Span) string {
	var b strings.Builder
	last := 0
	for _, m := range marks {
		if m.Start < last || m.End > len(snippet) || m.Start >= m.End {
			continue
		}
		b.WriteString(snippet[last:m.Start])
		b.WriteString("«" + snippet[m.Start:m.End] + "»")
		last = m.End
	}
	b.WriteString(snippet[last:])
	return b.String()
}

// termFields renders "term (title, summary), term2 (summary)".
func termFields(v match.Verdict) string {
	fields := map[string][]string{}
	for _, h := range v.Hits {
		if !slices.Contains(fields[h.Term], h.Field) {
			fields[h.Term] = append(fields[h.Term], h.Field)
		}
	}
	parts := make([]string, 0, len(v.Terms))
	for _, t := range v.Terms {
		parts = append(parts, fmt.Sprintf("%s (%s)", t, strings.Join(fields[t], ", ")))
	}
	return strings.Join(parts, ", ")
}

func writeVerdictText(w io.Writer, t news.Topic, in inputItem, v match.Verdict) {
	verdict := "no match"
	if v.Matched {
		verdict = "MATCH   "
	}
	fmt.Fprintf(w, "%s  %-16s score %-5.1f %q  [%s, id %s]\n", verdict, t.ID, v.Score, in.item.Title, in.origin, in.item.ID)
	if v.Matched {
		fmt.Fprintf(w, "          matched: %s\n", termFields(v))
		if v.Snippet != "" {
			fmt.Fprintf(w, "          %s\n", highlight(v.Snippet, v.Marks))
		}
	} else if v.Reason != "" {
		fmt.Fprintf(w, "          why not: %s\n", v.Reason)
	}
}

func writeVerdictJSON(w io.Writer, t news.Topic, in inputItem, v match.Verdict) {
	type hit struct {
		Term  string `json:"term"`
		Field string `json:"field"`
		Text  string `json:"text"`
	}
	hits := make([]hit, len(v.Hits))
	for i, h := range v.Hits {
		hits[i] = hit{h.Term, h.Field, h.Text}
	}
	marks := make([][2]int, len(v.Marks))
	for i, m := range v.Marks {
		marks[i] = [2]int{m.Start, m.End}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"topic":     t.ID,
		"item":      map[string]any{"id": in.item.ID, "title": in.item.Title, "link": in.item.Link, "source": in.origin},
		"matched":   v.Matched,
		"score":     v.Score,
		"min_score": v.MinScore,
		"terms":     v.Terms,
		"hits":      hits,
		"missing":   v.Missing,
		"excluded":  v.Excluded,
		"reason":    v.Reason,
		"snippet":   v.Snippet,
		"marks":     marks,
	})
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// listFlag collects repeated or comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
