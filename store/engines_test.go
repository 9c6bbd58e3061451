package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"wirewatch/news"
)

// Both engines have the same migrations: versions, names, and the same
// code run after their statements.
func TestMigrationListsMatch(t *testing.T) {
	if len(sqliteMigrations) != len(postgresMigrations) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones", len(sqliteMigrations), len(postgresMigrations))
	}
	for i, s := range sqliteMigrations {
		p := postgresMigrations[i]
		if s.version != p.version || s.name != p.name || (s.after == nil) != (p.after == nil) {
			t.Errorf("migration %d: SQLite %d %q, PostgreSQL %d %q", i, s.version, s.name, p.version, p.name)
		}
	}
}

func TestOpenChoosesTheEngine(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if s.eng != engineSQLite {
		t.Fatalf("Open(%q) opened %v", path, s.eng)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A postgres URL goes to PostgreSQL, here to a port nobody listens
	// on: an error, which does not show the password.
	for _, dsn := range []string{
		"postgres://wirewatch:s3cretpw@127.0.0.1:1/wirewatch?sslmode=disable&connect_timeout=2",
		"POSTGRESQL://wirewatch:s3cretpw@127.0.0.1:1/wirewatch?sslmode=disable&connect_timeout=2",
		"postgres://wirewatch:s3cretpw@127.0.0.1:1/wirewatch?pool_max_conns=0",
	} {
		s, err := Open(ctx, dsn)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%q) succeeded", dsn)
		}
		if strings.Contains(err.Error(), "s3cretpw") || !strings.Contains(err.Error(), "postgres") {
			t.Errorf("Open error %q shows the password or not the engine", err)
		}
	}
}

func TestSQLiteBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openSQLiteAt(t, filepath.Join(dir, "w.db"))
	a := testItem("s1", "a", at(0))
	m := testMatch("t1", a, at(time.Minute), false)
	mustSave(t, s, news.PollResult{State: testState("s1"), Items: []news.Item{a}, Matches: []news.Match{m},
		Deliveries: []news.Delivery{testDelivery("w1", m, at(time.Minute))}})
	backup := filepath.Join(dir, "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, backup); err == nil {
		t.Fatal("a backup overwrote an existing file")
	}
	if err := s.Backup(ctx, ""); err == nil {
		t.Fatal("a backup to an empty path succeeded")
	}
	// The store carries on; the copy is a database of its own, as it was.
	b := mustSave(t, s, news.PollResult{State: testState("s1"), Items: []news.Item{testItem("s1", "b", at(0))}})
	_ = b
	c := openSQLiteAt(t, backup)
	want, _ := s.TopicEntries(ctx, "t1", 10)
	if got, err := c.TopicEntries(ctx, "t1", 10); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("backup entries = %+v, %v; want %+v", got, err, want)
	}
	if n, err := c.PendingDeliveries(ctx); err != nil || n != 1 {
		t.Fatalf("backup outbox = %d, %v", n, err)
	}
	if st, err := c.Stats(ctx); err != nil || st.Items != 1 {
		t.Fatalf("backup stats = %+v, %v; want the one item saved before it", st, err)
	}
	if err := c.Backup(ctx, filepath.Join(dir, "missing", "x.db")); err == nil || errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("backup into a missing directory = %v", err)
	}
}

func TestCleanSnippet(t *testing.T) {
	for _, c := range []struct {
		in     string
		marks  []news.Span
		want   string
		marked []string
	}{
		{"plain text", []news.Span{{Start: 0, End: 5}}, "plain text", []string{"plain"}},
		{"ünï\x00code", []news.Span{{Start: 0, End: 2}, {Start: 6, End: 10}}, "ünï\uFFFDcode", []string{"ü", "code"}},
		{"\xff\xfeab\xc3", []news.Span{{Start: 2, End: 4}, {Start: 0, End: 5}}, "\uFFFD\uFFFDab\uFFFD", []string{"ab", "\uFFFD\uFFFDab\uFFFD"}},
	} {
		got, marks := cleanSnippet(c.in, c.marks)
		if got != c.want {
			t.Errorf("cleanSnippet(%q) = %q, want %q", c.in, got, c.want)
			continue
		}
		var marked []string
		for _, m := range marks {
			marked = append(marked, got[m.Start:m.End])
		}
		if !reflect.DeepEqual(marked, c.marked) {
			t.Errorf("cleanSnippet(%q) marks cover %q, want %q", c.in, marked, c.marked)
		}
	}
	// Marks that do not fit the snippet are left alone, never a panic.
	bad := []news.Span{{Start: -1, End: 2}, {Start: 3, End: 1}, {Start: 0, End: 99}}
	if _, marks := cleanSnippet("a\x00b", bad); !reflect.DeepEqual(marks, bad) {
		t.Fatalf("bad marks became %v", marks)
	}
}

func FuzzCleanSnippet(f *testing.F) {
	f.Add("a\x00b\xffc", 0, 3)
	f.Add("ünïcode", 1, 5)
	f.Add("", 0, 0)
	f.Fuzz(func(t *testing.T, s string, start, end int) {
		clean, marks := cleanSnippet(s, []news.Span{{Start: start, End: end}})
		if !utf8.ValidString(clean) || strings.IndexByte(clean, 0) >= 0 {
			t.Fatalf("cleanSnippet(%q) = %q: not valid text", s, clean)
		}
		if clean != cleanText(s) {
			t.Fatalf("cleanSnippet and cleanText disagree on %q", s)
		}
		m := marks[0]
		if start >= 0 && start <= end && end <= len(s) {
			if m.Start < 0 || m.Start > m.End || m.End > len(clean) {
				t.Fatalf("mark %v of %q moved out of %q: %v", news.Span{Start: start, End: end}, s, clean, m)
			}
			// What was valid text in the mark is still in it.
			if utf8.ValidString(s[start:end]) && strings.IndexByte(s[start:end], 0) < 0 && clean[m.Start:m.End] != s[start:end] {
				t.Fatalf("mark of %q covers %q, want %q", s, clean[m.Start:m.End], s[start:end])
			}
		}
	})
}
