package lwm2m

import (
	"errors"
	"fmt"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/lifecycle"
)

// Observation is what one Read or Notify of /5/0/3 and /5/0/5 told the
// server: the device's State and Update Result at that moment.
type Observation struct {
	State  State
	Result Result
}

// ParseObservation reads the raw values of /5/0/3 and /5/0/5. A value off
// either range is a *RangeError naming the resource.
func ParseObservation(state, result int64) (Observation, error) {
	s, err := ParseState(state)
	if err != nil {
		return Observation{}, err
	}
	r, err := ParseResult(result)
	if err != nil {
		return Observation{}, err
	}
	return Observation{State: s, Result: r}, nil
}

// String writes the observation as "(Downloaded, Initial)".
func (o Observation) String() string { return "(" + o.State.String() + ", " + o.Result.String() + ")" }

func (o Observation) check() error {
	if o.State >= numStates {
		return &RangeError{Resource: ResourceState, Value: int64(o.State)}
	}
	if o.Result >= numResults {
		return &RangeError{Resource: ResourceResult, Value: int64(o.Result)}
	}
	return nil
}

// Event is the device-in-campaign event (push family) that a final
// observation with this result means: EventSucceeded for Success, and for
// failures the table in the package doc. Initial and Deferred end nothing
// and give 0.
func (r Result) Event() device.Event {
	switch r {
	case Success:
		return device.EventSucceeded
	case NotEnoughFlash, OutOfRAM, ConnectionLost, IntegrityCheckFailure, UnsupportedPackageType, UpdateFailed:
		return device.EventUpdateFailed // the device or its package failed
	case InvalidURI, UnsupportedProtocol, Cancelled:
		return device.EventInternalError // the server's request failed; a retry may work
	}
	return 0
}

// Verdict is what an observation means for the campaign.
type Verdict uint8

// The verdicts.
const (
	InProgress Verdict = iota // nothing to report yet
	Succeeded                 // the update is installed: report device.EventSucceeded
	Failed                    // the update failed: report Outcome.Event
	Settled                   // an earlier observation already decided the outcome
)

var verdictNames = [...]string{"InProgress", "Succeeded", "Failed", "Settled"}

// String is the verdict's name ("Succeeded").
func (v Verdict) String() string {
	if int(v) >= len(verdictNames) {
		return fmt.Sprintf("Verdict(%d)", uint8(v))
	}
	return verdictNames[v]
}

// Outcome is what Tracker.Observe concluded from one observation.
type Outcome struct {
	Verdict Verdict
	Event   device.Event // the device-in-campaign event to apply; 0 unless Succeeded or Failed
	Result  Result       // the Update Result that decided it (Succeeded, Failed)
}

// Command is what the server should do next (Cumulocity's flow, spec
// §3.2), as Tracker.Next says.
type Command uint8

// The commands.
const (
	CommandWait          Command = iota // send nothing; wait for a notification, Read /5/0 if none comes
	CommandReset                        // Write "" to /5/0/1 (or '\0' to /5/0/0)
	CommandWritePackage                 // Write the Package URI /5/0/1 (or the package to /5/0/0, block-wise)
	CommandExecuteUpdate                // Execute /5/0/2
	CommandDone                         // the outcome is settled; nothing more to do

	numCommands
)

var commandNames = [numCommands]string{"wait", "reset", "writePackage", "executeUpdate", "done"}

// String is the command's name ("executeUpdate").
func (c Command) String() string {
	if c >= numCommands {
		return fmt.Sprintf("Command(%d)", uint8(c))
	}
	return commandNames[c]
}

// Tracker is what the server knows of one device's firmware update: the
// last observation and the commands the device acknowledged. It is a
// value: Observe and Sent return the new one and leave the receiver as it
// was, so a host can store it with the device and drop it on error. The
// zero Tracker knows nothing.
type Tracker struct {
	v uint16 // as Pack lays it out: the last observation, then the flags
}

// last is the last observation (zero when none is known).
func (t Tracker) last() Observation { return Observation{State(t.v & 3), Result(t.v >> 2 & 15)} }

// has reports whether any of flags is set.
func (t Tracker) has(flags uint16) bool { return t.v&flags != 0 }

// with is t with flag set.
func (t Tracker) with(flag uint16) Tracker { return Tracker{t.v | flag} }

// withLast is t holding o as its last observation, known.
func (t Tracker) withLast(o Observation) Tracker {
	return Tracker{t.v&^obsMask | uint16(o.State) | uint16(o.Result)<<2 | packKnown}
}

// Last is the last observation (or the state an acknowledged command
// implies) and whether there is one.
func (t Tracker) Last() (Observation, bool) { return t.last(), t.has(packKnown) }

// Settled reports whether an observation has decided the outcome.
func (t Tracker) Settled() bool { return t.has(packSettled) }

// ErrUnreachable is matched by errors reporting an observation that the
// state machine cannot reach from the last one.
var ErrUnreachable = errors.New("unreachable observation")

// JumpError names the last observation and the one that cannot follow it.
// When Known is false there was no last observation and To is a
// (State, Result) pair that no transition produces.
type JumpError struct {
	From  Observation
	Known bool
	To    Observation
}

func (e *JumpError) Error() string {
	if !e.Known {
		return "fota: lwm2m: observation " + e.To.String() + " is no state of the firmware update machine"
	}
	return "fota: lwm2m: observation " + e.To.String() + " cannot follow " + e.From.String()
}

// Is reports whether target is ErrUnreachable.
func (e *JumpError) Is(target error) bool { return target == ErrUnreachable }

// Observe takes one Read or Notify of /5/0/3 and /5/0/5 and says what it
// means. Notifications may be lost (Observe is best effort, OMA #464), so
// an observation is accepted when the machine can reach it from the last
// one through transitions nobody told the server about: the device's own,
// another server's Cancel, and one answer to an acknowledged Execute. A
// repeat of the last observation is accepted too. Anything else is a
// *JumpError, and t is returned unchanged.
func (t Tracker) Observe(o Observation) (Tracker, Outcome, error) {
	if err := o.check(); err != nil {
		return t, Outcome{}, err
	}
	b := bitOf(o)
	used := false
	last := t.last()
	switch {
	case !t.has(packKnown):
		if graph.consistent&b == 0 {
			return t, Outcome{}, &JumpError{To: o}
		}
	case graph.reach0[nodeOf(last)]&b != 0:
	case t.has(packExecuted) && graph.reach1[nodeOf(last)]&b != 0:
		used = true
	default:
		return t, Outcome{}, &JumpError{From: last, Known: true, To: o}
	}
	n := t.withLast(o)
	if t.v&(packReset|packWritten) == packReset && o == (Observation{Idle, Initial}) {
		// The device cannot come back to (Idle, Initial) on its own: this
		// shows the reset done, and what follows it is newer still
		// (package doc, "Next").
		n.v |= packRested
	}
	if used {
		n.v = n.v&^packExecuted | packStarted
	}
	var out Outcome
	switch {
	case t.has(packSettled):
		out.Verdict = Settled
	case o == Observation{Idle, Success} && n.has(packStarted):
		out = Outcome{Verdict: Succeeded, Event: device.EventSucceeded, Result: Success}
	case isFinal(o) && n.has(packWritten|packStarted):
		out = Outcome{Verdict: Failed, Event: o.Result.Event(), Result: o.Result}
	}
	if out.Verdict != InProgress {
		n.v |= packSettled
	}
	return n, out, nil
}

// isFinal reports whether o ends an attempt in failure: Idle with a failure
// result, or Downloaded after a failed update (T9).
func isFinal(o Observation) bool {
	if o.Result == Initial || o.Result == Success || o.Result == Deferred {
		return false
	}
	return o.State == Idle || o == Observation{Downloaded, UpdateFailed}
}

// Sent records that the device acknowledged command c (2.04 Changed, or
// 2.31 Continue then 2.04 for a block-wise package; for a package write
// also 4.00 Bad Request, which a client may answer while recording the
// refusal in the Update Result, see the package doc). A reset starts a new
// attempt at (Idle, Initial), whose package write Next holds back until an
// observation shows (Idle, Initial); a package write moves to (Downloading,
// Initial), since the client changes state when it receives the package
// or URI (OMA #163); an Execute changes nothing visible until the device
// reports Updating or a deferral. A command the last known state refuses
// (or any command but a reset before the first observation, or Wait and
// Done) is a *lifecycle.TransitionError, and t is returned unchanged.
func (t Tracker) Sent(c Command) (Tracker, error) {
	known, last := t.has(packKnown), t.last()
	switch c {
	case CommandReset:
		if !known || Table.Can(last.State, EventReset) {
			return Tracker{}.withLast(Observation{Idle, Initial}).with(packReset), nil
		}
	case CommandWritePackage:
		if s, ok := Table.Lookup(last.State, EventWritePackage); known && ok {
			return t.withLast(Observation{s, Initial}).with(packWritten), nil
		}
	case CommandExecuteUpdate:
		if known && Table.Can(last.State, EventUpdate) {
			return t.with(packExecuted), nil
		}
	}
	st := "Unknown"
	if known {
		st = last.State.String()
	}
	return t, &lifecycle.TransitionError{Lifecycle: Table.Name(), State: st, Event: c.String()}
}

// Next says what the server should do now, following Cumulocity's flow
// (Cumulocity's LwM2M firmware-update flow): reset, write the package, execute the update on
// Downloaded, then wait for the result. The reset is skipped when all the
// server knows is that the device is at rest in (Idle, Initial): a reset
// there would leave it exactly so. After an acknowledged reset the package
// write waits (CommandWait) for an observation of (Idle, Initial), so that
// a notification sent before the reset and delivered after its
// acknowledgement is never taken for this attempt's (see the package doc).
func (t Tracker) Next() Command {
	switch {
	case t.has(packSettled):
		return CommandDone
	case !t.has(packReset | packWritten):
		switch {
		case t == Tracker{}.withLast(Observation{Idle, Initial}):
			return CommandWritePackage // nothing to reset
		case t.has(packKnown) && t.last().State == Updating:
			return CommandWait // a reset would be refused (4.05); wait for the update to end
		}
		return CommandReset
	case !t.has(packWritten | packRested):
		return CommandWait // the reset is acknowledged; its (Idle, Initial) is not seen yet
	case !t.has(packWritten):
		return CommandWritePackage
	case !t.has(packExecuted|packStarted) && t.last() == Observation{Downloaded, Initial}:
		return CommandExecuteUpdate
	}
	return CommandWait
}

// The (State, Result) graph the Tracker searches, derived from Table and
// the events' results at init. A node is State*numResults+Result; sets of
// nodes are bit sets.
const numNodes = numStates * numResults

func nodeOf(o Observation) uint  { return uint(o.State)*numResults + uint(o.Result) }
func bitOf(o Observation) uint64 { return 1 << nodeOf(o) }
func obsOf(n uint) Observation   { return Observation{State(n / numResults), Result(n % numResults)} }
func each(set uint64, f func(uint)) {
	for n := uint(0); n < numNodes; n++ {
		if set&(1<<n) != 0 {
			f(n)
		}
	}
}

var graph = buildGraph()

type reachGraph struct {
	consistent uint64           // pairs some transition produces, and (Idle, Initial)
	free       [numNodes]uint64 // edges the server is not told about
	gated      [numNodes]uint64 // edges answering an acknowledged Execute
	reach0     [numNodes]uint64 // reachable through free edges (including staying)
	reach1     [numNodes]uint64 // reachable through free edges and at most one gated edge
}

func buildGraph() *reachGraph {
	g := &reachGraph{consistent: bitOf(Observation{Idle, Initial})}
	for _, s := range States {
		for _, e := range EventList {
			if d, ok := Table.Lookup(s, e); ok {
				for _, r := range eventInfos[e].results {
					g.consistent |= bitOf(Observation{d, r})
				}
			}
		}
	}
	each(g.consistent, func(n uint) {
		from := obsOf(n)
		for _, e := range EventList {
			d, ok := Table.Lookup(from.State, e)
			// Only a deferred update waits for the user's acceptance.
			if !ok || (e == EventAcceptDeferred && from.Result != Deferred) {
				continue
			}
			for _, r := range eventInfos[e].results {
				switch eventInfos[e].by {
				case byDevice:
					g.free[n] |= bitOf(Observation{d, r})
				case byExecute:
					g.gated[n] |= bitOf(Observation{d, r})
				}
			}
		}
	})
	for n := range uint(numNodes) {
		set := uint64(1) << n
		for {
			next := set
			each(set, func(m uint) { next |= g.free[m] })
			if next == set {
				break
			}
			set = next
		}
		g.reach0[n] = set
	}
	for n := range uint(numNodes) {
		set := g.reach0[n]
		each(g.reach0[n], func(m uint) {
			each(g.gated[m], func(k uint) { set |= g.reach0[k] })
		})
		g.reach1[n] = set
	}
	return g
}

// ResourceTracker is the name a *RangeError gives a packed Tracker.
const ResourceTracker = "tracker"

// Tracker bits, as Pack lays them out: the last observation's State in
// bits 0..1 and Result in 2..5, then one bit per flag (6..12). A Tracker
// is kept so, so that Pack and UnpackTracker cost nothing.
const (
	packKnown    = 1 << (6 + iota) // the last observation is known (or the state an acknowledged write implies)
	packReset                      // a reset was acknowledged in this attempt
	packWritten                    // the package or its URI was acknowledged in this attempt
	packExecuted                   // Execute /5/0/2 acknowledged, not yet seen taking effect
	packStarted                    // an observation showed the Execute taking effect
	packSettled                    // an observation decided the outcome
	packRested                     // since the reset's acknowledgement, an observation showed (Idle, Initial)

	packMask = packRested<<1 - 1
	obsMask  = 1<<6 - 1 // the last observation's bits
)

// Pack encodes the tracker in bits 0..12 of 16, so a store keeps it beside
// the device's other columns (and a host has bits 13..15 for its own): a
// server that restarts, or another replica, resumes exactly where this one
// was.
func (t Tracker) Pack() uint16 { return t.v }

// UnpackTracker decodes what Pack wrote. A value Pack never writes (a
// result beyond the registry's, unused bits) is a *RangeError naming
// ResourceTracker.
func UnpackTracker(v uint16) (Tracker, error) {
	if v&^packMask != 0 || State(v&3) >= numStates || Result(v>>2&15) >= numResults {
		return Tracker{}, &RangeError{Resource: ResourceTracker, Value: int64(v)}
	}
	return Tracker{v}, nil
}
