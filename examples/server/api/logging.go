package api

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/verboselog"
)

// loggingDevices: GET /logging/{acc}/devices.
func (s *server) loggingDevices(r *http.Request, acc string) (any, error) {
	on, err := s.m.LoggingDevices(r.Context(), acc)
	if on == nil {
		on = []fota.LoggingStatus{}
	}
	return on, err
}

// enableLogging: PUT /logging/{acc}/devices with {"deviceIds": [...]}.
func (s *server) enableLogging(r *http.Request, acc string) (any, error) {
	var req LoggingRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return s.enable(r, acc, req.DeviceIDs)
}

// enableDeviceLogging: PUT /logging/{acc}/devices/{deviceId}; answers
// one DeviceLoggingStatus.
func (s *server) enableDeviceLogging(r *http.Request, acc string) (any, error) {
	on, err := s.enable(r, acc, []string{r.PathValue("deviceId")})
	if err != nil {
		return nil, err
	}
	return on[0], nil
}

func (s *server) enable(r *http.Request, acc string, ids []string) ([]fota.LoggingStatus, error) {
	if err := s.ownDevices(r.Context(), acc, ids); err != nil {
		return nil, err
	}
	return s.m.EnableLogging(r.Context(), acc, ids)
}

// disableLogging: DELETE /logging/{acc}/devices. The documentation puts
// the list in a body {"deviceIds": [...]}, the SDK in a deviceIds query
// parameter; both are read (query values may repeat or be
// comma-separated), and the two lists are joined.
func (s *server) disableLogging(r *http.Request, acc string) (any, error) {
	var ids []string
	for _, v := range r.URL.Query()["deviceIds"] {
		for id := range strings.SplitSeq(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	b, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) > 0 || len(ids) == 0 {
		var req LoggingRequest
		if err := unmarshal(b, &req); err != nil {
			return nil, err
		}
		ids = append(ids, req.DeviceIDs...)
	}
	return s.disable(r, acc, ids)
}

// disableDeviceLogging: DELETE /logging/{acc}/devices/{deviceId}.
func (s *server) disableDeviceLogging(r *http.Request, acc string) (any, error) {
	return s.disable(r, acc, []string{r.PathValue("deviceId")})
}

func (s *server) disable(r *http.Request, acc string, ids []string) (any, error) {
	if err := s.ownDevices(r.Context(), acc, ids); err != nil {
		return nil, err
	}
	if err := s.m.DisableLogging(r.Context(), acc, ids); err != nil {
		return nil, err
	}
	return Success{Success: true}, nil
}

// deviceLogs: GET /logging/{acc}/devices/{deviceId}/logs. Before the
// logs are ready the 400 NotReady message carries the ready time.
func (s *server) deviceLogs(r *http.Request, acc string) (any, error) {
	id := r.PathValue("deviceId")
	if err := s.ownDevices(r.Context(), acc, []string{id}); err != nil {
		return nil, err
	}
	logs, err := s.m.FetchLogs(r.Context(), acc, id)
	if err != nil {
		return nil, err
	}
	if logs == nil {
		logs = []verboselog.Bundle{}
	}
	return logs, nil
}

// checkInHistory: GET /logging/{acc}/devices/{deviceId}/checkInHistory,
// newest first, at most one page (verboselog.MaxPage).
func (s *server) checkInHistory(r *http.Request, acc string) (any, error) {
	id := r.PathValue("deviceId")
	if err := s.ownDevices(r.Context(), acc, []string{id}); err != nil {
		return nil, err
	}
	h, err := s.m.CheckInHistory(r.Context(), acc, id, time.Time{}, verboselog.MaxPage)
	if err != nil {
		return nil, err
	}
	if h == nil {
		h = []verboselog.CheckIn{}
	}
	return h, nil
}

// assignLicenses: POST /licenses/{acc}/assign.
func (s *server) assignLicenses(r *http.Request, acc string) (any, error) {
	return s.licenses(r, acc, s.m.AssignLicenses)
}

// removeLicenses: POST /licenses/{acc}/remove.
func (s *server) removeLicenses(r *http.Request, acc string) (any, error) {
	return s.licenses(r, acc, s.m.RemoveLicenses)
}

func (s *server) licenses(r *http.Request, acc string, op func(ctx context.Context, acc string, ids []string) ([]fota.LicenseResult, error)) (any, error) {
	var req LicenseRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.ownDevices(r.Context(), acc, req.DeviceList); err != nil {
		return nil, err
	}
	res, err := op(r.Context(), acc, req.DeviceList)
	if err != nil {
		return nil, err
	}
	out := LicenseResults{AccountName: acc, DeviceList: make([]LicenseResult, len(res))}
	for i, lr := range res {
		out.DeviceList[i] = LicenseResult{DeviceID: lr.DeviceID, Status: lr.Status.String()}
		if lr.Reason != 0 {
			out.DeviceList[i].ResultReason = lr.Reason.Text(device.FamilyHTTP)
		}
	}
	return out, nil
}
