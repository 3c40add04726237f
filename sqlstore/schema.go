package sqlstore

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// SchemaVersion is the version of the tables Migrate creates, recorded in
// the schema's meta table. Version 2 is the layout of the v2 Store
// contract (push bookkeeping on members, check-in histories apart from
// device rows); version 1 was the v1 contract's.
const SchemaVersion = 2

// tables lists the store's tables, in an order DELETE accepts (members
// before the campaigns they reference).
var tables = []string{"members", "campaigns", "devices", "histories", "check_ins", "deadlines", "gates", "sessions", "bundles"}

// ddl creates version 2 of the schema; {s} is the quoted schema name.
// Every id column is COLLATE "C", so that ordering and paging go by bytes
// (Go's string order) whatever the database's locale. Enumerations are
// stored as their numbers (smallint), with checks that keep them in
// range; optional instants are NULL when zero. Tables written on every
// device operation (members, histories) leave room on their pages
// (fillfactor) so that an update stays on its page (a HOT update) when
// no indexed column changes.
const ddl = `
CREATE SCHEMA IF NOT EXISTS {s};

CREATE TABLE IF NOT EXISTS {s}.meta (
	version integer NOT NULL
);

CREATE TABLE IF NOT EXISTS {s}.campaigns (
	id            text COLLATE "C" PRIMARY KEY,
	seq           bigint NOT NULL,
	account       text COLLATE "C" NOT NULL,
	name          text NOT NULL,
	family        smallint NOT NULL CHECK (family BETWEEN 0 AND 255),
	protocol      smallint NOT NULL CHECK (protocol BETWEEN 0 AND 255),
	status        smallint NOT NULL CHECK (status BETWEEN 0 AND 255),
	target_account text NOT NULL,
	software_name text NOT NULL,
	software_from text NOT NULL,
	software_to   text NOT NULL,
	make          text NOT NULL,
	model         text NOT NULL,
	package       jsonb NOT NULL,
	timing        jsonb NOT NULL,
	starts_at     timestamptz,
	ends_at       timestamptz,
	on_demand     boolean NOT NULL,
	pilot         boolean NOT NULL,
	cursor        text COLLATE "C" NOT NULL,
	swept         boolean NOT NULL,
	revision      bigint NOT NULL,
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS campaigns_account ON {s}.campaigns (account, id);

CREATE TABLE IF NOT EXISTS {s}.members (
	campaign_id   text COLLATE "C" NOT NULL REFERENCES {s}.campaigns (id),
	device_id     text COLLATE "C" NOT NULL,
	state         smallint NOT NULL CHECK (state BETWEEN 1 AND 31),
	reason        smallint NOT NULL CHECK (reason BETWEEN 0 AND 255),
	updated_at    timestamptz NOT NULL,
	push_protocol smallint NOT NULL DEFAULT 0 CHECK (push_protocol BETWEEN 0 AND 255),
	push_attempt  smallint NOT NULL DEFAULT 0 CHECK (push_attempt BETWEEN 0 AND 255),
	push_flags    smallint NOT NULL DEFAULT 0, -- 1 observing, 2 spent, 4 leased
	push_machine  integer NOT NULL DEFAULT 0 CHECK (push_machine BETWEEN 0 AND 65535),
	push_result   integer NOT NULL DEFAULT 0 CHECK (push_result BETWEEN 0 AND 65535),
	due_at        timestamptz,
	lease         bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (campaign_id, device_id)
) WITH (fillfactor = 80);
CREATE INDEX IF NOT EXISTS members_device ON {s}.members (device_id, campaign_id);
CREATE INDEX IF NOT EXISTS members_state ON {s}.members (campaign_id, state);
CREATE INDEX IF NOT EXISTS members_due ON {s}.members (due_at, campaign_id, device_id) WHERE due_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS {s}.devices (
	device_id       text COLLATE "C" PRIMARY KEY,
	active_campaign text COLLATE "C" NOT NULL DEFAULT '',
	recorded        boolean NOT NULL DEFAULT false, -- a DeviceRecord was put
	account         text COLLATE "C" NOT NULL DEFAULT '',
	license         smallint NOT NULL DEFAULT 0 CHECK (license BETWEEN 0 AND 255),
	licensed_at     timestamptz,
	ever_upgraded   boolean NOT NULL DEFAULT false,
	last_campaign   text COLLATE "C" NOT NULL DEFAULT ''
) WITH (fillfactor = 90);
CREATE INDEX IF NOT EXISTS devices_account ON {s}.devices (account, device_id) WHERE recorded;

CREATE TABLE IF NOT EXISTS {s}.histories (
	device_id text COLLATE "C" PRIMARY KEY,
	n         bigint NOT NULL,  -- the number of the newest check-in
	keep      bigint NOT NULL   -- the history kept: check-ins numbered above n - keep
) WITH (fillfactor = 70);

CREATE TABLE IF NOT EXISTS {s}.check_ins (
	device_id    text COLLATE "C" NOT NULL,
	n            bigint NOT NULL,
	at           timestamptz NOT NULL,
	client_type  bigint NOT NULL,
	result       text NOT NULL,
	failure_type text NOT NULL,
	PRIMARY KEY (device_id, n)
);

CREATE TABLE IF NOT EXISTS {s}.deadlines (
	kind smallint NOT NULL CHECK (kind BETWEEN 0 AND 255),
	key  text COLLATE "C" NOT NULL,
	at   timestamptz NOT NULL,
	PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS deadlines_at ON {s}.deadlines (at, kind, key);

CREATE TABLE IF NOT EXISTS {s}.gates (
	account       text COLLATE "C" NOT NULL,
	software_name text COLLATE "C" NOT NULL,
	software_from text COLLATE "C" NOT NULL,
	software_to   text COLLATE "C" NOT NULL,
	state         smallint NOT NULL CHECK (state BETWEEN 0 AND 255),
	pilots        bigint NOT NULL,
	lifted_at     timestamptz,
	PRIMARY KEY (account, software_name, software_from, software_to)
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

CREATE OR REPLACE FUNCTION {s}.stale(what text) RETURNS integer LANGUAGE plpgsql AS
	$$ BEGIN RAISE EXCEPTION 'sqlstore: % changed since this transaction read it', what USING ERRCODE = '40001'; END $$;`

// Migrate creates the schema, its tables, indexes, sequence and function
// where they are absent, and records SchemaVersion. It is idempotent, and
// safe to run from several replicas at once: it runs in one transaction
// holding an advisory lock derived from the schema name. A schema recorded
// at another version than this package's is an error, and is left alone:
// version 1 (the v1 contract's tables) holds no push bookkeeping and
// keeps check-in counts on device rows, so a host moving to version 2
// creates a new schema (Options.Schema) and lets old campaigns finish on
// the old one.
func (s *Store) Migrate(ctx context.Context) error {
	return s.withConn(ctx, func(conn *pgx.Conn) error { return s.migrate(ctx, conn) })
}

func (s *Store) migrate(ctx context.Context, conn *pgx.Conn) error {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	h := fnv.New64a()
	h.Write([]byte("github.com/fotakit/fota/sqlstore:" + s.schema))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
		return err
	}
	var version int
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, quoteIdent(s.schema)+".meta").Scan(&exists); err != nil {
		return err
	}
	if exists {
		if err := tx.QueryRow(ctx, expand(`SELECT coalesce(max(version), 0) FROM {s}.meta`, quoteIdent(s.schema))).Scan(&version); err != nil {
			return err
		}
		if version != 0 && version != SchemaVersion {
			return fmt.Errorf("sqlstore: schema %q is at version %d, this package's is %d: use another schema", s.schema, version, SchemaVersion)
		}
	}
	// The statements run one at a time (the extended protocol takes one
	// statement per call); the function's body holds no ";\n".
	for _, stmt := range strings.Split(expand(ddl, quoteIdent(s.schema)), ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
	}
	if version == 0 {
		if _, err := tx.Exec(ctx, expand(`INSERT INTO {s}.meta (version) VALUES ($1)`, quoteIdent(s.schema)), SchemaVersion); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// expand puts the quoted schema name in place of {s}.
func expand(q, schema string) string { return strings.ReplaceAll(q, "{s}", schema) }
