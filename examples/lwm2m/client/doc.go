// Package client is a simulated LwM2M client for tests and demos: a real
// CoAP endpoint on its own UDP socket (listening, as a device listens on
// its port, so that any replica of the server can reach it at its
// registered address; answers and notifications go to whoever asked) that
// registers with an LwM2M server, holds the Firmware Update object /5/0
// and moves it with device/lwm2m's machine (lwm2m.Step), so that every
// state it reports is one the specification allows.
//
// # What a client does
//
//   - Start registers (POST /rd with ep, lt, lwm2m=1.1, b=U and the object
//     list </1/0>,</3/0>,</5/0>) and sends an Update at half the lifetime.
//   - Write /5/0/1: "" resets (4.05 while Updating, as Anjay); a URI starts
//     a download from Idle (4.00 elsewhere, as Anjay), fetched with CoAP
//     Block2 GETs from its own socket, started over after a 15 s stall and
//     given up (Update Result 4) after three.
//   - Execute /5/0/2 updates from Downloaded (4.05 elsewhere).
//   - Read /5/0 answers TLV, SenML JSON or SenML CBOR (Knobs.ReadFormat,
//     or the Accept option); a Read of /5/0/1, /5/0/3 or /5/0/5 answers
//     plain text; Observe of /5/0/3 and /5/0/5 (one observer per resource:
//     a new Observe replaces the last, and a Register forgets them all).
//   - Notifications are Confirmable, in order, from one sender goroutine,
//     the Update Result before the State.
//
// # Knobs
//
// Knobs fail downloads or updates with a given Update Result, send
// notifications a server must refuse (another object, oversize), lose a share
// of notifications (drawn from a PCG source seeded by Config.Seed, so a
// fleet loses the same notifications on every run), stretch downloads and
// updates, and make a client reboot offline while Updating: it keeps its
// Object 5 state across the reboot (as Anjay restores it) and registers
// anew. Offline takes a client off the network for a while at any time
// (a new socket and a new registration when it comes back); Silence makes
// it deaf and mute on its registered address for as long as the caller
// says (a device that is off while its registration still stands: the
// server's requests go unanswered). Stats counts the package writes,
// resets and Executes a client received, so a test can tell how often it
// was pushed.
//
// Fleet starts many clients, client i with endpoint
// "urn:imei:"+IMEI(First+i).
package client
