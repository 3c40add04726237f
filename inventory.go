package fota

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/fotakit/fota/device"
)

// Inventory is what the host knows about its devices. The Manager asks it
// before it opens a transaction, so an Inventory may do I/O.
type Inventory interface {
	// Lookup returns the device's facts; found is false for a device the
	// host does not know ("Device not found.").
	Lookup(ctx context.Context, deviceID string) (info DeviceInfo, found bool, err error)
}

// DeviceInfo is the host's record of one device.
type DeviceInfo struct {
	DeviceID        string
	Account         string
	Protocol        device.Protocol // the client type; zero = unknown
	Make            string
	Model           string
	Software        string // current firmware or software version
	FOTACapable     bool
	ActiveConnected bool
	// Licensed reports a licence the host manages itself. Licences assigned
	// through Manager.AssignLicenses are recorded in the Store; a device
	// counts as licensed if either says so.
	Licensed bool
}

// MemoryInventory is an Inventory held in memory, for tests, examples and
// simulations. It is safe for concurrent use.
type MemoryInventory struct {
	mu      sync.RWMutex
	devices map[string]DeviceInfo
}

// NewMemoryInventory returns an inventory holding the given devices.
func NewMemoryInventory(devices ...DeviceInfo) *MemoryInventory {
	inv := &MemoryInventory{devices: make(map[string]DeviceInfo, len(devices))}
	for _, d := range devices {
		inv.devices[d.DeviceID] = d
	}
	return inv
}

// Put adds or replaces a device.
func (inv *MemoryInventory) Put(d DeviceInfo) {
	inv.mu.Lock()
	inv.devices[d.DeviceID] = d
	inv.mu.Unlock()
}

// Delete forgets a device.
func (inv *MemoryInventory) Delete(deviceID string) {
	inv.mu.Lock()
	delete(inv.devices, deviceID)
	inv.mu.Unlock()
}

// Lookup implements Inventory.
func (inv *MemoryInventory) Lookup(_ context.Context, deviceID string) (DeviceInfo, bool, error) {
	inv.mu.RLock()
	d, ok := inv.devices[deviceID]
	inv.mu.RUnlock()
	return d, ok, nil
}

// List returns up to limit of the account's devices with ids greater than
// afterID, ordered by id (a page of ThingSpace's account device list), and
// whether more follow.
func (inv *MemoryInventory) List(account, afterID string, limit int) ([]DeviceInfo, bool) {
	inv.mu.RLock()
	var out []DeviceInfo
	for id, d := range inv.devices {
		if d.Account == account && id > afterID {
			out = append(out, d)
		}
	}
	inv.mu.RUnlock()
	slices.SortFunc(out, func(a, b DeviceInfo) int { return strings.Compare(a.DeviceID, b.DeviceID) })
	if limit >= 0 && len(out) > limit {
		return out[:limit], true
	}
	return out, false
}
