// Package storetest is the conformance suite for fota.Store: every store
// implementation runs it from its own tests, so that the in-memory store
// and a database store are held to one contract.
//
// # Using it
//
// Call Run from a test of the store's package, with a function returning
// an empty store:
//
//	func TestStore(t *testing.T) {
//		db := openTestDatabase(t) // once per test binary
//		storetest.Run(t, func(t *testing.T) fota.Store {
//			truncateAll(t, db) // newStore must return an empty store
//			return sqlstore.New(db)
//		})
//	}
//
// A store that can open a second handle on the same data (a second
// connection pool over the same database, as another Manager replica
// holds) passes it with WithHandle, so that the concurrency checks run
// half their transactions through each handle:
//
//	storetest.Run(t, newStore, storetest.WithHandle(func(t *testing.T, s fota.Store) fota.Store {
//		return openStore(t, openPool(t)) // another pool, the same database
//	}))
//
// Run calls newStore once per subtest and once per rapid iteration (a few
// thousand times at the default check count), so it should be cheap:
// TRUNCATE or a fresh schema, not a new database. Subtests run one after
// another, never in parallel, so a newStore that empties one shared
// database is fine. The suite only uses the Store, Tx and DeviceTx
// interfaces, makes no assumption about timing (no sleeps, no wall-clock
// checks; each subtest's transactions share a two-minute context), and
// cleans up nothing: whatever newStore registers with t.Cleanup runs when
// the subtest ends.
//
// # What it checks
//
// Every part of the Tx contract (campaigns, members and their paging,
// AddMembers, Counts, AnyMember, DeviceMembers, DueMembers and NextDue,
// the active campaign, device records and their paging, check-in history,
// deadlines, pilot gates, logging sessions, bundles, NextSeq) against a
// hand-written model with rapid, every field of every record round trip
// (a member's push bookkeeping, a campaign's cursor, a device's licence
// time), and the transactions: a transaction sees its own writes; a
// committed Update is visible to the next View and Update; an Update
// whose function returns an error leaves a full read-back of the store
// unchanged and returns that error, ten thousand members added in batches
// included; every write in a View fails with fota.ErrReadOnly and changes
// nothing; a cancelled or expired context makes Update and View return
// its error without running the function. Device transactions are checked
// against the same model: every DeviceTx read before and after each write,
// all or nothing on commit and failure, and the writes a DeviceTx refuses
// (another device's records, a member that does not exist). Subtests are
// named Group/Case (Campaigns/ListPaging, Transactions/Model, ...), so
// -run can select one.
//
// # The isolation it demands
//
// Concurrency/ReadModifyWrite runs 16 goroutines of 200 Updates each that
// read a member and the campaign's tally member, advance both and put them
// back, while a reader checks in Views that the tally equals the sum of
// the members. It demands what the fota.Store doc says: Updates touching
// the same rows are serializable (no lost update; a store retries
// serialization failures itself, as no Update may fail), and a View is a
// consistent snapshot. It also demands that the NextSeq numbers committed
// transactions obtained are distinct.
//
// Concurrency/DueLeases has workers on both handles lease due members at
// once, a few per Update, as replicas' outboxes do: every due member goes
// to exactly one committed transaction (DueMembers skips what another
// transaction holds: FOR UPDATE SKIP LOCKED).
// Concurrency/SweepBesideDevices pages through a campaign's members in
// Updates, moving and releasing each, while device transactions on the
// other handle advance the same members: no update is lost on either side
// and nothing deadlocks. DeviceTx/Concurrent runs device transactions of
// shared and distinct devices beside Views.
//
// # Retries
//
// A store may run a transaction's function more than once. Every function
// the suite passes takes the same actions when run again on the same
// data: it draws from rapid before the transaction and only applies what
// it drew inside, and keeps no state of its own across runs. The suite's
// own tests hold it to that by running it against a store that runs every
// function twice and compares the runs call by call.
//
// # Choices where the contract is silent
//
//   - Times: a store keeps instants to the microsecond (PostgreSQL's
//     precision), not the zone or the monotonic reading. The suite writes
//     times truncated to the microsecond, in several zones, within a day
//     of 2025-03-01, and compares them with Equal. Zero times (an unset
//     StartsAt, LiftedAt, EndedAt) must read back as zero, except
//     Member.UpdatedAt, which the suite always sets.
//   - Ordering is by bytes, Go's string order ("C-1" < "C2" < "c-2"), not a
//     locale collation: ids mix cases and punctuation to check it. On
//     PostgreSQL use COLLATE "C" for id columns.
//   - Text is valid UTF-8 without NUL (PostgreSQL's text type refuses NUL).
//   - Limits are always positive; what a store does with 0 or a negative
//     limit is not checked.
//   - AnyMember of an unknown campaign is not found, as Counts is.
//   - Lookups of missing records return a *fota.NotFoundError with Kind
//     "campaign" (ID the campaign) or, for a member, Kind "device" with ID
//     the device and Campaign set, so that the Manager's errors read the
//     same on every store. DeleteMember of a missing member may succeed or
//     report ErrNotFound; either way it changes nothing.
//   - Check-ins and bundles are written in time order (as the Manager
//     does, stamping them with its clock), so "newest" and "oldest" mean
//     both the last added and the latest TimeCompleted or UploadedAt. The
//     suite uses one keep value per store, as the Manager does.
//   - NextSeq: only the numbers of committed transactions must be strictly
//     increasing (one after another) and unique (concurrently); a number a
//     rolled-back transaction obtained may be handed out again.
//   - Members are put only into existing campaigns, and devices are made
//     active only in existing campaigns, so that a store with foreign keys
//     passes.
//   - The suite never uses a Tx after one of its calls failed inside an
//     Update: a database may have aborted the transaction by then.
//   - DueMembers is called only inside Updates (a store may lock what it
//     returns, which a read-only transaction cannot); NextDue anywhere.
//   - Known is true when the store holds a check-in, a device record, a
//     logging session or a member record of the device, false when it
//     holds nothing of it; for a device with only an active campaign or
//     bundles either answer passes.
//   - A foreign device id in a DeviceTx write is refused with an error
//     matching fota.ErrBadRequest (a *fota.RequestError naming the id), a
//     member that does not exist with a *fota.NotFoundError, as Member
//     reports it. AddMembers of a device already in the campaign, from
//     before or earlier in the same call, is a *fota.RequestError naming
//     the device.
package storetest
