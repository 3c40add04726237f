package storetest

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/verboselog"
)

var concurrencyCases = []testCase{
	{"ReadModifyWrite", testReadModifyWrite},
	{"DueLeases", testDueLeases},
	{"SweepBesideDevices", testSweepBesideDevices},
}

// Sizes of the concurrency check: writers × updates each, on campaigns ×
// devices members.
const (
	writers      = 16
	updatesEach  = 200
	readers      = 1
	rmwCampaigns = 2
	rmwDevices   = 8
	tallyID      = "~tally" // sorts after every device id
)

// generation is how many times a member was rewritten: each
// read-modify-write advances UpdatedAt by one microsecond from base.
func generation(m fota.Member) int64 { return m.UpdatedAt.Sub(base).Microseconds() }

// stateOf is the state a member has after g rewrites.
func stateOf(g int64) device.State { return device.States[g%int64(len(device.States))] }

// testReadModifyWrite: writers concurrently read a device's member and the
// campaign's tally member, advance both by one generation and put them
// back, in one Update each; readers concurrently check, in Views, that the
// tally equals the sum of its devices' generations (a consistent
// snapshot). At the end no update is lost: every device's generation is
// the number of Updates that chose it, the tallies add up, Counts match
// the members, and every NextSeq a committed Update obtained is distinct.
func testReadModifyWrite(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	campaigns := make([]string, rmwCampaigns)
	devices := make([]string, rmwDevices)
	for i := range campaigns {
		campaigns[i] = fmt.Sprintf("rmw-%d", i)
	}
	for i := range devices {
		devices[i] = fmt.Sprintf("dev-%02d", i)
	}
	putCampaigns(t, s, campaigns...)
	update(t, ctx, s, func(tx fota.Tx) error {
		for _, c := range campaigns {
			for _, d := range append(devices, tallyID) {
				if err := tx.PutMember(fota.Member{CampaignID: c, DeviceID: d, State: stateOf(0), UpdatedAt: base}); err != nil {
					return err
				}
			}
		}
		return nil
	})

	advance := func(tx fota.Tx, c, d string) error {
		m, err := tx.Member(c, d)
		if err != nil {
			return err
		}
		m.UpdatedAt = m.UpdatedAt.Add(time.Microsecond)
		if d != tallyID {
			m.State = stateOf(generation(m))
		}
		return tx.PutMember(m)
	}
	var (
		wg      sync.WaitGroup
		chosen  [rmwCampaigns][rmwDevices]atomic.Int64
		seqMu   sync.Mutex
		seqs    = map[uint64]int{}
		writing atomic.Int32
	)
	writing.Store(writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer writing.Add(-1)
			rnd := rand.New(rand.NewPCG(uint64(w), 42))
			for i := range updatesEach {
				ci, di := rnd.IntN(rmwCampaigns), rnd.IntN(rmwDevices)
				withSeq := i%10 == 0
				var seq uint64
				err := s.Update(ctx, func(tx fota.Tx) error {
					if err := advance(tx, campaigns[ci], devices[di]); err != nil {
						return err
					}
					if err := advance(tx, campaigns[ci], tallyID); err != nil {
						return err
					}
					if withSeq {
						var err error
						seq, err = tx.NextSeq()
						return err
					}
					return nil
				})
				if err != nil {
					t.Errorf("writer %d, update %d: %v", w, i, err)
					return
				}
				chosen[ci][di].Add(1)
				if withSeq {
					seqMu.Lock()
					seqs[seq]++
					seqMu.Unlock()
				}
			}
		}()
	}
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n == 0 || writing.Load() > 0; n++ {
				if err := s.View(ctx, func(tx fota.Tx) error { return checkTallies(tx, campaigns) }); err != nil {
					t.Errorf("reader %d, view %d: %v", r, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	view(t, ctx, s, func(tx fota.Tx) error {
		for ci, c := range campaigns {
			for di, d := range devices {
				m, err := tx.Member(c, d)
				if err != nil {
					return err
				}
				if g, want := generation(m), chosen[ci][di].Load(); g != want {
					t.Errorf("member %s/%s rewritten %d times, %d Updates committed: lost updates", c, d, g, want)
				}
			}
		}
		return checkTallies(tx, campaigns)
	})
	for v, n := range seqs {
		if n > 1 {
			t.Errorf("NextSeq returned %d to %d committed transactions", v, n)
		}
	}
}

// checkTallies checks, within one transaction, that each campaign's tally
// member counts its devices' generations and that Counts agree with the
// members.
func checkTallies(tx fota.Tx, campaigns []string) error {
	for _, c := range campaigns {
		ms, err := tx.Members(c, "", page)
		if err != nil {
			return err
		}
		counts, err := tx.Counts(c)
		if err != nil {
			return err
		}
		var sum, tally int64
		var fromMembers fota.Counts
		for _, m := range ms {
			fromMembers[m.State]++
			if m.DeviceID == tallyID {
				tally = generation(m)
			} else {
				sum += generation(m)
			}
			if m.DeviceID != tallyID && m.State != stateOf(generation(m)) {
				return fmt.Errorf("member %s/%s: state %s at generation %d", c, m.DeviceID, m.State, generation(m))
			}
		}
		if len(ms) != rmwDevices+1 {
			return fmt.Errorf("campaign %s has %d members, want %d", c, len(ms), rmwDevices+1)
		}
		if tally != sum {
			return fmt.Errorf("campaign %s: tally %d, devices' generations add up to %d", c, tally, sum)
		}
		if counts != fromMembers {
			return fmt.Errorf("campaign %s: Counts %v, members %v", c, counts, fromMembers)
		}
	}
	return nil
}

// Sizes of the lease check: due members spread over campaigns, leased a
// few at a time by workers on both handles.
const (
	leaseDue       = 240
	leaseNotDue    = 40 // DueAt zero or after now: never handed out
	leaseWorkers   = 8
	leaseLimit     = 7
	leaseCampaigns = 3
)

// testDueLeases: workers on two handles lease due members at once, as
// Manager replicas sharing a store run their outboxes: each Update takes
// up to a few DueMembers and writes each back with a lease (a new DueAt
// past now, a lease counter), and stops when it finds none. Every due
// member is handed to exactly one committed transaction, none that was not
// due is handed out, and none is due afterwards. A store must skip (not
// wait for, not hand out again) the members another transaction holds:
// FOR UPDATE SKIP LOCKED on PostgreSQL.
func testDueLeases(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	hs := h.handles(t, s)
	now := base.Add(time.Minute)
	leaseUntil := now.Add(24 * time.Hour)
	campaigns := make([]string, leaseCampaigns)
	for i := range campaigns {
		campaigns[i] = fmt.Sprintf("lease-%d", i)
	}
	putCampaigns(t, s, campaigns...)
	due := map[[2]string]bool{}
	update(t, ctx, s, func(tx fota.Tx) error {
		for i := range leaseDue + leaseNotDue {
			m := fota.Member{CampaignID: campaigns[i%leaseCampaigns], DeviceID: fmt.Sprintf("dev-%03d", i), State: device.StateAccepted,
				UpdatedAt: base, Push: fota.Push{Protocol: device.LWM2M, DueAt: base.Add(time.Duration(i%7) * time.Second)}}
			switch {
			case i >= leaseDue && i%2 == 0:
				m.Push.DueAt = time.Time{}
			case i >= leaseDue:
				m.Push.DueAt = now.Add(time.Microsecond)
			}
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		return nil
	})
	for i := range leaseDue {
		due[[2]string{campaigns[i%leaseCampaigns], fmt.Sprintf("dev-%03d", i)}] = true
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		leased = map[[2]string][]int{} // member -> the workers whose committed transactions got it
	)
	for w := range leaseWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; ; round++ {
				if round > leaseDue {
					t.Errorf("worker %d: still leasing after %d rounds", w, round)
					return
				}
				var got []fota.Member
				err := hs[w%2].Update(ctx, func(tx fota.Tx) error {
					got = nil
					ms, err := tx.DueMembers(now, leaseLimit)
					if err != nil {
						return err
					}
					if len(ms) > leaseLimit {
						return fmt.Errorf("DueMembers(now, %d) returned %d", leaseLimit, len(ms))
					}
					for _, m := range ms {
						if m.Push.DueAt.IsZero() || m.Push.DueAt.After(now) {
							return fmt.Errorf("DueMembers(%s) returned %s/%s due at %s", now, m.CampaignID, m.DeviceID, m.Push.DueAt)
						}
						m.Push.DueAt, m.Push.Leased = leaseUntil, true
						m.Push.Lease++
						if err := tx.PutMember(m); err != nil {
							return err
						}
					}
					got = ms
					return nil
				})
				if err != nil {
					t.Errorf("worker %d, round %d: %v", w, round, err)
					return
				}
				if len(got) == 0 {
					return // what is left, other transactions hold and lease
				}
				mu.Lock()
				for _, m := range got {
					k := [2]string{m.CampaignID, m.DeviceID}
					leased[k] = append(leased[k], w)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for k, ws := range leased {
		if !due[k] {
			t.Errorf("member %s/%s handed out, never due", k[0], k[1])
		}
		if len(ws) > 1 {
			t.Errorf("member %s/%s handed out by %d committed transactions (workers %v)", k[0], k[1], len(ws), ws)
		}
	}
	for k := range due {
		if len(leased[k]) == 0 {
			t.Errorf("due member %s/%s never handed out", k[0], k[1])
		}
	}
	update(t, ctx, s, func(tx fota.Tx) error {
		left, err := tx.DueMembers(now, page)
		if err != nil {
			return err
		}
		if len(left) > 0 {
			t.Errorf("%d members still due after the workers stopped, first %+v", len(left), left[0])
		}
		for _, k := range slices.SortedFunc(maps.Keys(due), func(a, b [2]string) int { return cmp.Compare(a[0]+"/"+a[1], b[0]+"/"+b[1]) }) {
			m, err := tx.Member(k[0], k[1])
			if err != nil {
				return err
			}
			if m.Push.Lease != 1 || !m.Push.DueAt.Equal(leaseUntil) {
				t.Errorf("member %s/%s: lease %d due %s, want lease 1 due %s", k[0], k[1], m.Push.Lease, m.Push.DueAt, leaseUntil)
			}
		}
		return nil
	})
}

// Sizes of the sweep check.
const (
	sweepDevices = 120
	sweepPage    = 10
	sweepWorkers = 6
	sweepRounds  = 60 // device transactions per worker, at least
)

// testSweepBesideDevices: a campaign-wide sweep (Updates that page through
// a campaign's members, move each to a final state and release its device,
// saving a cursor in the campaign record, as the Manager ends a campaign)
// runs while device transactions on the same campaign's devices read and
// advance their member records, on the other handle. No update is lost
// either way (each member ends swept, with every device transaction's
// advance), nothing deadlocks, and every device ends released.
func testSweepBesideDevices(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	hs := h.handles(t, s)
	const cid = "sweep"
	devices := make([]string, sweepDevices)
	for i := range devices {
		devices[i] = fmt.Sprintf("sw-%03d", i)
	}
	putCampaigns(t, s, cid)
	update(t, ctx, s, func(tx fota.Tx) error {
		ms := make([]fota.NewMember, len(devices))
		for i, d := range devices {
			ms[i] = fota.NewMember{Member: fota.Member{CampaignID: cid, DeviceID: d, State: device.StateAccepted, UpdatedAt: base,
				Push: fota.Push{Protocol: device.OMADM, DueAt: base}}, Hold: true}
		}
		return tx.AddMembers(cid, ms)
	})
	var (
		wg        sync.WaitGroup
		committed [sweepDevices]atomic.Int64
		started   = make(chan struct{})
		startOnce sync.Once
		swept     atomic.Bool
	)
	for w := range sweepWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			for r := 0; r < sweepRounds || !swept.Load(); r++ {
				if r == 5 {
					startOnce.Do(func() { close(started) })
				}
				i := rnd.IntN(sweepDevices)
				d := devices[i]
				at := base.Add(time.Duration(w*1_000_000+r+1) * time.Microsecond)
				err := hs[0].UpdateDevice(ctx, d, func(tx fota.DeviceTx) error {
					m, err := tx.Member(cid)
					if err != nil {
						return err
					}
					m.Push.Lease++ // the device's own progress: a counter lost updates would show
					if err := tx.PutMember(m); err != nil {
						return err
					}
					if _, err := tx.ActiveCampaign(); err != nil {
						return err
					}
					return tx.AddCheckIn(verboselog.CheckIn{DeviceID: d, Result: "ok", TimeCompleted: at}, 1_000_000)
				})
				if err != nil {
					t.Errorf("worker %d, device %s: %v", w, d, err)
					return
				}
				committed[i].Add(1)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer swept.Store(true)
		<-started
		for n := 0; ; n++ {
			if n > sweepDevices {
				t.Errorf("the sweep does not end")
				return
			}
			done := false
			err := hs[1].Update(ctx, func(tx fota.Tx) error {
				c, err := tx.Campaign(cid)
				if err != nil {
					return err
				}
				ms, err := tx.Members(cid, c.Cursor, sweepPage)
				if err != nil {
					return err
				}
				for _, m := range ms {
					if m.State != device.StateCancelled {
						m.State, m.UpdatedAt = device.StateCancelled, base.Add(time.Hour)
						m.Push.DueAt, m.Push.Leased = time.Time{}, false
						if err := tx.PutMember(m); err != nil {
							return err
						}
					}
					if a, err := tx.ActiveCampaign(m.DeviceID); err != nil {
						return err
					} else if a == cid {
						if err := tx.SetActiveCampaign(m.DeviceID, ""); err != nil {
							return err
						}
					}
				}
				if len(ms) > 0 {
					c.Cursor = ms[len(ms)-1].DeviceID
				}
				c.Swept = len(ms) < sweepPage
				c.Revision++
				done = c.Swept
				return tx.PutCampaign(c)
			})
			if err != nil {
				t.Errorf("sweep batch %d: %v", n, err)
				return
			}
			if done {
				return
			}
		}
	}()
	wg.Wait()
	if t.Failed() {
		return
	}
	view(t, ctx, s, func(tx fota.Tx) error {
		c, err := tx.Campaign(cid)
		if err != nil {
			return err
		}
		if !c.Swept || c.Cursor != devices[len(devices)-1] {
			t.Errorf("campaign after the sweep: swept %v, cursor %q", c.Swept, c.Cursor)
		}
		counts, err := tx.Counts(cid)
		if err != nil {
			return err
		}
		if counts.Of(device.StateCancelled) != sweepDevices {
			t.Errorf("Counts after the sweep: %v, want every device cancelled", counts)
		}
		for i, d := range devices {
			m, err := tx.Member(cid, d)
			if err != nil {
				return err
			}
			if m.State != device.StateCancelled || !m.Push.DueAt.IsZero() {
				t.Errorf("member %s: %s due %s: the sweep's update was lost", d, m.State, m.Push.DueAt)
			}
			if got, want := int64(m.Push.Lease), committed[i].Load(); got != want {
				t.Errorf("member %s advanced %d times, %d device transactions committed: lost updates", d, got, want)
			}
			if a, err := tx.ActiveCampaign(d); err != nil || a != "" {
				t.Errorf("device %s after the sweep: active %q, %v", d, a, err)
			}
			h, err := tx.CheckIns(d, time.Time{}, page)
			if err != nil {
				return err
			}
			if int64(len(h)) != committed[i].Load() {
				t.Errorf("device %s: %d check-ins, %d device transactions committed", d, len(h), committed[i].Load())
			}
		}
		return nil
	})
}
