package store

// postgresMigrations is the PostgreSQL schema: the versions, names, tables,
// columns and indexes of sqliteMigrations, with these differences:
//
//   - every TEXT column is COLLATE "C": text compares and sorts by bytes,
//     as SQLite's BINARY does, whatever the database's locale (an id order
//     that changed with lc_collate would reorder feeds and listings), and
//     btree lookups skip the locale's costly comparisons.
//   - PostgreSQL sorts NULLs last in an ascending index and first in a
//     descending one, SQLite the other way round: the indexes whose order
//     serves an ORDER BY ... NULLS FIRST/LAST (the topic feed, items by
//     fetch time, a story's duplicates) spell the NULL ordering out, so
//     that they still serve it without a sort.
//   - migration 5 changes the outbox in place (DROP NOT NULL, a new CHECK,
//     new columns) where SQLite has to rebuild the table; the status CHECK
//     is named (deliveries_status) so that it can be replaced.
var postgresMigrations = []migration{
	{version: 1, name: "initial schema", stmts: []string{
		`CREATE TABLE sources (
			id            TEXT COLLATE "C" PRIMARY KEY,
			url           TEXT COLLATE "C" NOT NULL DEFAULT '',
			title         TEXT COLLATE "C" NOT NULL DEFAULT '',
			etag          TEXT COLLATE "C" NOT NULL DEFAULT '',
			last_modified TEXT COLLATE "C" NOT NULL DEFAULT '',
			baselined     BOOLEAN NOT NULL DEFAULT FALSE,
			last_poll     BIGINT,
			last_success  BIGINT,
			last_error    TEXT COLLATE "C" NOT NULL DEFAULT '',
			failures      BIGINT NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE items (
			id         TEXT COLLATE "C" PRIMARY KEY,
			source_id  TEXT COLLATE "C" NOT NULL REFERENCES sources (id),
			item_key   TEXT COLLATE "C" NOT NULL DEFAULT '',
			title      TEXT COLLATE "C" NOT NULL DEFAULT '',
			link       TEXT COLLATE "C" NOT NULL DEFAULT '',
			summary    TEXT COLLATE "C" NOT NULL DEFAULT '',
			content    TEXT COLLATE "C" NOT NULL DEFAULT '',
			authors    TEXT COLLATE "C",
			categories TEXT COLLATE "C",
			published  BIGINT,
			updated    BIGINT,
			fetched_at BIGINT
		)`,
		`CREATE INDEX items_source ON items (source_id)`,
		`CREATE INDEX items_published ON items (published)`,
		`CREATE TABLE matches (
			topic_id       TEXT COLLATE "C" NOT NULL,
			item_id        TEXT COLLATE "C" NOT NULL REFERENCES items (id),
			item_published BIGINT,
			terms          TEXT COLLATE "C",
			hits           TEXT COLLATE "C",
			score          DOUBLE PRECISION,
			snippet        TEXT COLLATE "C" NOT NULL DEFAULT '',
			matched_at     BIGINT,
			baseline       BOOLEAN NOT NULL DEFAULT FALSE,
			PRIMARY KEY (topic_id, item_id)
		)`,
		`CREATE INDEX matches_topic_order ON matches
			(topic_id, item_published DESC NULLS LAST, matched_at DESC NULLS LAST, item_id)`,
		`CREATE TABLE deliveries (
			id           TEXT COLLATE "C" PRIMARY KEY,
			webhook_id   TEXT COLLATE "C" NOT NULL,
			event_type   TEXT COLLATE "C" NOT NULL,
			topic_id     TEXT COLLATE "C" NOT NULL,
			item_id      TEXT COLLATE "C" NOT NULL,
			status       TEXT COLLATE "C" NOT NULL
				CONSTRAINT deliveries_status CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
			attempts     BIGINT NOT NULL DEFAULT 0,
			next_attempt BIGINT,
			leased_until BIGINT,
			last_error   TEXT COLLATE "C" NOT NULL DEFAULT '',
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
		`ALTER TABLE matches ADD COLUMN marks TEXT COLLATE "C"`,
		`CREATE TABLE topics (
			id            TEXT COLLATE "C" PRIMARY KEY,
			fingerprint   TEXT COLLATE "C" NOT NULL,
			backfilled_at BIGINT
		)`,
		`DROP INDEX items_source`,
		`CREATE INDEX items_source_fetched ON items (source_id, fetched_at NULLS FIRST, id)`,
		`CREATE INDEX items_fetched ON items (fetched_at NULLS FIRST, id)`,
		`CREATE INDEX deliveries_match ON deliveries (topic_id, item_id)`,
	}},
	{version: 3, name: "webhook health, unordered claims", stmts: []string{
		`ALTER TABLE deliveries ADD COLUMN claimed_at BIGINT`,
		`CREATE TABLE webhooks (
			id                   TEXT COLLATE "C" PRIMARY KEY,
			last_success         BIGINT,
			last_failure         BIGINT,
			last_error           TEXT COLLATE "C" NOT NULL DEFAULT '',
			consecutive_failures BIGINT NOT NULL DEFAULT 0,
			disabled_at          BIGINT,
			disabled_reason      TEXT COLLATE "C" NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX deliveries_pending ON deliveries (webhook_id, created_at, id, next_attempt, leased_until)
			WHERE status = 'pending'`,
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
		`ALTER TABLE items ADD COLUMN canonical_url TEXT COLLATE "C"`,
		`ALTER TABLE items ADD COLUMN title_key TEXT COLLATE "C"`,
		`ALTER TABLE items ADD COLUMN previous_title TEXT COLLATE "C" NOT NULL DEFAULT ''`,
		`CREATE INDEX items_canonical_url ON items (canonical_url, id) WHERE canonical_url IS NOT NULL`,
		`CREATE INDEX items_title_key ON items (title_key, id) WHERE title_key IS NOT NULL`,
		`ALTER TABLE matches ADD COLUMN duplicate_of TEXT COLLATE "C" REFERENCES items (id)`,
		`CREATE INDEX matches_duplicates ON matches (topic_id, duplicate_of, matched_at NULLS FIRST, item_id)
			WHERE duplicate_of IS NOT NULL`,
		`CREATE INDEX matches_item ON matches (item_id, topic_id)`,
		`ALTER TABLE deliveries ADD COLUMN update_json TEXT COLLATE "C"`,
	}, after: fillStoryKeys},
	{version: 5, name: "noise control: held deliveries and digests", stmts: []string{
		// What SQLite's rebuild does, in place: a digest or source.health
		// row has no topic or item, two statuses are new, and the columns
		// of noise control are added. The indexes of the outbox stay.
		`ALTER TABLE deliveries
			ALTER COLUMN topic_id DROP NOT NULL,
			ALTER COLUMN item_id DROP NOT NULL,
			DROP CONSTRAINT deliveries_status,
			ADD CONSTRAINT deliveries_status
				CHECK (status IN ('pending', 'delivered', 'failed', 'dead', 'held', 'digested')),
			ADD CONSTRAINT deliveries_match_or_none CHECK ((topic_id IS NULL) = (item_id IS NULL)),
			ADD COLUMN held_at BIGINT,
			ADD COLUMN hold_reason TEXT COLLATE "C" NOT NULL DEFAULT '',
			ADD COLUMN digest_id TEXT COLLATE "C",
			ADD COLUMN admitted_at BIGINT,
			ADD COLUMN event_json TEXT COLLATE "C"`,
		`CREATE INDEX deliveries_held ON deliveries (webhook_id, held_at, id) WHERE status = 'held'`,
		`CREATE INDEX deliveries_digest ON deliveries (digest_id, created_at, id) WHERE digest_id IS NOT NULL`,
		`CREATE INDEX deliveries_admitted ON deliveries (webhook_id, admitted_at) WHERE admitted_at IS NOT NULL`,
	}},
	{version: 6, name: "source health and politeness, WebSub subscriptions", stmts: []string{
		`ALTER TABLE sources ADD COLUMN error_reason TEXT COLLATE "C" NOT NULL DEFAULT ''`,
		`ALTER TABLE sources ADD COLUMN next_poll BIGINT`,
		`ALTER TABLE sources ADD COLUMN min_interval BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE sources ADD COLUMN moved_to TEXT COLLATE "C" NOT NULL DEFAULT ''`,
		`ALTER TABLE sources ADD COLUMN health TEXT COLLATE "C" NOT NULL DEFAULT ''`,
		`CREATE TABLE websub_subscriptions (
			source_id    TEXT COLLATE "C" PRIMARY KEY,
			hub          TEXT COLLATE "C" NOT NULL,
			topic        TEXT COLLATE "C" NOT NULL,
			secret       TEXT COLLATE "C" NOT NULL,
			state        TEXT COLLATE "C" NOT NULL,
			reason       TEXT COLLATE "C" NOT NULL DEFAULT '',
			requested_at BIGINT,
			verified_at  BIGINT,
			lease_until  BIGINT
		)`,
	}},
	{version: 7, name: "poll leases, retention", stmts: []string{
		`CREATE TABLE poll_leases (
			source_id    TEXT COLLATE "C" PRIMARY KEY,
			due          BIGINT NOT NULL,
			owner        TEXT COLLATE "C" NOT NULL,
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
		`ALTER TABLE matches ADD COLUMN story_url TEXT COLLATE "C"`,
		`ALTER TABLE matches ADD COLUMN story_title TEXT COLLATE "C"`,
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
