package fota

import (
	"fmt"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
)

// ChangeKind says what a Change is about.
type ChangeKind uint8

// The kinds of change an Observer is told about.
const (
	CampaignChanged ChangeKind = iota + 1 // a campaign's status changed
	DeviceChanged                         // a device's status in a campaign changed
	LicenseChanged                        // a licence was assigned or removed (or removal failed)
)

// String is "campaign", "device" or "license".
func (k ChangeKind) String() string {
	switch k {
	case CampaignChanged:
		return "campaign"
	case DeviceChanged:
		return "device"
	case LicenseChanged:
		return "license"
	}
	return fmt.Sprintf("ChangeKind(%d)", uint8(k))
}

// Change is one status change, as ThingSpace's callbacks report them. The
// Manager delivers the changes of an operation after its transaction has
// committed, in the order they happened, and never for an operation that
// failed.
type Change struct {
	Kind       ChangeKind
	Time       time.Time
	Account    string
	CampaignID string
	DeviceID   string
	Family     device.Family
	Campaign   campaign.Status      // CampaignChanged
	State      device.State         // DeviceChanged: the fine-grained state
	Reason     device.Reason        // DeviceChanged and LicenseChanged
	License    device.LicenseStatus // LicenseChanged
}

// Status is the change's status in its family's wire spelling.
func (c Change) Status() string {
	switch c.Kind {
	case CampaignChanged:
		return c.Campaign.String()
	case DeviceChanged:
		return c.State.Status().Wire(c.Family)
	case LicenseChanged:
		return c.License.String()
	}
	return ""
}

// Detail is the change's reason sentence in its family's wire spelling.
func (c Change) Detail() string {
	if c.Reason == 0 {
		return ""
	}
	return c.Reason.Text(c.Family)
}

// Observer receives every change. It is called synchronously, from the
// goroutine that made the change, after the transaction committed; it
// must not call back into the Manager.
type Observer interface {
	Observe(Change)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Change)

// Observe calls f(c).
func (f ObserverFunc) Observe(c Change) { f(c) }
