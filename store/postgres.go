package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// defaultPostgresConns is the pool size when the DSN gives none: enough for
// the dispatcher's workers, the poller and the feed handlers of one
// instance, few enough that several instances fit in PostgreSQL's default
// max_connections (100).
const defaultPostgresConns = 10

// openPostgres opens a PostgreSQL database through pgx's database/sql
// driver and brings its schema up to date. dsn is a postgres:// URL as
// libpq and pgx read it (sslmode, search_path, connect_timeout, ... are
// passed on), plus pool_max_conns, the pool size (default 10), which is
// taken out before the rest reaches pgx.
//
// Every connection taken from the pool is pinged first (one round trip), so
// that a connection the server dropped (a restart, a failover,
// pg_terminate_backend) is replaced instead of failing the next call.
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	cleaned, conns, err := poolSize(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres %s: %w", redact(dsn), err)
	}
	cfg, err := pgx.ParseConfig(cleaned)
	if err != nil {
		// pgx masks the password in its parse errors.
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "wirewatch"
	}
	db := stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(func(context.Context, stdlib.ShouldPingParams) bool { return true }))
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	// Idle connections are let go after a while, and every connection is
	// renewed now and then, so that a pool follows a failover or a
	// pgbouncer restart instead of holding sockets to the old server.
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	if err := migrate(ctx, db, enginePostgres, postgresMigrations); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open postgres %s: %w", redact(dsn), err), db.Close())
	}
	s, err := newStore(ctx, enginePostgres, db)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store: open postgres %s: %w", redact(dsn), err), db.Close())
	}
	return s, nil
}

// poolSize takes pool_max_conns out of a postgres:// URL.
func poolSize(dsn string) (string, int, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", 0, errors.New("not a URL")
	}
	q := u.Query()
	if !q.Has("pool_max_conns") {
		return dsn, defaultPostgresConns, nil
	}
	n, err := strconv.Atoi(q.Get("pool_max_conns"))
	if err != nil || n < 1 {
		return "", 0, fmt.Errorf("pool_max_conns %q is not a positive number", q.Get("pool_max_conns"))
	}
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	return u.String(), n, nil
}

// redact shows a DSN without its password, for error messages and logs.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return strconv.Quote(u.Redacted())
}

// retryable reports whether a PostgreSQL transaction failed for a reason
// outside it, so that running it again may succeed: a deadlock or
// serialisation failure (the server aborted it to let another through), or
// a lost connection (a restart, pg_terminate_backend). Callers retry only
// transactions that were not yet committing (see Store.write).
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", // serialization_failure
			"40P01", // deadlock_detected
			"57P01", // admin_shutdown (restart, pg_terminate_backend)
			"57P02", // crash_shutdown
			"57P03": // cannot_connect_now (starting up)
			return true
		}
		return strings.HasPrefix(pe.Code, "08") // connection_exception
	}
	if pgconn.SafeToRetry(err) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}
