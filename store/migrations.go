package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// migration is one versioned schema change. Versions start at 1 and increase
// by one; a released migration is never edited, only followed by another.
type migration struct {
	version int
	name    string
	stmts   []string
	// after, when set, runs in the migration's transaction once stmts have:
	// for data that only Go can compute (it calls the current code, so a
	// database migrated later gets the later code's result).
	after func(ctx context.Context, tx *sql.Tx) error
}

// sqliteMigrations is the SQLite schema, postgresMigrations the PostgreSQL
// one: the same versions, names and tables, in DDL each engine reads. The
// column types (TEXT, BIGINT, DOUBLE PRECISION, BOOLEAN) are spelled the
// same in both; see postgresMigrations for what differs.
//
// Times are unix milliseconds (NULL = zero time). Lists, hits and marks are
// JSON text (NULL = nil). See the package documentation.
var sqliteMigrations = []migration{
	{version: 1, name: "initial schema", stmts: []string{
		`CREATE TABLE sources (
			id            TEXT PRIMARY KEY,
			url           TEXT NOT NULL DEFAULT '',
			title         TEXT NOT NULL DEFAULT '',
			etag          TEXT NOT NULL DEFAULT '',
			last_modified TEXT NOT NULL DEFAULT '',
			baselined     BOOLEAN NOT NULL DEFAULT FALSE,
			last_poll     BIGINT,
			last_success  BIGINT,
			last_error    TEXT NOT NULL DEFAULT '',
			failures      BIGINT NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE items (
			id         TEXT PRIMARY KEY,
			source_id  TEXT NOT NULL REFERENCES sources (id),
			item_key   TEXT NOT NULL DEFAULT '',
			title      TEXT NOT NULL DEFAULT '',
			link       TEXT NOT NULL DEFAULT '',
			summary    TEXT NOT NULL DEFAULT '',
			content    TEXT NOT NULL DEFAULT '',
			authors    TEXT,
			categories TEXT,
			published  BIGINT,
			updated    BIGINT,
			fetched_at BIGINT
		)`,
		`CREATE INDEX items_source ON items (source_id)`,
		`CREATE INDEX items_published ON items (published)`,
		// item_published copies items.published (items are never updated
		// once stored) so that one index serves a topic feed's whole ORDER
		// BY without touching items for rows that are not returned.
		`CREATE TABLE matches (
			topic_id       TEXT NOT NULL,
			item_id        TEXT NOT NULL REFERENCES items (id),
			item_published BIGINT,
			terms          TEXT,
			hits           TEXT,
			score          DOUBLE PRECISION,
			snippet        TEXT NOT NULL DEFAULT '',
			matched_at     BIGINT,
			baseline       BOOLEAN NOT NULL DEFAULT FALSE,
			PRIMARY KEY (topic_id, item_id)
		)`,
		// SQLite sorts NULLs first ascending, so DESC here is NULLS LAST,
		// which is what TopicEntries asks for.
		`CREATE INDEX matches_topic_order ON matches (topic_id, item_published DESC, matched_at DESC, item_id)`,
		// leased_until is the outbox lease: a claimed row is invisible to
		// other claimers until it expires. finished_at records when a row
		// left pending (delivered, failed or dead).
		`CREATE TABLE deliveries (
			id           TEXT PRIMARY KEY,
			webhook_id   TEXT NOT NULL,
			event_type   TEXT NOT NULL,
			topic_id     TEXT NOT NULL,
			item_id      TEXT NOT NULL,
			status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
			attempts     BIGINT NOT NULL DEFAULT 0,
			next_attempt BIGINT,
			leased_until BIGINT,
			last_error   TEXT NOT NULL DEFAULT '',
			created_at   BIGINT NOT NULL,
			delivered_at BIGINT,
			finished_at  BIGINT,
			FOREIGN KEY (topic_id, item_id) REFERENCES matches (topic_id, item_id)
		)`,
		`CREATE INDEX deliveries_queue ON deliveries (webhook_id, status, created_at, id)`,
		`CREATE INDEX deliveries_status ON deliveries (status, created_at, id)`,
		`CREATE INDEX deliveries_created ON deliveries (created_at, id)`,
	}},
	{version: 2, name: "match marks, topic state for backfill", stmts: []string{
		// Byte ranges of the snippet to highlight, JSON text (NULL = nil).
		// Matches stored before this migration have none.
		`ALTER TABLE matches ADD COLUMN marks TEXT`,
		// What a topic looked like when its matches were last backfilled, so
		// that a changed topic is noticed across restarts. A topic without a
		// row is new. No foreign key from matches: polls record matches of
		// topics that were never backfilled.
		`CREATE TABLE topics (
			id            TEXT PRIMARY KEY,
			fingerprint   TEXT NOT NULL,
			backfilled_at BIGINT
		)`,
		// ItemsSince walks items by fetch time, for all sources or for some;
		// (source_id, fetched_at, id) also serves everything items_source did.
		`DROP INDEX items_source`,
		`CREATE INDEX items_source_fetched ON items (source_id, fetched_at, id)`,
		`CREATE INDEX items_fetched ON items (fetched_at, id)`,
		// "Does this match have deliveries?" is asked per match by Backfill
		// and PruneTopics, and by the foreign key check whenever a match is
		// deleted; without this index each would scan the whole outbox.
		`CREATE INDEX deliveries_match ON deliveries (topic_id, item_id)`,
	}},
	{version: 3, name: "webhook health, unordered claims", stmts: []string{
		// When the row was last claimed, by the dispatcher's clock: MarkRetry
		// takes no time, and this is when its failed attempt started.
		`ALTER TABLE deliveries ADD COLUMN claimed_at BIGINT`,
		// A webhook's health as deliveries found it, and whether its receiver
		// is gone (410). A webhook without a row has no recorded history.
		`CREATE TABLE webhooks (
			id                   TEXT PRIMARY KEY,
			last_success         BIGINT,
			last_failure         BIGINT,
			last_error           TEXT NOT NULL DEFAULT '',
			consecutive_failures BIGINT NOT NULL DEFAULT 0,
			disabled_at          BIGINT,
			disabled_reason      TEXT NOT NULL DEFAULT ''
		)`,
		// The queue proper: pending rows only, in claim order, carrying the
		// columns the claim tests. An unordered claim walks past leased and
		// not-yet-due rows to the first claimable one; with the lease and the
		// due time in the index it never touches the table to do so, and
		// delivered rows (the bulk of the outbox) are not in it at all.
		`CREATE INDEX deliveries_pending ON deliveries (webhook_id, created_at, id, next_attempt, leased_until)
			WHERE status = 'pending'`,
		// Health known from history: the last success and the last final
		// failure of every webhook with deliveries. Consecutive failures
		// were never counted before, so they start at 0.
		`INSERT INTO webhooks (id, last_success, last_failure, last_error)
		SELECT w.webhook_id,
			(SELECT MAX(d.delivered_at) FROM deliveries d
				WHERE d.webhook_id = w.webhook_id AND d.status = 'delivered'),
			(SELECT MAX(d.finished_at) FROM deliveries d
				WHERE d.webhook_id = w.webhook_id AND d.status IN ('failed', 'dead')),
			COALESCE((SELECT d.last_error FROM deliveries d
				WHERE d.webhook_id = w.webhook_id AND d.status IN ('failed', 'dead')
				ORDER BY d.finished_at DESC NULLS LAST, d.id DESC LIMIT 1), '')
		FROM (SELECT DISTINCT webhook_id FROM deliveries) w`,
	}},
	{version: 4, name: "story keys, corrections, duplicates, update events", stmts: []string{
		// The story keys of an item (news.CanonicalURL of its link,
		// news.TitleKey of its title), computed in Go on insert and on
		// correction. NULL when the function gives "": such an item never
		// merges with another on that key.
		`ALTER TABLE items ADD COLUMN canonical_url TEXT`,
		`ALTER TABLE items ADD COLUMN title_key TEXT`,
		// The title before the item's latest correction ('' when none).
		`ALTER TABLE items ADD COLUMN previous_title TEXT NOT NULL DEFAULT ''`,
		// FindStory looks up the few items of a story by either key, then
		// their matches by primary key; id makes the lookup covering.
		`CREATE INDEX items_canonical_url ON items (canonical_url, id) WHERE canonical_url IS NOT NULL`,
		`CREATE INDEX items_title_key ON items (title_key, id) WHERE title_key IS NOT NULL`,
		// The first sighting a match duplicates (NULL: not a duplicate).
		`ALTER TABLE matches ADD COLUMN duplicate_of TEXT REFERENCES items (id)`,
		// "Also reported by" of a page of entries: a topic's duplicates of
		// given items, oldest first, without touching the table. Only
		// duplicates are in it.
		`CREATE INDEX matches_duplicates ON matches (topic_id, duplicate_of, matched_at, item_id)
			WHERE duplicate_of IS NOT NULL`,
		// AlertedTopics asks by item across topics; the primary key starts
		// with the topic.
		`CREATE INDEX matches_item ON matches (item_id, topic_id)`,
		// A match.updated event's news.Update, JSON (NULL for match.created).
		`ALTER TABLE deliveries ADD COLUMN update_json TEXT`,
	}, after: fillStoryKeys},
	{version: 5, name: "noise control: held deliveries and digests", stmts: []string{
		// SQLite can neither relax NOT NULL nor change a CHECK in place, so
		// the outbox is rebuilt: a digest or source.health row belongs to
		// no single match (topic_id and item_id NULL, which the foreign key
		// allows; event_json holds what such an event reports), and two
		// statuses are new. held_at and hold_reason say when and why
		// noise control deferred a row; digest_id names the digest a held
		// row went out in; admitted_at is when a row passed the rate
		// limit, which is what the limit counts.
		`CREATE TABLE deliveries_v5 (
			id           TEXT PRIMARY KEY,
			webhook_id   TEXT NOT NULL,
			event_type   TEXT NOT NULL,
			topic_id     TEXT,
			item_id      TEXT,
			status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dead', 'held', 'digested')),
			attempts     BIGINT NOT NULL DEFAULT 0,
			next_attempt BIGINT,
			leased_until BIGINT,
			last_error   TEXT NOT NULL DEFAULT '',
			created_at   BIGINT NOT NULL,
			delivered_at BIGINT,
			finished_at  BIGINT,
			claimed_at   BIGINT,
			update_json  TEXT,
			held_at      BIGINT,
			hold_reason  TEXT NOT NULL DEFAULT '',
			digest_id    TEXT,
			admitted_at  BIGINT,
			event_json   TEXT,
			FOREIGN KEY (topic_id, item_id) REFERENCES matches (topic_id, item_id),
			CHECK ((topic_id IS NULL) = (item_id IS NULL))
		)`,
		`INSERT INTO deliveries_v5 (id, webhook_id, event_type, topic_id, item_id, status, attempts, next_attempt,
			leased_until, last_error, created_at, delivered_at, finished_at, claimed_at, update_json)
		SELECT id, webhook_id, event_type, topic_id, item_id, status, attempts, next_attempt,
			leased_until, last_error, created_at, delivered_at, finished_at, claimed_at, update_json
		FROM deliveries`,
		`DROP TABLE deliveries`,
		`ALTER TABLE deliveries_v5 RENAME TO deliveries`,
		`CREATE INDEX deliveries_queue ON deliveries (webhook_id, status, created_at, id)`,
		`CREATE INDEX deliveries_status ON deliveries (status, created_at, id)`,
		`CREATE INDEX deliveries_created ON deliveries (created_at, id)`,
		`CREATE INDEX deliveries_match ON deliveries (topic_id, item_id)`,
		`CREATE INDEX deliveries_pending ON deliveries (webhook_id, created_at, id, next_attempt, leased_until)
			WHERE status = 'pending'`,
		// A webhook's held rows, oldest first: what the next digest takes.
		`CREATE INDEX deliveries_held ON deliveries (webhook_id, held_at, id) WHERE status = 'held'`,
		// A digest's members.
		`CREATE INDEX deliveries_digest ON deliveries (digest_id, created_at, id) WHERE digest_id IS NOT NULL`,
		// The rate limit counts a webhook's admissions in a recent window.
		`CREATE INDEX deliveries_admitted ON deliveries (webhook_id, admitted_at) WHERE admitted_at IS NOT NULL`,
	}},
	{version: 6, name: "source health and politeness, WebSub subscriptions", stmts: []string{
		`ALTER TABLE sources ADD COLUMN error_reason TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE sources ADD COLUMN next_poll BIGINT`,
		`ALTER TABLE sources ADD COLUMN min_interval BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE sources ADD COLUMN moved_to TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE sources ADD COLUMN health TEXT NOT NULL DEFAULT ''`,
		// One WebSub subscription per source (see package websub).
		`CREATE TABLE websub_subscriptions (
			source_id    TEXT PRIMARY KEY,
			hub          TEXT NOT NULL,
			topic        TEXT NOT NULL,
			secret       TEXT NOT NULL,
			state        TEXT NOT NULL,
			reason       TEXT NOT NULL DEFAULT '',
			requested_at BIGINT,
			verified_at  BIGINT,
			lease_until  BIGINT
		)`,
	}},
	{version: 7, name: "poll leases, retention", stmts: []string{
		// One row per source: the poll due time last claimed (ClaimPoll),
		// by which instance, and until when its lease runs (NULL: released,
		// the poll of that due time is done).
		`CREATE TABLE poll_leases (
			source_id    TEXT PRIMARY KEY,
			due          BIGINT NOT NULL,
			owner        TEXT NOT NULL,
			leased_until BIGINT
		)`,
		matchesDuplicateOfIndex,
		deliveriesEventsIndex,
	}},
	{version: 8, name: "drop the unused index on items.published", stmts: []string{
		// No query reads items by publication time (feeds order by
		// matches.item_published); the index cost an insert per item and
		// about 2 % of the database at ten million items.
		`DROP INDEX IF EXISTS items_published`,
	}},
	{version: 9, name: "story keys on matches", stmts: []string{
		// A topic's first sighting of a story is found by its keys among the
		// topic's non-duplicate matches (FindStory): one index entry per
		// story, where walking items by key visited every outlet that
		// carried the story. The keys are the item's, kept in step by
		// corrections. The two item indexes served nothing else; dropping
		// them spares every stored item two random-key index inserts.
		`ALTER TABLE matches ADD COLUMN story_url TEXT`,
		`ALTER TABLE matches ADD COLUMN story_title TEXT`,
		fillMatchStoryKeys,
		matchesStoryURLIndex,
		matchesStoryTitleIndex,
		`DROP INDEX IF EXISTS items_canonical_url`,
		`DROP INDEX IF EXISTS items_title_key`,
	}},
	// New items' IDs start with their source's prefix (news.ItemID); the
	// items stored until now keep theirs (see legacy.go).
	migrationItemIDsBySource,
}

// fillStoryKeys computes the story keys of the items stored before
// migration 4, a page at a time so that memory stays bounded however many
// there are.
func fillStoryKeys(ctx context.Context, tx *sql.Tx) error {
	type row struct{ id, title, link string }
	const page = 1000
	upd, err := tx.PrepareContext(ctx, `UPDATE items SET canonical_url = $2, title_key = $3 WHERE id = $1`)
	if err != nil {
		return err
	}
	defer upd.Close()
	after := ""
	for {
		var rows []row
		err := func() error {
			rs, err := tx.QueryContext(ctx, `SELECT id, title, link FROM items WHERE id > $1 ORDER BY id LIMIT $2`, after, page)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var r row
				if err := rs.Scan(&r.id, &r.title, &r.link); err != nil {
					return err
				}
				rows = append(rows, r)
			}
			return rs.Err()
		}()
		if err != nil {
			return fmt.Errorf("read items: %w", err)
		}
		for _, r := range rows {
			canon, key := storyKeys(r.title, r.link)
			if _, err := upd.ExecContext(ctx, r.id, canon, key); err != nil {
				return fmt.Errorf("item %q: %w", r.id, err)
			}
		}
		if len(rows) < page {
			return nil
		}
		after = rows[len(rows)-1].id
	}
}

// matchesDuplicateOfIndex serves the deletion of an item (PruneItems):
// the check of the duplicate_of foreign key of matches, and PruneItems'
// question which matches name an item as their first sighting; without it
// both would scan every match. Partial, so that the NULLs of the many
// matches that are no duplicate stay out of it (and no planner takes it for
// "duplicate_of IS NULL").
const matchesDuplicateOfIndex = `CREATE INDEX matches_duplicate_of ON matches (duplicate_of) WHERE duplicate_of IS NOT NULL`

// fillMatchStoryKeys gives the matches stored before migration 9 their
// items' story keys.
const fillMatchStoryKeys = `UPDATE matches SET
	story_url = (SELECT i.canonical_url FROM items i WHERE i.id = matches.item_id),
	story_title = (SELECT i.title_key FROM items i WHERE i.id = matches.item_id)`

// matchesStoryURLIndex and matchesStoryTitleIndex find a topic's first
// sighting of a story by either key (FindStory). Partial: duplicates are
// never first sightings, and most items have no usable key of one kind.
const (
	matchesStoryURLIndex = `CREATE INDEX matches_story_url ON matches (topic_id, story_url)
		WHERE duplicate_of IS NULL AND story_url IS NOT NULL`
	matchesStoryTitleIndex = `CREATE INDEX matches_story_title ON matches (topic_id, story_title)
		WHERE duplicate_of IS NULL AND story_title IS NOT NULL`
)

// deliveriesEventsIndex lists the outbox rows of no item (source.health
// events, digests) by age, for PruneItems: without it, finding the old
// ones would walk every finished delivery.
const deliveriesEventsIndex = `CREATE INDEX deliveries_events ON deliveries (created_at, id) WHERE item_id IS NULL`

// migrate brings db up to the last of ms. Each migration runs in its own
// transaction together with its schema_migrations row, so it is applied
// entirely or not at all (both engines have transactional DDL). Several
// processes opening the same database at once apply each migration once:
// a migration's transaction first takes the database's write lock (SQLite:
// BEGIN IMMEDIATE, from the DSN) or the migration advisory lock
// (PostgreSQL), then checks whether another process applied it meanwhile.
func migrate(ctx context.Context, db *sql.DB, eng engine, ms []migration) error {
	for i, m := range ms {
		if m.version != i+1 {
			return fmt.Errorf("migrations: version %d at position %d, want %d", m.version, i, i+1)
		}
	}
	// CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin in
	// PostgreSQL (both may try to create the table's type), hence the lock.
	if err := inMigrationTx(ctx, db, eng, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    BIGINT PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at BIGINT NOT NULL
		)`)
		return err
	}); err != nil {
		return fmt.Errorf("migrations: create schema_migrations: %w", err)
	}
	var newest sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("migrations: read version: %w", err)
	}
	if newest.Int64 > int64(len(ms)) {
		// A newer binary migrated this database; running old code against
		// the new schema could corrupt it.
		return fmt.Errorf("migrations: database is at version %d, this build knows only %d", newest.Int64, len(ms))
	}
	for _, m := range ms {
		if int64(m.version) <= newest.Int64 {
			continue
		}
		if err := inMigrationTx(ctx, db, eng, func(tx *sql.Tx) error { return applyMigration(ctx, tx, m) }); err != nil {
			return fmt.Errorf("migrations: %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// migrationLock names the advisory lock that PostgreSQL migrations hold.
const migrationLock = "migrations"

// inMigrationTx runs fn in a transaction that holds the migration lock,
// committing if fn returns nil.
func inMigrationTx(ctx context.Context, db *sql.DB, eng engine, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if eng == enginePostgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(migrationLock)); err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// applyMigration runs m in tx unless schema_migrations says it ran: the
// check comes after the lock, so it sees what a concurrent process
// committed while this one waited.
func applyMigration(ctx context.Context, tx *sql.Tx, m migration) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil // applied meanwhile by another process
	}
	for _, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if m.after != nil {
		if err := m.after(ctx, tx); err != nil {
			return err
		}
	}
	// applied_at is informational only; nothing depends on it.
	_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, time.Now().UnixMilli())
	return err
}
