package api

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/verboselog"
)

// loggingDevices: GET /logging/{acc}/devices.
func (s *server) loggingDevices(r *http.Request, acc string) (any, error) {
	on, err := s.fleet.loggingDevices(r.Context(), acc)
	if on == nil {
		on = []fota.LoggingStatus{}
	}
	return on, err
}

// enableLogging: PUT /logging/{acc}/devices with {"deviceIds": [...]}.
func (s *server) enableLogging(r *http.Request, acc string) (any, error) {
	var req LoggingRequest
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	return s.fleet.enableLogging(r.Context(), acc, req.DeviceIDs)
}

// enableDeviceLogging: PUT /logging/{acc}/devices/{deviceId}; answers
// one DeviceLoggingStatus.
func (s *server) enableDeviceLogging(r *http.Request, acc string) (any, error) {
	on, err := s.fleet.enableLogging(r.Context(), acc, []string{r.PathValue("deviceId")})
	if err != nil {
		return nil, err
	}
	return on[0], nil
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
	b, err := readBody(r.Body)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) > 0 || len(ids) == 0 {
		var req LoggingRequest
		if err := s.unmarshal(b, &req); err != nil {
			return nil, err
		}
		ids = append(ids, req.DeviceIDs...)
	}
	if err := s.fleet.disableLogging(r.Context(), acc, ids); err != nil {
		return nil, err
	}
	return Success{Success: true}, nil
}

// disableDeviceLogging: DELETE /logging/{acc}/devices/{deviceId}.
func (s *server) disableDeviceLogging(r *http.Request, acc string) (any, error) {
	if err := s.fleet.disableLogging(r.Context(), acc, []string{r.PathValue("deviceId")}); err != nil {
		return nil, err
	}
	return Success{Success: true}, nil
}

// deviceLogs: GET /logging/{acc}/devices/{deviceId}/logs. Before the
// logs are ready the NotReady message carries the ready time.
func (s *server) deviceLogs(r *http.Request, acc string) (any, error) {
	logs, err := s.fleet.fetchLogs(r.Context(), acc, r.PathValue("deviceId"))
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
	h, err := s.fleet.checkInHistory(r.Context(), acc, r.PathValue("deviceId"))
	if err != nil {
		return nil, err
	}
	out := make([]CheckInHistoryItem, len(h))
	for i, c := range h {
		if out[i], err = checkInHistoryItem(c); err != nil {
			return nil, err
		}
	}
	return out, nil
}
