package push

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

// Runner carries a Planner's commands out over an LwM2M server and
// reports back every answer, observation and registration: the host loop
// of fota's push API. Wire its HandleObservation and HandleRegistration
// into the server's Config, and set Server before the server starts.
type Runner struct {
	Planner Planner
	Server  *server.Server
	// Logf, when set, receives one line per command and outcome.
	Logf func(format string, args ...any)

	workers int
	ctx     context.Context
	sem     chan struct{}
	wake    chan struct{}
	wg      sync.WaitGroup
	sent    [6]atomic.Int64 // commands carried out, by kind
	fails   atomic.Int64    // planner errors (refused observations and the like)
}

// NewRunner makes a runner for p that works until ctx ends, with at most
// workers commands in flight (32 when zero).
func NewRunner(ctx context.Context, p Planner, workers int) *Runner {
	if workers <= 0 {
		workers = 32
	}
	return &Runner{Planner: p, workers: workers, ctx: ctx, sem: make(chan struct{}, workers), wake: make(chan struct{}, 1)}
}

func (r *Runner) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// Run takes due commands from the Planner until the runner's context
// ends, then waits for those in flight.
func (r *Runner) Run() error {
	ctx := r.ctx
	defer r.wg.Wait()
	for {
		cmds, next, err := r.Planner.Outbox(ctx, r.workers)
		if err != nil {
			return fmt.Errorf("push: outbox: %w", err)
		}
		for _, c := range cmds {
			r.dispatch(c)
		}
		wait := time.Second
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), time.Millisecond))
		}
		if len(cmds) == r.workers {
			wait = 0 // more may be due now
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// dispatch carries out c and the commands that follow it at once, in a
// worker.
func (r *Runner) dispatch(c Command) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		select {
		case r.sem <- struct{}{}:
		case <-r.ctx.Done():
			return
		}
		defer func() { <-r.sem }()
		for cmd := &c; cmd != nil; {
			rc := r.execute(*cmd)
			res, err := r.Planner.Confirm(r.ctx, *cmd, rc)
			if err != nil {
				r.fails.Add(1)
				r.logf("%s %s: confirm: %v", cmd.DeviceID, cmd.Kind, err)
				return
			}
			r.logf("%s %s -> %+v: %v", cmd.DeviceID, cmd.Kind, rc, res.State.Status())
			cmd = res.Next
		}
	}()
}

// execute sends one command. A device that is not registered did not
// answer.
func (r *Runner) execute(c Command) Receipt {
	if int(c.Kind) < len(r.sent) {
		r.sent[c.Kind].Add(1)
	}
	var (
		rc  server.Receipt
		err error
	)
	switch c.Kind {
	case CommandObserve:
		rc, err = r.Server.Observe(r.ctx, c.DeviceID)
	case CommandRead:
		rc, _, err = r.Server.Read(r.ctx, c.DeviceID)
		if errors.Is(err, server.ErrNotification) {
			err = nil // answered, but nothing usable: the receipt says so
		}
	case CommandReset:
		rc, err = r.Server.Reset(r.ctx, c.DeviceID)
	case CommandWritePackage:
		rc, err = r.Server.WritePackageURI(r.ctx, c.DeviceID, c.PackageURI)
	case CommandExecute:
		rc, err = r.Server.ExecuteUpdate(r.ctx, c.DeviceID)
	default:
		err = fmt.Errorf("push: unknown command kind %v", c.Kind)
	}
	if err != nil && !errors.Is(err, server.ErrNotRegistered) {
		r.logf("%s %s: %v", c.DeviceID, c.Kind, err)
	}
	return Receipt{Delivered: rc.Delivered, Status: rc.Status}
}

// HandleObservation is the server's OnObservation: it reports o and
// carries out the command that follows.
func (r *Runner) HandleObservation(deviceID string, o lwm2m.Observation) {
	res, err := r.Planner.Observation(r.ctx, deviceID, o)
	if err != nil {
		r.fails.Add(1)
		r.logf("%s observation %v: %v", deviceID, o, err)
		return
	}
	r.logf("%s observation %v: %v", deviceID, o, res.State.Status())
	if res.Next != nil {
		r.dispatch(*res.Next)
	}
}

// HandleRegistration is the server's OnRegistration: a Register is
// reported as Connected (an Update keeps the observations, so it is not).
func (r *Runner) HandleRegistration(ev server.Event) {
	r.logf("%s %v at %v", ev.DeviceID, ev.Kind, ev.Addr)
	if ev.Kind != server.Registered {
		return
	}
	res, err := r.Planner.Connected(r.ctx, ev.DeviceID)
	if err != nil {
		r.fails.Add(1)
		r.logf("%s connected: %v", ev.DeviceID, err)
		return
	}
	if res.Next != nil {
		r.dispatch(*res.Next)
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Sent counts the commands carried out, by kind.
func (r *Runner) Sent() map[CommandKind]int64 {
	m := map[CommandKind]int64{}
	for k := CommandObserve; k <= CommandExecute; k++ {
		m[k] = r.sent[k].Load()
	}
	return m
}

// Refused counts the planner's refusals (an observation the Tracker cannot
// place, a lost lease).
func (r *Runner) Refused() int64 { return r.fails.Load() }
