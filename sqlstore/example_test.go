package sqlstore_test

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/sqlstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A Manager on PostgreSQL: open the pool (pgx's), open the store in its schema,
// migrate once, and hand the store to fota.New. Every replica of a server
// does the same against the same database.
func Example() {
	ctx := context.Background()
	url := cmp.Or(os.Getenv("FOTA_PG_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg.MaxConns = 8 // operations in flight on this replica
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	schema := fmt.Sprintf("fota_example_%d", os.Getpid())
	store, err := sqlstore.OpenPool(ctx, pool, sqlstore.Options{Schema: schema})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`) //nolint:errcheck // best effort
	if err := store.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}

	imei, _ := device.IMEIOf("35000000000001")
	inv := fota.NewMemoryInventory(fota.DeviceInfo{DeviceID: imei, Account: "acme", Protocol: device.HTTP,
		Make: "Acme", Model: "Lamp", Software: "1.0", FOTACapable: true, ActiveConnected: true})
	m, err := fota.New(fota.Config{Store: store, Inventory: inv})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A lifted pilot gate lets the campaign run without a pilot first.
	if err := store.Update(ctx, func(tx fota.Tx) error {
		return tx.PutGate(pilot.Gate{Target: pilot.Target{Account: "acme", SoftwareName: "fw", SoftwareFrom: "1.0", SoftwareTo: "2.0"}, State: pilot.Lifted})
	}); err != nil {
		fmt.Println(err)
		return
	}
	info, err := m.Schedule(ctx, "acme", fota.CampaignRequest{SoftwareName: "fw", SoftwareFrom: "1.0", SoftwareTo: "2.0",
		Timing: schedule.HTTPRequest{StartDate: schedule.DateOf(time.Now())}, DeviceList: []string{imei}})
	if err != nil {
		fmt.Println(err)
		return
	}
	in, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: imei})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Status, in.Action)
	// Prints: CampaignScheduled download
	// (TestExample runs it: an example's Output would fail, not skip,
	// where no PostgreSQL answers.)
}

// TestExample runs Example and checks what it prints: where no PostgreSQL
// answers, it fails under CI and is skipped elsewhere, as every test of
// the package.
func TestExample(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, sqlstore.TestURL())
	if err == nil {
		defer pool.Close()
		err = pool.Ping(ctx)
	}
	if err != nil {
		sqlstore.TestUnreachable(t, err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	func() {
		defer func() { os.Stdout = stdout }()
		Example()
	}()
	w.Close()
	if got, want := strings.TrimSpace(<-done), "CampaignScheduled download"; got != want {
		t.Fatalf("Example printed %q, want %q", got, want)
	}
}
