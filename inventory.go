package fota

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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
//
// A device takes one pointer-free row of 40 bytes and a slot of 8 bytes
// in an open-addressing index keyed by its id read as a number (an IMEI,
// an MEID in decimal), at most three quarters full: a lookup reads one
// slot and the row, one cache miss fewer than a Go map. Its account,
// make, model and software are kept once each, however many devices share
// them. A million devices hold about 60 MB that the collector never
// scans, where a map of DeviceInfo held some 200 MB of strings it scans
// at every cycle. Other ids are keyed by their text.
type MemoryInventory struct {
	mu     sync.RWMutex
	byNum  keyIndex          // numeric ids: their row
	byText map[string]uint32 // other ids: their row
	rows   []invRow
	free   []uint32 // rows of deleted devices, for the next Put
	texts  []string // the strings rows name, once each; texts[0] = ""
	textOf map[string]uint32

	touched atomic.Uint64 // what prefetchIDs read, kept so that its loads stay
}

// invRow is one device: its strings as indexes of texts, its id's text
// (0 for a numeric id, read back from its key), flags.
type invRow struct {
	key                                idKey
	id, account, make, model, software uint32
	protocol                           device.Protocol
	capable, active, licensed, live    bool
}

// NewMemoryInventory returns an inventory holding the given devices.
func NewMemoryInventory(devices ...DeviceInfo) *MemoryInventory {
	inv := &MemoryInventory{byText: map[string]uint32{},
		rows: make([]invRow, 0, len(devices)), texts: []string{""}, textOf: map[string]uint32{"": 0}}
	for _, d := range devices {
		inv.put(d)
	}
	return inv
}

// Put adds or replaces a device.
func (inv *MemoryInventory) Put(d DeviceInfo) {
	inv.mu.Lock()
	inv.put(d)
	inv.mu.Unlock()
}

func (inv *MemoryInventory) put(d DeviceInfo) {
	r := invRow{account: inv.text(d.Account), make: inv.text(d.Make), model: inv.text(d.Model),
		software: inv.text(d.Software), protocol: d.Protocol, capable: d.FOTACapable,
		active: d.ActiveConnected, licensed: d.Licensed, live: true}
	k, numeric, i, found := inv.find(d.DeviceID)
	if numeric {
		r.key = k
	} else {
		r.id = inv.text(d.DeviceID)
	}
	if found {
		inv.rows[i] = r
		return
	}
	if n := len(inv.free); n > 0 {
		i, inv.free = inv.free[n-1], inv.free[:n-1]
		inv.rows[i] = r
	} else {
		i = uint32(len(inv.rows))
		inv.rows = append(inv.rows, r)
	}
	if numeric {
		inv.byNum.put(k, i, inv.rows)
	} else {
		inv.byText[d.DeviceID] = i
	}
}

// text is s's index in texts, adding it when new.
func (inv *MemoryInventory) text(s string) uint32 {
	if i, ok := inv.textOf[s]; ok {
		return i
	}
	i := uint32(len(inv.texts))
	inv.texts = append(inv.texts, s)
	inv.textOf[s] = i
	return i
}

// find returns device id's key when id is numeric, and its row.
func (inv *MemoryInventory) find(id string) (k idKey, numeric bool, row uint32, found bool) {
	if k, numeric = numericKey(id); numeric {
		row, found = inv.byNum.get(k, inv.rows)
	} else {
		row, found = inv.byText[id]
	}
	return k, numeric, row, found
}

// Delete forgets a device.
func (inv *MemoryInventory) Delete(deviceID string) {
	inv.mu.Lock()
	if k, numeric, i, ok := inv.find(deviceID); ok {
		if numeric {
			inv.byNum.del(k, inv.rows)
		} else {
			delete(inv.byText, deviceID)
		}
		inv.rows[i] = invRow{}
		inv.free = append(inv.free, i)
	}
	inv.mu.Unlock()
}

// Lookup implements Inventory.
func (inv *MemoryInventory) Lookup(_ context.Context, deviceID string) (DeviceInfo, bool, error) {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	_, _, i, ok := inv.find(deviceID)
	if !ok {
		return DeviceInfo{}, false, nil
	}
	return inv.info(deviceID, &inv.rows[i]), true, nil
}

// info is row r as the DeviceInfo of device id.
func (inv *MemoryInventory) info(id string, r *invRow) DeviceInfo {
	return DeviceInfo{DeviceID: id, Account: inv.texts[r.account], Protocol: r.protocol, Make: inv.texts[r.make],
		Model: inv.texts[r.model], Software: inv.texts[r.software], FOTACapable: r.capable,
		ActiveConnected: r.active, Licensed: r.licensed}
}

// List returns up to limit of the account's devices with ids greater than
// afterID, ordered by id (a page of ThingSpace's account device list), and
// whether more follow.
func (inv *MemoryInventory) List(account, afterID string, limit int) ([]DeviceInfo, bool) {
	inv.mu.RLock()
	var out []DeviceInfo
	if a, ok := inv.textOf[account]; ok {
		for i := range inv.rows {
			r := &inv.rows[i]
			if !r.live || r.account != a {
				continue
			}
			id := inv.texts[r.id]
			if r.id == 0 {
				id = string(r.key.appendDigits(nil))
			}
			if id > afterID {
				out = append(out, inv.info(id, r))
			}
		}
	}
	inv.mu.RUnlock()
	slices.SortFunc(out, func(a, b DeviceInfo) int { return strings.Compare(a.DeviceID, b.DeviceID) })
	if limit >= 0 && len(out) > limit {
		return out[:limit], true
	}
	return out, false
}
