package verboselog

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// ClientType is the kind of client that checked in, as ThingSpace numbers
// it. The documented list, "0- Uknown, 1 - Device, 3 - RovaContainer, 5 -
// WiFiClient, 6 - RovaClient, 7 - RovaClientAppStore …", is incomplete, so
// any non-negative number is accepted; only the listed ones have names.
type ClientType int

// The documented client types.
const (
	ClientUnknown            ClientType = 0 // wire spelling "Uknown" (sic)
	ClientDevice             ClientType = 1
	ClientRovaContainer      ClientType = 3
	ClientWiFiClient         ClientType = 5
	ClientRovaClient         ClientType = 6
	ClientRovaClientAppStore ClientType = 7
)

// ClientTypes lists the documented client types.
var ClientTypes = []ClientType{ClientUnknown, ClientDevice, ClientRovaContainer, ClientWiFiClient, ClientRovaClient, ClientRovaClientAppStore}

var clientTypeNames = map[ClientType]string{
	ClientUnknown:            "Uknown", // sic, as documented
	ClientDevice:             "Device",
	ClientRovaContainer:      "RovaContainer",
	ClientWiFiClient:         "WiFiClient",
	ClientRovaClient:         "RovaClient",
	ClientRovaClientAppStore: "RovaClientAppStore",
}

// String is the documented name ("Uknown" for 0, spelled as ThingSpace
// spells it), or "ClientType(n)" for a number the list does not name.
func (c ClientType) String() string {
	if n, ok := clientTypeNames[c]; ok {
		return n
	}
	return "ClientType(" + strconv.Itoa(int(c)) + ")"
}

// MarshalText writes the documented name, or the decimal number for one
// without a name. A negative value is an error matching ErrClientType.
func (c ClientType) MarshalText() ([]byte, error) {
	if c < 0 {
		return nil, c.error(strconv.Itoa(int(c)))
	}
	if n, ok := clientTypeNames[c]; ok {
		return []byte(n), nil
	}
	return []byte(strconv.Itoa(int(c))), nil
}

// UnmarshalText reads a documented name ("Uknown" and the corrected
// "Unknown" both mean 0) or a non-negative decimal number. On error
// (ErrClientType) c is unchanged.
func (c *ClientType) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "Unknown" {
		*c = ClientUnknown
		return nil
	}
	for v, n := range clientTypeNames {
		if n == s {
			*c = v
			return nil
		}
	}
	return c.parseNumber(s)
}

// MarshalJSON writes the number, as ThingSpace does.
func (c ClientType) MarshalJSON() ([]byte, error) {
	if c < 0 {
		return nil, c.error(strconv.Itoa(int(c)))
	}
	return []byte(strconv.Itoa(int(c))), nil
}

// UnmarshalJSON reads a non-negative JSON integer; null, by encoding/json's
// convention, leaves c as it is. On error (ErrClientType) c is unchanged.
func (c *ClientType) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	return c.parseNumber(string(b))
}

func (c *ClientType) parseNumber(s string) error {
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil {
		return c.error(s)
	}
	*c = ClientType(n)
	return nil
}

func (ClientType) error(v string) error {
	return &FieldError{Field: "clientType", Value: v, Reason: "not a client type number or name", Err: ErrClientType}
}

// CheckIn is one check-in as the FOTA server reports it: ThingSpace's
// CheckInHistoryItem. The sources do not list the result and failureType
// values, so they are carried as text.
type CheckIn struct {
	DeviceID      string     `json:"deviceId"`
	ClientType    ClientType `json:"clientType"`
	Result        string     `json:"result"`
	FailureType   string     `json:"failureType"`
	TimeCompleted time.Time  `json:"timeCompleted"`
}

// Validate checks that the check-in names a device and a completion time
// and has a non-negative client type.
func (c CheckIn) Validate() error {
	if c.DeviceID == "" {
		return &FieldError{Field: "deviceId", Value: "", Reason: "empty", Err: ErrDeviceID}
	}
	if c.ClientType < 0 {
		return c.ClientType.error(strconv.Itoa(int(c.ClientType)))
	}
	if c.TimeCompleted.IsZero() {
		return &FieldError{Field: "timeCompleted", Value: "0001-01-01T00:00:00Z", Reason: "missing", Err: ErrTime}
	}
	return nil
}

// UnmarshalJSON decodes a CheckInHistoryItem and validates it. On error c
// is unchanged.
func (c *CheckIn) UnmarshalJSON(data []byte) error {
	type plain CheckIn
	var v plain
	if err := json.Unmarshal(data, &v); err != nil {
		return jsonError("CheckInHistoryItem", data, err)
	}
	if err := CheckIn(v).Validate(); err != nil {
		return err
	}
	*c = CheckIn(v)
	return nil
}

// MaxPage is the largest page History.Page returns, as ThingSpace's reports
// ("at most 1,000 devices per response").
const MaxPage = 1000

// History is one device's check-in history: "the check-in history as
// reported by the FOTA server", kept "independent of enabled or disabled
// logging". It holds at most Policy.HistoryMax check-ins (the oldest leave
// first) and Prune drops those older than Policy.HistoryRetention. The zero
// History is empty and takes the device of its first check-in. Its methods
// change it in place (a pointer receiver); a failed Add changes nothing.
type History struct {
	deviceID string
	entries  []CheckIn // by TimeCompleted, oldest first; ties in arrival order
}

// NewHistory rebuilds a device's history from stored check-ins (in any
// order), for hosts that persist them; it keeps the newest p.HistoryMax.
// Every check-in must be valid and belong to deviceID.
func NewHistory(deviceID string, checkIns []CheckIn, p Policy) (History, error) {
	if deviceID == "" {
		return History{}, &FieldError{Field: "deviceId", Value: "", Reason: "empty", Err: ErrDeviceID}
	}
	h := History{deviceID: deviceID}
	for _, c := range checkIns {
		if err := h.check(c); err != nil {
			return History{}, err
		}
	}
	h.entries = slices.Clone(checkIns)
	slices.SortStableFunc(h.entries, func(a, b CheckIn) int { return a.TimeCompleted.Compare(b.TimeCompleted) })
	h.trim(p)
	return h, nil
}

// DeviceID is the device the history belongs to ("" while empty and new).
func (h *History) DeviceID() string { return h.deviceID }

// Len is how many check-ins are kept.
func (h *History) Len() int { return len(h.entries) }

// All returns a copy of the kept check-ins, oldest first.
func (h *History) All() []CheckIn { return slices.Clone(h.entries) }

func (h *History) check(c CheckIn) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if h.deviceID != "" && c.DeviceID != h.deviceID {
		return &FieldError{Field: "deviceId", Value: c.DeviceID, Reason: "the history belongs to device " + strconv.Quote(h.deviceID), Err: ErrDeviceID}
	}
	return nil
}

// Add records a check-in, in TimeCompleted order (late arrivals are placed
// where they belong), then drops the oldest beyond p.HistoryMax. An invalid
// check-in or one of another device is refused and h is unchanged.
func (h *History) Add(c CheckIn, p Policy) error {
	if err := h.check(c); err != nil {
		return err
	}
	h.insert(c, p)
	return nil
}

// insert is Add after the checks.
func (h *History) insert(c CheckIn, p Policy) {
	h.deviceID = c.DeviceID
	// Check-ins usually arrive in order, so this is an append.
	i := len(h.entries)
	for i > 0 && c.TimeCompleted.Before(h.entries[i-1].TimeCompleted) {
		i--
	}
	h.entries = slices.Insert(h.entries, i, c)
	h.trim(p)
}

// trim drops the oldest beyond HistoryMax by re-slicing, not copying: the
// next append that outgrows the array copies only the kept check-ins, so a
// full history takes a check-in in amortised O(1).
func (h *History) trim(p Policy) {
	if n := len(h.entries) - max(p.HistoryMax, 1); n > 0 {
		h.entries = h.entries[n:]
	}
}

// Prune drops the check-ins whose age at now has reached p.HistoryRetention
// (TimeCompleted + HistoryRetention <= now) and returns how many it
// dropped. With HistoryRetention zero it keeps them all.
func (h *History) Prune(now time.Time, p Policy) int {
	if p.HistoryRetention <= 0 {
		return 0
	}
	n := 0
	for n < len(h.entries) && !now.Before(h.entries[n].TimeCompleted.Add(p.HistoryRetention)) {
		n++
	}
	h.entries = h.entries[n:] // as trim
	return n
}

// NextPrune is when Prune will next drop a check-in (zero if never).
func (h *History) NextPrune(p Policy) time.Time {
	if p.HistoryRetention <= 0 || len(h.entries) == 0 {
		return time.Time{}
	}
	return h.entries[0].TimeCompleted.Add(p.HistoryRetention)
}

// Cursor marks where a page of history ended. The zero Cursor asks for the
// first page. It holds the last check-in's time and how many check-ins with
// exactly that time have been returned, so ties are neither lost nor
// repeated, and it stays valid while older check-ins are pruned.
type Cursor struct {
	Before time.Time `json:"before"` // the last returned check-in's TimeCompleted
	Seen   int       `json:"seen"`   // check-ins at exactly Before already returned
}

// Page returns up to limit check-ins after cursor, newest first as the
// ThingSpace reports list them, the cursor for the next page, and whether
// more remain. limit outside 1..MaxPage means MaxPage. Paging from the
// zero Cursor until more is false returns every kept check-in exactly
// once, if none is added meanwhile.
func (h *History) Page(cursor Cursor, limit int) (page []CheckIn, next Cursor, more bool) {
	if limit < 1 || limit > MaxPage {
		limit = MaxPage
	}
	// end: one past the newest check-in not yet returned.
	end := len(h.entries)
	if !cursor.Before.IsZero() {
		upper := h.upper(cursor.Before)
		end = max(upper-max(cursor.Seen, 0), h.lower(cursor.Before))
	}
	start := max(end-limit, 0)
	page = make([]CheckIn, 0, end-start)
	for i := end - 1; i >= start; i-- {
		page = append(page, h.entries[i])
	}
	if len(page) == 0 {
		return page, cursor, false
	}
	last := h.entries[start].TimeCompleted
	return page, Cursor{Before: last, Seen: h.upper(last) - start}, start > 0
}

// upper is the index of the first check-in after t; lower, at or after t.
func (h *History) upper(t time.Time) int {
	i, _ := slices.BinarySearchFunc(h.entries, t, func(c CheckIn, t time.Time) int {
		if c.TimeCompleted.After(t) {
			return 1
		}
		return -1
	})
	return i
}

func (h *History) lower(t time.Time) int {
	i, _ := slices.BinarySearchFunc(h.entries, t, func(c CheckIn, t time.Time) int {
		if c.TimeCompleted.Before(t) {
			return -1
		}
		return 1
	})
	return i
}
