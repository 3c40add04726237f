package push

import (
	"context"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
)

// Known is the server's Config.Known for a Manager's inventory: an
// endpoint's device is one of ours when the inventory knows it with the
// LwM2M client type. A device the inventory records with another client
// type (OMA-DM) is refused like an unknown one: this server could not
// update it, and a push campaign would send it the other protocol's
// commands.
func Known(inv fota.Inventory) func(ctx context.Context, deviceID string) (bool, error) {
	return func(ctx context.Context, deviceID string) (bool, error) {
		info, found, err := inv.Lookup(ctx, deviceID)
		if err != nil || !found {
			return false, err
		}
		return info.Protocol == device.LWM2M, nil
	}
}
