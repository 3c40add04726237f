package api

import "net/http"

// routes registers every route; the package documentation lists them.
func (s *server) routes() {
	v1 := func(pattern string, fn endpoint) { s.thingSpace(V1Prefix, pattern, fn) }
	v2 := func(pattern string, fn endpoint) { s.thingSpace(V2Prefix, pattern, fn) }

	// ThingSpace /v2, HTTP devices: campaigns.
	v2("POST /campaigns/{acc}", s.scheduleCampaign)
	v2("POST /campaigns/software/{acc}", s.scheduleSoftware)
	v2("POST /campaigns/files/{acc}", s.scheduleFile)
	v2("GET /campaigns/{acc}/{campaignId}", s.getCampaign)
	v2("PUT /campaigns/{acc}/{campaignId}", s.changeDevices)
	v2("PUT /campaigns/{acc}/{campaignId}/dates", s.changeDates)
	v2("DELETE /campaigns/{acc}/{campaignId}", s.deleteCampaign)

	// Reports.
	v2("GET /reports/{acc}/campaigns", s.campaignHistory)
	v2("GET /reports/{acc}/campaigns/{campaignId}/devices", s.campaignDevices)
	v2("GET /reports/{acc}/devices/{deviceId}", s.deviceHistoryV2)

	// Verbose logging and check-in history.
	v2("GET /logging/{acc}/devices", s.loggingDevices)
	v2("PUT /logging/{acc}/devices", s.enableLogging)
	v2("DELETE /logging/{acc}/devices", s.disableLogging)
	v2("PUT /logging/{acc}/devices/{deviceId}", s.enableDeviceLogging)
	v2("DELETE /logging/{acc}/devices/{deviceId}", s.disableDeviceLogging)
	v2("GET /logging/{acc}/devices/{deviceId}/logs", s.deviceLogs)
	v2("GET /logging/{acc}/devices/{deviceId}/checkInHistory", s.checkInHistory)

	// The software catalog and the configuration files.
	v2("GET /software/{acc}", s.listSoftware)
	v2("GET /files/{acc}", s.listFiles)
	v2("POST /files/{acc}", s.uploadFile)

	// The account's devices, licences, subscription, callbacks.
	v2("GET /devices/{acc}", s.listDevicesV2)
	v2("GET /licenses/{acc}", s.licenseStatusV2)
	v2("POST /licenses/{acc}/assign", s.assignLicenses)
	v2("POST /licenses/{acc}/remove", s.removeLicenses)
	v2("GET /licenses/{acc}/cancel", s.cancelListV2)
	v2("POST /licenses/{acc}/cancel", s.putCancelListV2)
	v2("DELETE /licenses/{acc}/cancel", s.deleteCancelList)
	v2("GET /subscriptions/{acc}", s.subscriptionV2)
	v2("GET /callbacks/{acc}", s.listCallbackV2)
	v2("POST /callbacks/{acc}", s.registerCallbackV2)
	v2("PUT /callbacks/{acc}", s.updateCallbackV2)
	v2("DELETE /callbacks/{acc}", s.deregisterCallbackV2)

	// ThingSpace /v1 (push family): upgrades and their reports.
	v1("GET /firmware/{acc}", s.listFirmware)
	v1("POST /upgrades", s.scheduleUpgrade)
	v1("GET /upgrades/{acc}/upgrade/{campaignId}", s.getUpgrade)
	v1("PUT /upgrades/{acc}/upgrade/{campaignId}", s.changeUpgradeDevices)
	v1("DELETE /upgrades/{acc}/upgrade/{campaignId}", s.cancelUpgrade)
	v1("GET /reports/{acc}/status/{upgradeStatus}/index/{startIndex}", s.upgradesByStatus)
	v1("GET /reports/{acc}/devices/{deviceId}", s.deviceHistoryV1)

	// /v1 devices, licences, subscription, callbacks.
	v1("GET /devices/{acc}/index/{startIndex}", s.listDevicesV1)
	v1("GET /licenses/{acc}/index/{startIndex}", s.licenseStatusV1)
	v1("POST /licenses/{acc}/assign", s.assignLicensesV1)
	v1("POST /licenses/{acc}/remove", s.removeLicensesV1)
	v1("POST /licenses/{acc}/cancel", s.putCancelListV1)
	v1("DELETE /licenses/{acc}/cancel", s.deleteCancelList)
	v1("GET /licenses/{acc}/cancel/index/{startIndex}", s.cancelListV1)
	v1("GET /subscriptions/{acc}", s.subscriptionV1)
	v1("GET /callbacks/{acc}", s.listCallbacksV1)
	v1("POST /callbacks/{acc}", s.registerCallbackV1)
	v1("DELETE /callbacks/{acc}/name/{service}", s.deregisterCallbackV1)

	// The device side: this server's protocol, not ThingSpace's.
	s.device("POST /checkin", s.checkIn)
	s.device("POST /report", s.report)
	s.device("POST /logs", s.uploadLog)
	// Configuration files' bytes: the path's id is the credential.
	s.mux.HandleFunc("GET "+FileDownloadPath+"{fileId}", s.downloadFile)

	// The contract of all of the above.
	s.mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.spec)
	})
}
