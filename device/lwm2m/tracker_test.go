package lwm2m

import (
	"errors"
	"slices"
	"testing"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/lifecycle"
	"pgregory.net/rapid"
)

func obs(s State, r Result) Observation { return Observation{s, r} }

// modelPairs lists by hand the (State, Result) pairs the machine can hold
// (package doc, "The observer").
var modelPairs = func() []Observation {
	var ps []Observation
	for r := Initial; r <= Cancelled; r++ {
		ps = append(ps, obs(Idle, r))
	}
	return append(ps, obs(Downloading, 0), obs(Downloaded, 0), obs(Downloaded, UpdateFailed), obs(Downloaded, Deferred), obs(Updating, 0))
}()

// modelMoves is the pair graph written out by hand: moves the server is
// not told about (free) and answers to an acknowledged Execute (gated).
func modelMoves(o Observation) (free, gated []Observation) {
	switch o.State {
	case Downloading:
		free = []Observation{obs(Downloaded, 0), obs(Idle, 10)}
		for _, r := range []Result{2, 3, 4, 5, 6, 7, 9} {
			free = append(free, obs(Idle, r))
		}
	case Downloaded:
		free = []Observation{obs(Idle, Cancelled)}
		if o.Result == Deferred {
			free = append(free, obs(Updating, 0))
		}
		gated = []Observation{obs(Updating, 0), obs(Downloaded, Deferred)}
	case Updating:
		free = []Observation{obs(Idle, Success), obs(Downloaded, UpdateFailed), obs(Idle, IntegrityCheckFailure), obs(Idle, UpdateFailed)}
	}
	return free, gated
}

// modelReach reports whether to is reachable from from, and whether only
// by spending the one Execute.
func modelReach(from, to Observation, exec bool) (ok, spendsExec bool) {
	var walk func(o Observation, exec bool, seen map[Observation]bool) bool
	walk = func(o Observation, exec bool, seen map[Observation]bool) bool {
		if o == to {
			return true
		}
		if seen[o] {
			return false
		}
		seen[o] = true
		free, gated := modelMoves(o)
		for _, n := range free {
			if walk(n, exec, seen) {
				return true
			}
		}
		if exec {
			for _, n := range gated {
				if walk(n, false, map[Observation]bool{}) {
					return true
				}
			}
		}
		return false
	}
	if walk(from, false, map[Observation]bool{}) {
		return true, false
	}
	if exec && walk(from, true, map[Observation]bool{}) {
		return true, true
	}
	return false, false
}

// Observe accepts exactly what the hand-written pair graph reaches from
// the last observation; a refusal names both and changes nothing. The
// space is small, so every case is checked.
func TestObserveAcceptsExactlyTheReachable(t *testing.T) {
	for _, last := range modelPairs {
		for f := range 1 << 7 {
			tr := flagsOf(last, f).tracker()
			for _, s := range States {
				for _, r := range Results {
					checkObserve(t, tr, obs(s, r))
				}
			}
		}
	}
}

func checkObserve(t *testing.T, trk Tracker, o Observation) {
	t.Helper()
	tr := fieldsOf(trk)
	ok, spends := modelReach(tr.last, o, tr.executed)
	if !tr.known {
		ok, spends = slices.Contains(modelPairs, o), false
	}
	nt, out, err := trk.Observe(o)
	n := fieldsOf(nt)
	if !ok {
		var je *JumpError
		if !errors.Is(err, ErrUnreachable) || !errors.As(err, &je) || je.To != o || je.Known != tr.known || (tr.known && je.From != tr.last) {
			t.Fatalf("%v after %+v: err %v", o, tr, err)
		}
		if nt != trk || out != (Outcome{}) {
			t.Fatalf("refusal changed the tracker: %+v -> %+v, %+v", tr, n, out)
		}
		return
	}
	if err != nil {
		t.Fatalf("%v after %+v refused: %v", o, tr, err)
	}
	// (Idle, Initial) after an acknowledged reset and before the write
	// shows the reset done (package doc, "Next").
	rested := tr.rested || tr.reset && !tr.written && o == obs(Idle, Initial)
	if n.last != o || !n.known || n.executed != (tr.executed && !spends) || n.started != (tr.started || spends) ||
		n.reset != tr.reset || n.written != tr.written || n.rested != rested {
		t.Fatalf("%v after %+v gave %+v (spends %v)", o, tr, n, spends)
	}
	// Verdicts, as the package doc states them.
	var want Outcome
	switch {
	case tr.settled:
		want.Verdict = Settled
	case o == obs(Idle, Success) && n.started:
		want = Outcome{Succeeded, device.EventSucceeded, Success}
	case (o.State == Idle && o.Result >= NotEnoughFlash && o.Result <= Cancelled || o == obs(Downloaded, UpdateFailed)) && (tr.written || n.started):
		want = Outcome{Failed, o.Result.Event(), o.Result}
	}
	if out != want || n.settled != (want.Verdict != InProgress) {
		t.Fatalf("%v after %+v: outcome %+v, want %+v", o, tr, out, want)
	}
}

func final(o Observation) bool { return isFinal(o) }

// flags is a Tracker's content spelled out, for tests to build trackers
// and read them.
type flags struct {
	last                                                      Observation
	known, reset, rested, written, executed, started, settled bool
}

// flagsOf spells out observation last and the seven flags in the bits of
// f (known, reset, written, executed, started, settled, rested).
func flagsOf(last Observation, f int) flags {
	return flags{last: last, known: f&1 != 0, reset: f&2 != 0, written: f&4 != 0,
		executed: f&8 != 0, started: f&16 != 0, settled: f&32 != 0, rested: f&64 != 0}
}

// tracker packs f: the last observation, then each flag's bit.
func (f flags) tracker() Tracker {
	t := Tracker{uint16(f.last.State) | uint16(f.last.Result)<<2}
	for _, b := range []struct {
		set  bool
		flag uint16
	}{{f.known, packKnown}, {f.reset, packReset}, {f.rested, packRested}, {f.written, packWritten},
		{f.executed, packExecuted}, {f.started, packStarted}, {f.settled, packSettled}} {
		if b.set {
			t.v |= b.flag
		}
	}
	return t
}

// fieldsOf spells t out.
func fieldsOf(t Tracker) flags {
	return flags{last: t.last(), known: t.has(packKnown), reset: t.has(packReset), rested: t.has(packRested),
		written: t.has(packWritten), executed: t.has(packExecuted), started: t.has(packStarted), settled: t.has(packSettled)}
}

// A device runs its machine (from whatever state a previous life left it
// in); the host follows Next and acknowledges commands as the device would;
// notifications are lost at random but arrive in order, and a last Read
// ends the run. Every delivered observation is accepted, and the outcome
// is reported exactly once, matching where the device ended.
func TestTrackerFollowsALossyDevice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dev := rapid.SampledFrom(modelPairs).Draw(t, "leftover")
		var (
			tr                   Tracker
			execPending, ourExec bool // the device holds an Execute to answer; our Execute took effect
			written, finalSeen   bool
			reports              []Outcome
		)
		deliver := func(t *rapid.T) {
			n, out, err := tr.Observe(dev)
			if err != nil {
				t.Fatalf("delivered %v refused: %v", dev, err)
			}
			tr = n
			switch out.Verdict {
			case Succeeded:
				if dev != obs(Idle, Success) || !ourExec || out.Event != device.EventSucceeded {
					t.Fatalf("succeeded on %v (our execute %v)", dev, ourExec)
				}
				reports = append(reports, out)
			case Failed:
				if !final(dev) || !written || out.Event != dev.Result.Event() || out.Event == 0 {
					t.Fatalf("failed %+v on %v (written %v)", out, dev, written)
				}
				reports = append(reports, out)
			}
		}
		sent := func(t *rapid.T, c Command) {
			var err error
			if tr, err = tr.Sent(c); err != nil {
				t.Fatalf("Sent(%v): %v", c, err)
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"host": func(t *rapid.T) {
				switch c := tr.Next(); c {
				case CommandReset:
					if dev.State == Updating {
						return // the device answers 4.05
					}
					dev, written, ourExec, execPending = obs(Idle, Initial), false, false, false
					sent(t, c)
				case CommandWritePackage:
					if dev.State != Idle {
						t.Fatalf("write asked with the device in %v", dev)
					}
					dev, written = obs(Downloading, Initial), true
					sent(t, c)
				case CommandExecuteUpdate:
					if dev.State != Downloaded {
						return // 4.05
					}
					execPending = true
					sent(t, c)
				}
			},
			"device": func(t *rapid.T) {
				var drop func(Observation) bool
				if finalSeen {
					drop = func(o Observation) bool { return o.Result == Cancelled }
				}
				next, answered := drawMove(t, dev, execPending, drop)
				if answered {
					execPending, ourExec = false, true
				}
				dev = next
				if written && (final(dev) || dev == obs(Idle, Success) && ourExec) {
					finalSeen = true
				}
			},
			"notify": deliver,
			"": func(t *rapid.T) {
				if len(reports) > 1 {
					t.Fatalf("outcome reported %d times: %+v", len(reports), reports)
				}
				if tr.Settled() != (len(reports) == 1) || (tr.Next() == CommandDone) != tr.Settled() {
					t.Fatalf("settled %v with %d reports, next %v", tr.Settled(), len(reports), tr.Next())
				}
			},
		})
		deliver(t) // the host's Read when notifications stop
		wantSuccess := dev == obs(Idle, Success) && ourExec
		wantFailure := final(dev) && written
		if (wantSuccess || wantFailure) != (len(reports) == 1) || len(reports) > 1 {
			t.Fatalf("device ended %v (our execute %v, written %v); reports %+v", dev, ourExec, written, reports)
		}
	})
}

// note is a notification in flight: the value the device sent, and whether
// it sent it after the package write of this run took effect.
type note struct {
	o          Observation
	afterWrite bool
}

// TestTrackerRefusesStaleNotifications: a device starts wherever a previous
// life left it (an earlier image downloaded, say); its notifications travel
// apart from the acknowledgements of the host's commands, may be lost or
// arrive late, but arrive in order (the host drops reordered ones, package
// doc); a Read, the host's fallback, comes after everything in flight
// arrived or was lost. The host follows Next and the device acknowledges
// at once. Then the package is written only to an idle device, and Execute
// is asked only on an observation of (Downloaded, Initial) the device sent
// after the package write: never on one left over from before the reset.
func TestTrackerRefusesStaleNotifications(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dev := rapid.SampledFrom(modelPairs).Draw(t, "leftover")
		var (
			tr          Tracker
			inflight    []note // sent, not yet delivered, oldest first
			wrote       bool   // the device took this run's package write
			execPending bool   // the device holds an Execute to answer
			basis       note   // the last observation the Tracker accepted
		)
		send := func() { inflight = append(inflight, note{dev, wrote}) }
		send() // the Observe's first answer: the current value
		deliver := func(t *rapid.T, n note) {
			next, _, err := tr.Observe(n.o)
			if err != nil {
				if !errors.Is(err, ErrUnreachable) {
					t.Fatalf("%v refused: %v", n.o, err)
				}
				return
			}
			tr, basis = next, n
		}
		check := func(t *rapid.T) {
			switch tr.Next() {
			case CommandWritePackage:
				if dev.State != Idle {
					t.Fatalf("write asked with the device in %v", dev)
				}
			case CommandExecuteUpdate:
				if basis.o != obs(Downloaded, Initial) || !basis.afterWrite {
					t.Fatalf("execute asked on %+v (device %v, tracker %+v)", basis, dev, tr)
				}
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"host": func(t *rapid.T) {
				switch c := tr.Next(); c {
				case CommandReset:
					if dev.State == Updating {
						return // 4.05
					}
					was := dev
					dev, wrote, execPending = obs(Idle, Initial), false, false
					if was != dev {
						send()
					}
					var err error
					if tr, err = tr.Sent(c); err != nil {
						t.Fatal(err)
					}
				case CommandWritePackage:
					dev, wrote = obs(Downloading, Initial), true
					send()
					var err error
					if tr, err = tr.Sent(c); err != nil {
						t.Fatal(err)
					}
				case CommandExecuteUpdate:
					if dev.State != Downloaded {
						return // 4.05
					}
					execPending = true
					var err error
					if tr, err = tr.Sent(c); err != nil {
						t.Fatal(err)
					}
				}
			},
			"device": func(t *rapid.T) {
				next, answered := drawMove(t, dev, execPending, nil)
				if answered {
					execPending = false
				}
				dev = next
				send()
			},
			"again": func(t *rapid.T) { send() }, // a notification of an unchanged value (pmax)
			"arrive": func(t *rapid.T) {
				if len(inflight) == 0 {
					t.Skip("nothing in flight")
				}
				n := inflight[0]
				inflight = inflight[1:]
				if rapid.IntRange(0, 3).Draw(t, "lost") > 0 {
					deliver(t, n)
				}
			},
			"read": func(t *rapid.T) {
				for _, n := range inflight {
					if rapid.Bool().Draw(t, "arrived") {
						deliver(t, n)
					}
				}
				inflight = nil
				deliver(t, note{dev, wrote})
			},
			"": check,
		})
	})
}

// Coiote's expected sequence (Cumulocity's LwM2M firmware-update flow) "(1,0) → (2,0) → (3,0) → (0,1)",
// once complete and once with Downloaded and Updating lost.
func TestCoioteSequence(t *testing.T) {
	for name, seq := range map[string][]Observation{
		"all":  {obs(Downloading, 0), obs(Downloaded, 0), obs(Updating, 0), obs(Idle, Success)},
		"lost": {obs(Downloading, 0), obs(Idle, Success)}, // Downloaded read, Updating lost
	} {
		tr, _ := Tracker{}.Sent(CommandReset)
		tr, _ = tr.Sent(CommandWritePackage)
		var got []Verdict
		for i, o := range seq {
			if i > 0 && seq[i-1] == obs(Downloading, 0) && o != obs(Downloaded, 0) {
				// The Downloaded notification was lost; a Read showed it.
				tr, _, _ = tr.Observe(obs(Downloaded, 0))
			}
			if tr.last() == obs(Downloaded, 0) {
				if tr.Next() != CommandExecuteUpdate {
					t.Fatalf("%s: next %v on %v", name, tr.Next(), tr.last())
				}
				tr, _ = tr.Sent(CommandExecuteUpdate)
			}
			var out Outcome
			var err error
			if tr, out, err = tr.Observe(o); err != nil {
				t.Fatalf("%s: %v: %v", name, o, err)
			}
			got = append(got, out.Verdict)
		}
		if got[len(got)-1] != Succeeded || tr.Next() != CommandDone {
			t.Fatalf("%s: verdicts %v", name, got)
		}
		if _, out, _ := tr.Observe(obs(Idle, Success)); out.Verdict != Settled {
			t.Fatalf("%s: repeated success %v", name, out.Verdict)
		}
	}
}

// The mapping table of the package doc.
func TestResultEvents(t *testing.T) {
	want := map[Result]device.Event{
		Initial: 0, Success: device.EventSucceeded,
		NotEnoughFlash: device.EventUpdateFailed, OutOfRAM: device.EventUpdateFailed,
		ConnectionLost: device.EventUpdateFailed, IntegrityCheckFailure: device.EventUpdateFailed,
		UnsupportedPackageType: device.EventUpdateFailed, InvalidURI: device.EventInternalError,
		UpdateFailed: device.EventUpdateFailed, UnsupportedProtocol: device.EventInternalError,
		Cancelled: device.EventInternalError, Deferred: 0,
	}
	for _, r := range Results {
		if r.Event() != want[r] {
			t.Errorf("%v -> %v, want %v", r, r.Event(), want[r])
		}
		// Every event reported is one the push lifecycle accepts from Notified.
		if e := r.Event(); e != 0 && !device.PushTable.Can(device.StateNotified, e) {
			t.Errorf("%v -> %v, which Notified refuses", r, e)
		}
	}
	if Result(12).Event() != 0 {
		t.Error("Result(12) has an event")
	}
}

func TestSentRefusals(t *testing.T) {
	updating := flags{last: obs(Updating, 0), known: true, reset: true, written: true, started: true}.tracker()
	for _, c := range []struct {
		tr Tracker
		c  Command
	}{
		{Tracker{}, CommandWritePackage}, {Tracker{}, CommandExecuteUpdate}, {Tracker{}, CommandWait},
		{updating, CommandReset}, {updating, CommandWritePackage}, {updating, CommandExecuteUpdate},
		{updating, CommandDone}, {updating, Command(9)},
		{flags{last: obs(Downloading, 0), known: true}.tracker(), CommandWritePackage},
		{flags{last: obs(Idle, 0), known: true}.tracker(), CommandExecuteUpdate},
	} {
		n, err := c.tr.Sent(c.c)
		var te *lifecycle.TransitionError
		if !errors.Is(err, lifecycle.ErrInvalidTransition) || !errors.As(err, &te) || te.Event != c.c.String() || n != c.tr {
			t.Errorf("Sent(%v) on %+v: %v, %+v", c.c, c.tr, err, n)
		}
	}
	if n, err := (Tracker{}).Sent(CommandReset); err != nil || n.last() != obs(Idle, 0) || !n.has(packKnown) {
		t.Errorf("reset from nothing: %+v %v", n, err)
	}
}

func TestNextFollowsCumulocity(t *testing.T) {
	var tr Tracker
	step := func(want Command) {
		t.Helper()
		if got := tr.Next(); got != want {
			t.Fatalf("next %v, want %v (tracker %+v)", got, want, tr)
		}
	}
	observe := func(o Observation) {
		t.Helper()
		var err error
		if tr, _, err = tr.Observe(o); err != nil {
			t.Fatal(err)
		}
	}
	observe(obs(Updating, 0)) // a previous update still running
	step(CommandWait)
	observe(obs(Idle, UpdateFailed))
	step(CommandReset) // 1. Reset
	tr, _ = tr.Sent(CommandReset)
	step(CommandWait) // until the reset is seen done
	observe(obs(Idle, 0))
	step(CommandWritePackage) // 4. Write the URI
	tr, _ = tr.Sent(CommandWritePackage)
	step(CommandWait)
	observe(obs(Downloaded, 0))
	step(CommandExecuteUpdate) // 5. On Downloaded, Execute /5/0/2
	tr, _ = tr.Sent(CommandExecuteUpdate)
	step(CommandWait)
	observe(obs(Downloaded, Deferred))
	step(CommandWait)
	observe(obs(Downloaded, UpdateFailed)) // 6. Finish on the Result
	step(CommandDone)
	// A reset starts a new attempt (the host's choice, e.g. a retry).
	var err error
	if tr, err = tr.Sent(CommandReset); err != nil || tr.Settled() {
		t.Fatalf("reset after the outcome: %v, settled %v", err, tr.Settled())
	}
	step(CommandWait)
	observe(obs(Idle, 0))
	step(CommandWritePackage)
}

// TestNextWaitsForTheResetToShow: after an acknowledged reset the package
// write waits for an observation of (Idle, Initial); until then a
// notification the device sent before the reset is refused (it cannot
// follow the (Idle, Initial) the reset left) and changes nothing. An
// (Idle, Initial) seen before the reset's acknowledgement does not count.
func TestNextWaitsForTheResetToShow(t *testing.T) {
	tr, _, err := Tracker{}.Observe(obs(Downloaded, Initial)) // an earlier image
	if err != nil || tr.Next() != CommandReset {
		t.Fatalf("leftover download: %v, next %v", err, tr.Next())
	}
	if tr, err = tr.Sent(CommandReset); err != nil || tr.Next() != CommandWait {
		t.Fatalf("after the reset: %v, next %v", err, tr.Next())
	}
	for _, o := range []Observation{obs(Downloaded, Initial), obs(Downloading, Initial), obs(Downloaded, Deferred),
		obs(Updating, Initial), obs(Idle, Success), obs(Idle, UpdateFailed), obs(Idle, Cancelled)} {
		n, out, err := tr.Observe(o)
		var je *JumpError
		if !errors.As(err, &je) || !errors.Is(err, ErrUnreachable) || je.From != obs(Idle, Initial) || je.To != o || n != tr || out != (Outcome{}) {
			t.Errorf("stale %v after the reset: %+v %+v %v", o, n, out, err)
		}
	}
	if back, err := UnpackTracker(tr.Pack()); err != nil || back != tr || back.Next() != CommandWait {
		t.Fatalf("waiting tracker packed: %+v %v", back, err)
	}
	tr, out, err := tr.Observe(obs(Idle, Initial))
	if err != nil || out != (Outcome{}) || !tr.has(packRested) || tr.Next() != CommandWritePackage {
		t.Fatalf("the reset seen: %+v %+v %v, next %v", tr, out, err, tr.Next())
	}
	if back, err := UnpackTracker(tr.Pack()); err != nil || back != tr || back.Next() != CommandWritePackage {
		t.Fatalf("rested tracker packed: %+v %v", back, err)
	}
	if tr, err = tr.Sent(CommandWritePackage); err != nil || tr.Next() != CommandWait {
		t.Fatalf("after the write: %v, next %v", err, tr.Next())
	}
	tr, _, _ = tr.Observe(obs(Downloaded, Initial)) // now this image
	if tr.Next() != CommandExecuteUpdate {
		t.Fatalf("downloaded after the write: next %v", tr.Next())
	}

	// An (Idle, Initial) taken before the reset's acknowledgement (here the
	// first observation, with the reset sent all the same) is no sign the
	// reset is done: the write waits for another.
	tr, _, _ = Tracker{}.Observe(obs(Idle, Initial))
	if tr.has(packRested) {
		t.Fatal("rested without a reset")
	}
	if tr, _ = tr.Sent(CommandReset); tr.Next() != CommandWait {
		t.Fatalf("reset after (Idle, Initial): next %v", tr.Next())
	}
	// A reset starts over: one acknowledged after the wait ended waits again.
	tr, _, _ = tr.Observe(obs(Idle, Initial))
	if tr, _ = tr.Sent(CommandReset); tr.has(packRested) || tr.Next() != CommandWait {
		t.Fatalf("second reset: %+v, next %v", tr, tr.Next())
	}
}

// TestNextSkipsNeedlessReset: a device whose only observation is (Idle,
// Initial) gets the package write at once (a reset would change nothing);
// any other first observation, or none, gets the reset; and the attempt
// goes on from the write as after a reset, its failure counted.
func TestNextSkipsNeedlessReset(t *testing.T) {
	for _, c := range []struct {
		first *Observation
		want  Command
	}{
		{nil, CommandReset},
		{&Observation{Idle, Initial}, CommandWritePackage},
		{&Observation{Idle, Success}, CommandReset}, // left over from an earlier update
		{&Observation{Idle, UpdateFailed}, CommandReset},
		{&Observation{Downloading, Initial}, CommandReset},
		{&Observation{Downloaded, Initial}, CommandReset},
		{&Observation{Updating, Initial}, CommandWait},
	} {
		var tr Tracker
		if c.first != nil {
			var err error
			if tr, _, err = tr.Observe(*c.first); err != nil {
				t.Fatal(err)
			}
		}
		if got := tr.Next(); got != c.want {
			t.Errorf("first observation %v: next %v, want %v", c.first, got, c.want)
		}
	}
	tr, _, _ := Tracker{}.Observe(obs(Idle, Initial))
	tr, err := tr.Sent(CommandWritePackage)
	if err != nil || tr.Next() != CommandWait {
		t.Fatalf("after the write: %v, next %v", err, tr.Next())
	}
	if _, _, err := tr.Observe(obs(Idle, Initial)); err == nil {
		t.Error("a stale (Idle, Initial) after the acknowledged write was accepted")
	}
	tr, out, err := tr.Observe(obs(Idle, IntegrityCheckFailure))
	if err != nil || out != (Outcome{Failed, device.EventUpdateFailed, IntegrityCheckFailure}) || tr.Next() != CommandDone {
		t.Fatalf("download failure after the write: %+v %v, next %v", out, err, tr.Next())
	}
	// Before the write, a failure result cannot follow (Idle, Initial): the
	// device makes no move of its own from Idle.
	tr, _, _ = Tracker{}.Observe(obs(Idle, Initial))
	if _, _, err := tr.Observe(obs(Idle, IntegrityCheckFailure)); !errors.Is(err, ErrUnreachable) {
		t.Errorf("(Idle, IntegrityCheckFailure) right after (Idle, Initial): %v", err)
	}
}

func TestObserveOutOfRange(t *testing.T) {
	tr := flags{last: obs(Idle, 0), known: true}.tracker()
	for _, o := range []Observation{obs(4, 0), obs(0, 12)} {
		n, out, err := tr.Observe(o)
		if !errors.Is(err, ErrOutOfRange) || n != tr || out != (Outcome{}) {
			t.Errorf("%v: %v", o, err)
		}
	}
	if (&JumpError{To: obs(Updating, 5)}).Error() != "fota: lwm2m: observation (Updating, IntegrityCheckFailure) is no state of the firmware update machine" {
		t.Error("JumpError message")
	}
}

func TestNames(t *testing.T) {
	if Succeeded.String() != "Succeeded" || Verdict(9).String() != "Verdict(9)" ||
		CommandExecuteUpdate.String() != "executeUpdate" || Command(9).String() != "Command(9)" {
		t.Error("names")
	}
	if o, ok := (Tracker{}).Last(); ok || o != (Observation{}) {
		t.Error("zero tracker knows something")
	}
}

func TestObserveAllocs(t *testing.T) {
	tr := flags{last: obs(Downloaded, 0), known: true, written: true, executed: true}.tracker()
	if n := testing.AllocsPerRun(100, func() { _, _, _ = tr.Observe(obs(Idle, Success)) }); n != 0 {
		t.Fatalf("Observe allocates %v", n)
	}
}

// the Anjay and Zephyr sources: Anjay "An unsupported URI scheme sets Result 9 and returns
// 4.00, without entering Downloading." The host records the write anyway
// (package doc) and the failure is this attempt's.
func TestImmediatelyRefusedURI(t *testing.T) {
	tr, _ := Tracker{}.Sent(CommandReset)
	if _, _, err := tr.Observe(obs(Idle, UnsupportedProtocol)); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("(Idle, 9) without a write: %v", err)
	}
	tr, _ = tr.Sent(CommandWritePackage)
	tr, out, err := tr.Observe(obs(Idle, UnsupportedProtocol))
	if err != nil || out != (Outcome{Failed, device.EventInternalError, UnsupportedProtocol}) || tr.Next() != CommandDone {
		t.Fatalf("%+v %v", out, err)
	}
}

// Pack and UnpackTracker round-trip every tracker a run of the machine
// reaches, and refuse values Pack never writes.
func TestTrackerPackRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tr := Tracker{}
		for i := rapid.IntRange(0, 12).Draw(t, "steps"); i > 0; i-- {
			if rapid.Bool().Draw(t, "send") {
				if n, err := tr.Sent(rapid.SampledFrom([]Command{CommandReset, CommandWritePackage, CommandExecuteUpdate}).Draw(t, "command")); err == nil {
					tr = n
				}
				continue
			}
			o := Observation{State: rapid.SampledFrom(States).Draw(t, "state"), Result: rapid.SampledFrom(Results).Draw(t, "result")}
			if n, _, err := tr.Observe(o); err == nil {
				tr = n
			}
		}
		back, err := UnpackTracker(tr.Pack())
		if err != nil || back != tr {
			t.Fatalf("UnpackTracker(%#x) = %+v, %v; want %+v", tr.Pack(), back, err, tr)
		}
	})
	// The layout is what stores keep: it never changes.
	tr, _ := Tracker{}.Sent(CommandReset)
	golden := []uint16{tr.Pack()}
	tr, _, _ = tr.Observe(obs(Idle, Initial))
	golden = append(golden, tr.Pack())
	tr, _ = tr.Sent(CommandWritePackage)
	golden = append(golden, tr.Pack())
	// (Idle, Initial) known reset; then rested; then (Downloading, Initial) written.
	if want := []uint16{0x00c0, 0x10c0, 0x11c1}; !slices.Equal(golden, want) {
		t.Fatalf("packed %#x, want %#x", golden, want)
	}
	// Every flag, with every pair, round-trips too.
	for _, last := range modelPairs {
		for f := range 1 << 7 {
			tr := flagsOf(last, f).tracker()
			if v := tr.Pack(); v&^0x1fff != 0 {
				t.Fatalf("%+v packs to %#x, beyond bits 0..12", tr, v)
			} else if back, err := UnpackTracker(v); err != nil || back != tr {
				t.Fatalf("UnpackTracker(%#x) = %+v, %v; want %+v", v, back, err, tr)
			}
		}
	}
	for _, v := range []uint16{12 << 2, 15 << 2, 1 << 13, 1 << 15, 0xffff} {
		if _, err := UnpackTracker(v); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("UnpackTracker(%#x): err = %v, want ErrOutOfRange", v, err)
		}
	}
}

// drawMove draws a device's next move from dev: one of its own (less
// those drop refuses), or, with an acknowledged Execute pending, an answer
// to it; answered says it drew an answer.
func drawMove(t *rapid.T, dev Observation, execPending bool, drop func(Observation) bool) (Observation, bool) {
	free, gated := modelMoves(dev)
	if drop != nil {
		free = slices.DeleteFunc(free, drop)
	}
	moves := free
	if execPending {
		moves = append(slices.Clone(free), gated...)
	}
	if len(moves) == 0 {
		t.Skip("the device has nothing to do")
	}
	i := rapid.IntRange(0, len(moves)-1).Draw(t, "move")
	return moves[i], i >= len(free)
}
