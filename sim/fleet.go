package sim

import (
	"context"
	"unsafe"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/internal/decimal"
	"github.com/fotakit/fota/internal/prefault"
)

// idLen is the length of a device id: a 15-digit IMEI.
const idLen = 15

// simDevice is what the simulator keeps per device: 32 bytes, its id
// among them, so that one cache line holds a device's record and the id
// the Manager is called with.
type simDevice struct {
	// idBytes is the device's IMEI: "35", its index in the fleet as a
	// 12-digit serial, and the Luhn check digit (device.AppendIMEI). Written
	// once when the fleet is minted and never again, so fleet.id can hand
	// it out as a string without copying.
	idBytes [idLen]byte
	never   bool  // never checks in, never answers
	phase   int32 // seconds from the anchor to its first regular slot
	group   uint16
	camp    int8  // the campaign it joined (index in runner.camps), -1 none
	gen     uint8 // bumped when it joins a campaign: older events are stale
	// Push devices: their protocol machine. st is the LwM2M State
	// (/5/0/3) or the FUMO State (x/State), res the LwM2M Update Result
	// (/5/0/5), alert the result code of a Generic Alert the server has
	// not received yet.
	st    uint8
	res   uint8
	alert uint16
	_     [4]byte
}

// fleet is every device, in fleet order. A device's id is computed
// (device i is serial i) and kept in its record: the fleet holds no
// string header, pointer or map entry per device, and an id maps back to
// its device by parsing, not by hashing.
type fleet []simDevice

// mintFleet makes a fleet of n devices with their ids.
func mintFleet(n int) (fleet, error) {
	f := fleet(prefault.Make[simDevice](n, n))
	// TAC prefix "35", then a 12-digit serial: device i's is i, counted
	// up digit by digit from the last device's.
	body := [14]byte{'3', '5', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0'}
	for i := range f {
		if i > 0 {
			j := 13
			for ; body[j] == '9'; j-- {
				body[j] = '0'
			}
			body[j]++
		}
		// Minted in place: no string a device, no garbage (AppendIMEI
		// keeps nothing of body, which the next device changes).
		if _, err := device.AppendIMEI(f[i].idBytes[:0], unsafe.String(&body[0], len(body))); err != nil {
			return nil, err
		}
		f[i].camp = -1
	}
	return f, nil
}

// id is device i's id. The string shares the record's bytes (they never
// change once minted), so handing it to the Manager copies and allocates
// nothing.
func (f fleet) id(i int32) string {
	return unsafe.String(&f[i].idBytes[0], idLen)
}

// index is the device whose id is id; ok is false for an id that is not
// one of the fleet's.
func (f fleet) index(id string) (int32, bool) {
	if len(id) != idLen || id[0] != '3' || id[1] != '5' {
		return 0, false
	}
	n, ok := decimal.Parse(id[2:14]) // the serial's twelve digits
	if !ok || n >= uint64(len(f)) || f.id(int32(n)) != id {
		return 0, false
	}
	return int32(n), true
}

// inventory is the fleet as the Manager's fota.Inventory: computed from
// the device's id and its group, nothing stored per device. It is read
// only once the run starts, so it is safe for concurrent use.
type inventory struct {
	fleet  fleet
	groups []groupRT
}

// Lookup implements fota.Inventory: every device of the fleet is the
// simulation's account's, FOTA-capable and active (a device that never
// comes online is not known to be off), with its group's make, model,
// software and protocol.
func (inv *inventory) Lookup(_ context.Context, id string) (fota.DeviceInfo, bool, error) {
	i, ok := inv.fleet.index(id)
	if !ok {
		return fota.DeviceInfo{}, false, nil
	}
	g := &inv.groups[inv.fleet[i].group]
	return fota.DeviceInfo{DeviceID: id, Account: account, Protocol: g.proto, Make: g.Make, Model: g.Model,
		Software: g.Software, FOTACapable: true, ActiveConnected: true}, true, nil
}
