package sqlstore

import (
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/storetest"
)

// TestStore runs the fota.Store conformance suite against PostgreSQL: one
// schema for the whole run, emptied with DELETE for every store the
// suite asks for.
func TestStore(t *testing.T) {
	pool := openPool(t)
	s := newStore(t, pool, Options{})
	t.Cleanup(func() { t.Logf("stats: %+v", s.Stats()) })
	storetest.Run(t, func(t *testing.T) fota.Store {
		empty(t, s)
		return s
	})
}
