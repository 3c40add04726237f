package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
)

// TestFleetIDs: every device's id is its IMEI, maps back to the device by
// parsing, and an id that is not the fleet's maps to none; the computed
// inventory answers for the fleet's devices only.
func TestFleetIDs(t *testing.T) {
	const n = 12345
	ids, err := mintFleet(n)
	if err != nil {
		t.Fatal(err)
	}
	if size := unsafe.Sizeof(simDevice{}); size != 32 {
		t.Errorf("a device record takes %d bytes, want 32 (two to a cache line)", size)
	}
	for i := range int32(n) {
		id := ids.id(i)
		if !device.ValidIMEI(id) {
			t.Fatalf("device %d: %q is not an IMEI", i, id)
		}
		if j, ok := ids.index(id); !ok || j != i {
			t.Fatalf("device %d: %q maps to %d, %v", i, id, j, ok)
		}
	}
	last := ids.id(n - 1)
	for _, bad := range []string{"", "35000000000000", "3500000000000000", "450000000000000", // length, prefix
		last[:14] + string('0'+(last[14]-'0'+1)%10),                  // the check digit
		"35000000012345" + "x", "3500000001234a5", "35000/000012345", // not digits
		"350000000123452", // the next serial: beyond the fleet (a valid IMEI)
	} {
		if i, ok := ids.index(bad); ok {
			t.Errorf("%q maps to device %d", bad, i)
		}
	}
	g := Group{Name: "g", Make: "Acme", Model: "Lamp", Software: "1.0"}
	inv := &inventory{fleet: ids, groups: []groupRT{{Group: &g, proto: device.LWM2M}}}
	info, found, err := inv.Lookup(context.Background(), last)
	if err != nil || !found || info.DeviceID != last || info.Protocol != device.LWM2M || info.Model != "Lamp" || info.Account != account || !info.FOTACapable {
		t.Fatalf("Lookup(%q): %+v %v %v", last, info, found, err)
	}
	if _, found, err := inv.Lookup(context.Background(), "350000000123452"); found || err != nil {
		t.Fatalf("Lookup of a device beyond the fleet: %v %v", found, err)
	}
}

// TestQueueReleasesBuckets: once a day of events has been popped, the
// queue holds no more than its spare blocks and one bucket's arrays, not
// every bucket at the most it ever held.
func TestQueueReleasesBuckets(t *testing.T) {
	var q Queue[int]
	const n = 200_000
	for i := range n {
		q.Push(int64(i%86400)*1_000_000+int64(i/86400), i) // a day, many events a second
	}
	held := func() int {
		slots := cap(q.cur) + cap(q.tmp)
		for _, b := range q.blocks {
			slots += cap(b)
		}
		return slots
	}
	if h := held(); h < n/2 {
		t.Fatalf("the queue holds %d slots for %d events: the test does not exercise the ring", h, n)
	}
	for range n {
		if _, _, ok := q.Pop(); !ok {
			t.Fatal("ran dry")
		}
	}
	// What a bucket of 2^24 µs holds here: about 16.8 s of events.
	perBucket := 2 * (n/86400 + 1) * 17
	if h, most := held(), minSpare*blockLen+2*perBucket; h > most {
		t.Errorf("after popping every event the queue holds %d slots (at most %d expected)", h, most)
	}
}

// TestLwM2MResetNotifies: a simulated LwM2M device acknowledges a reset
// and, when the reset changed what it shows, notifies (Idle, Initial), as
// an observed client does; one already at rest has nothing to tell. In
// Updating it refuses the reset (4.05).
func TestLwM2MResetNotifies(t *testing.T) {
	ids, err := mintFleet(1)
	if err != nil {
		t.Fatal(err)
	}
	g := Group{Name: "g"}
	r := &runner{fleet: ids, groups: []groupRT{{Group: &g, proto: device.LWM2M}}}
	for _, c := range []struct {
		from   lwm2m.Observation
		status int
		tells  bool
	}{
		{lwm2m.Observation{State: lwm2m.Downloaded, Result: lwm2m.UpdateFailed}, 204, true},
		{lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Result(5)}, 204, true},
		{lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Initial}, 204, false},
		{lwm2m.Observation{State: lwm2m.Updating, Result: lwm2m.Initial}, 405, false},
	} {
		r.fleet[0].st, r.fleet[0].res = uint8(c.from.State), uint8(c.from.Result)
		rc, tells, err := r.answer(0, 0, fota.CommandReset)
		if err != nil || rc.Status != c.status || tells != c.tells {
			t.Errorf("reset from %v: status %d, tells %v, %v; want %d, %v", c.from, rc.Status, tells, err, c.status, c.tells)
		}
		if now := (lwm2m.Observation{State: lwm2m.State(r.fleet[0].st), Result: lwm2m.Result(r.fleet[0].res)}); c.status == 204 && now != (lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Initial}) {
			t.Errorf("reset from %v leaves %v", c.from, now)
		}
	}
}

// failingStore fails the device operations of one device in twenty (the
// serials whose last two digits are 7 modulo 20) from the instant from on.
type failingStore struct {
	fota.Store
	clock *Clock
	from  int64
}

var errInjected = errors.New("injected failure")

func (s *failingStore) UpdateDevice(ctx context.Context, id string, fn func(fota.DeviceTx) error) error {
	if Micros(s.clock.Now()) >= s.from && (int(id[12]-'0')*10+int(id[13]-'0'))%20 == 7 {
		return errInjected
	}
	return s.Store.UpdateDevice(ctx, id, fn)
}

// TestWorkersFirstError: when device operations fail in a batch that is
// shared out, the run fails with the error of the first failing event in
// event order, the one a single worker stops at, whichever worker ran
// which shard, and the Observer and OnStep were told the same up to it. The
// failures start on the rollout's second night, when hundreds of
// check-ins share an instant.
func TestWorkersFirstError(t *testing.T) {
	s := DefaultScenario(6000)
	s.Fleet[0].CheckInJitter = Duration(time.Second)
	var want, wantLog string
	for _, workers := range []int{1, 2, 3, 8} {
		s.config = func(cfg *fota.Config) {
			cfg.Store = &failingStore{Store: cfg.Store, clock: cfg.Clock.(*Clock), from: Micros(s.Start.Add(60 * time.Hour))}
		}
		var log strings.Builder
		s.Observer = fota.ObserverFunc(func(c fota.Change) { fmt.Fprintln(&log, c) })
		s.OnStep = func(st Step) { fmt.Fprintf(&log, "%+v\n", st) }
		s.Workers = workers
		_, err := Run(context.Background(), s)
		if !errors.Is(err, errInjected) {
			t.Fatalf("%d workers: %v, want the injected failure", workers, err)
		}
		if workers == 1 {
			want, wantLog = err.Error(), log.String()
			continue
		}
		if err.Error() != want {
			t.Fatalf("%d workers: %v\nwant (1 worker): %s", workers, err, want)
		}
		if log.String() != wantLog {
			t.Fatalf("%d workers: the Observer and OnStep were told otherwise than with 1", workers)
		}
	}
	if n := strings.Count(wantLog, "\n"); n < 1000 {
		t.Fatalf("%d changes and steps told before the failure: it came too early to test a busy batch", n)
	}
}
