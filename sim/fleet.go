package sim

import (
	"context"
	"strings"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
)

// idLen is the length of a device id: a 15-digit IMEI.
const idLen = 15

// fleetIDs is every device's id, in fleet order, in one string: device
// i's IMEI is "35", i as a 12-digit serial, and the Luhn check digit
// (device.IMEIOf), at bytes [15i, 15i+15). A device's id is a substring
// of it, so the fleet holds no string, pointer or map entry per device,
// and an id maps back to its device by parsing, not by hashing.
type fleetIDs string

// mintIDs mints the ids of n devices.
func mintIDs(n int) (fleetIDs, error) {
	var b strings.Builder
	b.Grow(n * idLen)
	body := [14]byte{'3', '5'} // TAC prefix "35", then a 12-digit serial
	for i := range n {
		for j, k := 13, i; j >= 2; j, k = j-1, k/10 {
			body[j] = '0' + byte(k%10)
		}
		id, err := device.IMEIOf(string(body[:]))
		if err != nil {
			return "", err
		}
		b.WriteString(id)
	}
	return fleetIDs(b.String()), nil
}

// id is device i's id.
func (f fleetIDs) id(i int32) string {
	return string(f[int(i)*idLen : int(i+1)*idLen])
}

// index is the device whose id is id; ok is false for an id that is not
// one of the fleet's.
func (f fleetIDs) index(id string) (int32, bool) {
	if len(id) != idLen || id[0] != '3' || id[1] != '5' {
		return 0, false
	}
	n := 0
	for _, c := range []byte(id[2:14]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n >= len(f)/idLen || f.id(int32(n)) != id {
		return 0, false
	}
	return int32(n), true
}

// inventory is the fleet as the Manager's fota.Inventory: computed from
// the device's id and its group, nothing stored per device. It is read
// only once the run starts, so it is safe for concurrent use.
type inventory struct {
	ids    fleetIDs
	fleet  []simDevice
	groups []groupRT
}

// Lookup implements fota.Inventory: every device of the fleet is the
// simulation's account's, FOTA-capable and active (a device that never
// comes online is not known to be off), with its group's make, model,
// software and protocol.
func (inv *inventory) Lookup(_ context.Context, id string) (fota.DeviceInfo, bool, error) {
	i, ok := inv.ids.index(id)
	if !ok {
		return fota.DeviceInfo{}, false, nil
	}
	g := &inv.groups[inv.fleet[i].group]
	return fota.DeviceInfo{DeviceID: id, Account: account, Protocol: g.proto, Make: g.Make, Model: g.Model,
		Software: g.Software, FOTACapable: true, ActiveConnected: true}, true, nil
}
