package directory

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fotakit/fota/examples/lwm2m/linkformat"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

// Postgres is a Directory in the table lwm2m_registrations of a
// PostgreSQL schema (the one fota's sqlstore uses, say). Each replica
// opens its own on its own pool; Migrate creates the table.
//
//	lwm2m_registrations  device_id primary key, replica, location,
//	                     endpoint, lifetime (seconds), version, binding,
//	                     objects (the link-format object list), addr,
//	                     expires
type Postgres struct {
	pool  *pgxpool.Pool
	table string
}

// NewPostgres returns the directory in schema (sqlstore's default "fota"
// when empty). A schema name that is not a plain identifier is an error.
func NewPostgres(pool *pgxpool.Pool, schema string) (*Postgres, error) {
	if schema == "" {
		schema = "fota"
	}
	if !identifier(schema) {
		return nil, fmt.Errorf("directory: schema %q: letters, digits and '_' only, not starting with a digit", schema)
	}
	return &Postgres{pool: pool, table: `"` + schema + `".lwm2m_registrations`}, nil
}

func identifier(s string) bool {
	if s == "" || len(s) > 63 || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Migrate creates the schema and the table if they are missing.
func (p *Postgres) Migrate(ctx context.Context) error {
	schema, _, _ := strings.Cut(p.table, ".")
	_, err := p.pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema+`;
CREATE TABLE IF NOT EXISTS `+p.table+` (
	device_id text COLLATE "C" PRIMARY KEY,
	replica   text NOT NULL,
	location  text NOT NULL,
	endpoint  text NOT NULL,
	lifetime  bigint NOT NULL,
	version   text NOT NULL,
	binding   text NOT NULL,
	objects   text NOT NULL,
	addr      text NOT NULL,
	expires   timestamptz NOT NULL
)`)
	if err != nil {
		return fmt.Errorf("directory: migrate %s: %w", p.table, err)
	}
	return nil
}

// Publish implements server.Directory.
func (p *Postgres) Publish(ctx context.Context, deviceID string, e server.Entry) error {
	if e.Addr == nil {
		return fmt.Errorf("directory: publish %s: no address", deviceID)
	}
	_, err := p.pool.Exec(ctx, `INSERT INTO `+p.table+` (device_id, replica, location, endpoint, lifetime, version, binding, objects, addr, expires)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (device_id) DO UPDATE SET replica = $2, location = $3, endpoint = $4, lifetime = $5, version = $6,
	binding = $7, objects = $8, addr = $9, expires = $10`,
		deviceID, e.Replica, e.Location, e.Endpoint, int64(e.Lifetime/time.Second), e.Version, e.Binding, e.Objects.String(), e.Addr.String(), e.Expires)
	if err != nil {
		return fmt.Errorf("directory: publish %s: %w", deviceID, err)
	}
	return nil
}

// Withdraw implements server.Directory.
func (p *Postgres) Withdraw(ctx context.Context, deviceID, replica, location string) error {
	_, err := p.pool.Exec(ctx, `DELETE FROM `+p.table+` WHERE device_id = $1 AND replica = $2 AND location = $3`, deviceID, replica, location)
	if err != nil {
		return fmt.Errorf("directory: withdraw %s: %w", deviceID, err)
	}
	return nil
}

// Lookup implements server.Directory. A row that does not read back (an
// address or object list another program wrote) is an error naming it.
func (p *Postgres) Lookup(ctx context.Context, deviceID string) (server.Entry, bool, error) {
	var (
		e        server.Entry
		lifetime int64
		objects  string
		addr     string
	)
	err := p.pool.QueryRow(ctx, `SELECT replica, location, endpoint, lifetime, version, binding, objects, addr, expires FROM `+p.table+` WHERE device_id = $1`, deviceID).
		Scan(&e.Replica, &e.Location, &e.Endpoint, &lifetime, &e.Version, &e.Binding, &objects, &addr, &e.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return server.Entry{}, false, nil
	}
	if err != nil {
		return server.Entry{}, false, fmt.Errorf("directory: lookup %s: %w", deviceID, err)
	}
	e.Lifetime = time.Duration(lifetime) * time.Second
	if e.Addr, err = net.ResolveUDPAddr("udp", addr); err != nil {
		return server.Entry{}, false, fmt.Errorf("directory: lookup %s: address %q: %w", deviceID, addr, err)
	}
	if e.Objects, err = linkformat.ParseObjects([]byte(objects)); err != nil {
		return server.Entry{}, false, fmt.Errorf("directory: lookup %s: objects %q: %w", deviceID, objects, err)
	}
	return e, true, nil
}
