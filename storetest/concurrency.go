package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
)

var concurrencyCases = []testCase{
	{"ReadModifyWrite", testReadModifyWrite},
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
