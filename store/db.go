package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// engine names the SQL database behind a Store. Almost all SQL is shared;
// what differs is chosen by the engine: the schema's DDL (migrations.go),
// the unordered claim (SKIP LOCKED), the isolation of multi-statement reads,
// and how concurrent writers are kept apart (see Store.write and lockKey).
type engine int

const (
	engineSQLite engine = iota
	enginePostgres
)

func (e engine) String() string {
	if e == enginePostgres {
		return "postgres"
	}
	return "sqlite"
}

// Store is wirewatch's persistence, on SQLite or PostgreSQL: the same
// methods, the same behaviour (one contract test suite runs on both). It is
// safe for concurrent use, and on PostgreSQL for use by several processes
// (instances) sharing one database.
type Store struct {
	eng engine
	db  *sql.DB
	// writeSlot admits one write transaction at a time (SQLite only; nil on
	// PostgreSQL). SQLite allows a single writer anyway; queueing writers
	// here, in Go, instead of in SQLite's busy handler means they wait in
	// order, honour their context, and never surface SQLITE_BUSY however
	// many goroutines write at once. busy_timeout remains as the guard
	// against other processes. PostgreSQL writers run side by side: row
	// locks, conditional updates and advisory locks keep them apart.
	writeSlot chan struct{}
	// group batches concurrent SavePolls into one transaction (group.go).
	group *saveGroup
	// hot holds the prepared statements of the delivery and feed paths.
	hot *hotStmts
	// cache holds the other statements prepared once (see stmtCache).
	cache stmtCache
	// now stamps a failed attempt that MarkRetry cannot date otherwise (a
	// row marked without having been claimed); see MarkRetry.
	now func() time.Time
	// snapshot is how a read that must see one state across statements
	// begins its transaction (see topicEntries).
	snapshot sql.TxOptions
	// legacyItemIDs is set when items stored before migration 10 may
	// remain (see legacy.go); read at open.
	legacyItemIDs bool
}

// SQLite is the name the store had when SQLite was its only engine; it is
// kept so that existing callers compile.
type SQLite = Store

// Open opens the database a DSN names and brings its schema up to date.
//
// A postgres:// or postgresql:// URL opens PostgreSQL. The URL is read as
// libpq and pgx read it (sslmode, search_path, connect_timeout, ... are
// passed on), plus pool_max_conns, the size of the connection pool (default
// 10). Several instances may share the database: migrations, claims, rate
// limits, digests and poll leases (ClaimPoll) are safe across processes.
//
// Anything else is the path of a SQLite file (see OpenSQLite).
func Open(ctx context.Context, dsn string) (*Store, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return OpenSQLite(ctx, dsn)
}

// IsPostgres reports whether dsn selects PostgreSQL (a postgres:// or
// postgresql:// URL); anything else is a SQLite file. Callers use it to know
// that the database may be shared by several instances.
func IsPostgres(dsn string) bool {
	lower := strings.ToLower(dsn)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// newStore prepares the hot statements of an opened, migrated database.
func newStore(ctx context.Context, eng engine, db *sql.DB) (*Store, error) {
	hot, err := prepareHot(ctx, db, eng)
	if err != nil {
		return nil, err
	}
	s := &Store{eng: eng, db: db, hot: hot, now: time.Now, snapshot: sql.TxOptions{ReadOnly: true},
		group: newSaveGroup()}
	if eng == engineSQLite {
		s.writeSlot = make(chan struct{}, 1)
	} else {
		// PostgreSQL's READ COMMITTED gives every statement its own
		// snapshot; a read of several statements needs REPEATABLE READ to
		// see one state.
		s.snapshot.Isolation = sql.LevelRepeatableRead
	}
	if err := s.warmStatements(ctx); err != nil {
		return nil, errors.Join(err, hot.close(), s.cache.close())
	}
	if err := s.loadLegacyItemIDs(ctx); err != nil {
		return nil, errors.Join(err, hot.close(), s.cache.close())
	}
	return s, nil
}

// Close closes the database. Calls in flight may fail.
func (s *Store) Close() error {
	if err := errors.Join(s.hot.close(), s.cache.close(), s.db.Close()); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers (for readiness probes).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// maxWriteAttempts bounds how often write runs a transaction that
// PostgreSQL aborted for a reason that says nothing about the transaction
// itself (a deadlock, a lost connection); see write.
const maxWriteAttempts = 3

// write runs fn in a write transaction, committing if fn returns nil. All
// writes go through here. fn must use tx only, and must set its results
// afresh on every call: on PostgreSQL a transaction aborted by a deadlock,
// a serialisation failure or a connection lost before COMMIT was sent is
// rolled back entirely and run again (up to maxWriteAttempts times), which
// is safe because nothing of it was committed. A failed COMMIT is never
// retried: whether it took effect is unknown.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.writeSlot != nil {
		select {
		case s.writeSlot <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-s.writeSlot }()
	}
	for attempt := 1; ; attempt++ {
		committing, err := s.tryWrite(ctx, fn)
		if err == nil {
			return nil
		}
		if s.eng != enginePostgres || committing || attempt >= maxWriteAttempts || ctx.Err() != nil || !retryable(err) {
			return err
		}
		// A deadlock's other party, or a restarting server, needs a moment.
		select {
		case <-time.After(time.Duration(attempt*attempt) * 25 * time.Millisecond):
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
	}
}

// tryWrite runs fn in one transaction; committing reports that the error
// came from COMMIT.
func (s *Store) tryWrite(ctx context.Context, fn func(tx *sql.Tx) error) (committing bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	if err := fn(tx); err != nil {
		return false, errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return true, tx.Commit()
}

// ignoreDone drops the error Rollback returns when database/sql has already
// rolled the transaction back (its context ended), which adds nothing.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// lock takes a lock named by key for the rest of tx, so that transactions
// of several processes that read-then-write the same thing (a webhook's rate
// limit window, its held rows) run one after the other. On SQLite, whose
// writes are serialised anyway, it does nothing.
func (s *Store) lock(ctx context.Context, tx *sql.Tx, key string) error {
	if s.eng != enginePostgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(key)); err != nil {
		return fmt.Errorf("lock %q: %w", key, err)
	}
	return nil
}

// lockKey maps a lock name to PostgreSQL's 64-bit advisory lock space. Two
// names sharing a key would only wait for each other, never corrupt.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("wirewatch\x00" + name))
	return int64(h.Sum64())
}
