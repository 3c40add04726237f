package server

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/fotakit/fota/examples/lwm2m/linkformat"
)

// EventKind says what happened to a registration.
type EventKind uint8

// The registration events.
const (
	Registered   EventKind = iota + 1 // Register accepted (a new registration, or one replacing the last)
	Updated                           // Update accepted
	Deregistered                      // De-register accepted
	Expired                           // the lifetime ran out without an Update
)

// String is the kind's name ("Registered").
func (k EventKind) String() string {
	switch k {
	case Registered:
		return "Registered"
	case Updated:
		return "Updated"
	case Deregistered:
		return "Deregistered"
	case Expired:
		return "Expired"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one registration event, handed to Config.OnRegistration in
// order with the device's observations.
type Event struct {
	Kind     EventKind
	DeviceID string
	Registration
}

// Registration is what the server holds of a registered client.
type Registration struct {
	Endpoint string                // the endpoint name ("urn:imei:...")
	Location string                // the path Register answered ("/rd/3")
	Lifetime time.Duration         // lt
	Version  string                // lwm2m ("1.0", "1.1", "1.2")
	Binding  string                // b ("U")
	Objects  linkformat.ObjectList // the last announced object list
	Addr     *net.UDPAddr          // where requests go: the source of the last Register or Update
	Expires  time.Time             // when the lifetime runs out
}

// Registration request limits (LwM2M Core §6.2.1 and §7.3.3).
const (
	defaultLifetime = 86400 * time.Second // lt's default
	maxEndpointLen  = 256
)

// regRequest is a parsed Register or Update.
type regRequest struct {
	endpoint    string
	lifetime    time.Duration
	hasLifetime bool
	version     string
	binding     string
	objects     linkformat.ObjectList
	hasObjects  bool
}

func regError(field, value, reason, code string, cause error) *ArgError {
	return &ArgError{Field: field, Value: value, Reason: reason, Code: code, kind: ErrRegistration, cause: cause}
}

// parseRegistration reads a Register (update false) or Update request:
// its query parameters, Content-Format (hasFormat, format) and payload.
// Every refusal is an *ArgError naming the field and the CoAP code to
// answer.
func parseRegistration(update bool, queries []string, hasFormat bool, format uint16, body []byte, minLT, maxLT time.Duration) (regRequest, *ArgError) {
	r := regRequest{version: "1.0", binding: "U", lifetime: defaultLifetime}
	seen := map[string]bool{}
	for _, q := range queries {
		k, v, hasValue := strings.Cut(q, "=")
		if seen[k] {
			return regRequest{}, regError("query", q, "parameter given twice", "4.00", nil)
		}
		seen[k] = true
		switch {
		case k == "ep" && !update:
			if v == "" || len(v) > maxEndpointLen || !printable(v) {
				return regRequest{}, regError("ep", v, "empty, longer than 256 bytes or not printable ASCII", "4.00", nil)
			}
			r.endpoint = v
		case k == "lt":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || (len(v) > 1 && v[0] == '0') {
				return regRequest{}, regError("lt", v, "not a decimal number of seconds", "4.00", nil)
			}
			lt := time.Duration(n) * time.Second
			if lt < minLT || lt > maxLT {
				return regRequest{}, regError("lt", v, "outside "+minLT.String()+".."+maxLT.String(), "4.00", nil)
			}
			r.lifetime, r.hasLifetime = lt, true
		case k == "lwm2m" && !update:
			switch v {
			case "1.0", "1.1", "1.2":
				r.version = v
			default:
				return regRequest{}, regError("lwm2m", v, "LwM2M version not supported", "4.12", nil)
			}
		case k == "b":
			if v != "U" {
				return regRequest{}, regError("b", v, `only the UDP binding "U" is served`, "4.00", nil)
			}
		case k == "sms":
			// An MSISDN for the SMS binding, which this server does not use.
		default:
			if !hasValue {
				v = "(no value)"
			}
			return regRequest{}, regError("query", k+"="+v, "unknown parameter", "4.00", nil)
		}
	}
	if !update && r.endpoint == "" {
		return regRequest{}, regError("ep", "", "Register needs an endpoint name", "4.00", nil)
	}
	if hasFormat && format != 40 {
		return regRequest{}, regError("Content-Format", strconv.Itoa(int(format)), "the object list is application/link-format (40)", "4.15", nil)
	}
	if !update || len(body) > 0 {
		objs, err := linkformat.ParseObjects(body)
		if err != nil {
			return regRequest{}, regError("payload", string(body), "not an LwM2M object list", "4.00", err)
		}
		r.objects, r.hasObjects = objs, true
	}
	return r, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
