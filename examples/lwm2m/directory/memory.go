package directory

import (
	"context"
	"sync"

	"github.com/fotakit/fota/examples/lwm2m/server"
)

// Memory is a Directory held in memory, for replicas in one process.
// It is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	entries map[string]server.Entry
}

// NewMemory returns an empty directory.
func NewMemory() *Memory { return &Memory{entries: map[string]server.Entry{}} }

// Publish implements server.Directory.
func (m *Memory) Publish(_ context.Context, deviceID string, e server.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[deviceID] = e
	return nil
}

// Withdraw implements server.Directory.
func (m *Memory) Withdraw(_ context.Context, deviceID, replica, location string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[deviceID]; ok && e.Replica == replica && e.Location == location {
		delete(m.entries, deviceID)
	}
	return nil
}

// Lookup implements server.Directory.
func (m *Memory) Lookup(_ context.Context, deviceID string) (server.Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[deviceID]
	return e, ok, nil
}
