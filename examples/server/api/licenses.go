package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
)

// Per-device licence outcomes the library has no status for, in the
// SDK's spellings: V2DeviceStatus's example {"status": "Failure",
// "resultReason": "Device does not exist."}, and V1DeviceListItem's
// LicenseRemoveFailed with "No license attached to device".
const (
	licenseFailure          = "Failure"
	reasonNoSuchDevice      = "Device does not exist."
	reasonNoLicenseOnDevice = "No license attached to device"
)

// LicenseRequest is the licence assign/remove body (V1 and
// V1LicensesAssignedRemovedRequest, V2LicenseIMEI).
type LicenseRequest struct {
	DeviceList []string `json:"deviceList"`
}

// DeviceResult is one device's outcome (V2DeviceStatus).
type DeviceResult struct {
	DeviceID     string `json:"deviceId"`
	Status       string `json:"status"`
	ResultReason string `json:"resultReason,omitempty"`
}

// LicenseResults answers a /v2 licence assignment or removal
// (V2LicensesAssignedRemovedResult): the account's licence total (its
// Subscription's LicenseCount) and how many are in use afterwards, and
// one result per device.
type LicenseResults struct {
	AccountName   string         `json:"accountName"`
	LicTotalCount int            `json:"licTotalCount"`
	LicUsedCount  int            `json:"licUsedCount"`
	DeviceList    []DeviceResult `json:"deviceList"`
}

// DeviceResultV1 is one device's outcome in /v1 (V1DeviceListItem, with
// a capital-R "Reason").
type DeviceResultV1 struct {
	DeviceID string `json:"deviceId"`
	Status   string `json:"status"`
	Reason   string `json:"Reason,omitempty"`
}

// LicenseResultsV1 answers a /v1 licence assignment or removal
// (V1LicensesAssignedRemovedResult: licCount where /v2 says
// licTotalCount).
type LicenseResultsV1 struct {
	AccountName  string           `json:"accountName"`
	LicCount     int              `json:"licCount"`
	LicUsedCount int              `json:"licUsedCount"`
	DeviceList   []DeviceResultV1 `json:"deviceList"`
}

// assignLicenses and removeLicenses: POST /licenses/{acc}/assign and
// /remove, /v2 shape.
func (s *server) assignLicenses(r *http.Request, acc string) (any, error) {
	return s.licensesV2(r, acc, true)
}

func (s *server) removeLicenses(r *http.Request, acc string) (any, error) {
	return s.licensesV2(r, acc, false)
}

func (s *server) licensesV2(r *http.Request, acc string, assign bool) (any, error) {
	res, err := s.licenses(r, acc, assign)
	if err != nil {
		return nil, err
	}
	total, used := s.licenseCounts(acc)
	return LicenseResults{AccountName: acc, LicTotalCount: total, LicUsedCount: used, DeviceList: res}, nil
}

// assignLicensesV1 and removeLicensesV1: the same under /v1.
func (s *server) assignLicensesV1(r *http.Request, acc string) (any, error) {
	return s.licensesV1(r, acc, true)
}

func (s *server) removeLicensesV1(r *http.Request, acc string) (any, error) {
	return s.licensesV1(r, acc, false)
}

func (s *server) licensesV1(r *http.Request, acc string, assign bool) (any, error) {
	res, err := s.licenses(r, acc, assign)
	if err != nil {
		return nil, err
	}
	total, used := s.licenseCounts(acc)
	out := LicenseResultsV1{AccountName: acc, LicCount: total, LicUsedCount: used, DeviceList: make([]DeviceResultV1, len(res))}
	for i, d := range res {
		out.DeviceList[i] = DeviceResultV1{DeviceID: d.DeviceID, Status: d.Status, Reason: d.ResultReason}
	}
	return out, nil
}

// licenses runs the request device by device: ThingSpace answers per
// device, so a device that does not exist, or has no licence to remove,
// is a failed result beside the others' successes rather than a refusal
// of the whole list. A malformed list (empty, a device twice) is still
// refused whole, before anything changes.
func (s *server) licenses(r *http.Request, acc string, assign bool) ([]DeviceResult, error) {
	var req LicenseRequest
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := checkDeviceList("deviceList", req.DeviceList); err != nil {
		return nil, err
	}
	failed := device.LicenseRemoveFailed.String()
	if assign {
		failed = licenseFailure
	}
	out := make([]DeviceResult, len(req.DeviceList))
	for i, id := range req.DeviceList {
		res, err := s.fleet.license(r.Context(), acc, id, assign)
		out[i] = DeviceResult{DeviceID: id, Status: res.Status.String()}
		switch {
		case err == nil:
			if res.Reason != 0 {
				out[i].ResultReason = res.Reason.Text(device.FamilyHTTP)
			}
			s.ledger.record(acc, id, res.Status)
		case errors.Is(err, fota.ErrNotFound):
			out[i] = DeviceResult{DeviceID: id, Status: licenseFailure, ResultReason: reasonNoSuchDevice}
		case errors.Is(err, fota.ErrInvalidTransition): // removing a licence the device does not hold
			out[i] = DeviceResult{DeviceID: id, Status: failed, ResultReason: reasonNoLicenseOnDevice}
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return nil, err
		default:
			s.log.Error("api: licence", "account", acc, "device", id, "err", err)
			out[i] = DeviceResult{DeviceID: id, Status: failed, ResultReason: device.ReasonLicenseInternal.Text(device.FamilyHTTP)}
		}
	}
	return out, nil
}

// checkDeviceList refuses an empty list, an empty id and an id listed
// twice, naming field.
func checkDeviceList(field string, ids []string) error {
	if len(ids) == 0 {
		return &fota.RequestError{Field: field, Value: "", Reason: "at least one device is required"}
	}
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if id == "" {
			return &fota.RequestError{Field: field, Value: id, Reason: "empty device id"}
		}
		if _, dup := seen[id]; dup {
			return &fota.RequestError{Field: field, Value: id, Reason: "listed twice"}
		}
		seen[id] = struct{}{}
	}
	return nil
}

// licenseCounts is the account's licence total (its subscription's) and
// how many are in use.
func (s *server) licenseCounts(acc string) (total, used int) {
	return s.opts.Subscriptions[acc].LicenseCount, s.ledger.used(acc)
}

// ledger counts the licences in use per account. The Manager records
// each device's licence but answers no count per account yet, so the
// server keeps the set of devices it licensed, from the results of its
// own licence calls (the only way a licence changes through this API).
// It starts empty with the process and does not see licences an
// Inventory reports (DeviceInfo.Licensed).
type ledger struct {
	mu       sync.Mutex
	licensed map[string]map[string]struct{} // account → devices
}

func newLedger() *ledger { return &ledger{licensed: map[string]map[string]struct{}{}} }

func (l *ledger) record(acc, deviceID string, st device.LicenseStatus) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case device.LicenseAssignSuccess:
		if l.licensed[acc] == nil {
			l.licensed[acc] = map[string]struct{}{}
		}
		l.licensed[acc][deviceID] = struct{}{}
	case device.LicenseRemoveSuccess:
		delete(l.licensed[acc], deviceID)
	}
}

func (l *ledger) used(acc string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.licensed[acc])
}

// Subscription is an account's FOTA subscription, configured on the
// server (ThingSpace sells it; this server is told it).
type Subscription struct {
	PurchaseType string    // e.g. "TS-HFOTA-EVNT,TS-HFOTA-MRC"
	LicenseCount int       // licences bought
	UpdateTime   time.Time // when it last changed
}

// SubscriptionV1 answers GET /api/fota/v1/subscriptions/{acc}
// (V1AccountSubscription; updateTime as ISO 8601).
type SubscriptionV1 struct {
	AccountName      string `json:"accountName"`
	PurchaseType     string `json:"purchaseType"`
	LicenseCount     int    `json:"licenseCount"`
	LicenseUsedCount int    `json:"licenseUsedCount"`
	UpdateTime       string `json:"updateTime"`
}

// SubscriptionV2 answers GET /api/fota/v2/subscriptions/{acc}
// (FotaV2Subscription; updateTime as "2021-06-03 00:03:56.079 +0000 UTC",
// as the SDK's example writes it).
type SubscriptionV2 SubscriptionV1

func (s *server) subscription(acc string) (SubscriptionV1, error) {
	sub, ok := s.opts.Subscriptions[acc]
	if !ok {
		return SubscriptionV1{}, &fota.NotFoundError{Kind: "subscription of account", ID: acc}
	}
	return SubscriptionV1{AccountName: acc, PurchaseType: sub.PurchaseType, LicenseCount: sub.LicenseCount,
		LicenseUsedCount: s.ledger.used(acc)}, nil
}

// subscriptionV1: GET /api/fota/v1/subscriptions/{acc}.
func (s *server) subscriptionV1(_ *http.Request, acc string) (any, error) {
	out, err := s.subscription(acc)
	out.UpdateTime = s.opts.Subscriptions[acc].UpdateTime.UTC().Format("2006-01-02T15:04:05.000Z")
	return out, err
}

// subscriptionV2: GET /api/fota/v2/subscriptions/{acc}.
func (s *server) subscriptionV2(_ *http.Request, acc string) (any, error) {
	out, err := s.subscription(acc)
	out.UpdateTime = s.opts.Subscriptions[acc].UpdateTime.UTC().Format("2006-01-02 15:04:05.000 -0700 MST")
	return SubscriptionV2(out), err
}

// ParseSubscriptions reads a subscription file: one "ACCOUNT LICENSES
// [PURCHASETYPE]" per line (blank lines and # comments skipped), every
// subscription updated at updated. A bad line is a *ConfigError naming it.
func ParseSubscriptions(r io.Reader, updated time.Time) (map[string]Subscription, error) {
	subs := map[string]Subscription{}
	err := eachLine(r, func(line int, fields []string) error {
		if len(fields) < 2 || len(fields) > 3 {
			return &ConfigError{Line: line, Reason: fmt.Sprintf("want ACCOUNT LICENSES [PURCHASETYPE], got %d fields", len(fields))}
		}
		n, err := strconv.Atoi(fields[1])
		if err != nil || n < 0 {
			return &ConfigError{Line: line, Reason: fmt.Sprintf("licences %q: want a count", fields[1])}
		}
		sub := Subscription{LicenseCount: n, UpdateTime: updated}
		if len(fields) == 3 {
			sub.PurchaseType = fields[2]
		}
		subs[fields[0]] = sub
		return nil
	})
	return subs, err
}
