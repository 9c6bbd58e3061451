package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// maxConns bounds the pool. Writes are serialised by writeSlot, so the extra
// connections serve concurrent readers (feeds, operators) which WAL lets run
// alongside the writer.
const maxConns = 4

// sqliteDSN builds a modernc.org/sqlite DSN for path. Every pragma is in the
// DSN rather than executed once after opening because they are per
// connection and the pool opens connections lazily:
//   - busy_timeout(5000): wait up to 5s for a lock held by another process.
//   - journal_mode(WAL): readers do not block the writer, nor it them.
//   - foreign_keys(1): off by default in SQLite; the schema relies on it.
//   - synchronous(NORMAL): durable across process crashes in WAL mode; a
//     power loss can lose the last commits but never corrupts the file.
//   - wal_autocheckpoint(4000), cache_size(-8192): see sqliteDSN.
//   - _txlock=immediate: write transactions take the write lock at BEGIN,
//     so a transaction that read first can never fail to upgrade its lock.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// A checkpoint every 16 MiB of WAL instead of 4: a poll rewrites the
	// same index pages again and again, and a rarer checkpoint writes each
	// of them back once (measured: checkpoints were a quarter of ingest
	// CPU at the default).
	q.Add("_pragma", "wal_autocheckpoint(4000)")
	// 8 MiB of page cache per connection instead of 2: fewer reads of the
	// index pages every poll touches, within the memory budget.
	q.Add("_pragma", "cache_size(-8192)")
	q.Set("_txlock", "immediate")
	// SQLite URI filenames decode %XX and end the path at '?' or '#'.
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	if strings.HasPrefix(p, "/") {
		// An empty authority, so a path starting with "//" is not read as a host.
		p = "//" + p
	}
	return "file:" + p + "?" + q.Encode()
}

// OpenSQLite opens (creating if needed) the database file at path, configures
// it (WAL, busy_timeout 5s, foreign keys, synchronous=NORMAL) and brings its
// schema up to date. Each migration runs in its own transaction, so a failed
// one leaves the schema as it was.
//
// path must name a file: ":memory:" and "" are refused because every pooled
// connection would get its own, different, database.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: open sqlite %q: need a plain file path", path)
	}
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := migrate(ctx, db, engineSQLite, sqliteMigrations); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open sqlite %q: %w", path, err), db.Close())
	}
	s, err := newStore(ctx, engineSQLite, db)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store: open sqlite %q: %w", path, err), db.Close())
	}
	return s, nil
}
