package fota

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
)

// ChangeKind says what a Change is about.
type ChangeKind uint8

// The kinds of change an Observer is told about.
const (
	CampaignChanged ChangeKind = iota + 1 // a campaign's status changed
	DeviceChanged                         // a device's state in a campaign changed
	LicenseChanged                        // a licence was assigned or removed (or removal failed)
)

var changeKindNames = names{"ChangeKind", "kind", []string{CampaignChanged: "campaign", DeviceChanged: "device", LicenseChanged: "license"}}

// String is "campaign", "device" or "license".
func (k ChangeKind) String() string { return changeKindNames.string(uint8(k)) }

// MarshalText writes the kind's name.
func (k ChangeKind) MarshalText() ([]byte, error) { return changeKindNames.marshal(uint8(k)) }

// UnmarshalText reads a kind's name.
func (k *ChangeKind) UnmarshalText(b []byte) error {
	v, err := changeKindNames.parse(b)
	if err == nil {
		*k = ChangeKind(v)
	}
	return err
}

// Change is one status change, as ThingSpace's callbacks report them. The
// Manager delivers the changes of an operation after its transaction has
// committed, in the order they happened, and never for an operation that
// failed.
type Change struct {
	Kind       ChangeKind      `json:"kind"`
	Time       time.Time       `json:"time"`
	Account    string          `json:"accountName"`
	CampaignID string          `json:"campaignId,omitempty"`
	DeviceID   string          `json:"deviceId,omitempty"`
	Family     device.Family   `json:"family"`
	Campaign   campaign.Status `json:"campaignStatus,omitzero"` // CampaignChanged
	// State is a device's fine-grained state (DeviceChanged), From the
	// state it left (zero for a device joining the campaign).
	State  device.State  `json:"state,omitzero"`
	From   device.State  `json:"from,omitzero"`
	Reason device.Reason `json:"reason,omitzero"` // DeviceChanged and LicenseChanged
	// Result is a push device's protocol result (LwM2M Update Result or
	// FUMO code), 0 for none.
	Result  uint16               `json:"result,omitzero"`
	License device.LicenseStatus `json:"licenseStatus,omitzero"` // LicenseChanged
	// WireChanged says whether the status ThingSpace reports changed:
	// always for campaigns and licences; for a device not between two
	// states of one wire status (HTTP Downloading, Downloaded and
	// Installing are all UpgradePending). A ThingSpace callback carries
	// only such changes (see WireOnly).
	WireChanged bool `json:"wireChanged"`
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
	r := c.Reason
	if r == 0 && c.Kind == DeviceChanged {
		r = c.State.Reason()
	}
	if r == 0 {
		return ""
	}
	return r.Text(c.Family)
}

// String writes the change for people, e.g. `device acme/c1/351234567890121:
// UpgradeFailed "RovaClientDidNotReportStatus" (NoReport)`.
func (c Change) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", c.Kind, c.Account)
	if c.CampaignID != "" {
		b.WriteString("/" + c.CampaignID)
	}
	if c.DeviceID != "" {
		b.WriteString("/" + c.DeviceID)
	}
	fmt.Fprintf(&b, ": %s", c.Status())
	if d := c.Detail(); d != "" {
		fmt.Fprintf(&b, " %q", d)
	}
	if c.Kind == DeviceChanged {
		fmt.Fprintf(&b, " (%s", c.State)
		if c.Result != 0 {
			fmt.Fprintf(&b, ", result %d", c.Result)
		}
		b.WriteString(")")
	}
	if !c.WireChanged {
		b.WriteString(" [same wire status]")
	}
	return b.String()
}

// changeJSON is Change's fields plus the wire spellings, which are written
// for readers and ignored when read back (they follow from the rest).
type changeJSON struct {
	changeFields
	Status       string `json:"status,omitempty"`
	ResultReason string `json:"resultReason,omitempty"`
}

type changeFields Change // without Change's methods

// MarshalJSON writes the change with its wire status and reason sentence.
func (c Change) MarshalJSON() ([]byte, error) {
	return json.Marshal(changeJSON{changeFields: changeFields(c), Status: c.Status(), ResultReason: c.Detail()})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (c *Change) UnmarshalJSON(b []byte) error {
	var j changeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return jsonFieldError(err)
	}
	*c = Change(j.changeFields)
	return nil
}

func (o *op) campaign(c *Campaign) {
	if !o.observe {
		return
	}
	o.changes = append(o.changes, Change{
		Kind: CampaignChanged, Time: o.now, Account: c.Account, CampaignID: c.ID,
		Family: c.Family, Campaign: c.Status, WireChanged: true,
	})
}

// device gathers a device's move from one state to another (from is zero
// for a device joining the campaign).
func (o *op) device(c *Campaign, deviceID string, from, to device.State, r device.Reason, result uint16) {
	if !o.observe {
		return
	}
	o.changes = append(o.changes, deviceChange(c, o.now, deviceID, from, to, r, result))
}

func deviceChange(c *Campaign, at time.Time, deviceID string, from, to device.State, r device.Reason, result uint16) Change {
	if r == 0 {
		r = to.Reason()
	}
	wire := from == 0 || from.Status().Wire(c.Family) != to.Status().Wire(c.Family) || from.Reason() != to.Reason()
	return Change{
		Kind: DeviceChanged, Time: at, Account: c.Account, CampaignID: c.ID, DeviceID: deviceID,
		Family: c.Family, State: to, From: from, Reason: r, Result: result, WireChanged: wire,
	}
}

// Observer receives every change. The Manager calls Observe synchronously,
// in the goroutine of the operation that made the change, after its
// transaction committed and before the operation returns; changes of one
// operation arrive in the order they happened. A slow observer slows every
// operation: wrap it in an AsyncObserver. An observer must not call back
// into the Manager.
type Observer interface {
	Observe(Change)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Change)

// Observe calls f(c).
func (f ObserverFunc) Observe(c Change) { f(c) }

// WireOnly passes on only the changes whose wire status changed: what a
// ThingSpace callback carries.
func WireOnly(o Observer) Observer {
	return ObserverFunc(func(c Change) {
		if c.WireChanged {
			o.Observe(c)
		}
	})
}

// AsyncObserver delivers changes to another observer from a goroutine of
// its own, through a bounded buffer: Observe never blocks the Manager, and
// drops (and counts) a change when the buffer is full. Close stops it after
// delivering what the buffer holds.
type AsyncObserver struct {
	next    Observer
	ch      chan Change
	dropped atomic.Uint64
	mu      sync.RWMutex // guards closed against Observe racing Close
	closed  bool
	done    chan struct{}
}

// NewAsyncObserver starts delivering to next through a buffer of size
// changes (at least 1).
func NewAsyncObserver(next Observer, size int) *AsyncObserver {
	a := &AsyncObserver{next: next, ch: make(chan Change, max(size, 1)), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for c := range a.ch {
			a.next.Observe(c)
		}
	}()
	return a
}

// Observe queues c, or drops it when the buffer is full or the observer
// closed.
func (a *AsyncObserver) Observe(c Change) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		a.dropped.Add(1)
		return
	}
	select {
	case a.ch <- c:
	default:
		a.dropped.Add(1)
	}
}

// Dropped is how many changes were dropped so far.
func (a *AsyncObserver) Dropped() uint64 { return a.dropped.Load() }

// Close delivers what is queued and stops; later changes are dropped.
func (a *AsyncObserver) Close() {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.ch)
	}
	a.mu.Unlock()
	<-a.done
}
