package api

// routes registers every route; the package documentation lists them.
func (s *server) routes() {
	// Campaigns (ThingSpace /v2, HTTP devices).
	s.v2("POST /campaigns/{acc}", s.scheduleCampaign)
	s.v2("POST /campaigns/software/{acc}", s.scheduleCampaign)
	s.v2("GET /campaigns/{acc}/{campaignId}", s.getCampaign)
	s.v2("PUT /campaigns/{acc}/{campaignId}", s.changeDevices)
	s.v2("PUT /campaigns/{acc}/{campaignId}/dates", s.changeDates)
	s.v2("DELETE /campaigns/{acc}/{campaignId}", s.deleteCampaign)

	// Reports.
	s.v2("GET /reports/{acc}/campaigns", s.campaignHistory)
	s.v2("GET /reports/{acc}/campaigns/{campaignId}/devices", s.campaignDevices)

	// Verbose logging and check-in history.
	s.v2("GET /logging/{acc}/devices", s.loggingDevices)
	s.v2("PUT /logging/{acc}/devices", s.enableLogging)
	s.v2("DELETE /logging/{acc}/devices", s.disableLogging)
	s.v2("PUT /logging/{acc}/devices/{deviceId}", s.enableDeviceLogging)
	s.v2("DELETE /logging/{acc}/devices/{deviceId}", s.disableDeviceLogging)
	s.v2("GET /logging/{acc}/devices/{deviceId}/logs", s.deviceLogs)
	s.v2("GET /logging/{acc}/devices/{deviceId}/checkInHistory", s.checkInHistory)

	// Licences.
	s.v2("POST /licenses/{acc}/assign", s.assignLicenses)
	s.v2("POST /licenses/{acc}/remove", s.removeLicenses)

	// The device side: this server's protocol, not ThingSpace's.
	s.device("POST /checkin", s.checkIn)
	s.device("POST /report", s.report)
	s.device("POST /logs", s.uploadLog)
}
