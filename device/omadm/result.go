package omadm

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"
	"strconv"

	"github.com/fotakit/fota/device"
)

// ResultCode is a FUMO result code (FUMO's result codes), carried in a Generic
// Alert's Data: 2xx is a successful outcome, 4xx and 5xx a failure.
type ResultCode int

// The result codes the table names. The vendor ranges 250–299, 450–499
// and 550–599 are valid too.
const (
	Successful                             ResultCode = 200
	ManagementClientError                  ResultCode = 400
	UserCancelled                          ResultCode = 401
	CorruptedPackage                       ResultCode = 402
	PackageDeviceMismatch                  ResultCode = 403
	FailedPackageValidation                ResultCode = 404
	PackageNotAcceptable                   ResultCode = 405
	AlternateDownloadAuthenticationFailure ResultCode = 406
	AlternateDownloadRequestTimeOut        ResultCode = 407
	NotImplemented                         ResultCode = 408
	UndefinedError                         ResultCode = 409
	FirmwareUpdateFailed                   ResultCode = 410
	MalformedOrBadURL                      ResultCode = 411
	AlternateDownloadServerUnavailable     ResultCode = 412
	AlternateDownloadServerError           ResultCode = 500
	DownloadOutOfMemory                    ResultCode = 501
	UpdateOutOfMemory                      ResultCode = 502
	DownloadNetworkIssues                  ResultCode = 503
)

// codeInfo is a named code's Go-like name, the table's meaning and the
// device-in-campaign event it means.
type codeInfo struct {
	name, meaning string
	event         device.Event
}

// Failures of the device or its package are EventUpdateFailed; failures
// of the server's request or of the download server it named, which a
// corrected retry may fix, are EventInternalError (package doc).
var codeInfos = map[ResultCode]codeInfo{
	Successful:                             {"Successful", "Successful", device.EventSucceeded},
	ManagementClientError:                  {"ManagementClientError", "Management Client Error", device.EventUpdateFailed},
	UserCancelled:                          {"UserCancelled", "User Cancelled", device.EventUpdateFailed},
	CorruptedPackage:                       {"CorruptedPackage", "Corrupted Firmware Update Package", device.EventUpdateFailed},
	PackageDeviceMismatch:                  {"PackageDeviceMismatch", "Package – Device Mismatch", device.EventModuleMismatch},
	FailedPackageValidation:                {"FailedPackageValidation", "Failed Package Validation", device.EventUpdateFailed},
	PackageNotAcceptable:                   {"PackageNotAcceptable", "Package Not Acceptable", device.EventUpdateFailed},
	AlternateDownloadAuthenticationFailure: {"AlternateDownloadAuthenticationFailure", "Alternate Download Authentication Failure", device.EventInternalError},
	AlternateDownloadRequestTimeOut:        {"AlternateDownloadRequestTimeOut", "Alternate Download Request Time-Out", device.EventInternalError},
	NotImplemented:                         {"NotImplemented", "Not Implemented", device.EventUpdateFailed},
	UndefinedError:                         {"UndefinedError", "Undefined Error", device.EventUpdateFailed},
	FirmwareUpdateFailed:                   {"FirmwareUpdateFailed", "Firmware Update Failed", device.EventUpdateFailed},
	MalformedOrBadURL:                      {"MalformedOrBadURL", "Malformed or Bad URL", device.EventInternalError},
	AlternateDownloadServerUnavailable:     {"AlternateDownloadServerUnavailable", "Alternate Download Server Unavailable", device.EventInternalError},
	AlternateDownloadServerError:           {"AlternateDownloadServerError", "Alternate Download Server Error", device.EventInternalError},
	DownloadOutOfMemory:                    {"DownloadOutOfMemory", "Download fails: device out of memory", device.EventUpdateFailed},
	UpdateOutOfMemory:                      {"UpdateOutOfMemory", "Update fails: device out of memory", device.EventUpdateFailed},
	DownloadNetworkIssues:                  {"DownloadNetworkIssues", "Download fails: network issues", device.EventUpdateFailed},
}

// vendorRanges are the vendor-specified ranges of the table.
var vendorRanges = [...]struct {
	lo, hi        ResultCode
	name, meaning string
	event         device.Event
}{
	{250, 299, "VendorSuccess", "Successful – Vendor Specified", device.EventSucceeded},
	{450, 499, "VendorClientError", "Client Error – Vendor Specified", device.EventUpdateFailed},
	{550, 599, "VendorServerError", "Alternate Download Server Error – Vendor Specified", device.EventInternalError},
}

func (c ResultCode) info() (codeInfo, bool) {
	if i, ok := codeInfos[c]; ok {
		return i, true
	}
	for _, r := range vendorRanges {
		if c >= r.lo && c <= r.hi {
			return codeInfo{fmt.Sprintf("%s(%d)", r.name, int(c)), r.meaning, r.event}, true
		}
	}
	return codeInfo{}, false
}

// ResultCodes lists the codes the table names (not the vendor ranges), in
// ascending order.
var ResultCodes = []ResultCode{200, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 500, 501, 502, 503}

// Valid reports whether c is in the table: a named code or one of the
// vendor ranges.
func (c ResultCode) Valid() bool {
	_, ok := c.info()
	return ok
}

// Successful reports whether c is a successful outcome: 200 or 250–299.
func (c ResultCode) Successful() bool { return c == Successful || c >= 250 && c <= 299 }

// Meaning is the table's text for c ("Package – Device Mismatch"), the
// range's text for a vendor code, "" for a code not in the table.
func (c ResultCode) Meaning() string {
	i, _ := c.info()
	return i.meaning
}

// String is the code's Go-like name ("PackageDeviceMismatch",
// "VendorClientError(451)"), or "ResultCode(n)" for a code not in the
// table.
func (c ResultCode) String() string {
	if i, ok := c.info(); ok {
		return i.name
	}
	return fmt.Sprintf("ResultCode(%d)", int(c))
}

// Event is the device-in-campaign event (push family) that an alert with
// this code means, by the table in the package doc; 0 for a code not in
// the table. For a successful code it is device.EventSucceeded, which
// Outcome withholds for a download-only alert.
func (c ResultCode) Event() device.Event {
	i, _ := c.info()
	return i.event
}

// MarshalText writes the code as on the wire ("403"); a code not in the
// table is an error.
func (c ResultCode) MarshalText() ([]byte, error) {
	if !c.Valid() {
		return nil, &ResultCodeError{Field: "result code", Value: strconv.Itoa(int(c))}
	}
	return strconv.AppendInt(nil, int64(c), 10), nil
}

// UnmarshalText accepts a code as on the wire (ParseResultCode). On error
// c is unchanged.
func (c *ResultCode) UnmarshalText(b []byte) error {
	v, err := ParseResultCode(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ParseResultCode reads a result code as a Generic Alert's Data carries
// it: exactly three ASCII digits, a code of the table or of a vendor
// range. Anything else is a *ResultCodeError.
func ParseResultCode(s string) (ResultCode, error) {
	if len(s) == 3 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) {
		c := ResultCode(int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0'))
		if c.Valid() {
			return c, nil
		}
	}
	return 0, &ResultCodeError{Field: "Data", Value: s}
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// ErrUnknownResultCode is matched by errors reporting a FUMO result code
// that is not in the table.
var ErrUnknownResultCode = errors.New("unknown FUMO result code")

// ResultCodeError names the field and the value that is not a result code.
type ResultCodeError struct {
	Field string // "Data", "result code"
	Value string
}

func (e *ResultCodeError) Error() string {
	return fmt.Sprintf("fota: omadm: %s: unknown result code %q", e.Field, e.Value)
}

// Is reports whether target is ErrUnknownResultCode.
func (e *ResultCodeError) Is(target error) bool {
	return target == ErrUnknownResultCode || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *ResultCodeError) FieldValue() (field, value string) { return e.Field, e.Value }
