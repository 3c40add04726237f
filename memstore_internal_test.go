package fota

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/verboselog"
	"pgregory.net/rapid"
)

// TestKeysOrderAsBytes: numeric keys compare as their ids' bytes, and
// format back to their ids, leading zeros included.
func TestKeysOrderAsBytes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := rapid.StringMatching(`[0-9]{1,17}`).Draw(t, "a")
		b := rapid.StringMatching(`[0-9]{1,17}`).Draw(t, "b")
		if rapid.Bool().Draw(t, "prefix") && len(a) < maxKeyDigit {
			b = a + b[:min(len(b), maxKeyDigit-len(a))]
		}
		ka, ok := numericKey(a)
		kb, okb := numericKey(b)
		if !ok || !okb {
			t.Fatalf("numericKey(%q), numericKey(%q): not numeric", a, b)
		}
		if got, want := compareNumeric(ka, kb), strings.Compare(a, b); got != want {
			t.Fatalf("compareNumeric(%q, %q) = %d, want %d", a, b, got, want)
		}
		if got := string(ka.appendDigits(nil)); got != a {
			t.Fatalf("key of %q formats as %q", a, got)
		}
		if got := string(kb.appendDigits([]byte(a))); got != a+b {
			t.Fatalf("key of %q appended to %q formats as %q", b, a, got)
		}
	})
	for _, id := range []string{"", "123456789012345678", "12a", "-1", "１"} {
		if _, ok := numericKey(id); ok {
			t.Errorf("numericKey(%q) is numeric", id)
		}
	}
}

// TestNumericKeyIsItsDigits: the key read eight bytes at a time is the
// one read byte by byte, and any byte that is not a digit, wherever it
// stands, makes the id a text.
func TestNumericKeyIsItsDigits(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		id := []byte(rapid.StringMatching(`[0-9]{1,17}`).Draw(t, "id"))
		if rapid.Bool().Draw(t, "spoil") {
			// Mostly the bytes beside the digits, which share their high
			// nibble or are a carry away from it.
			near := rapid.SampledFrom([]byte{'/', ':', ';', '<', '=', '>', '?', 0x20, 0x40, 0xC0, 0xFA, 0xFF, 0})
			other := rapid.Byte().Filter(func(b byte) bool { return b < '0' || b > '9' })
			id[rapid.IntRange(0, len(id)-1).Draw(t, "at")] = rapid.OneOf(near, other).Draw(t, "byte")
		}
		var v uint64
		digits := true
		for _, c := range id {
			digits = digits && c >= '0' && c <= '9'
			v = v*10 + uint64(c-'0')
		}
		k, ok := numericKey(string(id))
		if ok != digits {
			t.Fatalf("numericKey(%q) numeric = %v", id, ok)
		}
		if ok && (k.value() != v || k.digits() != len(id)) {
			t.Fatalf("numericKey(%q) = %d digits of %d, want %d of %d", id, k.digits(), k.value(), len(id), v)
		}
	})
}

// TestDevTxReset: a pooled device transaction goes back with nothing of
// the one it served, whatever that wrote, committed or not: every field
// is zero but its arrays, which are empty.
func TestDevTxReset(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore()
	const id = "350000000000001"
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(tx Tx) error {
		if err := tx.PutCampaign(Campaign{ID: "c1", Account: "acme"}); err != nil {
			return err
		}
		return tx.AddMembers("c1", []NewMember{{Member: Member{CampaignID: "c1", DeviceID: id, State: device.StateAccepted, UpdatedAt: at}, Hold: true}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, fail := range []bool{false, true} {
		var used *devTx
		err := s.UpdateDevice(ctx, id, func(tx DeviceTx) error {
			used = tx.(*devTx)
			if _, err := tx.Campaign("c1"); err != nil {
				return err
			}
			m, err := tx.Member("c1")
			if err != nil {
				return err
			}
			m.State = device.StateDownloading
			for _, err := range []error{
				tx.PutMember(m), tx.SetActiveCampaign("c1"),
				tx.PutDevice(DeviceRecord{DeviceID: id, LastCampaign: "c1"}),
				tx.PutSession(LogSession{Account: "acme", Session: verboselog.Session{DeviceID: id}}),
				tx.AddCheckIn(verboselog.CheckIn{DeviceID: id, Result: "ok", TimeCompleted: at}, 4),
				tx.AddBundle(verboselog.Bundle{DeviceID: id, LogTime: at}),
				tx.PutDeadline(Deadline{Kind: DeadlineCampaignEnd, Key: "c1", At: at}),
			} {
				if err != nil {
					return err
				}
			}
			if fail {
				return errors.New("rolled back")
			}
			return nil
		})
		if (err != nil) != fail {
			t.Fatalf("fail %v: %v", fail, err)
		}
		v := reflect.ValueOf(used).Elem()
		for i := range v.NumField() {
			f, name := v.Field(i), v.Type().Field(i).Name
			if f.Kind() == reflect.Slice {
				if f.Len() != 0 {
					t.Errorf("fail %v: %s holds %d after reset", fail, name, f.Len())
				}
				continue
			}
			if !f.IsZero() {
				t.Errorf("fail %v: %s is %v after reset", fail, name, f)
			}
		}
	}
}

// TestCheckInTextsCompacted: check-ins with ever new texts do not grow the
// text table without bound: past maxCheckInTexts, the next Update keeps
// only the texts some history refers to, and every history reads back as
// written.
func TestCheckInTextsCompacted(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore()
	devices := []string{"350000000000001", "350000000000002", "D-1"}
	const keep = 2
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxCheckInTexts + 100 {
		id := devices[i%len(devices)]
		at = at.Add(time.Second)
		c := verboselog.CheckIn{DeviceID: id, Result: fmt.Sprintf("result %d", i), TimeCompleted: at}
		if err := s.UpdateDevice(ctx, id, func(tx DeviceTx) error { return tx.AddCheckIn(c, keep) }); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.texts.all) <= maxCheckInTexts {
		t.Fatalf("%d texts interned, want more than %d before compaction", len(s.texts.all), maxCheckInTexts)
	}
	want := map[string][]string{}
	if err := s.View(ctx, func(tx Tx) error {
		for _, id := range devices {
			cs, err := tx.CheckIns(id, time.Time{}, 10)
			if err != nil {
				return err
			}
			for _, c := range cs {
				want[id] = append(want[id], c.Result)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx Tx) error { _, err := tx.CheckIns(devices[0], time.Time{}, 1); return err }); err != nil {
		t.Fatal(err)
	}
	if n := len(s.texts.all); n > len(devices)*keep {
		t.Fatalf("%d texts kept after compaction, want at most %d", n, len(devices)*keep)
	}
	if err := s.View(ctx, func(tx Tx) error {
		for _, id := range devices {
			cs, err := tx.CheckIns(id, time.Time{}, 10)
			if err != nil {
				return err
			}
			if len(cs) != len(want[id]) {
				return fmt.Errorf("%s: %d check-ins after compaction, %d before", id, len(cs), len(want[id]))
			}
			for i, c := range cs {
				if c.Result != want[id][i] {
					return fmt.Errorf("%s: check-in %d says %q after compaction, %q before", id, i, c.Result, want[id][i])
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestHeldElsewhere: a device may be held by a campaign the store does not
// hold (the contract allows it); its id reads back, through both kinds of
// transaction, and releasing or moving it leaves nothing behind.
func TestHeldElsewhere(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore()
	const id = "350000000000001"
	active := func(want string) {
		t.Helper()
		if err := s.View(ctx, func(tx Tx) error {
			if got, err := tx.ActiveCampaign(id); err != nil || got != want {
				return fmt.Errorf("ActiveCampaign = %q, %v; want %q", got, err, want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Update(ctx, func(tx Tx) error {
		if err := tx.PutCampaign(Campaign{ID: "here"}); err != nil {
			return err
		}
		return tx.SetActiveCampaign(id, "gone")
	}); err != nil {
		t.Fatal(err)
	}
	active("gone")
	if err := s.UpdateDevice(ctx, id, func(tx DeviceTx) error {
		if got, err := tx.ActiveCampaign(); err != nil || got != "gone" {
			return fmt.Errorf("DeviceTx.ActiveCampaign = %q, %v", got, err)
		}
		return tx.SetActiveCampaign("elsewhere")
	}); err != nil {
		t.Fatal(err)
	}
	active("elsewhere")
	if err := s.UpdateDevice(ctx, id, func(tx DeviceTx) error { return tx.SetActiveCampaign("here") }); err != nil {
		t.Fatal(err)
	}
	active("here")
	if len(s.elsewhere) != 0 {
		t.Fatalf("elsewhere holds %v after the device moved to a campaign the store holds", s.elsewhere)
	}
	if err := s.Update(ctx, func(tx Tx) error {
		if err := tx.SetActiveCampaign(id, "away"); err != nil {
			return err
		}
		return fmt.Errorf("roll back")
	}); err == nil {
		t.Fatal("the Update did not fail")
	}
	active("here")
	if err := s.Update(ctx, func(tx Tx) error { return tx.SetActiveCampaign(id, "") }); err != nil {
		t.Fatal(err)
	}
	active("")
}

// TestPartitionIsWholeShards: Partition maps every device of one lock
// shard to the same partition, in range, for any n (clamped to 1..64), so
// goroutines serving distinct partitions never share a shard.
func TestPartitionIsWholeShards(t *testing.T) {
	s := NewMemoryStore()
	for _, n := range []int{-3, 0, 1, 2, 3, 7, 64, 100} {
		byShard := map[*shard]int{}
		for i := range 5000 {
			id := fmt.Sprintf("35%013d", i*7919)
			if i%5 == 0 {
				id = fmt.Sprintf("device-%d", i) // an id that is not numeric
			}
			p := s.Partition(id, n)
			if p < 0 || p >= min(max(n, 1), numShards) {
				t.Fatalf("Partition(%s, %d) = %d, out of range", id, n, p)
			}
			sh := s.shardOf(probeOf(id).hash)
			if q, ok := byShard[sh]; ok && q != p {
				t.Fatalf("n=%d: one shard in partitions %d and %d", n, q, p)
			}
			byShard[sh] = p
		}
		if n >= 2 && n <= 64 {
			seen := map[int]bool{}
			for _, p := range byShard {
				seen[p] = true
			}
			if len(seen) != n {
				t.Errorf("n=%d: %d partitions used of %d", n, len(seen), n)
			}
		}
	}
}

// TestScanMembersIsMembers: scanMembers visits exactly the members
// Members returns, page by page, in the same order, with the same last id;
// with skipSettled it visits, counts and names as many, but passes fn only
// those not settled (finished, no push command planned or out, the device
// not held by the campaign); and it stops at fn's error.
func TestScanMembersIsMembers(t *testing.T) {
	states := []device.State{device.StateAccepted, device.StateDownloading, device.StateSucceeded, device.StateUpdateFailed, device.StateRejected}
	rapid.Check(t, func(t *rapid.T) {
		s := NewMemoryStore()
		ctx := context.Background()
		n := rapid.IntRange(0, 60).Draw(t, "devices")
		var ms []NewMember
		for i := range n {
			id := fmt.Sprintf("35%013d", rapid.IntRange(0, 1<<20).Draw(t, "key")*64+i)
			if rapid.Bool().Draw(t, "text") {
				id = fmt.Sprintf("dev-%d", i)
			}
			m := Member{CampaignID: "c1", DeviceID: id, State: rapid.SampledFrom(states).Draw(t, "state"), UpdatedAt: time.Unix(1, 0)}
			if rapid.Bool().Draw(t, "push") {
				m.Push = Push{Protocol: device.LWM2M, Leased: rapid.Bool().Draw(t, "leased")}
				if rapid.Bool().Draw(t, "due") {
					m.Push.DueAt = time.Unix(5, 0)
				}
			}
			ms = append(ms, NewMember{Member: m, Hold: rapid.Bool().Draw(t, "hold")})
		}
		if err := s.Update(ctx, func(tx Tx) error {
			if err := tx.PutCampaign(Campaign{ID: "c1", Account: "acme"}); err != nil {
				return err
			}
			return tx.AddMembers("c1", ms)
		}); err != nil {
			t.Fatal(err)
		}
		limit := rapid.IntRange(1, 25).Draw(t, "limit")
		err := s.View(ctx, func(tx Tx) error {
			mt := tx.(*memTx)
			settled := func(m Member) bool {
				held, err := mt.ActiveCampaign(m.DeviceID)
				return err == nil && m.State.Terminal() && held != "c1" && m.Push.DueAt.IsZero() && !m.Push.Leased
			}
			after := ""
			for {
				want, err := mt.Members("c1", after, limit)
				if err != nil {
					return err
				}
				var wantLive []Member
				for _, m := range want {
					if !settled(m) {
						wantLive = append(wantLive, m)
					}
				}
				for _, skip := range []bool{false, true} {
					var got []Member
					k, last, err := mt.scanMembers("c1", after, limit, skip, func(m *Member) error {
						got = append(got, *m)
						return nil
					})
					if err != nil {
						return err
					}
					w := want
					if skip {
						w = wantLive
					}
					if k != len(want) || fmt.Sprint(got) != fmt.Sprint(w) || (k > 0 && last != want[k-1].DeviceID) {
						t.Fatalf("after %q, skip %v: scan %d %v (last %q), want %d %v", after, skip, k, got, last, len(want), w)
					}
				}
				if len(want) < limit {
					break
				}
				after = want[len(want)-1].DeviceID
			}
			stop := errors.New("stop")
			if k, _, err := mt.scanMembers("c1", "", -1, false, func(*Member) error { return stop }); n > 0 && (err != stop || k != 0) {
				t.Fatalf("fn's error: %d visited, %v", k, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestReserveDevices: a schedule's reservation builds the id table once
// for its new devices: adding them grows it no more, and every device
// held before and after is found. A schedule of devices the store mostly
// holds reserves nothing.
func TestReserveDevices(t *testing.T) {
	s := NewMemoryStore()
	ctx := context.Background()
	add := func(from, n int) {
		t.Helper()
		var ms []NewMember
		for i := from; i < from+n; i++ {
			ms = append(ms, NewMember{Member: Member{CampaignID: "c1", DeviceID: fmt.Sprintf("35%013d", i), State: device.StateAccepted, UpdatedAt: time.Unix(1, 0)}})
		}
		if err := s.Update(ctx, func(tx Tx) error {
			tx.(*memTx).reserveSchedule(n, time.Time{})
			if _, err := tx.Campaign("c1"); err != nil {
				if err := tx.PutCampaign(Campaign{ID: "c1", Account: "acme"}); err != nil {
					return err
				}
			}
			gen := s.table.gen
			if err := tx.AddMembers("c1", ms); err != nil {
				return err
			}
			if s.table.gen != gen {
				t.Errorf("adding %d devices after reserving grew the table", n)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	add(0, 300)
	add(300, 5000)
	size := len(s.table.slots)
	if err := s.Update(ctx, func(tx Tx) error { tx.(*memTx).reserveSchedule(3000, time.Time{}); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(s.table.slots) != size {
		t.Errorf("a reservation for devices the store holds grew the table from %d to %d slots", size, len(s.table.slots))
	}
	for i := range 5300 {
		p := probeOf(fmt.Sprintf("35%013d", i))
		if s.find(&p) == noDevice {
			t.Fatalf("device %d not found", i)
		}
	}
}

// TestMicroUTCIsKept: a time written takes the form a read gives back, to
// the byte (==), whatever its zone, monotonic reading or sub-microsecond
// part.
func TestMicroUTCIsKept(t *testing.T) {
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("x", -7*3600-1800)}
	rapid.Check(t, func(t *rapid.T) {
		us := rapid.Int64Range(-62135596800000000, 253402300799999999).Draw(t, "us")
		ns := rapid.SampledFrom([]int64{0, 0, 1, 999, 500}).Draw(t, "ns")
		at := time.UnixMicro(us).Add(time.Duration(ns)).In(rapid.SampledFrom(zones).Draw(t, "zone"))
		if rapid.Bool().Draw(t, "monotonic") {
			now := time.Now()
			at = now.Add(at.Sub(now)) // the same instant, with a monotonic reading
		}
		if got, want := microUTC(at), fromMicro(micro(at)); got != want {
			t.Fatalf("microUTC(%v) = %#v, want %#v", at, got, want)
		}
	})
	if got := microUTC(time.Time{}); got != (time.Time{}) {
		t.Fatalf("microUTC(zero) = %#v", got)
	}
}
