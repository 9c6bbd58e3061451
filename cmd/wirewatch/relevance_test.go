package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"wirewatch/internal/shared"
	"wirewatch/match"
	"wirewatch/news"
)

// labelled is one hand-labelled news item of the relevance set.
type labelled struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
	Link    string `json:"link"`
	Beat    int    `json:"beat"`
	Core    int    `json:"core"`
	Why     string `json:"why"`
}

func loadLabelled(t *testing.T) []labelled {
	t.Helper()
	f, err := os.Open(shared.Path(t, "eval", "relevance-dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l labelled
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("relevance set: %v", err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// scores are precision, recall and F1 of one topic against one label.
type scores struct {
	tp, fp, fn        int
	precision, recall float64
	f1                float64
	falsePos, missed  []string
}

func (s scores) String() string {
	pl, ph := wilson(s.tp, s.tp+s.fp)
	rl, rh := wilson(s.tp, s.tp+s.fn)
	return fmt.Sprintf("precision %.3f [%.2f–%.2f]  recall %.3f [%.2f–%.2f]  F1 %.3f  (tp %d, fp %d, fn %d)",
		s.precision, pl, ph, s.recall, rl, rh, s.f1, s.tp, s.fp, s.fn)
}

// wilson is the 95 % Wilson score interval of the proportion k/n: with
// ~130 labelled items a figure measured here is an estimate, and the
// interval is the range a held-out set of the same kind would plausibly
// give.
func wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959964
	p, nf := float64(k)/float64(n), float64(n)
	centre := (p + z*z/(2*nf)) / (1 + z*z/nf)
	half := z / (1 + z*z/nf) * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return centre - half, centre + half
}

// evaluate runs one topic over the labelled items, as a feed reader sees
// them (title and summary), and scores it against a label.
func evaluate(t *testing.T, topic news.Topic, items []labelled, label func(labelled) int) scores {
	t.Helper()
	ix, err := match.Compile([]news.Topic{topic})
	if err != nil {
		t.Fatal(err)
	}
	var s scores
	now := time.Now()
	for _, l := range items {
		it := news.Item{ID: l.ID, SourceID: "eval", Title: l.Title, Summary: l.Summary, Link: l.Link}
		got := len(ix.Match(it, now)) > 0
		want := label(l) == 1
		switch {
		case got && want:
			s.tp++
		case got && !want:
			s.fp++
			s.falsePos = append(s.falsePos, l.Title)
		case !got && want:
			s.fn++
			s.missed = append(s.missed, l.Title)
		}
	}
	if s.tp+s.fp > 0 {
		s.precision = float64(s.tp) / float64(s.tp+s.fp)
	}
	if s.tp+s.fn > 0 {
		s.recall = float64(s.tp) / float64(s.tp+s.fn)
	}
	if s.precision+s.recall > 0 {
		s.f1 = 2 * s.precision * s.recall / (s.precision + s.recall)
	}
	return s
}

// TestRelevanceOfExampleTopics measures the shipped example topics on the
// hand-labelled development set (../shared/eval, skipped when absent) and
// holds the beat topic to the project's bar: precision and recall ≥ 0.90.
// A plain keyword alert is measured alongside as the baseline.
func TestRelevanceOfExampleTopics(t *testing.T) {
	items := loadLabelled(t)
	cfg, err := LoadConfig("../../examples/xinjiang-report.yaml", env(map[string]string{
		"DESK_WEBHOOK_SECRET": testSecret,
		"SLACK_WEBHOOK_URL":   "https://hooks.slack.com/services/T/B/X",
	}))
	if err != nil {
		t.Fatal(err)
	}
	topics := map[string]news.Topic{}
	for _, tp := range cfg.Topics {
		topics[tp.ID] = tp
	}
	beat, ok1 := topics["xinjiang-beat"]
	core, ok2 := topics["xinjiang-report"]
	if !ok1 || !ok2 {
		t.Fatal("examples/xinjiang-report.yaml must define topics xinjiang-beat and xinjiang-report")
	}
	beat.Sources, core.Sources = nil, nil

	keyword := news.Topic{ID: "keyword", Query: "Xinjiang OR Uyghur OR Uyghurs OR Uighur OR Uighurs"}
	isBeat := func(l labelled) int { return l.Beat }
	isCore := func(l labelled) int { return l.Core }

	base := evaluate(t, keyword, items, isBeat)
	b := evaluate(t, beat, items, isBeat)
	c := evaluate(t, core, items, isCore)
	t.Logf("%d labelled items (%d beat, %d core)", len(items), b.tp+b.fn, c.tp+c.fn)
	t.Logf("keyword baseline vs beat:  %s", base)
	t.Logf("xinjiang-beat vs beat:     %s", b)
	t.Logf("xinjiang-report vs core:   %s", c)
	if testing.Verbose() {
		t.Logf("beat false positives:\n  %s", strings.Join(b.falsePos, "\n  "))
		t.Logf("beat missed:\n  %s", strings.Join(b.missed, "\n  "))
		t.Logf("core false positives:\n  %s", strings.Join(c.falsePos, "\n  "))
		t.Logf("core missed:\n  %s", strings.Join(c.missed, "\n  "))
	}
	if b.precision < 0.90 || b.recall < 0.90 {
		t.Errorf("beat topic: %s; want precision and recall ≥ 0.90", b)
	}
	if b.f1 <= base.f1 {
		t.Errorf("beat topic F1 %.3f does not beat the keyword baseline's %.3f", b.f1, base.f1)
	}
}

func TestWilsonInterval(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{{5, 10, 0.2366, 0.7634}, {0, 10, 0, 0.2775}, {125, 137, 0.8531, 0.9492}} {
		lo, hi := wilson(c.k, c.n)
		if math.Abs(lo-c.lo) > 5e-4 || math.Abs(hi-c.hi) > 5e-4 {
			t.Errorf("wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}
