package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/schedule"
)

// scheduleCampaign: POST /campaigns/{acc} and /campaigns/software/{acc}.
func (s *server) scheduleCampaign(r *http.Request, acc string) (any, error) {
	var req fota.CampaignRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.ownDevices(r.Context(), acc, req.DeviceList); err != nil {
		return nil, err
	}
	info, err := s.m.Schedule(r.Context(), acc, req)
	if err != nil {
		return nil, err
	}
	return campaignSoftware(info.Campaign), nil
}

// campaign returns the account's campaign: another account's is not
// found, exactly like one that does not exist, so ids do not leak.
func (s *server) campaign(ctx context.Context, acc, id string) (fota.CampaignInfo, error) {
	return s.m.Campaign(ctx, acc, id)
}

// getCampaign: GET /campaigns/{acc}/{campaignId}.
func (s *server) getCampaign(r *http.Request, acc string) (any, error) {
	info, err := s.campaign(r.Context(), acc, r.PathValue("campaignId"))
	if err != nil {
		return nil, err
	}
	return campaignSoftware(info.Campaign), nil
}

// changeDevices: PUT /campaigns/{acc}/{campaignId} with "Type" append or
// remove.
func (s *server) changeDevices(r *http.Request, acc string) (any, error) {
	id := r.PathValue("campaignId")
	if _, err := s.campaign(r.Context(), acc, id); err != nil {
		return nil, err
	}
	var req DeviceChange
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	change := s.m.AddDevices
	switch req.Type {
	case "append":
		if err := s.ownDevices(r.Context(), acc, req.DeviceList); err != nil {
			return nil, err
		}
	case "remove":
		change = s.m.RemoveDevices
	default:
		return nil, &fota.RequestError{Field: "Type", Value: req.Type, Reason: `want "append" or "remove"`}
	}
	info, err := change(r.Context(), acc, id, req.DeviceList)
	if err != nil {
		return nil, err
	}
	return DeviceChangeResult{AccountName: acc, CampaignID: id, RequestID: id + "/" + strconv.FormatUint(info.Revision, 10)}, nil
}

// changeDates: PUT /campaigns/{acc}/{campaignId}/dates.
func (s *server) changeDates(r *http.Request, acc string) (any, error) {
	id := r.PathValue("campaignId")
	if _, err := s.campaign(r.Context(), acc, id); err != nil {
		return nil, err
	}
	var timing schedule.HTTPRequest // V2ChangeCampaignDatesRequest
	if err := decode(r, &timing); err != nil {
		return nil, err
	}
	info, err := s.m.ChangeDates(r.Context(), acc, id, timing)
	if err != nil {
		return nil, err
	}
	return campaignSoftware(info.Campaign), nil
}

// deleteCampaign: DELETE /campaigns/{acc}/{campaignId}, a cancel before
// the start and an abort after it.
func (s *server) deleteCampaign(r *http.Request, acc string) (any, error) {
	id := r.PathValue("campaignId")
	if _, err := s.campaign(r.Context(), acc, id); err != nil {
		return nil, err
	}
	if _, err := s.m.Delete(r.Context(), acc, id); err != nil {
		return nil, err
	}
	return Success{Success: true}, nil
}

// campaignHistory: GET /reports/{acc}/campaigns?campaignStatus=&lastSeenCampaignId=.
func (s *server) campaignHistory(r *http.Request, acc string) (any, error) {
	q := r.URL.Query()
	var status campaign.Status
	if v := q.Get("campaignStatus"); v != "" {
		st, err := campaign.ParseStatus(v)
		if err != nil {
			return nil, &fota.RequestError{Field: "campaignStatus", Value: v, Reason: "not a campaign status"}
		}
		status = st
	}
	after := q.Get("lastSeenCampaignId")
	if after == "0" { // "use 0 first", as for devices
		after = ""
	}
	page, err := s.m.Campaigns(r.Context(), acc, status, after, s.opts.PageSize)
	if err != nil {
		return nil, err
	}
	out := CampaignHistory{HasMoreData: page.HasMoreData, LastSeenCampaignID: page.LastSeenCampaignID,
		CampaignList: make([]CampaignSoftware, len(page.CampaignList))}
	for i, c := range page.CampaignList {
		out.CampaignList[i] = campaignSoftware(c)
	}
	return out, nil
}

// campaignDevices: GET /reports/{acc}/campaigns/{campaignId}/devices?lastSeenDeviceId=.
func (s *server) campaignDevices(r *http.Request, acc string) (any, error) {
	id := r.PathValue("campaignId")
	if _, err := s.campaign(r.Context(), acc, id); err != nil {
		return nil, err
	}
	page, err := s.m.Devices(r.Context(), acc, id, r.URL.Query().Get("lastSeenDeviceId"), s.opts.PageSize)
	if err != nil {
		return nil, err
	}
	page.MaxPageSize = s.opts.PageSize
	return page, nil
}

// ownDevices refuses device ids that Options.Inventory records for
// another account (404, as if unknown).
func (s *server) ownDevices(ctx context.Context, acc string, ids []string) error {
	if s.opts.Inventory == nil {
		return nil
	}
	for _, id := range ids {
		info, found, err := s.opts.Inventory.Lookup(ctx, id)
		if err != nil {
			return err
		}
		if found && info.Account != "" && info.Account != acc {
			return &fota.NotFoundError{Kind: "device", ID: id}
		}
	}
	return nil
}
