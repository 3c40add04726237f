package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
)

// DeviceLister is an inventory that lists an account's devices a page at
// a time, in id order after afterID, and says whether more follow
// (fota.MemoryInventory is one). The account device routes need it.
type DeviceLister interface {
	List(account, afterID string, limit int) ([]fota.DeviceInfo, bool)
}

// V2AccountDeviceList is one page of an account's devices
// (V2AccountDeviceList).
type V2AccountDeviceList struct {
	AccountName      string            `json:"accountName"`
	HasMoreData      bool              `json:"hasMoreData"`
	LastSeenDeviceID string            `json:"lastSeenDeviceId,omitempty"`
	MaxPageSize      int               `json:"maxPageSize"`
	DeviceList       []V2AccountDevice `json:"deviceList"`
}

// V2AccountDevice is one device of the account (V2AccountDevice), as the
// inventory knows it. The inventory holds no MDN, so mdn (required) is
// "". appFotaEligible is fotaEligible for HTTP devices (they update
// through an app, the OEM's client) and false for push ones.
// softwareList holds the current version as the inventory reports it,
// with name and upgradeTime (both required) "" : the inventory knows
// the version, not the package that installed it or when.
type V2AccountDevice struct {
	DeviceID         string           `json:"deviceId"`
	MDN              string           `json:"mdn"`
	Model            string           `json:"model"`
	Make             string           `json:"make"`
	FOTAEligible     bool             `json:"fotaEligible"`
	AppFOTAEligible  bool             `json:"appFotaEligible"`
	LicenseAssigned  bool             `json:"licenseAssigned"`
	DistributionType string           `json:"distributionType"`
	SoftwareList     []V2SoftwareInfo `json:"softwareList"`
}

// V2SoftwareInfo is a software version on a device (V2SoftwareInfo).
type V2SoftwareInfo struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	UpgradeTime string `json:"upgradeTime"`
}

// DeviceListQueryResult is one /v1 page of an account's devices
// (DeviceListQueryResult). lastSeenDeviceId, the next page's startIndex,
// is a bigint in the SDK's model, which reads a JSON number or a string
// of digits: it is a json.Number for an id of digits without a leading
// zero (an IMEI of most TACs), else the id as a string (see
// listDevicesV1).
type DeviceListQueryResult struct {
	AccountName      string                `json:"accountName"`
	HasMoreData      bool                  `json:"hasMoreData"`
	LastSeenDeviceID any                   `json:"lastSeenDeviceId,omitempty"`
	DeviceList       []DeviceListQueryItem `json:"deviceList"`
}

// DeviceListQueryItem is one device in a /v1 page (DeviceListQueryItem):
// firmware is its current version.
type DeviceListQueryItem struct {
	DeviceID        string `json:"deviceId"`
	Model           string `json:"model"`
	Make            string `json:"make"`
	Firmware        string `json:"firmware"`
	FOTAEligible    bool   `json:"fotaEligible"`
	LicenseAssigned bool   `json:"licenseAssigned"`
}

// accountDevices is one page of the account's devices after after (""
// first) of protocol only (zero: any), each with whether it holds a
// licence, and whether more follow.
func (s *server) accountDevices(r *http.Request, acc, after string, only device.Protocol) ([]fota.DeviceInfo, map[string]bool, bool, error) {
	lister, ok := s.opts.Inventory.(DeviceLister)
	if !ok {
		return nil, nil, false, &httpError{status: http.StatusBadRequest, code: CodeUnsupported,
			msg: "this server's inventory cannot list an account's devices"}
	}
	var out []fota.DeviceInfo
	more := true
	for cursor := after; more && len(out) <= s.opts.PageSize; {
		var page []fota.DeviceInfo
		page, more = lister.List(acc, cursor, s.opts.PageSize)
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			if only == 0 || d.Protocol == only {
				out = append(out, d)
			}
		}
		cursor = page[len(page)-1].DeviceID
	}
	more = more || len(out) > s.opts.PageSize
	out = out[:min(len(out), s.opts.PageSize)]
	licensed, err := s.licensedAmong(r, acc, after, out)
	return out, licensed, more, err
}

// licensedAmong says which of devs (in id order, all after after) hold a
// licence: one the inventory reports, or one assigned through the
// Manager, whose licence pages run in the same id order.
func (s *server) licensedAmong(r *http.Request, acc, after string, devs []fota.DeviceInfo) (map[string]bool, error) {
	licensed := map[string]bool{}
	if len(devs) == 0 {
		return licensed, nil
	}
	last := devs[len(devs)-1].DeviceID
	for cursor := after; ; {
		page, err := s.fleet.licenses(r.Context(), acc, cursor, fota.MaxPageSize)
		if err != nil {
			return nil, err
		}
		for _, l := range page.DeviceList {
			licensed[l.DeviceID] = true
		}
		if !page.HasMoreData || page.LastSeenDeviceID >= last {
			break
		}
		cursor = page.LastSeenDeviceID
	}
	for _, d := range devs {
		licensed[d.DeviceID] = licensed[d.DeviceID] || d.Licensed
	}
	return licensed, nil
}

// listDevicesV2: GET /devices/{acc}?lastSeenDeviceId=&distributionType=.
func (s *server) listDevicesV2(r *http.Request, acc string) (any, error) {
	q := r.URL.Query()
	var only device.Protocol
	if v := q.Get("distributionType"); v != "" {
		p, err := device.ParseProtocol(v)
		if err != nil {
			return nil, &fota.RequestError{Field: "distributionType", Value: v, Reason: `want "HTTP", "LWM2M" or "OMA-DM"`}
		}
		only = p
	}
	after := q.Get("lastSeenDeviceId")
	if after == "0" { // "use 0 first"
		after = ""
	}
	devs, licensed, more, err := s.accountDevices(r, acc, after, only)
	if err != nil {
		return nil, err
	}
	out := V2AccountDeviceList{AccountName: acc, HasMoreData: more, MaxPageSize: s.opts.PageSize, DeviceList: make([]V2AccountDevice, len(devs))}
	for i, d := range devs {
		out.DeviceList[i] = V2AccountDevice{DeviceID: d.DeviceID, Model: d.Model, Make: d.Make, FOTAEligible: d.FOTACapable,
			AppFOTAEligible: d.FOTACapable && d.Protocol == device.HTTP, LicenseAssigned: licensed[d.DeviceID],
			SoftwareList: []V2SoftwareInfo{}}
		if d.Protocol != 0 {
			out.DeviceList[i].DistributionType = d.Protocol.String()
		}
		if d.Software != "" {
			out.DeviceList[i].SoftwareList = append(out.DeviceList[i].SoftwareList, V2SoftwareInfo{Version: d.Software})
		}
	}
	if more {
		out.LastSeenDeviceID = devs[len(devs)-1].DeviceID
	}
	return out, nil
}

// listDevicesV1: /v1 GET /devices/{acc}/index/{startIndex}: startIndex is
// "0" first, then the last page's lastSeenDeviceId. That is a bigint in
// the SDK's model, as ThingSpace's device ids (IMEIs) are digits: an id
// with a leading zero goes out as a string of digits (a JSON number may
// not start with 0; the SDK reads both), and one with anything but
// digits as a string too, which the SDK refuses: an inventory of such
// ids is for /v2.
func (s *server) listDevicesV1(r *http.Request, acc string) (any, error) {
	after := r.PathValue("startIndex")
	if after == "0" {
		after = ""
	}
	devs, licensed, more, err := s.accountDevices(r, acc, after, 0)
	if err != nil {
		return nil, err
	}
	out := DeviceListQueryResult{AccountName: acc, HasMoreData: more, DeviceList: make([]DeviceListQueryItem, len(devs))}
	for i, d := range devs {
		out.DeviceList[i] = DeviceListQueryItem{DeviceID: d.DeviceID, Model: d.Model, Make: d.Make, Firmware: d.Software,
			FOTAEligible: d.FOTACapable, LicenseAssigned: licensed[d.DeviceID]}
	}
	if more {
		id := devs[len(devs)-1].DeviceID
		out.LastSeenDeviceID = id
		if strings.Trim(id, "0123456789") == "" && !strings.HasPrefix(id, "0") {
			out.LastSeenDeviceID = json.Number(id)
		}
	}
	return out, nil
}
