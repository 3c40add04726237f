package api

import (
	"net/http"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/verboselog"
)

// checkIn: POST /api/fota/device/checkin → fota.Instruction.
func (s *server) checkIn(r *http.Request, body []byte) (any, error) {
	var req CheckInRequest
	if err := s.unmarshal(body, &req); err != nil {
		return nil, err
	}
	if req.DeviceID == "" {
		return nil, &fota.RequestError{Field: "deviceId", Value: "", Reason: "required"}
	}
	if err := s.authDevice(r, req.DeviceID, body); err != nil {
		return nil, err
	}
	in, err := s.fleet.checkIn(r.Context(), fota.CheckInRequest{
		DeviceID: req.DeviceID, ClientType: req.ClientType, Result: req.Result, FailureType: req.FailureType,
	})
	if err != nil {
		return nil, err
	}
	return CheckInResponse{Instruction: in, LocalTargetPath: s.localTargetPath(in)}, nil
}

// CheckInResponse answers a check-in (CheckInResponse in openapi.json):
// fota.Instruction's fields (the action, the campaign's software and,
// when the catalog knows the package, its downloadUrl, size and sha256),
// and, for a configuration file, where the device puts it.
type CheckInResponse struct {
	fota.Instruction
	LocalTargetPath string `json:"localTargetPath,omitempty"`
}

// report: POST /api/fota/device/report.
func (s *server) report(r *http.Request, body []byte) (any, error) {
	var req ReportRequest
	if err := s.unmarshal(body, &req); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, value string }{{"deviceId", req.DeviceID}, {"campaignId", req.CampaignID}} {
		if f.value == "" {
			return nil, &fota.RequestError{Field: f.name, Value: "", Reason: "required"}
		}
	}
	if err := s.authDevice(r, req.DeviceID, body); err != nil {
		return nil, err
	}
	state, err := s.fleet.report(r.Context(), req.CampaignID, req.DeviceID, req.Outcome)
	if err != nil {
		return nil, err
	}
	return ReportResponse{DeviceID: req.DeviceID, CampaignID: req.CampaignID, State: state,
		Status: state.Status().Wire(device.FamilyHTTP), ResultReason: state.Reason().Text(device.FamilyHTTP)}, nil
}

// uploadLog: POST /api/fota/device/logs with one DeviceLog.
func (s *server) uploadLog(r *http.Request, body []byte) (any, error) {
	var b verboselog.Bundle
	if err := s.unmarshal(body, &b); err != nil {
		return nil, err
	}
	if err := s.authDevice(r, b.DeviceID, body); err != nil {
		return nil, err
	}
	b.UploadedAt = time.Time{} // the Manager stamps it; a device may not choose its purge time
	if err := s.fleet.uploadLog(r.Context(), b); err != nil {
		return nil, err
	}
	return Success{Success: true}, nil
}
