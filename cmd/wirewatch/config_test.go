package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseConfigValid(t *testing.T) {
	src := `
listen: 127.0.0.1:9090
database: data/ww.db
base_url: https://alerts.example.org/
sources:
  - id: un-news
    url: https://news.un.org/feed/subscribe/en/news/all/rss.xml
  - id: hrw
    url: https://www.hrw.org/rss/news
    cron: "*/15 * * * *"
topics:
  - id: xinjiang-report
    title: UN report on human rights in Xinjiang
    query: '(Xinjiang OR Uyghur* OR Uighur*) AND ("human rights" OR "crimes against humanity" OR Bachelet)'
    sources: [un-news]
webhooks:
  - id: desk
    url: https://hooks.example.org/wirewatch
    format: json
    secret: ${DESK_SECRET}
    topics: [xinjiang-report]
    retry: [1s, 1m]
  - id: slack
    url: https://hooks.slack.com/services/T/B/X
    format: slack
`
	cfg, err := ParseConfig("/etc/wirewatch/ww.yaml", []byte(src), env(map[string]string{"DESK_SECRET": testSecret}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9090" || cfg.BaseURL != "https://alerts.example.org" {
		t.Errorf("listen/base_url = %q %q", cfg.Listen, cfg.BaseURL)
	}
	if want := filepath.FromSlash("/etc/wirewatch/data/ww.db"); cfg.Database != want {
		t.Errorf("database = %q, want %q (relative to the config file)", cfg.Database, want)
	}
	if len(cfg.Sources) != 2 || cfg.Sources[0].Schedule.String() != "every 10m0s" || cfg.Sources[1].Schedule.Cron != "*/15 * * * *" {
		t.Errorf("sources = %+v", cfg.Sources)
	}
	w := cfg.Webhooks[0]
	if w.Secrets[0] != testSecret || len(w.Retry) != 2 || w.Retry[1] != time.Minute || w.Timeout != 15*time.Second {
		t.Errorf("webhook = %+v", w)
	}
	if got := len(cfg.Webhooks[1].Retry); got != 7 {
		t.Errorf("default retry has %d waits, want the 7 of the Standard Webhooks schedule", got)
	}
	if cfg.Topics[0].Sources[0] != "un-news" {
		t.Errorf("topic sources = %v", cfg.Topics[0].Sources)
	}
}

func TestParseConfigReportsEveryProblemWithPosition(t *testing.T) {
	src := `listen: nowhere
colour: blue
sources:
  - id: un-news
    url: ftp://news.un.org/feed
    every: 10 minutes
  - id: un-news
    url: https://example.org/feed
  - id: local
    url: http://127.0.0.1:8000/feed
  - id: BadID
    url: https://example.org/x
    cron: "every tuesday"
topics:
  - id: t1
    query: '(Xinjiang OR Uyghur'
    sources: [un-news, nope]
  - id: t1
    query: x
webhooks:
  - id: desk
    url: https://hooks.example.org/x
    format: carrier-pigeon
    secret: ${MISSING_SECRET}
    topics: [t2]
    retry: [5s, soon]
`
	_, err := ParseConfig("ww.yaml", []byte(src), env(nil))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ConfigError", err)
	}
	want := []string{
		"ww.yaml:1:9: listen",
		"ww.yaml:2:1: unknown key \"colour\"",
		"ww.yaml:5:10: url \"ftp://news.un.org/feed\"",
		"ww.yaml:6:12: \"10 minutes\" is not a duration",
		"ww.yaml:7:9: duplicate source id \"un-news\"",
		"ww.yaml:10:10: url \"http://127.0.0.1:8000/feed\"",
		"ww.yaml:11:9: source id \"BadID\"",
		"ww.yaml:13:11: source \"BadID\": bad cron expression",
		"ww.yaml:16:",
		"topic \"t1\": query:",
		"ww.yaml:17:24: topic \"t1\" names unknown source \"nope\"",
		"ww.yaml:18:9: duplicate topic id \"t1\"",
		"ww.yaml:23:13: webhook \"desk\": format \"carrier-pigeon\"",
		"ww.yaml:24:13: environment variable MISSING_SECRET is not set",
		"ww.yaml:25:14: webhook \"desk\" names unknown topic \"t2\"",
		"ww.yaml:26:17: \"soon\" is not a duration",
	}
	all := strings.Join(ce.Problems, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("problems lack %q\n--- got:\n%s", w, all)
		}
	}
}

func TestParseConfigRejectsEmptyAndMalformed(t *testing.T) {
	for name, src := range map[string]string{
		"empty":       "",
		"not yaml":    "sources: [unclosed",
		"no topics":   "sources:\n  - id: a\n    url: https://example.org/f\n",
		"scalar root": "hello",
	} {
		if _, err := ParseConfig("x.yaml", []byte(src), env(nil)); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func TestExampleConfigPassesCheck(t *testing.T) {
	cfg, err := LoadConfig("../../examples/xinjiang-report.yaml", env(map[string]string{
		"DESK_WEBHOOK_SECRET": testSecret,
		"SLACK_WEBHOOK_URL":   "https://hooks.slack.com/services/T000/B000/XXXX",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) < 8 || len(cfg.Topics) < 2 || len(cfg.Webhooks) < 2 {
		t.Errorf("example has %d sources, %d topics, %d webhooks", len(cfg.Sources), len(cfg.Topics), len(cfg.Webhooks))
	}
	// Without its environment variables it must fail and say which.
	_, err = LoadConfig("../../examples/xinjiang-report.yaml", env(nil))
	if err == nil || !strings.Contains(err.Error(), "DESK_WEBHOOK_SECRET") || !strings.Contains(err.Error(), "SLACK_WEBHOOK_URL") {
		t.Errorf("err = %v, want both missing variables named", err)
	}
}

func TestTopicGroupsAndTheirErrorsArePositioned(t *testing.T) {
	good := `
sources:
  - id: s
    url: https://example.org/feed
topics:
  - id: groups
    synonyms:
      Uyghur: Uighur* | Uygur | 维吾尔
      UN: ["U.N.", "United Nations"]
    must: ['Uyghur OR Xinjiang']
    should: [Bachelet, 'UN NEAR/8 report']
    not: ['title:cotton']
    exclude: ["cotton futures"]
    weights: {Bachelet: 3}
    min_score: 2
    backfill: 14d
`
	cfg, err := ParseConfig("g.yaml", []byte(good), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	tp := cfg.Topics[0]
	if len(tp.Synonyms["Uyghur"]) != 3 || tp.Synonyms["Uyghur"][2] != "维吾尔" || tp.Weights["Bachelet"] != 3 ||
		tp.MinScore != 2 || tp.Backfill != 14*24*time.Hour || len(tp.Should) != 2 {
		t.Errorf("topic = %+v", tp)
	}
	if cfg, _ := ParseConfig("g.yaml", []byte(strings.Replace(good, "    backfill: 14d\n", "", 1)), env(nil)); cfg.Topics[0].Backfill != 7*24*time.Hour {
		t.Errorf("default backfill = %v, want 7 days", cfg.Topics[0].Backfill)
	}

	bad := `sources:
  - id: s
    url: https://example.org/feed
topics:
  - id: groups
    must: ['Uyghur', '(Xinjiang OR']
    weights: {Nobody: 2}
    report: missing-report.txt
  - id: both
    query: Xinjiang
    must: [Uyghur]
  - id: neither
    title: nothing to match
  - id: weighted
    query: Xinjiang
    weights: {Nobody: 2}
  - id: grouped
    query: Xinjiang
    synonyms:
      two words: [a, b]
`
	_, err = ParseConfig("b.yaml", []byte(bad), env(nil))
	if err == nil {
		t.Fatal("want errors")
	}
	all := err.Error()
	for _, want := range []string{
		`b.yaml:6:`, `topic "groups": must[1]:`,
		`b.yaml:16:23: topic "weighted": weights "Nobody": not a term of the topic`,
		`b.yaml:20:`, `topic "grouped": synonyms "two words"`,
		`b.yaml:8:13: report "missing-report.txt"`,
		`b.yaml:10:12: topic "both": write either query: or must:/should:/not: groups, not both`,
		`b.yaml:12:5: topic "neither" has no query`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
}

func TestNoiseControlConfig(t *testing.T) {
	src := `
sources:
  - id: un-news
    url: https://news.un.org/feed/subscribe/en/news/all/rss.xml
topics:
  - id: xinjiang-report
    query: Xinjiang
  - id: beat
    query: Uyghur*
webhooks:
  - id: desk
    url: https://hooks.slack.com/services/T/B/X
    format: slack
    rate_limit: 10/10m
    quiet_hours: "22:00-07:00"
    digest: "0 8 * * *"
    timezone: Europe/London
    urgent: {score: 4.5, topics: [xinjiang-report]}
`
	cfg, err := ParseConfig("ww.yaml", []byte(src), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	n := cfg.Webhooks[0].Noise
	if n.RateCount != 10 || n.RatePer != 10*time.Minute || n.QuietFrom != 22*time.Hour || n.QuietTo != 7*time.Hour ||
		n.Location == nil || n.Location.String() != "Europe/London" || n.UrgentScore != 4.5 ||
		len(n.UrgentTopics) != 1 || n.UrgentTopics[0] != "xinjiang-report" || n.DigestNext == nil {
		t.Fatalf("noise = %+v", n)
	}
	// 08:00 London in summer is 07:00 UTC.
	if got, want := n.DigestNext(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)), time.Date(2026, 7, 2, 7, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next digest = %v, want %v", got, want)
	}

	bad := `
sources:
  - id: s
    url: https://example.org/feed
topics:
  - id: t
    query: x
webhooks:
  - id: desk
    url: https://hooks.example.org/x
    format: slack
    rate_limit: ten a minute
    quiet_hours: "22h-7h"
    digest: "0 25 * * *"
    timezone: Mars/Olympus
    urgent: {score: -1, topics: [nope], when: always}
  - id: calm
    url: https://hooks.example.org/y
    format: template
    template: '{{.Item.Title}}'
    rate_limit: 5/1h
  - id: pointless
    url: https://hooks.example.org/z
    format: slack
    urgent: {score: 3}
`
	_, err = ParseConfig("ww.yaml", []byte(bad), env(nil))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ConfigError", err)
	}
	all := strings.Join(ce.Problems, "\n")
	for _, w := range []string{
		`ww.yaml:12:17: webhook "desk": rate_limit "ten a minute" must be COUNT/DURATION`,
		`ww.yaml:13:18: webhook "desk": quiet_hours "22h-7h" must be HH:MM-HH:MM`,
		`ww.yaml:14:13: webhook "desk": digest: bad cron expression`,
		`ww.yaml:15:15: webhook "desk": timezone "Mars/Olympus"`,
		`webhook "desk": urgent score must be above 0`,
		`webhook "desk": urgent names unknown topic "nope"`,
		`unknown key "when"`,
		`ww.yaml:20:15: webhook "calm": template: alert: template: this webhook has noise control`,
		`webhook "pointless": urgent has nothing to bypass`,
	} {
		if strings.Contains(all, `"desk": urgent has nothing`) {
			t.Errorf("urgent reported as pointless next to noise settings that did not parse:\n%s", all)
		}
		if !strings.Contains(all, w) {
			t.Errorf("problems lack %q\n--- got:\n%s", w, all)
		}
	}
}

func TestPollingConfig(t *testing.T) {
	src := `
polling: {per_host: 4, spacing: 500ms, min_backoff: 30s, max_backoff: 2h, max_interval: 12h, failed_after: 3}
sources:
  - id: wire
    url: https://example.org/feed
    adaptive: {min: 1m, max: 2h}
topics:
  - id: t
    query: x
webhooks:
  - id: ops
    url: https://hooks.example.org/x
    format: slack
    source_health: true
`
	cfg, err := ParseConfig("ww.yaml", []byte(src), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Polling
	if p.PerHost != 4 || p.Spacing != 500*time.Millisecond || p.MinBackoff != 30*time.Second || p.MaxBackoff != 2*time.Hour ||
		p.MaxInterval != 12*time.Hour || p.FailedAfter != 3 {
		t.Errorf("polling = %+v", p)
	}
	if a := cfg.Sources[0].Adaptive; a == nil || a.Min != time.Minute || a.Max != 2*time.Hour || cfg.Jobs()[0].Adaptive != a {
		t.Errorf("adaptive = %+v", a)
	}
	if !cfg.Webhooks[0].SourceHealth {
		t.Error("source_health not read")
	}

	bad := `
polling: {per_host: 0, min_backoff: 1h, max_backoff: 1m, often: yes}
sources:
  - id: wire
    url: https://example.org/feed
    every: 5m
    adaptive: {min: 2h, max: 1h}
topics:
  - id: t
    query: x
`
	_, err = ParseConfig("ww.yaml", []byte(bad), env(nil))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	all := strings.Join(ce.Problems, "\n")
	for _, w := range []string{
		"ww.yaml:2:21: polling: per_host must be a whole number from 1 to 64",
		"polling: max_backoff 1m0s is below min_backoff 1h0m0s",
		`unknown key "often"`,
		`source "wire": adaptive wants 1s <= min <= max`,
		`source "wire": adaptive replaces every and cron`,
	} {
		if !strings.Contains(all, w) {
			t.Errorf("problems lack %q\n--- got:\n%s", w, all)
		}
	}
}
