package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"wirewatch/store"
)

func TestBackupCommand(t *testing.T) {
	wire := &testFeed{}
	wire.add("a1", "Xinjiang report", "Uyghur")
	src := serveHTTP(t, wire)
	cfgPath := writeConfig(t, `
database: ww.db
allow_private_networks: true
retention: 30d
sources:
  - id: wire
    url: `+src.URL+`/feed.xml
topics:
  - id: xj
    query: Xinjiang
`)
	if out, err := exec.Command(binPath, "run", "--config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	to := filepath.Join(t.TempDir(), "copy.db")
	out, err := exec.Command(binPath, "backup", "--config", cfgPath, "--to", to).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "backed up") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	// The copy is a working database with the item in the topic's feed.
	st, err := store.OpenSQLite(context.Background(), to)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, err := st.TopicEntries(context.Background(), "xj", 10)
	if err != nil || len(es) != 1 || es[0].Item.Title != "Xinjiang report" {
		t.Fatalf("entries in the copy: %+v, %v", es, err)
	}
	// Backing up over an existing file is refused.
	if out, err := exec.Command(binPath, "backup", "--config", cfgPath, "--to", to).CombinedOutput(); err == nil {
		t.Errorf("backup over an existing file succeeded:\n%s", out)
	}
}
