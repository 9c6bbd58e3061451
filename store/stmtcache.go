package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// stmtCache keeps statements prepared once per store: SQLite spends longer
// compiling a poll's small queries than running them, and PostgreSQL saves
// a parse per call. database/sql keeps one prepared copy per pooled
// connection and re-prepares on a new one; Tx.StmtContext reuses the copy
// of the transaction's connection. Only queries from a bounded set are
// cached (callers pad variable IN lists to a few sizes).
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// stmt returns the prepared statement for query, preparing it on first
// use. It must not be called while holding a transaction: preparing needs a
// connection of its own, and with every pooled connection held by a
// transaction waiting for one, nothing would move (use txStmt there). The
// lock is not held while preparing, for the same reason.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.cache.get(query); ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.cache.put(query, st), nil
}

// txStmt returns query as a statement of tx: the cached one bound to the
// transaction's connection when there is one, else prepared on that
// connection for this transaction only (the caches are warmed at open with
// the statements transactions use, see warmStatements).
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st, ok := s.cache.get(query); ok {
		return tx.StmtContext(ctx, st), nil
	}
	return tx.PrepareContext(ctx, query)
}

// warmStatements prepares the statements write transactions use, so that
// they never prepare on a second connection.
func (s *Store) warmStatements(ctx context.Context) error {
	for _, q := range []string{upsertSourceSQL, insertItemSQL, correctItemSQL, insertMatchSQL, matchExistsSQL, insertDeliverySQL} {
		if _, err := s.stmt(ctx, q); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	return nil
}

func (c *stmtCache) get(query string) (*sql.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.stmts[query]
	return st, ok
}

// put caches st for query and returns the cached statement: st, or the one
// another caller prepared meanwhile (st is then closed).
func (c *stmtCache) put(query string, st *sql.Stmt) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.stmts[query]; ok {
		_ = st.Close()
		return old
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	c.stmts = nil
	return errors.Join(errs...)
}

// padSizes are the IN-list lengths queries are padded to, so that a few
// prepared statements serve every batch size.
var padSizes = [...]int{1, 4, 16, 64, 256}

// padded returns the smallest pad size that holds n (n itself beyond the
// largest), and args extended to it by repeating the last one, which
// changes nothing in an IN list.
func padded(args []any) []any {
	n := len(args)
	for _, size := range padSizes {
		if n <= size {
			for len(args) < size {
				args = append(args, args[n-1])
			}
			return args
		}
	}
	return args
}
