package store

import (
	"context"
	"database/sql"
	"errors"
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

// stmt returns the prepared statement for query, preparing it on first use.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st, nil
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
