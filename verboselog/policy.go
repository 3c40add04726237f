package verboselog

import (
	"strconv"
	"time"
)

// Policy holds the verbose-logging rules. DefaultPolicy has ThingSpace's
// values; hosts and tests may change them (Validate before use: the
// functions of this package trust their Policy).
type Policy struct {
	// MaxEnabled is how many devices of one account may have logging on at
	// once: "for up to 20 devices".
	MaxEnabled int
	// Duration is how long a session stays on after enabling: "Logging
	// turns off automatically after seven days".
	Duration time.Duration
	// FetchDelay is how long after enabling logs become fetchable: "After
	// at least 24 hours, the developer can call the Verbose Logging API
	// again to fetch the logs". Zero means at once.
	FetchDelay time.Duration
	// Retention is how long an uploaded bundle is kept after its upload:
	// "After 30 days, the logs are purged from ThingSpace."
	Retention time.Duration
	// HistoryRetention is how long a check-in is kept after it completed.
	// The sources are silent; the default, 180 days, matches the six
	// months v1 upgrade history covers. Zero keeps check-ins until
	// HistoryMax pushes them out.
	HistoryRetention time.Duration
	// HistoryMax caps the check-ins kept per device; the oldest go first.
	// The default, 1,000 (one ThingSpace page), holds six months of the
	// recommended "once a day and at power on / power cycle" check-ins
	// with room to spare, and bounds memory however often a device calls.
	HistoryMax int
}

// DefaultPolicy returns ThingSpace's values: 20 devices, 7 days, 24 hours,
// 30 days; and this library's history bounds: 180 days, 1,000 check-ins.
func DefaultPolicy() Policy {
	return Policy{
		MaxEnabled:       20,
		Duration:         7 * 24 * time.Hour,
		FetchDelay:       24 * time.Hour,
		Retention:        30 * 24 * time.Hour,
		HistoryRetention: 180 * 24 * time.Hour,
		HistoryMax:       1000,
	}
}

// Validate reports the first field out of range as a *FieldError matching
// ErrPolicy: MaxEnabled, Duration, Retention and HistoryMax must be
// positive; FetchDelay and HistoryRetention must not be negative.
func (p Policy) Validate() error {
	bad := func(field, value, reason string) error {
		return &FieldError{Field: "Policy." + field, Value: value, Reason: reason, Err: ErrPolicy}
	}
	switch {
	case p.MaxEnabled < 1:
		return bad("MaxEnabled", strconv.Itoa(p.MaxEnabled), "must be at least 1")
	case p.Duration <= 0:
		return bad("Duration", p.Duration.String(), "must be positive")
	case p.FetchDelay < 0:
		return bad("FetchDelay", p.FetchDelay.String(), "must not be negative")
	case p.Retention <= 0:
		return bad("Retention", p.Retention.String(), "must be positive (zero would purge every log on upload)")
	case p.HistoryRetention < 0:
		return bad("HistoryRetention", p.HistoryRetention.String(), "must not be negative (zero keeps check-ins)")
	case p.HistoryMax < 1:
		return bad("HistoryMax", strconv.Itoa(p.HistoryMax), "must be at least 1")
	}
	return nil
}
