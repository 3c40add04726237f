package fota_test

import (
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/storetest"
)

// TestMemoryStore runs the Store conformance suite against the in-memory
// reference store.
func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) fota.Store { return fota.NewMemoryStore() })
}
