// Package replica assembles one replica of the LwM2M host for fota: a
// Manager over a Store, its Run loop, the LwM2M server, and the push Runner
// between them. One replica alone runs on a MemoryStore; several share one
// PostgreSQL database (package sqlstore of this repository), each with its
// own Manager over its own store handle and pool, and a registration
// Directory (package directory) so that any of them can reach any device:
// the Manager's outbox leases each command to whichever replica asks first,
// and its leases keep two replicas from pushing one device at once.
//
//	r, err := replica.Start(ctx, replica.Config{Store: store, Inventory: inv, Packages: pkgs})
//	fw, err := r.Server.AddFirmware("fw-2.0.bin", image)
//	pkgs.Put(account, fota.Package{Name: "fw", To: "2.0", URL: fw.URI, Size: int64(fw.Size), SHA256: fw.Hash()})
//	info, err := r.Manager.ScheduleUpgrade(ctx, account, req)
//	...
//	r.Stop()
//
// Stop ends a replica the way a crash would as far as the Manager can
// tell: commands under way are abandoned unconfirmed, and their leases run
// out for another replica to take them up.
package replica

import (
	"context"
	"sync"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/push"
	"github.com/fotakit/fota/examples/lwm2m/server"
	"github.com/fotakit/fota/examples/lwm2m/simtime"
)

// Config is what a replica is built from. Inventory is required; zero
// fields of Manager, Server and Runner take their packages' defaults,
// except where said.
type Config struct {
	// Store, Inventory, Packages, Clock, Observer and Push go into the
	// Manager's fota.Config (Store defaults to a new MemoryStore).
	Store     fota.Store
	Inventory fota.Inventory
	Packages  fota.PackageCatalog
	Clock     fota.Clock
	Observer  fota.Observer
	Push      fota.PushPolicy
	// RunPoll bounds the Run loop's sleep (fota.Config.RunPoll); a replica
	// among others, or on a clock that jumps, wants it short. 200 ms when
	// zero.
	RunPoll time.Duration
	// Server configures the LwM2M server. Known defaults to push.Known of
	// the Inventory; OnRegistration and OnObservation, when set, see every
	// event and observation before the Runner does.
	Server server.Config
	// Runner configures the push Runner; its Manager and Clock are this
	// replica's.
	Runner push.Config
}

// Replica is one running replica.
type Replica struct {
	Manager *fota.Manager
	Server  *server.Server
	Runner  *push.Runner

	cancel   context.CancelFunc
	done     sync.WaitGroup
	stopOnce sync.Once
}

// Start builds the Manager, the Runner and the server, listens, and starts
// the Run loop and the Runner, until ctx ends or Stop.
func Start(ctx context.Context, cfg Config) (*Replica, error) {
	if cfg.RunPoll == 0 {
		cfg.RunPoll = 200 * time.Millisecond
	}
	m, err := fota.New(fota.Config{Store: cfg.Store, Inventory: cfg.Inventory, Packages: cfg.Packages, Clock: cfg.Clock,
		Observer: cfg.Observer, Push: cfg.Push, RunPoll: cfg.RunPoll})
	if err != nil {
		return nil, err
	}
	rc := cfg.Runner
	rc.Manager, rc.Clock = m, cfg.Clock
	runner, err := push.New(rc)
	if err != nil {
		return nil, err
	}
	sc := cfg.Server
	if sc.Known == nil {
		if cfg.Inventory == nil {
			return nil, &push.ArgError{Field: "Inventory", Value: "nil", Reason: "the server asks the inventory which endpoints are ours"}
		}
		sc.Known = push.Known(cfg.Inventory)
	}
	onReg, onObs := sc.OnRegistration, sc.OnObservation
	sc.OnRegistration = func(ev server.Event) {
		if onReg != nil {
			onReg(ev)
		}
		runner.HandleRegistration(ev)
	}
	sc.OnObservation = func(id string, o lwm2m.Observation) {
		if onObs != nil {
			onObs(id, o)
		}
		runner.HandleObservation(id, o)
	}
	srv, err := server.New(sc)
	if err != nil {
		runner.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Replica{Manager: m, Server: srv, Runner: runner, cancel: cancel}
	srv.Start()
	r.done.Add(2)
	go func() {
		defer r.done.Done()
		_ = m.Run(ctx) // it returns only when ctx ends
	}()
	go func() {
		defer r.done.Done()
		_ = runner.Serve(ctx, srv)
	}()
	return r, nil
}

// Stop ends the replica: the Runner abandons the commands under way
// (their leases run out), the Run loop stops, and the server closes its
// socket, so notifications sent to it are lost. Stop waits for all that.
func (r *Replica) Stop() {
	r.stopOnce.Do(func() {
		r.cancel()
		r.done.Wait()
		_ = r.Server.Close()
	})
}

// SkipIdle jumps clock over an idle stretch: when no replica has had
// anything under way for quiet and each has looked at its outbox since the
// last jump, to the earliest of the replicas' next due
// commands and the instants given (a campaign's start and end), if that is
// more than over away. It reports where it jumped, and wakes the replicas'
// Runners. Devices and CoAP exchanges keep running in real time; only the
// Managers' calendar moves.
func SkipIdle(clock *simtime.Clock, reps []*Replica, quiet, over time.Duration, instants ...time.Time) (time.Time, bool) {
	now := clock.Now()
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	last := clock.SkippedAt()
	for _, r := range reps {
		// Not before every Runner has looked at the outbox since the last
		// jump: what that jump made due would otherwise be jumped over.
		if r.Runner.Quiet() < quiet || !r.Runner.Polled().After(last) {
			return time.Time{}, false
		}
		// A command already due that the Runner has yet to take: not idle.
		if due := r.Runner.NextDue(); !due.IsZero() && !due.After(now) {
			return time.Time{}, false
		}
		earliest(r.Runner.NextDue())
	}
	for _, t := range instants {
		earliest(t)
	}
	if next.IsZero() || next.Sub(now) < over || !clock.Skip(next) {
		return time.Time{}, false
	}
	for _, r := range reps {
		r.Runner.Wake()
	}
	return next, true
}
