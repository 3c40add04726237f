package server

import (
	"strings"

	"github.com/fotakit/fota/device"
)

// EndpointIMEI maps an LwM2M endpoint name to a fota device ID: the IMEI
// of "urn:imei:<IMEI>" (LwM2M Core §7.3.3, RFC 7254). The IMEI must be
// valid (15 digits, Luhn check digit, device.ParseIMEI). Any other name is an
// *ArgError on field "ep" matching ErrRegistration.
func EndpointIMEI(endpoint string) (string, error) {
	imei, ok := strings.CutPrefix(endpoint, "urn:imei:")
	if !ok {
		return "", &ArgError{Field: "ep", Value: endpoint, Reason: `not "urn:imei:<IMEI>"`, Code: "4.00", kind: ErrRegistration}
	}
	id, err := device.ParseIMEI(imei)
	if err != nil {
		return "", &ArgError{Field: "ep", Value: endpoint, Reason: "not a valid IMEI", Code: "4.00", kind: ErrRegistration, cause: err}
	}
	return id, nil
}
