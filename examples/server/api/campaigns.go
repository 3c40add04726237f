package api

import (
	"net/http"
	"strconv"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
)

// scheduleCampaign: POST /campaigns/{acc} (CampaignSoftwareUpgrade →
// CampaignSoftware, integer hours).
func (s *server) scheduleCampaign(r *http.Request, acc string) (any, error) {
	c, _, err := s.schedule(r, acc)
	if err != nil {
		return nil, err
	}
	return campaignSoftware(c), nil
}

// scheduleSoftware: POST /campaigns/software/{acc}
// (SchedulesSoftwareUpgradeRequest → UploadAndScheduleFileResponse,
// string hours).
func (s *server) scheduleSoftware(r *http.Request, acc string) (any, error) {
	c, devices, err := s.schedule(r, acc)
	if err != nil {
		return nil, err
	}
	return scheduledSoftware(c, devices), nil
}

// schedule reads a schedule request (hours as integers or digit strings,
// as both SDK models send them) and creates the campaign.
func (s *server) schedule(r *http.Request, acc string) (fota.Campaign, []string, error) {
	var req fota.CampaignRequest
	if err := s.decode(r, &req); err != nil {
		return fota.Campaign{}, nil, err
	}
	c, err := s.fleet.schedule(r.Context(), acc, req)
	return c, req.DeviceList, err
}

// getCampaign: GET /campaigns/{acc}/{campaignId}.
func (s *server) getCampaign(r *http.Request, acc string) (any, error) {
	c, err := s.fleet.campaign(r.Context(), acc, r.PathValue("campaignId"), device.FamilyHTTP)
	if err != nil {
		return nil, err
	}
	return campaignSoftware(c), nil
}

// changeDevices: PUT /campaigns/{acc}/{campaignId} with "Type" append or
// remove.
func (s *server) changeDevices(r *http.Request, acc string) (any, error) {
	id := r.PathValue("campaignId")
	if _, err := s.fleet.campaign(r.Context(), acc, id, device.FamilyHTTP); err != nil {
		return nil, err
	}
	var req DeviceChange
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.Type != "append" && req.Type != "remove" {
		return nil, &fota.RequestError{Field: "Type", Value: req.Type, Reason: `want "append" or "remove"`}
	}
	rev, err := s.fleet.changeDevices(r.Context(), acc, id, req.Type == "append", req.DeviceList)
	if err != nil {
		return nil, err
	}
	return DeviceChangeResult{AccountName: acc, CampaignID: id, RequestID: id + "/" + strconv.FormatUint(rev, 10)}, nil
}

// changeDates: PUT /campaigns/{acc}/{campaignId}/dates.
func (s *server) changeDates(r *http.Request, acc string) (any, error) {
	id := r.PathValue("campaignId")
	if _, err := s.fleet.campaign(r.Context(), acc, id, device.FamilyHTTP); err != nil {
		return nil, err
	}
	var timing schedule.HTTPRequest // V2ChangeCampaignDatesRequest
	if err := s.decode(r, &timing); err != nil {
		return nil, err
	}
	c, err := s.fleet.changeDates(r.Context(), acc, id, timing)
	if err != nil {
		return nil, err
	}
	return campaignSoftware(c), nil
}

// deleteCampaign: DELETE /campaigns/{acc}/{campaignId}, a cancel before
// the start and an abort after it.
func (s *server) deleteCampaign(r *http.Request, acc string) (any, error) {
	return s.delete(r, acc, device.FamilyHTTP)
}

// delete cancels (or aborts) the path's campaign of the family.
func (s *server) delete(r *http.Request, acc string, family device.Family) (any, error) {
	id := r.PathValue("campaignId")
	if _, err := s.fleet.campaign(r.Context(), acc, id, family); err != nil {
		return nil, err
	}
	if err := s.fleet.delete(r.Context(), acc, id); err != nil {
		return nil, err
	}
	return Success{Success: true}, nil
}

// campaignHistory: GET /reports/{acc}/campaigns?campaignStatus=&lastSeenCampaignId=,
// the account's HTTP campaigns. CampaignScheduled lists the in-progress
// campaigns too, as WireCampaignStatus writes them so.
func (s *server) campaignHistory(r *http.Request, acc string) (any, error) {
	q := r.URL.Query()
	keep := func(c fota.Campaign) bool { return c.Family == device.FamilyHTTP }
	if v := q.Get("campaignStatus"); v != "" {
		st, err := campaign.ParseStatus(v)
		if err != nil || st.Family() != device.FamilyHTTP {
			return nil, &fota.RequestError{Field: "campaignStatus", Value: v, Reason: "not a /v2 campaign status"}
		}
		keep = func(c fota.Campaign) bool {
			return c.Status == st || (st == campaign.HTTPScheduled && c.Status == campaign.HTTPInProgress)
		}
	}
	after := q.Get("lastSeenCampaignId")
	if after == "0" { // "use 0 first", as for devices
		after = ""
	}
	list, more, err := s.fleet.campaigns(r.Context(), acc, after, s.opts.PageSize, keep)
	if err != nil {
		return nil, err
	}
	out := CampaignHistory{HasMoreData: more, CampaignList: make([]CampaignSoftware, len(list))}
	for i, c := range list {
		out.CampaignList[i] = campaignSoftware(c)
	}
	if more {
		out.LastSeenCampaignID = list[len(list)-1].ID
	}
	return out, nil
}

// campaignDevices: GET /reports/{acc}/campaigns/{campaignId}/devices?lastSeenDeviceId=.
func (s *server) campaignDevices(r *http.Request, acc string) (any, error) {
	id := r.PathValue("campaignId")
	if _, err := s.fleet.campaign(r.Context(), acc, id, device.FamilyHTTP); err != nil {
		return nil, err
	}
	page, err := s.fleet.devices(r.Context(), acc, id, r.URL.Query().Get("lastSeenDeviceId"), s.opts.PageSize)
	if err != nil {
		return nil, err
	}
	page.MaxPageSize = s.opts.PageSize
	return page, nil
}
