package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
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

// LicenseRequest is the licence assign/remove body
// (V1LicensesAssignedRemovedRequest, V2LicenseIMEI). accountName is
// V2LicenseIMEI's optional field: when sent, it must be the path's account.
type LicenseRequest struct {
	AccountName string   `json:"accountName,omitempty"`
	DeviceList  []string `json:"deviceList"`
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
	total, used, err := s.licenseCounts(r, acc)
	if err != nil {
		return nil, err
	}
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
	total, used, err := s.licenseCounts(r, acc)
	if err != nil {
		return nil, err
	}
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
	if req.AccountName != "" && req.AccountName != acc {
		return nil, &fota.RequestError{Field: "accountName", Value: req.AccountName, Reason: "not the account of the path, " + acc}
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
			if removedLicense(res) {
				s.dropCancelled(acc, id) // no licence left to cancel
			}
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
// how many are assigned (Manager.Licenses: the licences assigned through
// the Manager, so they outlive a restart with -db; licences an Inventory
// reports itself, DeviceInfo.Licensed, are not counted).
func (s *server) licenseCounts(r *http.Request, acc string) (total, used int, err error) {
	page, err := s.fleet.licenses(r.Context(), acc, "", 1)
	return s.opts.Subscriptions[acc].LicenseCount, page.Assigned, err
}

// V2LicenseSummary is one page of the account's licensed devices with
// its licence counts (V2LicenseSummary: totalLicense, singular, is the
// subscription's LicenseCount).
type V2LicenseSummary struct {
	AccountName      string           `json:"accountName"`
	TotalLicense     int              `json:"totalLicense"`
	AssignedLicenses int              `json:"assignedLicenses"`
	HasMoreData      bool             `json:"hasMoreData"`
	LastSeenDeviceID string           `json:"lastSeenDeviceId,omitempty"`
	MaxPageSize      int              `json:"maxPageSize"`
	DeviceList       []LicensedDevice `json:"deviceList"`
}

// LicensedDevice is a device holding a licence (V2LicenseDevice,
// AccountLicenseDeviceListItem), with its assignment time as ISO 8601.
type LicensedDevice struct {
	DeviceID       string `json:"deviceId"`
	AssignmentTime string `json:"assignmentTime,omitempty"`
}

// AccountLicenseInfo is one /v1 page of the account's licensed devices
// (AccountLicenseInfo: totalLicenses, plural). /v1 pages by index:
// startIndex 0, then lastSeenDeviceId, the number of devices listed so
// far (the SDK's example pages by 1000).
type AccountLicenseInfo struct {
	AccountName      string           `json:"accountName"`
	TotalLicenses    int              `json:"totalLicenses"`
	AssignedLicenses int              `json:"assignedLicenses"`
	HasMoreData      bool             `json:"hasMoreData"`
	LastSeenDeviceID uint64           `json:"lastSeenDeviceId"`
	DeviceList       []LicensedDevice `json:"deviceList"`
}

func licensedDevices(page fota.LicensePage) []LicensedDevice {
	out := make([]LicensedDevice, len(page.DeviceList))
	for i, d := range page.DeviceList {
		out[i] = LicensedDevice{DeviceID: d.DeviceID}
		if !d.AssignedAt.IsZero() {
			out[i].AssignmentTime = isoTime(d.AssignedAt)
		}
	}
	return out
}

// licenseStatusV2: GET /licenses/{acc}?lastSeenDeviceId=, the account's
// licensed devices (those assigned through the Manager) a page at a time,
// with the subscription's total and the count assigned.
func (s *server) licenseStatusV2(r *http.Request, acc string) (any, error) {
	page, err := s.fleet.licenses(r.Context(), acc, r.URL.Query().Get("lastSeenDeviceId"), s.opts.PageSize)
	if err != nil {
		return nil, err
	}
	out := V2LicenseSummary{AccountName: acc, TotalLicense: s.opts.Subscriptions[acc].LicenseCount, AssignedLicenses: page.Assigned,
		HasMoreData: page.HasMoreData, MaxPageSize: s.opts.PageSize, DeviceList: licensedDevices(page)}
	if page.HasMoreData {
		out.LastSeenDeviceID = page.LastSeenDeviceID
	}
	return out, nil
}

// licenseStatusV1: /v1 GET /licenses/{acc}/index/{startIndex}. The
// Manager pages by device id, so the first startIndex devices are skipped
// page by page.
func (s *server) licenseStatusV1(r *http.Request, acc string) (any, error) {
	start, err := parseIndex(r)
	if err != nil {
		return nil, err
	}
	var page fota.LicensePage
	for skip, cursor := start, ""; ; cursor = page.LastSeenDeviceID {
		n := s.opts.PageSize
		if skip > 0 {
			n = int(min(skip, fota.MaxPageSize))
		}
		if page, err = s.fleet.licenses(r.Context(), acc, cursor, n); err != nil {
			return nil, err
		}
		if skip == 0 {
			break
		}
		skip -= uint64(len(page.DeviceList))
		if !page.HasMoreData { // startIndex is at or past the last device
			page.DeviceList = nil
			break
		}
	}
	return AccountLicenseInfo{AccountName: acc, TotalLicenses: s.opts.Subscriptions[acc].LicenseCount, AssignedLicenses: page.Assigned,
		HasMoreData: page.HasMoreData, LastSeenDeviceID: start + uint64(len(page.DeviceList)), DeviceList: licensedDevices(page)}, nil
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

func (s *server) subscription(r *http.Request, acc string) (SubscriptionV1, error) {
	sub, ok := s.opts.Subscriptions[acc]
	if !ok {
		return SubscriptionV1{}, &fota.NotFoundError{Kind: "subscription of account", ID: acc}
	}
	_, used, err := s.licenseCounts(r, acc)
	return SubscriptionV1{AccountName: acc, PurchaseType: sub.PurchaseType, LicenseCount: sub.LicenseCount,
		LicenseUsedCount: used}, err
}

// subscriptionV1: GET /api/fota/v1/subscriptions/{acc}.
func (s *server) subscriptionV1(r *http.Request, acc string) (any, error) {
	out, err := s.subscription(r, acc)
	out.UpdateTime = isoTime(s.opts.Subscriptions[acc].UpdateTime)
	return out, err
}

// subscriptionV2: GET /api/fota/v2/subscriptions/{acc}.
func (s *server) subscriptionV2(r *http.Request, acc string) (any, error) {
	out, err := s.subscription(r, acc)
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
