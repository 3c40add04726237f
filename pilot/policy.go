package pilot

import "strconv"

// Policy is what a pilot must look like to lift a gate, and how large a
// campaign may be until one does. DefaultPolicy gives ThingSpace's values.
type Policy struct {
	// MinDevices is the smallest pilot that counts ("at least 5 devices").
	MinDevices int
	// MaxDevices is both the largest pilot that counts and the largest
	// campaign admitted while the gate stands ("no more than 20 devices").
	MaxDevices int
	// SuccessRatio is the share of a pilot's devices that must reach
	// UpgradeSuccess ("at least a 50% success rate"), in (0, 1].
	SuccessRatio float64
}

// DefaultPolicy is ThingSpace's pilot rule: a pilot of 5 to 20 devices with
// at least 50% UpgradeSuccess lifts the 20-device limit.
func DefaultPolicy() Policy {
	return Policy{MinDevices: 5, MaxDevices: 20, SuccessRatio: 0.5}
}

// Validate reports the first field out of range as a *PolicyError:
// MinDevices >= 1, MaxDevices >= MinDevices, 0 < SuccessRatio <= 1 (NaN is
// out of range). MinDevices >= 1 also keeps a pilot's size, the divisor of
// its success rate, above zero.
func (p Policy) Validate() error {
	if p.MinDevices < 1 {
		return &PolicyError{Field: "MinDevices", Value: itoa(p.MinDevices), Rule: "must be >= 1"}
	}
	if p.MaxDevices < p.MinDevices {
		return &PolicyError{Field: "MaxDevices", Value: itoa(p.MaxDevices), Rule: "must be >= MinDevices = " + itoa(p.MinDevices)}
	}
	if !(p.SuccessRatio > 0 && p.SuccessRatio <= 1) {
		return &PolicyError{Field: "SuccessRatio", Value: strconv.FormatFloat(p.SuccessRatio, 'g', -1, 64), Rule: "must be in (0, 1]"}
	}
	return nil
}

// pilotSize reports whether n devices make a pilot: MinDevices <= n <= MaxDevices.
func (p Policy) pilotSize(n int) bool { return p.MinDevices <= n && n <= p.MaxDevices }

// met reports whether succeeded of devices (devices > 0) reaches the
// success ratio. The share is computed as one IEEE division, which is
// correctly rounded, and compared with the ratio as configured: when the
// ratio is written as a fraction k/n (0.5, 0.1, 0.3, or float64(2)/3), any
// share exactly equal to k/n rounds to the same float64 and meets it, so
// 3 of 6 and 10 of 20 meet 0.5 while 2 of 5 does not. Multiplying instead
// (succeeded >= ratio*devices) rounds twice and would refuse 14 of 25
// against 0.56, or 7 of 100 against 0.07.
func (p Policy) met(succeeded, devices int) bool {
	return float64(succeeded)/float64(devices) >= p.SuccessRatio
}
