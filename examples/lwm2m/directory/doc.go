// Package directory holds the registration directories that replicas of
// examples/lwm2m's server share (server.Directory): Memory, for replicas in
// one process, and Postgres, a table beside fota's own in the database the
// replicas' sqlstore handles use.
//
// Why a directory: fota's outbox leases each push command to whichever
// replica asks first, while an LwM2M device registers with one replica.
// The replica holding the lease looks the device's address up here and
// sends the request from its own socket; the device answers there, and
// notifications of an observation go to the replica that made it, which
// reports them to its own Manager over the shared store. That works for
// CoAP without DTLS (NoSec, as these examples run) or behind a load
// balancer that gives every replica the same public address; with DTLS the
// request would have to go through the replica holding the session.
//
// An entry is the device's latest Register or Update with any replica.
// Withdraw removes it only if it is still the one the withdrawing replica
// published, so that a device that moved on is not forgotten. Lookups
// ignore expired entries (server side).
package directory
