// Package server is an LwM2M server over UDP (CoAP, RFC 7252, on
// github.com/plgd-dev/go-coap/v3) for firmware updates: the Registration
// interface, the Object 5 operations a firmware update needs, ordered
// observations of /5/0/3 and /5/0/5, and the firmware image served by CoAP
// block-wise transfer. Sources: OMA LwM2M 1.1 Core and Transport
// (https://www.openmobilealliance.org/release/LightweightM2M/V1_1_1-20190617-A/),
// RFC 7641 (Observe), RFC 7959 (block-wise), and device/lwm2m's package doc
// for Object 5.
//
// # How the pieces fit
//
//   - server.go: Config, New, Start, Close; the CoAP handler that serves
//     /rd and /fw/ and routes notifications; the message monitor that
//     counts every message and resets notifications on unknown tokens.
//   - registration.go: Register (POST /rd?ep=…&lt=…&lwm2m=…&b=U with the
//     object list in link format, answered 2.01 Created with Location
//     /rd/N), Update (POST /rd/N), De-register (DELETE /rd/N) and lifetime
//     expiry; each is an Event for Config.OnRegistration.
//   - endpoint.go: EndpointIMEI maps "urn:imei:<IMEI>" to the fota device ID;
//     Config.Known says whether that device is one of ours.
//   - operations.go: WritePackageURI, Reset, ExecuteUpdate, Observe, Read,
//     CancelObservations: each a Confirmable request to the registered
//     address, returning a Receipt (the CoAP code, or no answer).
//   - observation.go, device.go: each notification is checked and ordered,
//     and the (State, Update Result) pair goes to Config.OnObservation.
//   - firmware.go: AddFirmware serves an image at coap://<server>/fw/<name>
//     with its size and SHA-256 known.
//   - directory.go: Directory, which replicas of this server serving one
//     fleet share (package directory has a memory and a PostgreSQL one):
//     each publishes the registrations it accepts, and an operation on a
//     device registered with another replica goes to the address found
//     there, from this replica's socket.
//
// # Observations
//
// Observe observes /5/0/5 and then /5/0/3 on tokens of its own; the
// answers are the current values. A notification is accepted only on an
// active token, from the address that was observed, as 2.05 Content
// holding exactly the observed resource (plain text, TLV, SenML JSON or
// CBOR, LwM2M JSON: package content) with a legal value, no larger than
// Config.MaxPayload, and newer than the last one on that token by its
// Observe number (RFC 7641 §3.4, Newer). Anything else is refused (Stats,
// Config.Errors with an *ArgError matching ErrNotification); a
// notification on an unknown token is answered with Reset (RFC 7641 §3.6),
// which is also how a cancelled or replaced observation ends on a client
// that ignored the deregistration. Nothing about an object other than /5
// passes: records outside the observed path are refused by content.Decode.
//
// The two resources arrive in separate notifications, so the server pairs
// each with the last value of the other. A pair that is no state of the
// Object 5 machine — (Updating, Success) while a client that reports the
// result first is between its two notifications — is held back until the
// other resource catches up; the pairs handed on are always states of the
// machine (device/lwm2m's Tracker judges whether they can follow). Pairs
// go to OnObservation, and registration events to OnRegistration, through
// one queue per device: in order, one at a time, on a goroutine of their
// own, so a handler may call this server's operations for the same device.
//
// Flush waits until what was queued for a device before the call has been
// handed on: a host that reports a command's answer before the
// notifications that came meanwhile, and those before its next command,
// calls it between the two (package push does).
//
// Read reads /5/0 and hands the pair on in the same queue. A client that
// refuses that Read (lwm2m-node-lib 1.4.0 answers 4.04) or answers it in a
// form that cannot be read is read resource by resource from then on.
//
// # Choices where the sources leave room
//
//   - Registration is strict: the query parameters are ep, lt, lwm2m, b and
//     sms, each at most once; anything else is 4.00. lwm2m is 1.0, 1.1 or
//     1.2 (else 4.12 Precondition Failed), default 1.0; b is "U" only (no
//     queue mode, no SMS); lt is whole seconds within MinLifetime and
//     MaxLifetime, default 86400. The payload is application/link-format or
//     has no Content-Format (lwm2m-node-lib sends none); others are 4.15.
//     The object list is read by package linkformat; a refusal is 4.00.
//   - An endpoint name that is not "urn:imei:<valid IMEI>" is 4.00; a valid
//     one that Known denies is 4.03 Forbidden; a failing Known is 5.03.
//   - A Register from a device already registered replaces its registration:
//     new location, observations gone (the client restarted). An Update
//     moves the registration to the address it came from (LwM2M Core
//     §6.2.2: NAT rebinding; lwm2m-node-lib sends each request from a new
//     port).
//   - Operations on a device without a registration are a *DeviceError
//     matching ErrNotRegistered; on one that did not announce /5/0,
//     ErrNoFirmwareObject. A device that does not answer within
//     AnswerTimeout (CoAP retransmissions included) gives a Receipt with
//     Delivered false and no error: that is an answer of the network.
//   - Firmware is served to any client that asks (the URI carries no
//     secret; a deployment would use CoAPS and per-device URIs). go-coap's
//     block-wise layer cuts the image into Config.BlockSize blocks and keeps
//     the answer for later blocks; the ETag is the SHA-256's first 8 bytes.
//   - The socket asks for a 4 MiB receive buffer: measured here, 600
//     clients downloading at once from the default 208 KiB buffer lost
//     datagrams, and go-coap v3.8.0's block-wise client did not recover
//     about a quarter of those downloads within 20 s; with 4 MiB none failed.
//   - The CoAP state of an address without a registration is closed after
//     IdleTimeout; a registered client's stays, since its observations live
//     there.
//   - With a Directory, a replica sends to a device registered with another
//     from its own socket, and observes it from there: that needs CoAP
//     without DTLS (or replicas behind one address), and a client that
//     answers whoever asks (the simulated clients listen on their port;
//     lwm2m-node-lib does too). Registered and Registration list only this
//     replica's own registrations. An entry of this replica's own name, or
//     one past its lifetime, is not followed. A device that registered with
//     another replica while this one still holds an older registration is
//     reached at the older one until it expires or is replaced here.
//
// Not served: DTLS, queue mode, Bootstrap, LwM2M 1.1 Send, and push of the
// package itself to /5/0/0 (Block1 writes); the pull of /5/0/1 is what
// fota's push flow uses.
package server
