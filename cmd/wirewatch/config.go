package main

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"wirewatch/alert"
	"wirewatch/match"
	"wirewatch/news"
	"wirewatch/watch"
)

// Config is a validated wirewatch configuration.
type Config struct {
	Path                 string
	Listen               string
	Database             string
	BaseURL              string
	AllowPrivateNetworks bool
	Contact              string
	LogLevel             string
	// DedupWindow is how long a story is remembered for merging later
	// sightings from other sources (0: off).
	DedupWindow time.Duration
	// Polling is how wirewatch treats the servers it polls (per-host
	// limits, backoff, health thresholds).
	Polling watch.Politeness
	WebSub  WebSubConfig
	// PollLease is how long an instance sharing a PostgreSQL database
	// holds a source's poll; if it dies, another polls the source once the
	// lease is over.
	PollLease time.Duration
	// Retention is how long items are kept (what feeds show and pending
	// alerts need is kept longer); 0 keeps everything.
	Retention time.Duration
	Sources   []SourceConfig
	Topics    []news.Topic
	Webhooks  []news.Webhook
}

// SourceConfig is a source with its polling schedule.
type SourceConfig struct {
	Source   news.Source
	Schedule watch.Schedule
	Adaptive *watch.Adaptive
}

// Jobs returns the scheduler's view of the sources.
func (c *Config) Jobs() []watch.Job {
	jobs := make([]watch.Job, len(c.Sources))
	for i, s := range c.Sources {
		jobs[i] = watch.Job{Source: s.Source, Schedule: s.Schedule, Adaptive: s.Adaptive}
	}
	return jobs
}

// Defaults for keys the config leaves out.
const (
	defaultListen   = "127.0.0.1:8080"
	defaultDatabase = "wirewatch.db"
	defaultTimeout  = 15 * time.Second
	// defaultDedupWindow: the same story from another outlet within two
	// days is one story.
	defaultDedupWindow = 48 * time.Hour
)

// ConfigError lists every problem found in a config file, each with its
// file:line:column, so a user fixes them all in one go.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("config has %d problem(s):\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// problems collects positioned validation messages.
type problems struct {
	file string
	list []positioned
}

type positioned struct {
	line, col int
	msg       string
}

func (p *problems) add(n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	p.list = append(p.list, positioned{line, col, fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	sort.SliceStable(p.list, func(i, j int) bool {
		if p.list[i].line != p.list[j].line {
			return p.list[i].line < p.list[j].line
		}
		return p.list[i].col < p.list[j].col
	})
	out := make([]string, len(p.list))
	for i, q := range p.list {
		if q.line == 0 {
			out[i] = fmt.Sprintf("%s: %s", p.file, q.msg)
		} else {
			out[i] = fmt.Sprintf("%s:%d:%d: %s", p.file, q.line, q.col, q.msg)
		}
	}
	return &ConfigError{Problems: out}
}

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	envPattern = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// LoadConfig reads, expands and validates a config file. lookupEnv expands
// ${VAR} references (os.LookupEnv in production).
func LoadConfig(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{Problems: []string{err.Error()}}
	}
	return ParseConfig(path, data, lookupEnv)
}

// ParseConfig validates config bytes; path is used in messages and to
// resolve a relative database path.
func ParseConfig(path string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ConfigError{Problems: []string{fmt.Sprintf("%s: %v", path, err)}}
	}
	p := &problems{file: path}
	d := decoder{p: p, env: lookupEnv}
	cfg := &Config{Path: path, Listen: defaultListen, Database: defaultDatabase, LogLevel: "info", DedupWindow: defaultDedupWindow,
		PollLease: 2 * time.Minute, Retention: 90 * 24 * time.Hour}
	if len(doc.Content) == 0 {
		p.add(nil, "the file is empty: a config needs at least sources and topics")
		return nil, p.err()
	}
	root := doc.Content[0]
	var sourcesNode, topicsNode, webhooksNode *yaml.Node
	d.mapping(root, "config", func(key string, k, v *yaml.Node) {
		switch key {
		case "listen":
			cfg.Listen = d.str(v)
		case "database":
			cfg.Database = d.str(v)
		case "base_url":
			cfg.BaseURL = d.str(v)
		case "allow_private_networks":
			cfg.AllowPrivateNetworks = d.boolean(v)
		case "contact":
			cfg.Contact = d.str(v)
		case "log_level":
			cfg.LogLevel = d.str(v)
		case "dedup_window":
			cfg.DedupWindow = d.durationOrZero(v)
		case "polling":
			cfg.Polling = d.polling(v)
		case "websub":
			cfg.WebSub = d.websub(v)
		case "retention":
			cfg.Retention = d.durationOrZero(v)
		case "poll_lease":
			cfg.PollLease = d.duration(v)
			if cfg.PollLease < 5*time.Second {
				p.add(v, "poll_lease %v is too short: a poll can take 30s (at least 5s)", cfg.PollLease)
			}
		case "sources":
			sourcesNode = v
		case "topics":
			topicsNode = v
		case "webhooks":
			webhooksNode = v
		default:
			d.unknown(k, key, "listen, database, base_url, allow_private_networks, contact, log_level, dedup_window, polling, websub, poll_lease, retention, sources, topics, webhooks")
		}
	})

	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		p.add(d.at(root, "listen"), "listen %q is not host:port (e.g. 127.0.0.1:8080)", cfg.Listen)
	}
	if v, ok := lookupEnv("WIREWATCH_DATABASE"); ok && v != "" {
		// The environment wins, so one config file serves every instance
		// and the database password stays out of it.
		cfg.Database = v
	}
	if cfg.Database == "" {
		p.add(d.at(root, "database"), "database must not be empty")
	} else if !strings.Contains(cfg.Database, "://") && !filepath.IsAbs(cfg.Database) {
		cfg.Database = filepath.Join(filepath.Dir(path), cfg.Database)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + cfg.Listen
	} else if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(d.at(root, "base_url"), "base_url %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Contact != "" {
		if u, err := url.Parse(cfg.Contact); err != nil || u.Scheme == "" {
			p.add(d.at(root, "contact"), "contact %q must be a URL (https://… or mailto:…)", cfg.Contact)
		}
	}
	switch cfg.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p.add(d.at(root, "log_level"), "log_level %q must be one of debug, info, warn, error", cfg.LogLevel)
	}

	var sourceIDs map[string]bool
	cfg.Sources, sourceIDs = collect(d, sourcesNode, "source",
		func(n *yaml.Node) SourceConfig { return d.source(n, cfg.AllowPrivateNetworks) },
		func(s SourceConfig) string { return s.Source.ID })
	if len(cfg.Sources) == 0 && sourcesNode == nil {
		p.add(root, "no sources: add at least one under sources:")
	}

	var topicIDs map[string]bool
	cfg.Topics, topicIDs = collect(d, topicsNode, "topic",
		func(n *yaml.Node) news.Topic { return d.topic(n, sourceIDs, filepath.Dir(path)) },
		func(t news.Topic) string { return t.ID })
	if topicsNode == nil {
		p.add(root, "no topics: add at least one under topics:")
	}

	cfg.Webhooks, _ = collect(d, webhooksNode, "webhook",
		func(n *yaml.Node) news.Webhook { return d.webhook(n, topicIDs, cfg.AllowPrivateNetworks) },
		func(w news.Webhook) string { return w.ID })

	if err := p.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// collect decodes a list of entries with ids, reporting duplicate ids, and
// returns the entries with the set of their ids.
func collect[T any](d decoder, list *yaml.Node, what string, decode func(*yaml.Node) T, id func(T) string) ([]T, map[string]bool) {
	var out []T
	ids := map[string]bool{}
	d.list(list, what+"s", func(n *yaml.Node) {
		v := decode(n)
		switch key := id(v); {
		case key == "":
		case ids[key]:
			d.p.add(d.at(n, "id"), "duplicate %s id %q", what, key)
		default:
			ids[key] = true
			out = append(out, v)
		}
	})
	return out, ids
}

// decoder walks YAML nodes, expanding ${VAR} and recording problems instead
// of stopping at the first.
type decoder struct {
	p   *problems
	env func(string) (string, bool)
}

func (d decoder) mapping(n *yaml.Node, what string, each func(key string, k, v *yaml.Node)) {
	if n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.p.add(n, "%s must be a mapping of key: value", what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			d.p.add(k, "key %q appears twice in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		each(k.Value, k, v)
	}
}

func (d decoder) list(n *yaml.Node, what string, each func(*yaml.Node)) {
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.p.add(n, "%s must be a list (items start with -)", what)
		return
	}
	for _, c := range n.Content {
		each(c)
	}
}

// at finds the value node of key in mapping n, for positioning messages.
func (d decoder) at(n *yaml.Node, key string) *yaml.Node {
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	}
	return n
}

func (d decoder) unknown(k *yaml.Node, key, known string) {
	d.p.add(k, "unknown key %q (known keys: %s)", key, known)
}

// str reads a scalar string, expanding ${VAR} from the environment.
func (d decoder) str(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		d.p.add(n, "expected a single value, not a list or mapping")
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return envPattern.ReplaceAllStringFunc(n.Value, func(ref string) string {
		name := envPattern.FindStringSubmatch(ref)[1]
		v, ok := d.env(name)
		if !ok {
			d.p.add(n, "environment variable %s is not set", name)
		}
		return v
	})
}

func (d decoder) strs(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return nil
		}
		return []string{d.str(n)}
	}
	if n.Kind != yaml.SequenceNode {
		d.p.add(n, "expected a list of values")
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, d.str(c))
	}
	return out
}

func (d decoder) boolean(n *yaml.Node) bool {
	switch strings.ToLower(d.str(n)) {
	case "true", "yes", "on":
		return true
	case "false", "no", "off", "":
		return false
	}
	d.p.add(n, "expected true or false, got %q", n.Value)
	return false
}

func (d decoder) duration(n *yaml.Node) time.Duration {
	v := d.durationOrZero(n)
	if v == 0 && n.Kind == yaml.ScalarNode {
		d.p.add(n, "duration %s must be positive", n.Value)
	}
	return v
}

// durationOrZero reads a duration such as 30s, 10m, 2h, 7d or 2w (Go's
// units plus d and w, which people write for backfill and retention).
func (d decoder) durationOrZero(n *yaml.Node) time.Duration {
	s := d.str(n)
	v, err := parseDuration(s)
	if err != nil {
		d.p.add(n, "%q is not a duration (use e.g. 30s, 10m, 2h, 7d)", s)
		return 0
	}
	if v < 0 {
		d.p.add(n, "duration %s must not be negative", s)
		return 0
	}
	return v
}

// parseDuration is time.ParseDuration with whole days (d) and weeks (w).
func parseDuration(s string) (time.Duration, error) {
	for unit, size := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if num, ok := strings.CutSuffix(s, unit); ok {
			k, err := strconv.Atoi(num)
			if err != nil {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return time.Duration(k) * size, nil
		}
	}
	return time.ParseDuration(s)
}

func (d decoder) id(n *yaml.Node, what string) string {
	v := d.at(n, "id")
	if v == n {
		d.p.add(n, "%s has no id", what)
		return ""
	}
	id := d.str(v)
	if !idPattern.MatchString(id) {
		d.p.add(v, "%s id %q must be 1-64 lowercase letters, digits, '.', '_' or '-' (it appears in URLs)", what, id)
	}
	return id
}

// httpURL validates a user URL: absolute http(s) with a host, and not a
// literal private address unless private networks are allowed. Hostnames
// are checked again at connect time, after DNS, by netguard.
func (d decoder) httpURL(n *yaml.Node, raw, what string, allowPrivate bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.p.add(n, "%s %q must be an absolute http:// or https:// URL", what, raw)
		return
	}
	if allowPrivate {
		return
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		d.p.add(n, "%s %q points at this machine; set allow_private_networks: true to allow it", what, raw)
		return
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		pol := netPolicy(false)
		if err := pol.Check(ip); err != nil {
			d.p.add(n, "%s %q: %v", what, raw, err)
		}
	}
}

func (d decoder) source(n *yaml.Node, allowPrivate bool) SourceConfig {
	var s SourceConfig
	s.Source.ID = d.id(n, "source")
	d.mapping(n, "a source", func(key string, k, v *yaml.Node) {
		switch key {
		case "id":
		case "url":
			s.Source.URL = d.str(v)
			d.httpURL(v, s.Source.URL, "url", allowPrivate)
		case "title":
			s.Source.Title = d.str(v)
		case "every":
			s.Schedule.Every = d.duration(v)
		case "cron":
			s.Schedule.Cron = d.str(v)
		case "adaptive":
			s.Adaptive = d.adaptive(v, s.Source.ID)
		default:
			d.unknown(k, key, "id, url, title, every, cron, adaptive")
		}
	})
	if s.Adaptive != nil && (s.Schedule.Every != 0 || s.Schedule.Cron != "") {
		d.p.add(d.at(n, "adaptive"), "source %q: adaptive replaces every and cron: set one or the other", s.Source.ID)
	}
	if s.Source.URL == "" && n.Kind == yaml.MappingNode {
		d.p.add(n, "source %q has no url", s.Source.ID)
	}
	if err := s.Schedule.Validate(); err != nil {
		at := d.at(n, "cron")
		if s.Schedule.Cron == "" {
			at = d.at(n, "every")
		}
		d.p.add(at, "source %q: %v", s.Source.ID, err)
	}
	return s
}

// defaultBackfill is how far back a new or changed topic is matched.
const defaultBackfill = 7 * 24 * time.Hour

func (d decoder) topic(n *yaml.Node, sourceIDs map[string]bool, baseDir string) news.Topic {
	t := news.Topic{Backfill: defaultBackfill}
	t.ID = d.id(n, "topic")
	fields := map[string]*yaml.Node{} // where each matching field was written
	d.mapping(n, "a topic", func(key string, k, v *yaml.Node) {
		switch key {
		case "id":
		case "title":
			t.Title = d.str(v)
		case "query":
			t.Query, fields[key] = d.str(v), v
		case "must":
			t.Must, fields[key] = d.strs(v), v
		case "should":
			t.Should, fields[key] = d.strs(v), v
		case "not":
			t.Not, fields[key] = d.strs(v), v
		case "exclude":
			t.Exclude, fields[key] = d.strs(v), v
		case "synonyms":
			t.Synonyms, fields[key] = d.synonyms(v), v
		case "weights":
			t.Weights, fields[key] = d.weights(v), v
		case "min_score":
			t.MinScore = d.number(v)
		case "report":
			t.Report = d.str(v)
			d.report(v, t.Report, baseDir)
		case "backfill":
			t.Backfill = d.durationOrZero(v)
		case "sources":
			t.Sources = d.strs(v)
			for i, s := range t.Sources {
				if !sourceIDs[s] {
					d.p.add(item(v, i), "topic %q names unknown source %q", t.ID, s)
				}
			}
		default:
			d.unknown(k, key, "id, title, query, must, should, not, exclude, synonyms, weights, min_score, report, backfill, sources")
		}
	})
	if t.Title == "" {
		t.Title = t.ID
	}
	if n.Kind != yaml.MappingNode {
		return t
	}
	switch {
	case t.Query == "" && len(t.Must) == 0 && len(t.Should) == 0:
		d.p.add(n, "topic %q has no query (write query:, or must:/should: groups)", t.ID)
		return t
	case t.Query != "" && len(t.Must)+len(t.Should)+len(t.Not) > 0:
		d.p.add(fields["query"], "topic %q: write either query: or must:/should:/not: groups, not both", t.ID)
		return t
	}
	if _, err := match.Compile([]news.Topic{t}); err != nil {
		for _, e := range flatten(err) {
			d.topicProblem(t.ID, n, fields, e)
		}
	}
	return t
}

// topicProblem places a topic compile error at the YAML node it concerns,
// down to the line and column of a query syntax error.
func (d decoder) topicProblem(topicID string, topic *yaml.Node, fields map[string]*yaml.Node, err error) {
	var te *match.TopicError
	if !errors.As(err, &te) {
		d.p.add(topic, "topic %q: %v", topicID, err)
		return
	}
	at := fields[te.Field]
	if at == nil {
		at = topic
	}
	where := te.Field
	if te.Key != "" && at.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(at.Content); i += 2 {
			if at.Content[i].Value == te.Key {
				at = at.Content[i+1]
				if at.Kind == yaml.SequenceNode && te.Index >= 0 && te.Index < len(at.Content) {
					at = at.Content[te.Index]
				}
				break
			}
		}
		where = fmt.Sprintf("%s %q", te.Field, te.Key)
	} else if at.Kind == yaml.SequenceNode && te.Index >= 0 && te.Index < len(at.Content) {
		at = at.Content[te.Index]
		where = fmt.Sprintf("%s[%d]", te.Field, te.Index)
	}
	var se *match.SyntaxError
	if errors.As(te.Err, &se) && at.Kind == yaml.ScalarNode {
		line, col := queryPosition(at, se)
		d.p.list = append(d.p.list, positioned{line, col, fmt.Sprintf("topic %q: %s: %s", topicID, where, se.Msg)})
		return
	}
	d.p.add(at, "topic %q: %s: %v", topicID, where, te.Err)
}

// flatten lists the leaves of a tree of joined errors.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// item returns the i-th element of a sequence node, or the node itself.
func item(n *yaml.Node, i int) *yaml.Node {
	if n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i]
	}
	return n
}

// synonyms reads groups written as lists (Uyghur: [Uighur, Uygur]) or as
// one string with | between variants (Uyghur: Uighur | Uygur | 维吾尔).
func (d decoder) synonyms(n *yaml.Node) map[string][]string {
	out := map[string][]string{}
	d.mapping(n, "synonyms", func(name string, k, v *yaml.Node) {
		var variants []string
		if v.Kind == yaml.ScalarNode {
			for _, s := range strings.Split(d.str(v), "|") {
				variants = append(variants, strings.TrimSpace(s))
			}
		} else {
			variants = d.strs(v)
		}
		out[name] = variants
	})
	return out
}

func (d decoder) weights(n *yaml.Node) map[string]float64 {
	out := map[string]float64{}
	d.mapping(n, "weights", func(term string, k, v *yaml.Node) {
		out[term] = d.number(v)
	})
	return out
}

// wholeNumber reads a count setting: a whole number in [lo, hi], reported
// as "what must be a whole number from lo to hi".
func (d decoder) wholeNumber(n *yaml.Node, what string, lo, hi int) int {
	v := d.number(n)
	if v < float64(lo) || v > float64(hi) || v != math.Trunc(v) {
		if hi == math.MaxInt32 {
			d.p.add(n, "%s must be a whole number, at least %d", what, lo)
		} else {
			d.p.add(n, "%s must be a whole number from %d to %d", what, lo, hi)
		}
		return lo
	}
	return int(v)
}

func (d decoder) number(n *yaml.Node) float64 {
	s := d.str(n)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		d.p.add(n, "%q is not a number", s)
		return 0
	}
	if v < 0 {
		d.p.add(n, "%s must not be negative", s)
	}
	return v
}

// report checks that a topic's report file exists (URLs are taken as given).
func (d decoder) report(n *yaml.Node, ref, baseDir string) {
	if u, err := url.Parse(ref); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return
	}
	path := ref
	if !filepath.IsAbs(path) {
		path = filepath.Join(baseDir, path)
	}
	if _, err := os.Stat(path); err != nil {
		d.p.add(n, "report %q: %v", ref, err)
	}
}

// queryPosition maps a position inside a query to the file: exact for
// single-line plain or quoted scalars, the scalar's line otherwise.
func queryPosition(n *yaml.Node, se *match.SyntaxError) (line, col int) {
	if se.Line <= 1 && !strings.Contains(n.Value, "\n") {
		col = n.Column + se.Column - 1
		if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
			col++
		}
		return n.Line, col
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Line + se.Line, se.Column
	}
	return n.Line, n.Column
}

func (d decoder) webhook(n *yaml.Node, topicIDs map[string]bool, allowPrivate bool) news.Webhook {
	w := news.Webhook{Format: "json", Timeout: defaultTimeout}
	w.ID = d.id(n, "webhook")
	var retrySet bool
	d.mapping(n, "a webhook", func(key string, k, v *yaml.Node) {
		switch key {
		case "id":
		case "url":
			w.URL = d.str(v)
			d.httpURL(v, w.URL, "url", allowPrivate)
		case "format":
			w.Format = d.str(v)
			if !slices.Contains(alert.Formats(), w.Format) {
				d.p.add(v, "webhook %q: format %q is not one of %s", w.ID, w.Format, strings.Join(alert.Formats(), ", "))
			}
		case "secret", "secrets":
			for i, s := range d.strs(v) {
				at := v
				if v.Kind == yaml.SequenceNode {
					at = v.Content[i]
				}
				if s == "" && strings.Contains(at.Value, "${") {
					continue // the missing variable is already reported
				}
				if err := alert.ValidSecret(s); err != nil {
					d.p.add(at, "webhook %q: %s: %v", w.ID, key, err)
				}
				w.Secrets = append(w.Secrets, s)
			}
		case "topics":
			w.Topics = d.strs(v)
			for i, t := range w.Topics {
				if !topicIDs[t] {
					at := v
					if v.Kind == yaml.SequenceNode {
						at = v.Content[i]
					}
					d.p.add(at, "webhook %q names unknown topic %q", w.ID, t)
				}
			}
		case "retry":
			retrySet = true
			if v.Kind != yaml.SequenceNode {
				d.p.add(v, "retry must be a list of waits, e.g. [5s, 5m, 30m]")
				return
			}
			for _, c := range v.Content {
				w.Retry = append(w.Retry, d.duration(c))
			}
		case "timeout":
			w.Timeout = d.duration(v)
		case "template":
			w.Template = d.str(v)
		case "rate_limit":
			w.Noise.RateCount, w.Noise.RatePer = d.rateLimit(v, w.ID)
		case "digest":
			w.Noise.Digest = d.str(v)
		case "timezone":
			loc, err := time.LoadLocation(d.str(v))
			if err != nil || d.str(v) == "" {
				d.p.add(v, "webhook %q: timezone %q is not an IANA time zone name such as Europe/London", w.ID, d.str(v))
			}
			w.Noise.Location = loc
		case "quiet_hours":
			w.Noise.QuietFrom, w.Noise.QuietTo = d.quietHours(v, w.ID)
		case "urgent":
			w.Noise.UrgentScore, w.Noise.UrgentTopics = d.urgent(v, w.ID, topicIDs)
		case "ordered":
			w.Unordered = !d.boolean(v)
		case "updates":
			w.Updates = d.boolean(v)
		case "source_health":
			w.SourceHealth = d.boolean(v)
		case "concurrency":
			w.Concurrency = d.wholeNumber(v, fmt.Sprintf("webhook %q: concurrency", w.ID), 1, 64)
		default:
			d.unknown(k, key, "id, url, format, secret, secrets, topics, retry, timeout, template, ordered, concurrency, updates, "+
				"rate_limit, digest, timezone, quiet_hours, urgent, source_health")
		}
	})
	// The digest schedule and the template are checked once every key is
	// read: both depend on others (timezone, the noise settings).
	if w.Noise.Digest != "" {
		next, err := watch.CronNext(w.Noise.Digest, w.Noise.Location)
		if err != nil {
			d.p.add(d.at(n, "digest"), "webhook %q: digest: %v", w.ID, err)
		}
		w.Noise.DigestNext = next
	}
	if w.Template != "" {
		if err := alert.ParseTemplateFor(w); err != nil {
			d.p.add(d.at(n, "template"), "webhook %q: template: %v", w.ID, err)
		}
	}
	has := func(key string) bool { return d.at(n, key) != n }
	if has("urgent") && !has("rate_limit") && !has("digest") && !has("quiet_hours") {
		d.p.add(d.at(n, "urgent"), "webhook %q: urgent has nothing to bypass without rate_limit, digest or quiet_hours", w.ID)
	}
	if w.Format == "template" && w.Template == "" && n.Kind == yaml.MappingNode {
		d.p.add(n, "webhook %q: format template needs a template:", w.ID)
	}
	if w.Concurrency > 1 && !w.Unordered {
		d.p.add(d.at(n, "concurrency"), "webhook %q: concurrency above 1 needs ordered: false (ordered deliveries go one at a time)", w.ID)
	}
	if w.URL == "" && n.Kind == yaml.MappingNode {
		d.p.add(n, "webhook %q has no url", w.ID)
	}
	if !retrySet {
		w.Retry = slices.Clone(news.DefaultRetry)
	}
	if len(w.Secrets) == 0 && w.Format == "json" && n.Kind == yaml.MappingNode {
		d.p.add(n, "webhook %q: format json needs a secret (whsec_… base64) so receivers can verify alerts", w.ID)
	}
	return w
}

// polling reads the politeness settings.
func (d decoder) polling(v *yaml.Node) watch.Politeness {
	var p watch.Politeness
	d.mapping(v, "polling", func(key string, k, v *yaml.Node) {
		switch key {
		case "max_concurrent":
			p.MaxConcurrent = d.wholeNumber(v, "polling: max_concurrent", 1, 4096)
		case "per_host":
			p.PerHost = d.wholeNumber(v, "polling: per_host", 1, 64)
		case "spacing":
			p.Spacing = d.durationOrZero(v)
		case "min_backoff":
			p.MinBackoff = d.duration(v)
		case "max_backoff":
			p.MaxBackoff = d.duration(v)
		case "max_interval":
			p.MaxInterval = d.duration(v)
		case "failed_after":
			p.FailedAfter = d.wholeNumber(v, "polling: failed_after", 1, math.MaxInt32)
		default:
			d.unknown(k, key, "max_concurrent, per_host, spacing, min_backoff, max_backoff, max_interval, failed_after")
		}
	})
	if p.MinBackoff > 0 && p.MaxBackoff > 0 && p.MaxBackoff < p.MinBackoff {
		d.p.add(d.at(v, "max_backoff"), "polling: max_backoff %v is below min_backoff %v", p.MaxBackoff, p.MinBackoff)
	}
	return p
}

// websub reads {enabled, lease, fallback_every}.
func (d decoder) websub(v *yaml.Node) WebSubConfig {
	w := WebSubConfig{FallbackEvery: time.Hour}
	d.mapping(v, "websub", func(key string, k, v *yaml.Node) {
		switch key {
		case "enabled":
			w.Enabled = d.boolean(v)
		case "lease":
			w.Lease = d.duration(v)
			if w.Lease < time.Hour {
				d.p.add(v, "websub: lease %v is too short (at least 1h; hubs grant days)", w.Lease)
			}
		case "fallback_every":
			w.FallbackEvery = d.duration(v)
		default:
			d.unknown(k, key, "enabled, lease, fallback_every")
		}
	})
	return w
}

// adaptive reads {min: D, max: D}.
func (d decoder) adaptive(v *yaml.Node, sourceID string) *watch.Adaptive {
	a := &watch.Adaptive{Min: 2 * time.Minute, Max: time.Hour}
	d.mapping(v, "adaptive", func(key string, k, v *yaml.Node) {
		switch key {
		case "min":
			a.Min = d.duration(v)
		case "max":
			a.Max = d.duration(v)
		default:
			d.unknown(k, key, "min, max")
		}
	})
	if a.Min < time.Second || a.Max < a.Min {
		d.p.add(v, "source %q: adaptive wants 1s <= min <= max (got min %v, max %v)", sourceID, a.Min, a.Max)
	}
	return a
}

// rateLimit reads "COUNT/DURATION", e.g. "10/10m": at most COUNT alerts
// per DURATION.
func (d decoder) rateLimit(v *yaml.Node, webhookID string) (int, time.Duration) {
	count, per, ok := strings.Cut(d.str(v), "/")
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if !ok || err != nil || n < 1 {
		d.p.add(v, "webhook %q: rate_limit %q must be COUNT/DURATION, e.g. 10/10m (at most 10 alerts per 10 minutes)", webhookID, d.str(v))
		return 0, 0
	}
	dur, err := parseDuration(strings.TrimSpace(per))
	if err != nil || dur < time.Second {
		d.p.add(v, "webhook %q: rate_limit %q: the window must be a duration of at least 1s, e.g. 10m", webhookID, d.str(v))
		return 0, 0
	}
	return n, dur
}

// quietHours reads "HH:MM-HH:MM" (the end may be past midnight).
func (d decoder) quietHours(v *yaml.Node, webhookID string) (from, to time.Duration) {
	bad := func() (time.Duration, time.Duration) {
		d.p.add(v, "webhook %q: quiet_hours %q must be HH:MM-HH:MM, e.g. 22:00-07:00", webhookID, d.str(v))
		return 0, 0
	}
	a, b, ok := strings.Cut(d.str(v), "-")
	if !ok {
		return bad()
	}
	clock := func(s string) (time.Duration, bool) {
		t, err := time.Parse("15:04", strings.TrimSpace(s))
		if err != nil {
			return 0, false
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true
	}
	from, ok1 := clock(a)
	to, ok2 := clock(b)
	if !ok1 || !ok2 {
		return bad()
	}
	if from == to {
		d.p.add(v, "webhook %q: quiet_hours %q starts and ends at the same time", webhookID, d.str(v))
	}
	return from, to
}

// urgent reads {score: N, topics: [...]}: what bypasses noise control.
func (d decoder) urgent(v *yaml.Node, webhookID string, topicIDs map[string]bool) (score float64, topics []string) {
	d.mapping(v, "urgent", func(key string, k, v *yaml.Node) {
		switch key {
		case "score":
			score = d.number(v)
			if score <= 0 {
				d.p.add(v, "webhook %q: urgent score must be above 0", webhookID)
			}
		case "topics":
			topics = d.strs(v)
			for i, t := range topics {
				if !topicIDs[t] {
					at := v
					if v.Kind == yaml.SequenceNode {
						at = v.Content[i]
					}
					d.p.add(at, "webhook %q: urgent names unknown topic %q", webhookID, t)
				}
			}
		default:
			d.unknown(k, key, "score, topics")
		}
	})
	return score, topics
}

// atoiOr parses a positive integer or returns def.
func atoiOr(s string, def int) int {
	if v, err := strconv.Atoi(s); err == nil && v > 0 {
		return v
	}
	return def
}
