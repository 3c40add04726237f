package directory_test

import (
	"context"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/fotakit/fota/examples/lwm2m/directory"
	"github.com/fotakit/fota/examples/lwm2m/internal/pgtest"
	"github.com/fotakit/fota/examples/lwm2m/linkformat"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

func entry(t *testing.T, replica, location, addr string) server.Entry {
	t.Helper()
	objs, err := linkformat.ParseObjects([]byte("</1/0>,</3/0>,</5/0>"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return server.Entry{Replica: replica, Registration: server.Registration{Endpoint: "urn:imei:350000000000014", Location: location,
		Lifetime: 600 * time.Second, Version: "1.1", Binding: "U", Objects: objs, Addr: a,
		Expires: time.Date(2026, 5, 1, 12, 10, 0, 0, time.UTC)}}
}

// conformance runs the Directory contract on d: publish and look up,
// a later registration replaces the entry, a withdrawal by the replica
// that no longer holds it changes nothing, one by the holder removes it.
func conformance(t *testing.T, d server.Directory) {
	ctx := context.Background()
	const id = "350000000000014"
	if _, ok, err := d.Lookup(ctx, id); ok || err != nil {
		t.Fatalf("Lookup of a device never published: %v, %v", ok, err)
	}
	a := entry(t, "127.0.0.1:5683", "/rd/1", "127.0.0.1:40001")
	if err := d.Publish(ctx, id, a); err != nil {
		t.Fatal(err)
	}
	got, ok, err := d.Lookup(ctx, id)
	if err != nil || !ok || !same(got, a) {
		t.Fatalf("Lookup = %+v, %v, %v; want %+v", got, ok, err, a)
	}
	b := entry(t, "127.0.0.1:5684", "/rd/1", "127.0.0.1:40002") // registered again with another replica
	if err := d.Publish(ctx, id, b); err != nil {
		t.Fatal(err)
	}
	if err := d.Withdraw(ctx, id, a.Replica, a.Location); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := d.Lookup(ctx, id); err != nil || !ok || !same(got, b) {
		t.Fatalf("after the old replica withdrew: %+v, %v, %v; want %+v", got, ok, err, b)
	}
	if err := d.Withdraw(ctx, id, b.Replica, b.Location); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.Lookup(ctx, id); ok || err != nil {
		t.Fatalf("after its holder withdrew: %v, %v", ok, err)
	}
}

func same(a, b server.Entry) bool {
	return a.Replica == b.Replica && a.Location == b.Location && a.Endpoint == b.Endpoint && a.Lifetime == b.Lifetime &&
		a.Version == b.Version && a.Binding == b.Binding && a.Addr.String() == b.Addr.String() && a.Expires.Equal(b.Expires) &&
		reflect.DeepEqual(a.Objects, b.Objects)
}

func TestMemory(t *testing.T) { conformance(t, directory.NewMemory()) }

func TestPostgres(t *testing.T) {
	pool := pgtest.Pool(t)
	schema := pgtest.Schema(t, pool, "lwm2m_dir_")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := directory.NewPostgres(pool, `x"; DROP TABLE y; --`); err == nil {
		t.Fatal("a schema name that is no identifier was accepted")
	}
	d, err := directory.NewPostgres(pool, schema)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // idempotent
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	conformance(t, d)
	// A row another program wrote that does not read back is an error.
	if _, err := pool.Exec(ctx, `INSERT INTO "`+schema+`".lwm2m_registrations VALUES ('x', 'r', '/rd/1', 'ep', 60, '1.0', 'U', '</5/0>', 'not an address', now())`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Lookup(ctx, "x"); err == nil {
		t.Fatal("a row with a broken address read back")
	}
}
