package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/jackc/pgx/v5/pgxpool"
)

// restartVar allows TestRestartServer to restart the PostgreSQL server.
const restartVar = "FOTA_PG_RESTART"

// faultRig is two replicas over one schema, their pools tagged with an
// application name so that a test kills only its own connections.
type faultRig struct {
	app      string
	pools    [2]*pgxpool.Pool
	stores   [2]*Store
	managers [2]*fota.Manager
	ids      []string
	campaign string
}

func newFaultRig(t *testing.T, devices int) *faultRig {
	t.Helper()
	r := &faultRig{app: newSchemaName()}
	schema := newSchemaName()
	ctx := context.Background()
	inv, ids := inventory(t, devices)
	r.ids = ids
	clk := &fixedClock{now: testStart}
	for i := range r.pools {
		cfg := poolConfig(t)
		cfg.ConnConfig.RuntimeParams["application_name"] = r.app
		cfg.MaxConns = 4
		// Dead connections are found by the health check too, not only
		// by the statement that meets them.
		cfg.HealthCheckPeriod = 200 * time.Millisecond
		r.pools[i] = openPoolWith(t, cfg)
		s, err := OpenPool(ctx, r.pools[i], Options{Schema: schema, MaxBackoff: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		r.stores[i] = s
		if r.managers[i], err = fota.New(fota.Config{Store: s, Inventory: inv, Clock: clk}); err != nil {
			t.Fatal(err)
		}
	}
	admin := openPool(t)
	t.Cleanup(func() { dropSchema(t, admin, schema) })
	if err := r.stores[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	liftGate(t, r.stores[0])
	info, err := r.managers[0].Schedule(ctx, "acme", onDemand(testStart, ids))
	if err != nil {
		t.Fatal(err)
	}
	r.campaign = info.ID
	return r
}

// drive runs workers that take devices through their update on both
// replicas until stop is closed, and returns how many operations
// succeeded and failed. A failed operation is tried again later; no
// error may be other than a store's (retries given up, a lost commit, a
// broken connection) or the Manager's answer to a repeat.
func (r *faultRig) drive(t *testing.T, stop <-chan struct{}) (ok, failed int64) {
	const workers = 6
	var wg sync.WaitGroup
	var okN, failN atomic.Int64
	for w := range workers {
		wg.Go(func() {
			ctx := context.Background()
			m := r.managers[w%2]
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				id := r.ids[(w+k*workers)%len(r.ids)]
				var err error
				switch k % 3 {
				case 0:
					_, err = m.CheckIn(ctx, fota.CheckInRequest{DeviceID: id})
				case 1:
					_, err = m.Report(ctx, r.campaign, id, fota.OutcomeDownloaded)
				default:
					_, err = m.Report(ctx, r.campaign, id, fota.OutcomeInstalled)
				}
				switch {
				case err == nil:
					okN.Add(1)
				case errors.Is(err, fota.ErrInvalidTransition) || errors.Is(err, fota.ErrDuplicateReport):
					okN.Add(1) // the device was not there yet, or a lost commit applied it
				default:
					failN.Add(1)
					if !storeFailure(err) {
						t.Errorf("worker %d, device %s: %v (%T)", w, id, err, errors.Unwrap(err))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	return okN.Load(), failN.Load()
}

// storeFailure reports whether err is one of the failures a broken
// connection or a server going away may cause.
func storeFailure(err error) bool {
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrCommitUnknown) {
		return true
	}
	if _, ok := Retryable(err); ok {
		return true
	}
	var ce *connError
	return errors.As(err, &ce)
}

// checkWhole checks in SQL that no device transaction was half applied:
// a device that succeeded is released and recorded as upgraded, one still
// under way is held by the campaign, and every check-in history numbers
// exactly the check-ins it holds.
func (r *faultRig) checkWhole(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	s := r.stores[0]
	var half int
	err := s.pool.QueryRow(ctx, expand(`SELECT count(*) FROM {s}.members AS m
		LEFT JOIN {s}.devices AS d ON d.device_id = m.device_id
		WHERE m.campaign_id = $1 AND CASE WHEN m.state = $2
			THEN coalesce(d.active_campaign, '') <> '' OR coalesce(d.last_campaign, '') <> $1 OR NOT coalesce(d.ever_upgraded, false)
			ELSE coalesce(d.active_campaign, '') <> $1 END`, quoteIdent(s.Schema())),
		r.campaign, int16(device.StateSucceeded)).Scan(&half)
	if err != nil {
		t.Fatal(err)
	}
	if half != 0 {
		t.Errorf("%d devices half updated: member state and device row disagree", half)
	}
	var badHistories int
	err = s.pool.QueryRow(ctx, expand(`SELECT count(*) FROM {s}.histories AS h
		WHERE h.n <> (SELECT count(*) FROM {s}.check_ins AS c WHERE c.device_id = h.device_id)`, quoteIdent(s.Schema()))).Scan(&badHistories)
	if err != nil {
		t.Fatal(err)
	}
	if badHistories != 0 {
		t.Errorf("%d check-in histories whose count disagrees with their rows", badHistories)
	}
}

// recovered checks that every replica works again on the pools it has.
func (r *faultRig) recovered(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, m := range r.managers {
		var err error
		for range 50 {
			if _, err = m.CheckIn(ctx, fota.CheckInRequest{DeviceID: r.ids[i]}); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("replica %d after the faults: %v", i, err)
		}
	}
}

// TestTerminateBackends: while two replicas drive devices, their
// connections are killed again and again (pg_terminate_backend). Calls
// fail with store errors, never panic; nothing is half applied; the
// replicas work again on the pools they have.
func TestTerminateBackends(t *testing.T) {
	r := newFaultRig(t, 300)
	admin := openPool(t)
	stop := make(chan struct{})
	var killed atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		ctx := context.Background()
		for i := range 40 {
			time.Sleep(time.Duration(20+i%5*20) * time.Millisecond)
			var n int64
			err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE application_name = $1 AND pid <> pg_backend_pid()`, r.app).Scan(&n)
			if err != nil {
				t.Error(err)
				break
			}
			killed.Add(n)
		}
		close(stop)
	})
	ok, failed := r.drive(t, stop)
	wg.Wait()
	t.Logf("%d connections killed; %d operations done, %d failed; stats %+v %+v", killed.Load(), ok, failed,
		r.stores[0].Stats(), r.stores[1].Stats())
	if killed.Load() == 0 || ok == 0 {
		t.Fatalf("%d connections killed, %d operations done: the test exercised nothing", killed.Load(), ok)
	}
	r.recovered(t)
	r.checkWhole(t)
}

// TestRestartServer: while two replicas drive devices, PostgreSQL
// restarts. It runs only where FOTA_PG_RESTART=1 allows restarting the
// server (CI sets it; a developer's shared server is left alone), and
// fails under CI without it.
func TestRestartServer(t *testing.T) {
	if os.Getenv(restartVar) != "1" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run this test: set %s=1 (it restarts PostgreSQL)", restartVar)
		}
		t.Skipf("restarts the PostgreSQL server: set %s=1 to allow it", restartVar)
	}
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) == 0 {
		t.Fatalf("no cluster under /etc/postgresql to restart: %v", err)
	}
	r := newFaultRig(t, 300)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var restartErr error
	wg.Go(func() {
		defer close(stop)
		time.Sleep(500 * time.Millisecond)
		out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", versions[0].Name(), "main", "restart").CombinedOutput()
		if err != nil {
			restartErr = fmt.Errorf("pg_ctlcluster restart: %v: %s", err, strings.TrimSpace(string(out)))
			return
		}
		time.Sleep(time.Second) // the replicas work on the restarted server a while
	})
	ok, failed := r.drive(t, stop)
	wg.Wait()
	if restartErr != nil {
		t.Fatal(restartErr)
	}
	t.Logf("%d operations done, %d failed; stats %+v %+v", ok, failed, r.stores[0].Stats(), r.stores[1].Stats())
	r.recovered(t)
	r.checkWhole(t)
}
