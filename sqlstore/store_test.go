package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
	"github.com/jackc/pgx/v5/pgxpool"
	"pgregory.net/rapid"
)

// TestOpenOptions: Open refuses what it cannot use, naming the option and
// the value, and fills defaults.
func TestOpenOptions(t *testing.T) {
	pool := openPool(t)
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		pool  *pgxpool.Pool
		opts  Options
		field string
	}{
		{"no pool", nil, Options{}, "pool"},
		{"schema longer than 63 bytes", pool, Options{Schema: strings.Repeat("s", 64)}, "Schema"},
		{"schema not UTF-8", pool, Options{Schema: "fota\xff"}, "Schema"},
		{"schema with NUL", pool, Options{Schema: "fo\x00ta"}, "Schema"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := OpenPool(ctx, c.pool, c.opts)
			var oe *OptionError
			if s != nil || !errors.Is(err, ErrBadOption) || !errors.As(err, &oe) || oe.Field != c.field {
				t.Fatalf("Open = %v, %v; want an *OptionError for %s", s, err, c.field)
			}
			if c.pool != nil && oe.Value != c.opts.Schema {
				t.Fatalf("OptionError names %q, want %q", oe.Value, c.opts.Schema)
			}
		})
	}
	s, err := OpenPool(ctx, pool, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Schema() != DefaultSchema || s.maxRetries != DefaultMaxRetries || s.maxBackoff != DefaultMaxBackoff {
		t.Fatalf("defaults: schema %q, retries %d, backoff %v", s.Schema(), s.maxRetries, s.maxBackoff)
	}
	s, err = OpenPool(ctx, pool, Options{MaxRetries: -1, MaxBackoff: -1})
	if err != nil || s.maxRetries != 0 || s.maxBackoff != 0 {
		t.Fatalf("negative options: %v, retries %d, backoff %v; want none", err, s.maxRetries, s.maxBackoff)
	}
}

// TestOpenUnreachable: a database that does not answer is an error from
// Open, not from the first transaction.
func TestOpenUnreachable(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if s, err := OpenPool(context.Background(), pool, Options{}); err == nil || s != nil {
		t.Fatalf("Open on a closed port = %v, %v; want an error", s, err)
	}
}

// TestSchemaNames: a schema name is quoted, so any identifier works, and
// two schemas in one database keep their records apart.
func TestSchemaNames(t *testing.T) {
	pool := openPool(t)
	ctx := context.Background()
	odd := newStore(t, pool, Options{Schema: `Fota "Odd" ` + newSchemaName()})
	plain := newStore(t, pool, Options{})
	var seq [2]uint64
	for i, s := range []*Store{odd, plain} {
		if err := s.Update(ctx, func(tx fota.Tx) (err error) { seq[i], err = tx.NextSeq(); return err }); err != nil {
			t.Fatalf("NextSeq in schema %q: %v", s.Schema(), err)
		}
	}
	if seq != [2]uint64{1, 1} {
		t.Fatalf("first NextSeq of two schemas = %v, want 1 each: one sequence per schema", seq)
	}
	if err := odd.Update(ctx, func(tx fota.Tx) error { return tx.PutCampaign(fota.Campaign{ID: "c1", Account: "a"}) }); err != nil {
		t.Fatal(err)
	}
	if err := odd.View(ctx, func(tx fota.Tx) error { _, err := tx.Campaign("c1"); return err }); err != nil {
		t.Fatalf("campaign in schema %q: %v", odd.Schema(), err)
	}
	err := plain.View(ctx, func(tx fota.Tx) error { _, err := tx.Campaign("c1"); return err })
	if !errors.Is(err, fota.ErrNotFound) {
		t.Fatalf("campaign of schema %q seen from schema %q: %v", odd.Schema(), plain.Schema(), err)
	}
}

// TestMigrate: Migrate is idempotent and keeps what the tables hold; a
// schema recorded at a newer version is refused and left alone.
func TestMigrate(t *testing.T) {
	pool := openPool(t)
	ctx := context.Background()
	s := newStore(t, pool, Options{})
	if err := s.Update(ctx, func(tx fota.Tx) error { return tx.PutCampaign(fota.Campaign{ID: "c1"}) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if err := s.View(ctx, func(tx fota.Tx) error { _, err := tx.Campaign("c1"); return err }); err != nil {
		t.Fatalf("after a second Migrate: %v", err)
	}
	if _, err := pool.Exec(ctx, expand(`UPDATE {s}.meta SET version = 99`, quoteIdent(s.Schema()))); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("Migrate over a newer schema: %v, want an error naming version 99", err)
	}
}

// sqlStateError is a driver error with an SQLSTATE, as pgx's.
type sqlStateError string

func (e sqlStateError) Error() string    { return "SQLSTATE " + string(e) }
func (e sqlStateError) SQLState() string { return string(e) }

// TestRetries: a function whose transaction fails to serialize (40001) or
// deadlocks (40P01) runs again, MaxRetries times at most, then Update
// returns a *ConflictError wrapping the last failure; any other error is
// returned at once.
func TestRetries(t *testing.T) {
	pool := openPool(t)
	ctx := context.Background()
	s := newStore(t, pool, Options{MaxRetries: 3, MaxBackoff: time.Millisecond})
	for _, c := range []struct {
		err      error
		runs     int
		conflict string // the SQLSTATE of a conflict
	}{
		{fmt.Errorf("wrapped: %w", sqlStateError("40001")), 4, "40001"},
		{sqlStateError("40P01"), 4, "40P01"},
		{sqlStateError("23505"), 1, ""},
		{errors.New("the function's own"), 1, ""},
	} {
		runs := 0
		err := s.Update(ctx, func(tx fota.Tx) error {
			runs++
			if err := tx.PutCampaign(fota.Campaign{ID: fmt.Sprintf("run-%d", runs)}); err != nil {
				return err
			}
			return c.err
		})
		var ce *ConflictError
		if runs != c.runs || errors.Is(err, ErrConflict) != (c.conflict != "") || !errors.Is(err, c.err) {
			t.Errorf("%v: %d runs, %v; want %d runs, conflict %q", c.err, runs, err, c.runs, c.conflict)
		}
		if c.conflict != "" && (!errors.As(err, &ce) || ce.Attempts != c.runs || ce.SQLState != c.conflict) {
			t.Errorf("%v: %#v", c.err, err)
		}
	}
	// Nothing any of those runs wrote was committed.
	if err := s.View(ctx, func(tx fota.Tx) error {
		cs, err := tx.Campaigns("", "", -1)
		if err == nil && len(cs) != 0 {
			return fmt.Errorf("rolled-back runs left %d campaigns", len(cs))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// A run that succeeds after failures commits once.
	runs := 0
	if err := s.Update(ctx, func(tx fota.Tx) error {
		runs++
		if err := tx.PutCampaign(fota.Campaign{ID: fmt.Sprintf("run-%d", runs)}); err != nil || runs == 3 {
			return err
		}
		return sqlStateError("40001")
	}); err != nil || runs != 3 {
		t.Fatalf("Update succeeding on run 3: %v after %d runs", err, runs)
	}
	if st := s.Stats(); st.Retries != 3+3+2 || st.Conflicts != 2 || st.MaxAttempts != 4 {
		t.Fatalf("Stats = %+v, want 8 retries, 2 conflicts, at most 4 attempts", st)
	}
	// A context cancelled while waiting to retry ends the Update.
	cctx, cancel := context.WithCancel(ctx)
	runs = 0
	err := s.Update(cctx, func(tx fota.Tx) error {
		runs++
		if runs == 2 {
			cancel()
		}
		return sqlStateError("40001")
	})
	if !errors.Is(err, context.Canceled) || runs != 2 {
		t.Fatalf("cancelled between retries: %v after %d runs", err, runs)
	}
}

// TestFailedStatement: once a statement failed, the transaction is
// aborted: later calls return the same error, and Update returns it even
// when the function swallowed it, committing nothing.
func TestFailedStatement(t *testing.T) {
	pool := openPool(t)
	ctx := context.Background()
	s := newStore(t, pool, Options{})
	var first, second error
	err := s.Update(ctx, func(ftx fota.Tx) error {
		if err := ftx.PutCampaign(fota.Campaign{ID: "kept?"}); err != nil {
			return err
		}
		_, first = ftx.(*tx).c.exec(`SELECT 1/0`) // division_by_zero
		_, second = ftx.Campaign("kept?")
		return nil
	})
	if first == nil || second != first || err != first {
		t.Fatalf("failed statement %v, next call %v, Update %v; want the same error thrice", first, second, err)
	}
	if err := s.View(ctx, func(tx fota.Tx) error { _, err := tx.Campaign("kept?"); return err }); !errors.Is(err, fota.ErrNotFound) {
		t.Fatalf("a write before the failed statement: %v, want it rolled back", err)
	}
}

// TestTxDone: a Tx kept past its function refuses to work.
func TestTxDone(t *testing.T) {
	pool := openPool(t)
	ctx := context.Background()
	s := newStore(t, pool, Options{})
	var kept fota.Tx
	if err := s.Update(ctx, func(tx fota.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Campaign("c1"); !errors.Is(err, ErrTxDone) {
		t.Fatalf("Campaign on a finished Tx: %v, want ErrTxDone", err)
	}
	if err := kept.PutCampaign(fota.Campaign{ID: "c1"}); !errors.Is(err, ErrTxDone) {
		t.Fatalf("PutCampaign on a finished Tx: %v, want ErrTxDone", err)
	}
}

// TestPanic: a panicking function rolls back, the panic goes on, and the
// store keeps working.
func TestPanic(t *testing.T) {
	pool := openPool(t)
	ctx := context.Background()
	s := newStore(t, pool, Options{})
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("recovered %v, want boom", p)
			}
		}()
		_ = s.Update(ctx, func(tx fota.Tx) error {
			if err := tx.PutCampaign(fota.Campaign{ID: "c1"}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if err := s.View(ctx, func(tx fota.Tx) error { _, err := tx.Campaign("c1"); return err }); !errors.Is(err, fota.ErrNotFound) {
		t.Fatalf("after a panic: %v, want the campaign rolled back", err)
	}
}

// TestRecordsBeyondTheSuite: what the conformance suite does not draw
// reads back as written: a revision past 2^63, dates outside 0001..9999
// (which the request's JSON refuses), and a state Counts has no slot for
// is refused as MemoryStore refuses it.
func TestRecordsBeyondTheSuite(t *testing.T) {
	pool := openPool(t)
	ctx := context.Background()
	s := newStore(t, pool, Options{})
	c := fota.Campaign{ID: "c1", Revision: 1<<63 + 5, Timing: schedule.HTTPRequest{
		StartDate: schedule.Date{Year: 12000, Month: 13, Day: 40}, EndDate: schedule.Date{Year: -1},
		InstallTimeWindowList: []schedule.Window{{StartTime: -3, EndTime: 99}}, TimeZone: "Mars/Olympus",
	}}
	if err := s.Update(ctx, func(tx fota.Tx) error { return tx.PutCampaign(c) }); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx fota.Tx) error {
		got, err := tx.Campaign("c1")
		if err != nil {
			return err
		}
		if got.Revision != c.Revision || fmt.Sprint(got.Timing) != fmt.Sprint(c.Timing) {
			return fmt.Errorf("read back %+v, want %+v", got, c)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, func(tx fota.Tx) error {
		return tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: "d1", State: device.State(32)})
	})
	var nf *fota.NotFoundError
	if !errors.As(err, &nf) || nf.Kind != "device state" {
		t.Fatalf("PutMember of state 32: %v, want a NotFoundError for the device state", err)
	}
}

// TestBackoff: the pause before a retry is below 1 ms doubled per
// earlier retry and below the maximum, and never negative.
func TestBackoff(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		attempt := rapid.IntRange(1, 200).Draw(t, "attempt")
		max := time.Duration(rapid.Int64Range(0, int64(time.Second)).Draw(t, "max"))
		draw := func(n int64) int64 { return rapid.Int64Range(0, n-1).Draw(t, "draw") }
		d := backoff(attempt, max, draw)
		bound := max
		if attempt-1 < 30 && time.Millisecond<<(attempt-1) < max {
			bound = time.Millisecond << (attempt - 1)
		}
		if d < 0 || (bound > 0 && d >= bound) || (bound == 0 && d != 0) {
			t.Fatalf("backoff(%d, %v) = %v, want in [0, %v)", attempt, max, d, bound)
		}
	})
}

// TestTimingRoundTrip: every timing the store is given reads back equal,
// empty window lists as nil.
func TestTimingRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		date := func(label string) schedule.Date {
			return schedule.Date{Year: rapid.Int().Draw(t, label+"Y"), Month: time.Month(rapid.Int().Draw(t, label+"M")), Day: rapid.Int().Draw(t, label+"D")}
		}
		windows := func(label string) []schedule.Window {
			var ws []schedule.Window
			for range rapid.IntRange(0, 3).Draw(t, label) {
				ws = append(ws, schedule.Window{StartTime: rapid.Int().Draw(t, label+"S"), EndTime: rapid.Int().Draw(t, label+"E")})
			}
			return ws
		}
		r := schedule.HTTPRequest{
			StartDate: date("start"), EndDate: date("end"), CampaignTimeWindowList: windows("campaign"),
			DownloadAfterDate: date("download"), DownloadTimeWindowList: windows("downloadWindows"),
			InstallAfterDate: date("install"), InstallTimeWindowList: windows("installWindows"),
			TimeZone: rapid.StringMatching(`[A-Za-z_/+-]{0,20}`).Draw(t, "zone"),
		}
		got, err := decodeTiming("c", encodeTiming(r))
		if err != nil || fmt.Sprint(got) != fmt.Sprint(r) {
			t.Fatalf("round trip of %+v: %+v, %v", r, got, err)
		}
	})
}

// FuzzDecodeTiming: the timing column's decoder never panics; what it
// accepts encodes to a value that decodes the same.
func FuzzDecodeTiming(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add(encodeTiming(schedule.HTTPRequest{StartDate: schedule.Date{Year: 2026, Month: 4, Day: 1},
		CampaignTimeWindowList: []schedule.Window{{StartTime: 2, EndTime: 4}}, TimeZone: "Europe/Paris"}))
	f.Add([]byte(`{"startDate":[1,2]}`))
	f.Add([]byte(`{"campaignWindows":[[1,2,3]]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeTiming("c", b)
		if err != nil {
			var te *TimingError
			if !errors.Is(err, ErrBadTiming) || !errors.As(err, &te) || te.Campaign != "c" || te.Value != string(b) {
				t.Fatalf("decodeTiming(%q) error %v: want a *TimingError naming the campaign and value", b, err)
			}
			if fmt.Sprint(r) != fmt.Sprint(schedule.HTTPRequest{}) {
				t.Fatalf("decodeTiming(%q) failed but returned %+v", b, r)
			}
			return
		}
		again, err := decodeTiming("c", encodeTiming(r))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(r) {
			t.Fatalf("decodeTiming(%q) = %+v; re-encoded it reads %+v, %v", b, r, again, err)
		}
	})
}

// TestOpenDatabaseSQL: a store opened over database/sql with pgx's driver
// runs each transaction on the driver's pgx connection, as over pgx's
// pool; it shares a schema with a store over a pool.
func TestOpenDatabaseSQL(t *testing.T) {
	pool := openPool(t)
	viaPool := newStore(t, pool, Options{})
	db, err := sql.Open("pgx", pgURL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := Open(ctx, nil, Options{}); !errors.Is(err, ErrBadOption) {
		t.Fatalf("Open of no database: %v, want ErrBadOption", err)
	}
	s, err := Open(ctx, db, Options{Schema: viaPool.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate over database/sql: %v", err)
	}
	if err := s.Update(ctx, func(tx fota.Tx) error {
		if err := tx.PutCampaign(fota.Campaign{ID: "c1", Account: "acme"}); err != nil {
			return err
		}
		return tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: "d1", State: device.StateAccepted})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateDevice(ctx, "d1", func(tx fota.DeviceTx) error {
		m, err := tx.Member("c1")
		if err != nil {
			return err
		}
		m.State = device.StateDownloading
		return tx.PutMember(m)
	}); err != nil {
		t.Fatal(err)
	}
	if err := viaPool.View(ctx, func(tx fota.Tx) error {
		m, err := tx.Member("c1", "d1")
		if err == nil && m.State != device.StateDownloading {
			err = fmt.Errorf("member %s, want downloading", m.State)
		}
		return err
	}); err != nil {
		t.Fatalf("read through the pool: %v", err)
	}
}
