package sources

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"wirewatch/internal/shared"
)

// corpusStats counts how the parse path fares over a corpus.
type corpusStats struct {
	files, parsed, withItems, items, errors, recovered int
}

func (s *corpusStats) add(t *testing.T, path string, body []byte, contentType string) int {
	t.Helper()
	s.files++
	_, items, err := Parse(body, contentType, "corpus", fixedNow)
	if err != nil {
		s.errors++
		if strings.Contains(err.Error(), "feed parser panicked") {
			s.recovered++
			t.Logf("%s: gofeed panicked (recovered): %v", path, err)
		}
		return 0
	}
	checkItemInvariants(t, "corpus", items)
	s.parsed++
	s.items += len(items)
	if len(items) > 0 {
		s.withItems++
	}
	return len(items)
}

func TestCorpusGofeedTestdata(t *testing.T) {
	root := shared.Path(t, "corpora", "gofeed-testdata")
	var all corpusStats
	paired, pairedWithItems := 0, 0
	// Many gofeed cases hold items with only an author, a category or an
	// enclosure, which normalisation drops on purpose (nothing to show);
	// the textual subset shows how items with something to show fare.
	textual, textualWithItems := 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := filepath.Ext(path)
		if ext != ".xml" && ext != ".json" {
			return nil
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if ext == ".json" {
			// JSON files are either JSON Feed inputs or gofeed's expected
			// output for an input beside them; only the former are feeds.
			if strings.HasSuffix(path, "_expected.json") || fileExists(strings.TrimSuffix(path, ".json")+".xml") {
				return nil
			}
		}
		n := all.add(t, path, body, "")
		if ext == ".xml" {
			if want, text := expectedItems(t, strings.TrimSuffix(path, ".xml")+".json"); want > 0 {
				paired++
				if n > 0 {
					pairedWithItems++
				}
				if text {
					textual++
					if n > 0 {
						textualWithItems++
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gofeed-testdata: %d inputs, %d parsed (%d with items, %d items), %d errors (%d recovered panics)",
		all.files, all.parsed, all.withItems, all.items, all.errors, all.recovered)
	t.Logf("gofeed-testdata: %d of %d RSS/Atom inputs whose expected parse has items yielded ≥1 item", pairedWithItems, paired)
	t.Logf("gofeed-testdata: %d of %d whose expected items have a title, link or text yielded ≥1 item", textualWithItems, textual)
	if all.files == 0 || paired == 0 {
		t.Fatal("corpus present but no inputs found")
	}
	if pairedWithItems*2 <= paired {
		t.Errorf("only %d of %d inputs with expected items yielded any", pairedWithItems, paired)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// expectedItems reads gofeed's expected parse beside an input and returns
// how many items it lists (0 when there is no such file) and whether any of
// them has a title, link, description or content.
func expectedItems(t *testing.T, path string) (n int, textual bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	var expected struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(b, &expected); err != nil {
		t.Logf("%s: unreadable expectation: %v", path, err)
		return 0, false
	}
	for _, it := range expected.Items {
		for _, k := range []string{"title", "link", "links", "description", "content"} {
			if _, ok := it[k]; ok {
				textual = true
			}
		}
	}
	return len(expected.Items), textual
}

// headerContentType finds a simulated Content-Type in a feedparser test's
// leading comment ("Header: Content-type: text/xml; charset=...").
var headerContentType = regexp.MustCompile(`(?mi)^Header:\s*Content-type:\s*(.*?)\s*$`)

func TestCorpusFeedparserTests(t *testing.T) {
	root := shared.Path(t, "corpora", "feedparser-tests")
	byDir := map[string]*corpusStats{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := filepath.Ext(path)
		if ext != ".xml" && ext != ".json" {
			return nil
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		contentType := ""
		if m := headerContentType.FindSubmatch(body); m != nil {
			contentType = string(m[1])
		}
		rel, _ := filepath.Rel(root, path)
		dir := strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]
		if byDir[dir] == nil {
			byDir[dir] = &corpusStats{}
		}
		byDir[dir].add(t, rel, body, contentType)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for dir, s := range byDir {
		total += s.files
		t.Logf("feedparser-tests/%s: %d files, %d parsed (%d with items, %d items), %d errors (%d recovered panics)",
			dir, s.files, s.parsed, s.withItems, s.items, s.errors, s.recovered)
	}
	if total == 0 {
		t.Fatal("corpus present but no inputs found")
	}
}
