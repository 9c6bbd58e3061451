package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// SQLite is the SQLite-backed store. It is safe for concurrent use.
type SQLite struct {
	db *sql.DB
	// writeSlot admits one write transaction at a time. SQLite allows a
	// single writer anyway; queueing writers here, in Go, instead of in
	// SQLite's busy handler means they wait in order, honour their context,
	// and never surface SQLITE_BUSY however many goroutines write at once.
	// busy_timeout remains as the guard against other processes.
	writeSlot chan struct{}
	// hot holds the prepared statements of the delivery and feed paths.
	hot *hotStmts
	// now stamps a failed attempt that MarkRetry cannot date otherwise (a
	// row marked without having been claimed); see MarkRetry.
	now func() time.Time
}

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
//   - _txlock=immediate: write transactions take the write lock at BEGIN,
//     so a transaction that read first can never fail to upgrade its lock.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
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
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: open sqlite %q: need a plain file path", path)
	}
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := migrate(ctx, db, sqliteMigrations); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open sqlite %q: %w", path, err), db.Close())
	}
	hot, err := prepareHot(ctx, db)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store: open sqlite %q: %w", path, err), db.Close())
	}
	return &SQLite{db: db, writeSlot: make(chan struct{}, 1), hot: hot, now: time.Now}, nil
}

// Close closes the database. Calls in flight may fail.
func (s *SQLite) Close() error {
	if err := errors.Join(s.hot.close(), s.db.Close()); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers (for readiness probes).
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// write runs fn in a write transaction, committing if fn returns nil. All
// writes go through here so that they are serialised (see writeSlot). fn must
// use tx only: the connection it holds is the only one allowed to write.
func (s *SQLite) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	select {
	case s.writeSlot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.writeSlot }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

// ignoreDone drops the error Rollback returns when database/sql has already
// rolled the transaction back (its context ended), which adds nothing.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
