package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"wirewatch/news"
)

// The topics are the running example's (examples/xinjiang-report.yaml),
// read with the YAML library wirewatch's config uses: the matcher then
// does the work a real desk's config gives it. Only the topics: the
// config's sources are real outlets, which a load test must never poll,
// and its webhooks are replaced by deskWebhooks. (cmd/wirewatch's config
// loader is in package main there, so it cannot be imported; the fields
// read here are the ones a topic's matching depends on.)

type topicsFile struct {
	Topics []topicYAML `yaml:"topics"`
}

type topicYAML struct {
	ID       string                 `yaml:"id"`
	Title    string                 `yaml:"title"`
	Query    string                 `yaml:"query"`
	Must     []string               `yaml:"must"`
	Should   []string               `yaml:"should"`
	Not      []string               `yaml:"not"`
	Exclude  []string               `yaml:"exclude"`
	Synonyms map[string]synonymList `yaml:"synonyms"`
	Weights  map[string]float64     `yaml:"weights"`
	MinScore float64                `yaml:"min_score"`
	Report   string                 `yaml:"report"`
}

// synonymList reads a group written as a list or as "a | b | c", as the
// config does.
type synonymList []string

func (s *synonymList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		for _, v := range strings.Split(n.Value, "|") {
			*s = append(*s, strings.TrimSpace(v))
		}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*s = list
	return nil
}

// loadTopics reads the topics of a wirewatch config file.
func loadTopics(path string) ([]news.Topic, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("topics: %w", err)
	}
	var f topicsFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("topics: %s: %w", path, err)
	}
	if len(f.Topics) == 0 {
		return nil, fmt.Errorf("topics: %s has no topics", path)
	}
	out := make([]news.Topic, 0, len(f.Topics))
	for _, t := range f.Topics {
		nt := news.Topic{ID: t.ID, Title: t.Title, Query: t.Query, Must: t.Must, Should: t.Should, Not: t.Not,
			Exclude: t.Exclude, Weights: t.Weights, MinScore: t.MinScore, Report: t.Report}
		if len(t.Synonyms) > 0 {
			nt.Synonyms = make(map[string][]string, len(t.Synonyms))
			for k, v := range t.Synonyms {
				nt.Synonyms[k] = v
			}
		}
		out = append(out, nt)
	}
	return out, nil
}

// defaultTopicsPath finds examples/xinjiang-report.yaml in the module
// that contains the working directory.
func defaultTopicsPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(data), "module wirewatch\n") {
			return filepath.Join(dir, "examples", "xinjiang-report.yaml"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("topics: not inside the wirewatch module; pass -topics")
		}
		dir = parent
	}
}

// deskWebhooks are the example config's two webhooks (the desk's JSON
// receiver for every topic, Slack for the report topic): the poller
// queues outbox rows for them on every non-baseline match. Nothing
// delivers them during a load run; the outbox is measured elsewhere
// (docs/benchmarks.md, "Webhook delivery").
func deskWebhooks() []news.Webhook {
	return []news.Webhook{
		{ID: "desk", URL: "http://127.0.0.1:9/desk", Format: "json", Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		{ID: "desk-slack", URL: "http://127.0.0.1:9/slack", Format: "slack", Topics: []string{"xinjiang-report"}},
	}
}
