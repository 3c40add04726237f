// Package sqlstore is a fota.Store on PostgreSQL, through database/sql
// and pgx's driver, for hosts that run several server replicas over one
// database. It passes the storetest conformance suite, as the in-memory
// store does.
//
// # Using it
//
//	db, err := sql.Open("pgx", "postgres://fota@db/fota") // this package registers "pgx"
//	store, err := sqlstore.Open(ctx, db, sqlstore.Options{Schema: "fota"})
//	err = store.Migrate(ctx) // once per deployment; idempotent
//	m, err := fota.New(fota.Config{Store: store, ...})
//
// A host must:
//   - run Migrate before the first transaction, from one replica or from
//     all of them at start-up (it takes an advisory lock and creates only
//     what is missing, in one transaction);
//   - size the pool: every Update and View holds one connection for its
//     whole transaction (a check-in, four statements), so
//     db.SetMaxOpenConns bounds the operations in flight per replica. Keep
//     the sum over all replicas under the server's max_connections, less
//     what other clients need. More connections than the server has cores
//     rarely help: beyond that, concurrent transactions mostly add
//     serialization retries. Each connection prepares the store's
//     statements once (pgx's statement cache), so long-lived connections
//     are cheapest (SetConnMaxIdleTime rather than a short
//     SetConnMaxLifetime);
//   - watch Stats: Retries counts re-run transactions, MaxAttempts the
//     worst single Update, Conflicts the Updates given up.
//
// # Schema
//
// Everything lives in one PostgreSQL schema (Options.Schema, default
// "fota"), so several stores, or a store and the host's own tables, share
// a database. Ids are text COLLATE "C", so listing and paging go by bytes
// as Go compares strings, whatever the database's locale. Enumerations
// are their numbers (smallint, with range checks); instants are
// timestamptz (microseconds); the optional ones (a campaign's start and
// end, a gate's lift, a session's times) are NULL when zero.
//
//	meta       version                       the schema version (SchemaVersion)
//	campaigns  id primary key, account, name, protocol, status, make, model,
//	           software_from, software_to, software_name, timing (jsonb),
//	           starts_at, ends_at, on_demand, pilot, revision, created_at,
//	           updated_at; index (account, id) for Campaigns
//	members    (campaign_id, device_id) primary key, state, reason,
//	           updated_at; campaign_id references campaigns
//	devices    device_id primary key, active_campaign ('' for none), account,
//	           license, ever_upgraded, history (check-ins stored)
//	check_ins  id identity, device_id, at, client_type, result,
//	           failure_type; index (device_id, at, id)
//	deadlines  (kind, key) primary key, at; index (at, kind, key) for Due
//	gates      (make, model, software_from, software_to) primary key,
//	           state, pilots, lifted_at
//	sessions   device_id primary key, account, state, enabled_at,
//	           collecting_at, ended_at; index (account, device_id)
//	bundles    id identity, device_id, log_time, log_type, event_log,
//	           file_base64, file_name, uploaded_at; index (device_id,
//	           uploaded_at, id)
//	seq        a sequence, for NextSeq
//
// The timing column holds the campaign's schedule.HTTPRequest as JSON in
// a shape of the store's own (dates as [year, month, day]), because the
// request's wire form refuses dates outside 0001..9999 and a store keeps
// whatever record it is given. A revision is stored bit for bit in a
// bigint, so one past 2^63 reads back as written.
//
// # Counts are derived
//
// No row is written on every device transition (DESIGN §9): the store
// keeps no campaign tallies. Counts is one
//
//	SELECT state, count(*) FROM members WHERE campaign_id = $1 GROUP BY state
//
// over the primary key's range of the campaign, so it costs O(members) and
// reads the members as they are in the transaction. The Manager asks for
// Counts in queries, when a device succeeds (to end the campaign early)
// and when devices are added or removed; never on a plain check-in. The
// price is that two devices finishing at once both read every member of
// the campaign, so one of the two is retried (see below); a tally row
// would instead make every transition of every device in the campaign
// conflict on one row. PostgreSQL tracks what a SERIALIZABLE transaction
// read in pages and, past max_pred_locks_per_relation pages (by default
// half of max_pred_locks_per_transaction, 64), in whole tables: a Counts
// over a campaign of more than a few thousand members then marks all of
// members as read, and finishing devices of different campaigns conflict
// too. A host running large campaigns should raise those two server
// settings.
//
// # Isolation, and why
//
// Update runs SERIALIZABLE. The Manager's operations are
// read-decide-write: a report reads the member and the counts and ends
// the campaign when the last device succeeds; admitting devices reads the
// pilot gate and the devices' other campaigns. Under snapshot isolation
// two such operations on different rows can each miss the other's write
// (write skew): two last reports committing side by side would each see
// the other device unfinished, and the campaign would never end. Row
// locks (SELECT ... FOR UPDATE under READ COMMITTED) would close that only
// where every operation locks every row another may write, including rows
// that do not exist yet; SERIALIZABLE closes it everywhere, at the price
// of retries.
//
// A serialization failure (SQLSTATE 40001) or deadlock (40P01), raised by
// any statement or by the commit, rolls the transaction back, and Update
// runs its function again in a new transaction: at once the first time,
// then after a random pause whose bound doubles from 100µs up to
// Options.MaxBackoff (20 ms), at most Options.MaxRetries times (1,000), then
// gives up with a *ConflictError (ErrConflict): the contract wants no
// Update to fail, conflicts pass, and ctx bounds the wait, so the limit is
// there to stop a livelock, not to shed load. The Manager's functions
// are safe to re-run: each resets what it gathered, and its observers
// hear only of the run that committed. Once a statement failed the
// transaction is aborted: every later call through the Tx returns that
// error again, and Update returns it (or retries it) even if the function
// swallowed it. A function's own error rolls back and is returned as is,
// never retried.
//
// View runs REPEATABLE READ READ ONLY: one snapshot for the whole
// function, which never waits for writers, never blocks them and never
// fails to serialize. SERIALIZABLE READ ONLY DEFERRABLE would also rule
// out the read-only anomaly (a snapshot showing a later transaction's
// writes without an earlier one's that a serial order needs), but it may
// wait for a safe snapshot for as long as writers are busy, and a View
// decides nothing: the Manager's decisions all run in Updates. Writes
// through a View's Tx fail with fota.ErrReadOnly without reaching the
// database.
//
// A cancelled or expired context makes Update and View return ctx.Err()
// without running the function; one cancelled mid-transaction rolls it
// back.
//
// # How a check-in reads and writes
//
// A check-in in a campaign is four statements: BEGIN; one read of the
// device's context (its active campaign, its logging session, the
// campaign's record and its member in it, joined on the device's rows and
// the campaign's); one statement that records the check-in (inserting it,
// counting the device's history in its devices row and trimming the
// oldest beyond the history limit); and COMMIT — plus the member's write
// when it moves. The transaction keeps what the first read returned and
// answers the Manager's next reads of the session, the campaign and the
// member from it, until it writes one of them. The statements touch only
// the device's own rows and the campaign's, so concurrent check-ins of
// different devices rarely conflict.
//
// # Choices where the contract is silent
//
//   - PutMember of a state Counts has no slot for (32 or more) is refused
//     with a *fota.NotFoundError of Kind "device state", as MemoryStore
//     does; the column's check enforces it too.
//   - DeleteMember of a missing member returns a *fota.NotFoundError
//     (device in campaign, or the campaign), as MemoryStore does.
//   - Check-ins and bundles are ordered by their own time, ties by
//     arrival. AddCheckIn trims the oldest of the history assuming the new
//     check-in is the newest (the Manager stamps it with its clock): one
//     older than a full history displaces the oldest instead of being
//     dropped.
//   - AddCheckIn with keep of 0 or less keeps nothing and writes nothing,
//     as MemoryStore does.
//   - NextSeq is a PostgreSQL sequence: numbers are unique and increase
//     in the order transactions ask for them, and a rolled-back
//     transaction's number is never handed out again.
//   - Text must be valid UTF-8 without NUL (PostgreSQL's text type); a
//     statement given other text fails, and with it the transaction.
//
// # Tests
//
// The tests need PostgreSQL: postgres://postgres@127.0.0.1:5432/test
// (trust authentication), or the URL in FOTA_PG_URL. They fail, never
// skip, when it does not answer. Each test works in a schema of its own
// with a random name, dropped when it ends, so test binaries may run at
// once; their connections set synchronous_commit off (commits do not
// wait for the disk; isolation is unchanged). The conformance suite
// makes a few hundred thousand round trips at rapid's default check
// count, which makes it the bulk of the package's test time.
package sqlstore
