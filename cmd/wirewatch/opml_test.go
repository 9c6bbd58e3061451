package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"wirewatch/sources"
)

func TestSourcesImportAndExportOPML(t *testing.T) {
	cfgPath := writeConfig(t, `# the desk's config
database: ww.db
sources:
  - id: un-news   # UN News
    url: https://news.un.org/feed/subscribe/en/news/all/rss.xml
topics:
  - id: xj
    query: Xinjiang
`)
	opml := cfgPath + ".opml"
	os.WriteFile(opml, []byte(`<?xml version="1.0"?>
<opml version="2.0"><head><title>Desk</title></head><body>
  <outline text="World">
    <outline type="rss" text="UN News" xmlUrl="https://news.un.org/feed/subscribe/en/news/all/rss.xml"/>
    <outline type="rss" text="Human Rights Watch" title="Human Rights Watch" xmlUrl="https://www.hrw.org/rss/news"/>
    <outline type="rss" text="Human Rights Watch" xmlUrl="https://www.hrw.org/rss/asia"/>
  </outline>
  <outline type="rss" xmlUrl="https://www.amnesty.org/en/feed/"/>
</body></opml>`), 0o600)

	run := func(args ...string) (string, string) {
		t.Helper()
		cmd := exec.Command(binPath, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s%s", args, err, out.String(), errb.String())
		}
		return out.String(), errb.String()
	}
	out, msg := run("sources", "import", "--config", cfgPath, opml)
	if !strings.Contains(msg, "4 feeds") || !strings.Contains(msg, "3 new, 1 already") {
		t.Errorf("summary: %s", msg)
	}
	for _, want := range []string{"id: human-rights-watch\n", "id: human-rights-watch-2\n", "id: amnesty-org\n", "url: https://www.hrw.org/rss/asia"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	run("sources", "import", "--config", cfgPath, "--write", opml)
	data, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(data), "# UN News") || !strings.Contains(string(data), "human-rights-watch-2") {
		t.Errorf("config after --write:\n%s", data)
	}
	if _, err := os.Stat(cfgPath + ".bak"); err != nil {
		t.Errorf("no backup: %v", err)
	}
	run("check", "--config", cfgPath)
	// Importing again finds nothing new.
	if _, msg := run("sources", "import", "--config", cfgPath, opml); !strings.Contains(msg, "0 new") {
		t.Errorf("second import: %s", msg)
	}

	out, _ = run("sources", "export", "--config", cfgPath)
	got, err := sources.ParseOPML(strings.NewReader(out))
	if err != nil || len(got) != 4 {
		t.Fatalf("exported OPML: %d feeds, %v\n%s", len(got), err, out)
	}
	if got[1].XMLURL != "https://www.hrw.org/rss/news" || got[1].Title != "Human Rights Watch" {
		t.Errorf("exported %+v", got[1])
	}
}
