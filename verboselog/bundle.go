package verboselog

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// The log types ThingSpace documents for DeviceLog.logType: "one of
// SoftwareUpdate, Event, UserNotification, AgentService, Wireless,
// WirelessWeb, MobileBroadbandModem, WindowsMDM".
const (
	LogSoftwareUpdate       = "SoftwareUpdate"
	LogEvent                = "Event"
	LogUserNotification     = "UserNotification"
	LogAgentService         = "AgentService"
	LogWireless             = "Wireless"
	LogWirelessWeb          = "WirelessWeb"
	LogMobileBroadbandModem = "MobileBroadbandModem"
	LogWindowsMDM           = "WindowsMDM"
)

// LogTypes lists every documented log type, in the documented order.
var LogTypes = []string{
	LogSoftwareUpdate, LogEvent, LogUserNotification, LogAgentService,
	LogWireless, LogWirelessWeb, LogMobileBroadbandModem, LogWindowsMDM,
}

// Bundle is one log a device uploaded: ThingSpace's DeviceLog, plus
// UploadedAt, which is this library's (ThingSpace does not send it) and
// decides when the bundle is purged.
type Bundle struct {
	DeviceID            string    `json:"deviceId"`
	LogTime             time.Time `json:"logTime"`
	LogType             string    `json:"logType"`
	EventLog            string    `json:"eventLog"`
	BinaryLogFileBase64 string    `json:"binaryLogFileBase64"`
	BinaryLogFilename   string    `json:"binaryLogFilename"`
	UploadedAt          time.Time `json:"uploadedAt,omitzero"`
}

// PurgeAt is when the bundle is purged: UploadedAt + Retention. From that
// instant on it is never served.
func (b Bundle) PurgeAt(p Policy) time.Time { return b.UploadedAt.Add(p.Retention) }

// Validate checks what a bundle must carry: a device id, a log time and a
// documented log type. The payload (eventLog, the base64 file and its name)
// is carried as the device sent it.
func (b Bundle) Validate() error {
	if b.DeviceID == "" {
		return &FieldError{Field: "deviceId", Value: "", Reason: "empty", Err: ErrDeviceID}
	}
	if b.LogTime.IsZero() {
		return &FieldError{Field: "logTime", Value: "0001-01-01T00:00:00Z", Reason: "missing", Err: ErrTime}
	}
	if !slices.Contains(LogTypes, b.LogType) {
		return &FieldError{Field: "logType", Value: b.LogType, Reason: "not one of the documented log types", Err: ErrLogType}
	}
	return nil
}

// UnmarshalJSON decodes a DeviceLog and validates it. Malformed JSON gives
// ErrJSON; a bad field, Validate's error. On error b is unchanged.
func (b *Bundle) UnmarshalJSON(data []byte) error {
	type plain Bundle // no methods: no recursion
	var v plain
	if err := json.Unmarshal(data, &v); err != nil {
		return jsonError("DeviceLog", data, err)
	}
	if err := Bundle(v).Validate(); err != nil {
		return err
	}
	*b = Bundle(v)
	return nil
}

// jsonError wraps a decoding error as a *FieldError naming the object.
func jsonError(object string, data []byte, err error) error {
	const max = 64 // enough of the input to recognise it
	v := string(data)
	if len(v) > max {
		v = v[:max] + "…"
	}
	return &FieldError{Field: object, Value: v, Reason: err.Error(), Err: ErrJSON}
}

// Upload checks that the device may upload b at now; the caller stamps
// b.UploadedAt = now and stores it (Account does). s must be current (pass
// s.Current(now, p)), or an expiry already due would be missed.
//
// "The device periodically uploads those logs to ThingSpace": a bundle is
// accepted while the session is Collecting, and after it ended (expired or
// disabled) if it had been collecting and b.LogTime is before EndedAt: the
// device learns that logging ended only at its next check-in, so its last
// upload arrives late, and those logs were asked for. Otherwise (never
// enabled, enabled but not yet checked in, ended without collecting, or a
// log from after the end) it is refused with *UploadError (ErrUploadRefused).
// LogTime is the device's clock, so it is compared only with EndedAt.
func Upload(s Session, b Bundle, now time.Time) error {
	if err := b.Validate(); err != nil {
		return err
	}
	if s.DeviceID != "" && b.DeviceID != s.DeviceID {
		return &FieldError{Field: "deviceId", Value: b.DeviceID, Reason: "the session belongs to device " + strconv.Quote(s.DeviceID), Err: ErrDeviceID}
	}
	refuse := func(reason string) error {
		return &UploadError{Device: b.DeviceID, State: s.State, LogTime: b.LogTime, Reason: reason}
	}
	switch s.State {
	case Collecting:
		return nil
	case Expired, Disabled:
		if s.CollectingAt.IsZero() {
			return refuse("the session ended before the device checked in")
		}
		if !b.LogTime.Before(s.EndedAt) {
			return refuse("the log is from after logging ended")
		}
		return nil
	case Enabled:
		return refuse("the device has not checked in since logging was enabled")
	}
	return refuse("logging was never enabled")
}

// Fetch returns the bundles of s's device that are still kept at now, in
// the order given: "After at least 24 hours, the developer can call the
// Verbose Logging API again to fetch the logs ... After 30 days, the logs
// are purged from ThingSpace."
//
// Before s.ReadyAt(p) it returns *NotReadyError (ErrNotReady) carrying the
// instant they become ready; that gate follows the latest enabling, so
// enabling again makes every kept bundle of the device wait anew. A device
// never enabled gives ErrNeverEnabled. A bundle is served only while
// now < PurgeAt(p); bundles of other devices are skipped. The result is a
// new slice, never nil.
func Fetch(s Session, bundles []Bundle, now time.Time, p Policy) ([]Bundle, error) {
	if s.State == Off {
		return nil, &FieldError{Field: "deviceId", Value: s.DeviceID, Reason: "logging was never enabled", Err: ErrNeverEnabled}
	}
	if ready := s.ReadyAt(p); now.Before(ready) {
		return nil, &NotReadyError{Device: s.DeviceID, ReadyAt: ready}
	}
	out := make([]Bundle, 0, len(bundles))
	for _, b := range bundles {
		if b.DeviceID == s.DeviceID && now.Before(b.PurgeAt(p)) {
			out = append(out, b)
		}
	}
	return out, nil
}

// Purge returns the bundles still kept at now (now < PurgeAt) in a new
// slice, and the earliest PurgeAt among them (zero if none), the deadline
// a host sleeps until.
func Purge(bundles []Bundle, now time.Time, p Policy) (kept []Bundle, next time.Time) {
	kept = make([]Bundle, 0, len(bundles))
	for _, b := range bundles {
		at := b.PurgeAt(p)
		if !now.Before(at) {
			continue
		}
		kept = append(kept, b)
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return kept, next
}
