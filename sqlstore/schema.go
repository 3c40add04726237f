package sqlstore

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
)

// SchemaVersion is the version of the tables Migrate creates, recorded in
// the schema's meta table.
const SchemaVersion = 1

// tables lists the store's tables, in an order TRUNCATE and DROP accept.
var tables = []string{"members", "campaigns", "devices", "check_ins", "deadlines", "gates", "sessions", "bundles"}

// ddl creates version 1 of the schema; {s} is the quoted schema name.
// Every id column is COLLATE "C", so that ordering and paging go by bytes
// (Go's string order) whatever the database's locale. Enumerations are
// stored as their numbers (smallint), with checks that keep them in
// range; optional instants are NULL when zero.
const ddl = `
CREATE SCHEMA IF NOT EXISTS {s};

CREATE TABLE IF NOT EXISTS {s}.meta (
	version integer NOT NULL
);

CREATE TABLE IF NOT EXISTS {s}.campaigns (
	id            text COLLATE "C" PRIMARY KEY,
	account       text COLLATE "C" NOT NULL,
	name          text NOT NULL,
	protocol      smallint NOT NULL CHECK (protocol BETWEEN 0 AND 255),
	status        smallint NOT NULL CHECK (status BETWEEN 0 AND 255),
	make          text NOT NULL,
	model         text NOT NULL,
	software_from text NOT NULL,
	software_to   text NOT NULL,
	software_name text NOT NULL,
	timing        jsonb NOT NULL,
	starts_at     timestamptz,
	ends_at       timestamptz,
	on_demand     boolean NOT NULL,
	pilot         boolean NOT NULL,
	revision      bigint NOT NULL,
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS campaigns_account ON {s}.campaigns (account, id);

CREATE TABLE IF NOT EXISTS {s}.members (
	campaign_id text COLLATE "C" NOT NULL REFERENCES {s}.campaigns (id),
	device_id   text COLLATE "C" NOT NULL,
	state       smallint NOT NULL CHECK (state BETWEEN 0 AND 31),
	reason      smallint NOT NULL CHECK (reason BETWEEN 0 AND 255),
	updated_at  timestamptz NOT NULL,
	PRIMARY KEY (campaign_id, device_id)
);

CREATE TABLE IF NOT EXISTS {s}.devices (
	device_id       text COLLATE "C" PRIMARY KEY,
	active_campaign text COLLATE "C" NOT NULL DEFAULT '',
	account         text COLLATE "C" NOT NULL DEFAULT '',
	license         smallint NOT NULL DEFAULT 0 CHECK (license BETWEEN 0 AND 255),
	ever_upgraded   boolean NOT NULL DEFAULT false,
	history         integer NOT NULL DEFAULT 0 -- check-ins stored in check_ins
);

CREATE TABLE IF NOT EXISTS {s}.check_ins (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	device_id    text COLLATE "C" NOT NULL,
	at           timestamptz NOT NULL,
	client_type  bigint NOT NULL,
	result       text NOT NULL,
	failure_type text NOT NULL
);
CREATE INDEX IF NOT EXISTS check_ins_device ON {s}.check_ins (device_id, at, id);

CREATE TABLE IF NOT EXISTS {s}.deadlines (
	kind smallint NOT NULL CHECK (kind BETWEEN 0 AND 255),
	key  text COLLATE "C" NOT NULL,
	at   timestamptz NOT NULL,
	PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS deadlines_at ON {s}.deadlines (at, kind, key);

CREATE TABLE IF NOT EXISTS {s}.gates (
	make          text COLLATE "C" NOT NULL,
	model         text COLLATE "C" NOT NULL,
	software_from text COLLATE "C" NOT NULL,
	software_to   text COLLATE "C" NOT NULL,
	state         smallint NOT NULL CHECK (state BETWEEN 0 AND 255),
	pilots        bigint NOT NULL,
	lifted_at     timestamptz,
	PRIMARY KEY (make, model, software_from, software_to)
);

CREATE TABLE IF NOT EXISTS {s}.sessions (
	device_id     text COLLATE "C" PRIMARY KEY,
	account       text COLLATE "C" NOT NULL,
	state         smallint NOT NULL CHECK (state BETWEEN 0 AND 255),
	enabled_at    timestamptz,
	collecting_at timestamptz,
	ended_at      timestamptz
);
CREATE INDEX IF NOT EXISTS sessions_account ON {s}.sessions (account, device_id);

CREATE TABLE IF NOT EXISTS {s}.bundles (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	device_id      text COLLATE "C" NOT NULL,
	log_time       timestamptz NOT NULL,
	log_type       text NOT NULL,
	event_log      text NOT NULL,
	file_base64    text NOT NULL,
	file_name      text NOT NULL,
	uploaded_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS bundles_device ON {s}.bundles (device_id, uploaded_at, id);

CREATE SEQUENCE IF NOT EXISTS {s}.seq;
`

// Migrate creates the schema, its tables, indexes and sequence where they
// are absent, and records SchemaVersion. It is idempotent, and safe to
// run from several replicas at once: it runs in one transaction holding
// an advisory lock derived from the schema name. A schema recorded at a
// newer version than this package knows is an error, and is left alone.
func (s *Store) Migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	h := fnv.New64a()
	h.Write([]byte("github.com/fotakit/fota/sqlstore:" + s.schema))
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
		return err
	}
	// Statements run one at a time: the extended protocol pgx uses takes
	// one statement per call.
	for _, stmt := range strings.Split(expand(ddl, quoteIdent(s.schema)), ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
	}
	var version int
	err = tx.QueryRowContext(ctx, expand(`SELECT coalesce(max(version), 0) FROM {s}.meta`, quoteIdent(s.schema))).Scan(&version)
	if err != nil {
		return err
	}
	switch {
	case version > SchemaVersion:
		return fmt.Errorf("sqlstore: schema %q is at version %d, newer than this package's %d", s.schema, version, SchemaVersion)
	case version < SchemaVersion:
		if _, err := tx.ExecContext(ctx, expand(`DELETE FROM {s}.meta`, quoteIdent(s.schema))); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, expand(`INSERT INTO {s}.meta (version) VALUES ($1)`, quoteIdent(s.schema)), SchemaVersion); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// expand puts the quoted schema name in place of {s}.
func expand(q, schema string) string { return strings.ReplaceAll(q, "{s}", schema) }
