// Package api is an http.Handler that serves a fota.Manager in the shape
// of Verizon ThingSpace's Software Management /v2 REST API (HTTP devices),
// plus a small device-side protocol of its own. It uses only net/http's
// method-and-path patterns and encoding/json; the Manager holds every rule,
// and this package only translates.
//
// # Routes
//
// ThingSpace /v2, under V2Prefix (/api/fota/v2); {acc} is the account:
//
//	POST   /campaigns/{acc}                                  schedule (older path); body fota.CampaignRequest → CampaignSoftware
//	POST   /campaigns/software/{acc}                         schedule; same body and answer
//	GET    /campaigns/{acc}/{campaignId}                     → CampaignSoftware
//	PUT    /campaigns/{acc}/{campaignId}                     DeviceChange {"Type":"append"|"remove","deviceList":[…]} → DeviceChangeResult
//	PUT    /campaigns/{acc}/{campaignId}/dates               schedule.HTTPRequest (V2ChangeCampaignDatesRequest) → CampaignSoftware
//	DELETE /campaigns/{acc}/{campaignId}                     cancel before the start, abort after → Success
//	GET    /reports/{acc}/campaigns?campaignStatus=&lastSeenCampaignId=            → CampaignHistory
//	GET    /reports/{acc}/campaigns/{campaignId}/devices?lastSeenDeviceId=        → fota.DevicePage
//	GET    /logging/{acc}/devices                            → []fota.LoggingStatus
//	PUT    /logging/{acc}/devices                            LoggingRequest {"deviceIds":[…]} → []fota.LoggingStatus
//	DELETE /logging/{acc}/devices                            LoggingRequest body and/or ?deviceIds= → Success
//	PUT    /logging/{acc}/devices/{deviceId}                 → fota.LoggingStatus
//	DELETE /logging/{acc}/devices/{deviceId}                 → Success
//	GET    /logging/{acc}/devices/{deviceId}/logs            → []verboselog.Bundle (DeviceLog)
//	GET    /logging/{acc}/devices/{deviceId}/checkInHistory  → []verboselog.CheckIn (CheckInHistoryItem)
//	POST   /licenses/{acc}/assign                            LicenseRequest {"deviceList":[…]} → LicenseResults
//	POST   /licenses/{acc}/remove                            LicenseRequest → LicenseResults
//
// The device side, under DevicePrefix (/api/fota/device). ThingSpace
// publishes no device protocol (its devices run an OEM client), so these
// three routes are this server's own:
//
//	POST /checkin  CheckInRequest {"deviceId","clientType","result","failureType"} → CheckInResponse {"action","campaignId","softwareName","softwareTo","until","retryAt"}
//	POST /report   ReportRequest {"deviceId","campaignId","outcome"} → ReportResponse {"deviceId","campaignId","state","status","resultReason"}
//	POST /logs     one verboselog.Bundle (DeviceLog) → Success
//
// Every other path is 404 and every other method on a known path is 405
// (with Allow), both with the JSON error body.
//
// # Errors
//
// Every failure has ThingSpace's body {"errorCode": …, "errorMessage": …}.
// ThingSpace answers its errors with 400 and documents no codes, so the
// codes are this package's (the Code constants) and Classify is the whole
// mapping:
//
//   - 400: malformed JSON and bad fields (BadRequest; the message names the
//     field and the value), and every refusal of the rules: PilotRequired,
//     InvalidTransition, DuplicateReport, DevicesFrozen, TooLate, TooEarly,
//     WrongFamily, the date and window codes (BadDate, MissingDate,
//     StartPassed, EndBeforeStart, DateOutside, BadWindow, BadTimeZone,
//     StartFixed, EndTooSoon, WindowRemoved, FixedAfterStart) and the
//     logging codes (LoggingLimit, NotHTTP, NotReady with the ready time in
//     the message, NeverEnabled, UploadRefused).
//   - 404 NotFound: an unknown route, campaign or device, a device not in
//     the campaign, and anything of another account.
//   - 401 Unauthorized, 405 MethodNotAllowed, 413 TooLarge,
//     503 Unavailable (the request's context ended).
//   - 500 InternalError for anything else, a panic included: the message
//     says only "internal error"; the error goes to Options.Logger.
//
// # Choices where ThingSpace is silent or the sources disagree
//
//   - Authentication: ThingSpace requires "Authorization: Bearer" and
//     "VZ-M2M-Token" on every call. The handler accepts and ignores both
//     unless Options.Authorize is set; it is called with the request and
//     the path's account, so it can check either header. Device calls
//     have Options.AuthorizeDevice, called with the device id the body
//     names.
//   - Accounts: a campaign belongs to the account in its record; under any
//     other {acc} it is 404, exactly as an unknown id, so ids do not leak.
//     The Manager takes a campaign id alone in most calls, so the handler
//     reads the campaign first and checks its account. Devices have no
//     owner in the Manager: with Options.Inventory set, a device the
//     inventory records for another account is 404 in every call that names
//     it (schedule, append, logging, licences, logs, history).
//   - "Type" (v2) and "type" (v1) both select append or remove:
//     encoding/json matches keys regardless of case.
//   - DELETE /logging/{acc}/devices: the documentation sends the list as a
//     body, the SDK as a deviceIds query parameter (one string). Both are
//     read and joined; query values may repeat or be comma-separated.
//   - lastSeenCampaignId=0 means the first page, as lastSeenDeviceId=0
//     does ("use 0 first").
//   - requestId of add/remove devices: the change is applied at once, so it
//     names the campaign revision it produced ("c1/3") instead of an
//     asynchronous request.
//   - Answers without a ThingSpace body (DELETE of a campaign, disabling
//     logging, a log upload) are {"success": true}, ThingSpace's
//     FotaV2SuccessResult.
//   - Licence results carry the fine wire statuses LicenseAssignSuccess,
//     LicenseRemoveSuccess and LicenseRemoveFailed (ThingSpace's v2
//     examples say "Success"/"Failure"), and no licence counts (fota keeps
//     none).
//   - Empty lists are [] rather than null.
//   - Times (expiryDate, logTime, timeCompleted, until, retryAt) are
//     RFC 3339 in UTC, as fota's types write them.
//   - A log bundle's uploadedAt is stamped by the Manager; a device cannot
//     choose its own purge time.
//   - Bodies are bounded (Options.MaxBodyBytes, 1 MiB by default) and
//     unknown JSON fields are ignored, as ThingSpace's SDKs send more than
//     one model's fields on some calls.
//   - Reads do not advance the clock: GET shows a campaign as last
//     stored, and a start or end that fell due shows once Manager.Tick (or
//     any operation on that campaign) has applied it. A host runs Tick in
//     the background (see examples/server).
package api
