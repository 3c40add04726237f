package api

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
)

// The licence cancel list: ThingSpace's list of an account's licences "to
// remove" (/v1 POST and DELETE /licenses/{acc}/cancel, GET
// /licenses/{acc}/cancel/index/{startIndex}; /v2 GET, POST and DELETE
// /licenses/{acc}/cancel). A listed device's licence is released at the
// end of the billing cycle, which this server takes to be the calendar
// month (UTC) by Options.Clock: at the first instant of the month after
// the one the device was listed in (ReleaseTime). Taking a device off the
// list before then (POST without type, DELETE) keeps its licence.

// CancelListRequest is the /v2 body that puts devices on the account's
// licence cancel list (V2ListOfLicensesToRemoveRequest): type "append"
// adds them to the list, no type replaces the list with them. count, when
// sent, must be the number of devices in deviceList.
type CancelListRequest struct {
	Type       string   `json:"type,omitempty"`
	Count      *int     `json:"count,omitempty"`
	DeviceList []string `json:"deviceList"`
}

// CancelListRequestV1 is the /v1 body (V1ListOfLicensesToRemoveRequest):
// /v2's without count.
type CancelListRequestV1 struct {
	Type       string   `json:"type,omitempty"`
	DeviceList []string `json:"deviceList"`
}

// CancelListResult answers a POST (V2ListOfLicensesToRemoveResult,
// V1ListOfLicensesToRemoveResult): the devices the request put on the
// list, in its order, and how many.
type CancelListResult struct {
	Count      int      `json:"count"`
	DeviceList []string `json:"deviceList"`
}

// CancelList is one /v2 page of the account's cancel list
// (V2ListOfLicensesToRemove): count is the number of devices on the whole
// list, deviceList the page's, in device-id order; updateTime is the
// list's last change as "2018-03-22 00:06:00.069 +0000 UTC" (the SDK's
// example), "" for a list never written.
type CancelList struct {
	Count       int      `json:"count"`
	HasMoreData bool     `json:"hasMoreData"`
	UpdateTime  string   `json:"updateTime"`
	DeviceList  []string `json:"deviceList"`
}

// CancelListV1 is one /v1 page (V1ListOfLicensesToRemove): as /v2's, with
// updateTime as ISO 8601 ("2018-03-22T12:06:06.000Z"), left out for a
// list never written.
type CancelListV1 struct {
	Count       int      `json:"count"`
	HasMoreData bool     `json:"hasMoreData"`
	UpdateTime  string   `json:"updateTime,omitempty"`
	DeviceList  []string `json:"deviceList"`
}

// ReleaseTime is when the licence of a device put on the cancel list at t
// is released: the end of t's billing cycle, the first instant of the
// next calendar month in UTC.
func ReleaseTime(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}

// cancelLists are the accounts' licence cancel lists, kept in memory.
type cancelLists struct {
	mu    sync.Mutex
	lists map[string]*cancelList // account → its list
}

// cancelList is one account's list. Its mutex is held through every
// change, a release's calls into the Manager included, so a licence is
// released once and a change waits for a release under way.
type cancelList struct {
	mu      sync.Mutex
	devices map[string]time.Time // device id → when its licence is released
	next    time.Time            // the earliest release; zero when the list is empty
	updated time.Time            // the last change; zero: never written
}

// get returns the account's list, creating it if create (else nil when
// there is none).
func (c *cancelLists) get(acc string, create bool) *cancelList {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lists[acc]
	if l == nil && create {
		if c.lists == nil {
			c.lists = map[string]*cancelList{}
		}
		l = &cancelList{devices: map[string]time.Time{}}
		c.lists[acc] = l
	}
	return l
}

// changed notes a change at now and recomputes the earliest release.
func (l *cancelList) changed(now time.Time) {
	l.updated, l.next = now, time.Time{}
	for _, at := range l.devices {
		if l.next.IsZero() || at.Before(l.next) {
			l.next = at
		}
	}
}

// sorted is the listed devices in id order.
func (l *cancelList) sorted() []string { return slices.Sorted(maps.Keys(l.devices)) }

// releaseDue releases the account's listed licences whose release time
// has come (see release). An account without a list costs a map lookup.
func (s *server) releaseDue(ctx context.Context, acc string) error {
	if acc == "" {
		return nil
	}
	l := s.cancels.get(acc, false)
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return s.release(ctx, acc, l, s.now())
}

// release removes, through the Manager, the licence of every device of
// l (held locked) whose release time is at or before now, in device-id
// order, and takes it off the list. A device the Manager no longer finds
// or whose licence is already gone leaves the list too; so does one that
// ever upgraded, which keeps its licence (LicenseRemoveFailed, as POST
// /licenses/{acc}/remove answers it). Another failure is logged and the
// device stays listed, to be tried again at the account's next call; only
// the request's end stops a release (and is returned).
func (s *server) release(ctx context.Context, acc string, l *cancelList, now time.Time) error {
	if l.next.IsZero() || now.Before(l.next) {
		return nil
	}
	released := false
	for _, id := range l.sorted() {
		if now.Before(l.devices[id]) {
			continue
		}
		res, err := s.fleet.license(ctx, acc, id, false)
		switch {
		case err == nil:
			s.log.Info("api: cancel list: licence released", "account", acc, "device", id, "status", res.Status.String())
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			if released {
				l.changed(now)
			}
			return err
		case errors.Is(err, fota.ErrNotFound), errors.Is(err, fota.ErrInvalidTransition):
			s.log.Info("api: cancel list: no licence to release", "account", acc, "device", id, "err", err)
		default:
			s.log.Error("api: cancel list: release", "account", acc, "device", id, "err", err)
			continue
		}
		delete(l.devices, id)
		released = true
	}
	if released {
		l.changed(now)
	}
	return nil
}

// dropCancelled takes a device whose licence was just removed off the
// account's cancel list: it has no licence left to cancel.
func (s *server) dropCancelled(acc, id string) {
	l := s.cancels.get(acc, false)
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.devices[id]; ok {
		delete(l.devices, id)
		l.changed(s.now())
	}
}

// putCancelListV2: /v2 POST /licenses/{acc}/cancel.
func (s *server) putCancelListV2(r *http.Request, acc string) (any, error) {
	var req CancelListRequest
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.Count != nil && *req.Count != len(req.DeviceList) {
		return nil, &fota.RequestError{Field: "count", Value: strconv.Itoa(*req.Count),
			Reason: "not the number of devices in deviceList, " + strconv.Itoa(len(req.DeviceList))}
	}
	return s.putCancelList(r, acc, req.Type, req.DeviceList)
}

// putCancelListV1: /v1 POST /licenses/{acc}/cancel.
func (s *server) putCancelListV1(r *http.Request, acc string) (any, error) {
	var req CancelListRequestV1
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	return s.putCancelList(r, acc, req.Type, req.DeviceList)
}

// putCancelList appends the devices to the account's list (typ "append")
// or replaces the list with them (typ ""). Every device must be the
// account's and hold a licence assigned through the Manager (the only
// licences it can remove); otherwise the request is refused whole,
// naming the first device that is not, and the list is unchanged.
func (s *server) putCancelList(r *http.Request, acc, typ string, ids []string) (CancelListResult, error) {
	if typ != "" && typ != "append" {
		return CancelListResult{}, &fota.RequestError{Field: "type", Value: typ, Reason: `want "append", or no type to replace the list`}
	}
	if err := checkDeviceList("deviceList", ids); err != nil {
		return CancelListResult{}, err
	}
	for _, id := range ids {
		if err := checkText("deviceList", id, fota.MaxIDBytes); err != nil {
			return CancelListResult{}, err
		}
	}
	licensed, err := s.licensedSet(r.Context(), acc)
	if err != nil {
		return CancelListResult{}, err
	}
	for _, id := range ids {
		if licensed[id] {
			continue
		}
		reason := "holds no licence assigned through this server (POST /licenses/{acc}/assign), so none to cancel"
		if s.opts.Inventory != nil {
			info, found, err := s.opts.Inventory.Lookup(r.Context(), id)
			if err != nil {
				return CancelListResult{}, err
			}
			if !found || (info.Account != "" && info.Account != acc) { // another account's device is unknown here
				reason = "no such device in the account"
			}
		}
		return CancelListResult{}, &fota.RequestError{Field: "deviceList", Value: id, Reason: reason}
	}
	l := s.cancels.get(acc, true)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := s.now()
	if typ == "" {
		clear(l.devices)
	}
	at := ReleaseTime(now)
	for _, id := range ids {
		if prev, ok := l.devices[id]; !ok || at.Before(prev) {
			l.devices[id] = at
		}
	}
	l.changed(now)
	return CancelListResult{Count: len(ids), DeviceList: slices.Clone(ids)}, nil
}

// licensedSet is the account's devices holding a licence assigned
// through the Manager.
func (s *server) licensedSet(ctx context.Context, acc string) (map[string]bool, error) {
	out := map[string]bool{}
	for after := ""; ; {
		page, err := s.fleet.licenses(ctx, acc, after, fota.MaxPageSize)
		if err != nil {
			return nil, err
		}
		for _, d := range page.DeviceList {
			out[d.DeviceID] = true
		}
		if !page.HasMoreData {
			return out, nil
		}
		after = page.LastSeenDeviceID
	}
}

// deleteCancelList: /v1 and /v2 DELETE /licenses/{acc}/cancel empties
// the account's list (an empty one too): no listed licence is released.
func (s *server) deleteCancelList(_ *http.Request, acc string) (any, error) {
	l := s.cancels.get(acc, true)
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.devices)
	l.changed(s.now())
	return Success{Success: true}, nil
}

// cancelPage is one page of the account's list from index start: the
// devices, the list's length and last change.
func (s *server) cancelPage(acc string, start uint64) (page []string, count int, updated time.Time) {
	l := s.cancels.get(acc, false)
	if l == nil {
		return []string{}, 0, time.Time{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	all := l.sorted()
	from := int(min(start, uint64(len(all))))
	to := min(from+s.opts.PageSize, len(all))
	return append([]string{}, all[from:to]...), len(all), l.updated
}

// cancelListV2: /v2 GET /licenses/{acc}/cancel?startIndex=, a page of
// Options.PageSize devices from the index (0 first; the SDK pages by
// 1000, the default page size).
func (s *server) cancelListV2(r *http.Request, acc string) (any, error) {
	start, err := cancelIndex(r.URL.Query().Get("startIndex"))
	if err != nil {
		return nil, err
	}
	page, count, updated := s.cancelPage(acc, start)
	out := CancelList{Count: count, HasMoreData: start+uint64(len(page)) < uint64(count), DeviceList: page}
	if !updated.IsZero() {
		out.UpdateTime = updated.Format("2006-01-02 15:04:05.000 -0700 MST")
	}
	return out, nil
}

// cancelListV1: /v1 GET /licenses/{acc}/cancel/index/{startIndex}.
func (s *server) cancelListV1(r *http.Request, acc string) (any, error) {
	start, err := cancelIndex(r.PathValue("startIndex"))
	if err != nil {
		return nil, err
	}
	page, count, updated := s.cancelPage(acc, start)
	out := CancelListV1{Count: count, HasMoreData: start+uint64(len(page)) < uint64(count), DeviceList: page}
	if !updated.IsZero() {
		out.UpdateTime = isoTime(updated)
	}
	return out, nil
}

// cancelIndex reads a cancel list's startIndex: a decimal number, "0"
// (or, in the /v2 query, nothing) first.
func cancelIndex(v string) (uint64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, &fota.RequestError{Field: "startIndex", Value: v, Reason: "want a number: 0 first, then 1000, 2000, … (the page size)"}
	}
	return n, nil
}

// removedLicense reports whether a licence result removed the licence.
func removedLicense(res fota.LicenseResult) bool { return res.Status == device.LicenseRemoveSuccess }
