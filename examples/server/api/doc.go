// Package api is an http.Handler that serves a fota.Manager as a local
// Verizon ThingSpace Software Management service: the /v2 REST API (HTTP
// devices) and the /v1 REST API (push devices: LwM2M and OMA-DM), on the
// wire that Verizon's own SDK accepts, plus a small device-side protocol
// of its own for HTTP devices.
// It uses only net/http's method-and-path patterns and encoding/json; the
// Manager holds every rule, and this package only translates.
//
// The wire is the one of Verizon's APIMatic-generated SDK
// (github.com/sdks-io/verizon-apis-js-sdk, and its Java, Python, .NET,
// PHP and Ruby twins): field names, types, required fields, enums and
// error statuses as its models check them. ThingSpace's documentation is
// at https://thingspace.verizon.com/documentation/apis/software-management/.
//
// # The contract: openapi.json
//
// OpenAPI (served at GET /openapi.json, embedded from openapi.json in
// this directory) is an OpenAPI 3 document of every Software Management
// V1 and V2 operation of that SDK, 50 in all, with its models exactly as
// the SDK declares them (where a few of this server's answers carry more
// fields, a client built from the SDK drops them; the package
// documentation names them), the error body on 400 and on every other
// status, the device routes, and the callback message. Each operation
// says in "x-fota-route" how this server serves it: "served", as every
// one is (where ThingSpace leaves a rule open, the operation's
// description and this documentation say what this server decides). The
// package's tests check every answer they receive against it with
// github.com/getkin/kin-openapi (their HTTP helper does it for every
// request, the configuration file's download included), and that the
// operations marked served are exactly the routes the handler has, so no
// body can drift from the contract. Where the SDK is more lenient than the document
// (it accepts null for optional fields, numeric strings for numbers,
// any campaign status), the document states what this server sends.
//
// # Routes
//
// ThingSpace /v2, under V2Prefix (/api/fota/v2); {acc} is the account:
//
//	POST   /campaigns/{acc}                                  CampaignSoftwareUpgrade → CampaignSoftware (integer hours)
//	POST   /campaigns/software/{acc}                         SchedulesSoftwareUpgradeRequest → UploadAndScheduleFileResponse (ScheduledSoftware: string hours, deviceList)
//	POST   /campaigns/files/{acc}                            FileCampaignRequest (UploadAndScheduleFileRequest) → ScheduledSoftware (UploadAndScheduleFileResponse, with fileName and fileVersion)
//	GET    /campaigns/{acc}/{campaignId}                     → CampaignSoftware
//	PUT    /campaigns/{acc}/{campaignId}                     DeviceChange {"Type":"append"|"remove","deviceList":[…]} → DeviceChangeResult
//	PUT    /campaigns/{acc}/{campaignId}/dates               V2ChangeCampaignDatesRequest → CampaignSoftware
//	DELETE /campaigns/{acc}/{campaignId}                     cancel before the start, abort after → Success
//	GET    /reports/{acc}/campaigns?campaignStatus=&lastSeenCampaignId=            → CampaignHistory
//	GET    /reports/{acc}/campaigns/{campaignId}/devices?lastSeenDeviceId=        → fota.DevicePage (V2CampaignDevice)
//	GET    /reports/{acc}/devices/{deviceId}                 → []DeviceSoftwareUpgrade, the device's HTTP campaigns of six months
//	GET    /logging/{acc}/devices                            → []fota.LoggingStatus (DeviceLoggingStatus)
//	PUT    /logging/{acc}/devices                            LoggingRequest {"deviceIds":[…]} → []fota.LoggingStatus
//	DELETE /logging/{acc}/devices                            ?deviceIds= and/or a LoggingRequest body → Success
//	PUT    /logging/{acc}/devices/{deviceId}                 → fota.LoggingStatus
//	DELETE /logging/{acc}/devices/{deviceId}                 → Success
//	GET    /logging/{acc}/devices/{deviceId}/logs            → []verboselog.Bundle (DeviceLog)
//	GET    /logging/{acc}/devices/{deviceId}/checkInHistory  → []CheckInHistoryItem
//	GET    /software/{acc}?distributionType=                 → []SoftwarePackage, from the catalog
//	GET    /files/{acc}?distributionType=                    → AvailableFiles (RetrievesAvailableFilesResponseList), the configuration files
//	POST   /files/{acc}                                      multipart/form-data fileupload, fileVersion, make, model, localTargetPath → UploadedFile (UploadConfigurationFilesResponse)
//	GET    /devices/{acc}?lastSeenDeviceId=&distributionType=                     → V2AccountDeviceList, from the inventory
//	GET    /licenses/{acc}?lastSeenDeviceId=                 → V2LicenseSummary
//	POST   /licenses/{acc}/assign, /licenses/{acc}/remove    LicenseRequest → LicenseResults (V2LicensesAssignedRemovedResult)
//	GET    /licenses/{acc}/cancel?startIndex=                → CancelList (V2ListOfLicensesToRemove), the licence cancel list
//	POST   /licenses/{acc}/cancel                            CancelListRequest (V2ListOfLicensesToRemoveRequest) → CancelListResult (V2ListOfLicensesToRemoveResult)
//	DELETE /licenses/{acc}/cancel                            → Success
//	GET    /subscriptions/{acc}                              → SubscriptionV2 (FotaV2Subscription)
//	GET|POST|PUT|DELETE /callbacks/{acc}                     CallbackURL {"url"} (CallbackSummary, FotaV2CallbackRegistration*) / Success
//
// ThingSpace /v1, under V1Prefix (/api/fota/v1):
//
//	GET    /firmware/{acc}                                   → []Firmware, the catalog's packages for push devices
//	POST   /upgrades                                         fota.UpgradeRequest (FirmwareUpgradeRequest; the account in the body) → FirmwareUpgrade
//	GET    /upgrades/{acc}/upgrade/{upgradeId}               → FirmwareUpgrade, with every device
//	PUT    /upgrades/{acc}/upgrade/{upgradeId}               DeviceChange {"type":"append"|"remove","deviceList":[…]} → FirmwareUpgradeChangeResult
//	DELETE /upgrades/{acc}/upgrade/{upgradeId}               cancel before the start → Success
//	GET    /reports/{acc}/status/{upgradeStatus}/index/{startIndex}                → UpgradeListQueryResult
//	GET    /reports/{acc}/devices/{deviceId}                 → []DeviceUpgradeHistory, the device's push upgrades of six months
//	GET    /devices/{acc}/index/{startIndex}                 → DeviceListQueryResult, from the inventory
//	GET    /licenses/{acc}/index/{startIndex}                → AccountLicenseInfo
//	POST   /licenses/{acc}/assign, /licenses/{acc}/remove    LicenseRequest → LicenseResultsV1 (V1LicensesAssignedRemovedResult)
//	POST   /licenses/{acc}/cancel                            CancelListRequestV1 (V1ListOfLicensesToRemoveRequest) → CancelListResult (V1ListOfLicensesToRemoveResult)
//	DELETE /licenses/{acc}/cancel                            → Success
//	GET    /licenses/{acc}/cancel/index/{startIndex}         → CancelListV1 (V1ListOfLicensesToRemove)
//	GET    /subscriptions/{acc}                              → SubscriptionV1 (V1AccountSubscription)
//	GET    /callbacks/{acc}                                  → []RegisteredCallback (RegisteredCallbacks)
//	POST   /callbacks/{acc}                                  CallbackRegistrationV1 → CallbackRegistrationResultV1
//	DELETE /callbacks/{acc}/name/{service}                   service "Fota" → Success
//
// Every V1 and V2 operation of the SDK is routed and served.
//
// /v1 serves push campaigns ("upgrades") and /v2 HTTP ones: a campaign
// of the other family is refused on every campaign route (400
// WrongFamily, naming the path that serves it), and the /v2 campaign
// history lists HTTP campaigns only.
//
// The device side, under DevicePrefix (/api/fota/device), is for HTTP
// devices only. ThingSpace publishes no device protocol (its HTTP devices
// run an OEM client), so these routes are this server's own. Push
// devices have none here: ThingSpace's LwM2M and OMA-DM devices register
// and connect to Verizon's device-management servers over CoAP or OMA-DM,
// never to its REST API, so a route for them would be no ThingSpace
// route. Their traffic is a push transport's, which drives the Manager
// through Outbox, Confirm, Observation, Alert and Connected: the
// command's simulated one (package
// github.com/fotakit/fota/examples/server/pushsim, -push) or the LwM2M
// example's over CoAP (examples/lwm2m).
//
//	POST /checkin         CheckInRequest {"deviceId","clientType","result","failureType"} → CheckInResponse: fota.Instruction {"action","campaignId","softwareName","softwareTo","downloadUrl","size","sha256","until","retryAt"}, and "localTargetPath" for a configuration file
//	POST /report          ReportRequest {"deviceId","campaignId","outcome"} → ReportResponse {"deviceId","campaignId","state","status","resultReason"}
//	POST /logs            one verboselog.Bundle (DeviceLog) → Success
//	GET  /files/{fileId}  a configuration file's bytes (application/octet-stream): the check-in's downloadUrl for one
//
// # Authentication: secure by default
//
// ThingSpace requires "Authorization: Bearer <OAuth token>" and
// "VZ-M2M-Token: <session token>" on every call, and the SDK sends both.
// This server issues neither (it serves no OAuth or session login), so
// it is given its tokens: Options.Tokens maps each bearer token to the
// one account it acts for (ParseTokens reads "TOKEN ACCOUNT" lines).
//
//   - No Authorization header, another scheme, or an unknown token: 401
//     CodeUnauthorized. VZ-M2M-Token is accepted and not checked: a
//     client sends whatever its configuration holds, and the bearer token
//     alone names the account. It is never a credential on its own.
//   - A known token under another account's path: 403 CodeForbidden, not
//     404. The caller typed the account itself, so saying that its token
//     is not for it reveals nothing, and it tells a misconfigured client
//     what is wrong; the answer is the same whether that account exists.
//   - Device calls carry DeviceSignatureHeader, the hex HMAC-SHA256 of the
//     body keyed by the device's secret (Options.Secrets, a DeviceSecrets
//     such as MemorySecrets; ParseSecrets reads "DEVICE SECRET" lines).
//     The secret never travels and the body cannot be altered on the way.
//     The body is read (bounded) and decoded to learn which device is
//     calling, then checked; an unknown device, a missing and a wrong
//     signature are alike 401, so a caller learns nothing of which devices
//     exist. A signature does not expire: a recorded call can be replayed,
//     which the Manager's rules make harmless (a repeated report is
//     ErrDuplicateReport, a repeated check-in answers the same).
//   - A configuration file's download (GET /api/fota/device/files/{fileId})
//     carries its credential in the path: fileId is 128 random bits, told
//     only in the check-in answers of the devices of a campaign of the
//     file, as a signed URL would be. A device fetches it as it would fetch
//     software from a catalog's download URL, with no signature.
//   - Options.Insecure turns all of it off (the command's -insecure warns).
//     The zero Options refuse every call but GET /openapi.json (and a file
//     download, of which they hold none).
//   - Tokens are compared through their SHA-256, never logged, and must
//     have MinTokenBytes; device secrets too.
//
// # Errors
//
// Every failure has ThingSpace's body {"errorCode": …, "errorMessage": …}
// (FotaV1ResultError, FotaV2ResultError). ThingSpace documents the body but
// not its codes, so the codes are this package's (the Code constants), and
// Classify maps errors to them and to a status:
//
//   - 400: malformed JSON and bad fields (BadRequest; the message names the
//     field and the value), and every refusal of the rules: PilotRequired,
//     InvalidTransition, DuplicateReport, DevicesFrozen, TooLate, TooEarly,
//     WrongFamily, the date and window codes (BadDate, MissingDate,
//     StartPassed, EndBeforeStart, DateOutside, BadWindow, BadTimeZone,
//     StartFixed, EndTooSoon, WindowRemoved, FixedAfterStart), the logging
//     codes (LoggingLimit, NotHTTP, NotReady with the ready time in the
//     message, NeverEnabled, UploadRefused), and Unsupported (what the
//     server is not given the means for: callbacks without a dispatcher,
//     account devices without a listing inventory, configuration files
//     without a catalog or an inventory).
//   - 404 NotFound: an unknown route, campaign, device, subscription or
//     file, a device not in the campaign, and anything of another account.
//   - 401 Unauthorized, 403 Forbidden, 405 MethodNotAllowed (with Allow),
//     413 TooLarge, 503 Unavailable (the request's context ended).
//   - 500 InternalError for anything else, a panic included: the message
//     says only "internal error"; the error goes to Options.Logger.
//
// The SDK maps only 400 to its error type and hands every other non-2xx
// to its caller as a generic error with the body unparsed. So on the
// ThingSpace routes (under V1Prefix and V2Prefix) ThingSpaceStatus sends
// what the client did wrong as 400 with its errorCode: 404, 405 and 413
// become 400 (NotFound, MethodNotAllowed, TooLarge). 401 and 403 stay:
// they are the credentials' failure, which ThingSpace's gateway answers
// the same way, and a client must not treat them as a bad request. 500
// and 503 stay: they are the server's fault or a timeout, and a client may
// retry them. The device routes keep every status as Classify gives it.
//
// # /v1: push upgrades
//
// /v1 is ThingSpace's path for LwM2M and OMA-DM devices, which the
// server pushes to; a push transport (package
// github.com/fotakit/fota/examples/server/pushsim in the command) carries
// what the Manager decides to the devices. Where ThingSpace and its SDK
// are silent:
//
//   - POST /upgrades names its account in the body (accountName), not the
//     path. It must be the account the token acts for: another is 403, as
//     another account's path is, and none is 400 naming accountName.
//   - FirmwareUpgrade.status is the push family's spelling (RequestPending,
//     RequestFailed, Queued, InProgress, Finished, UpgradeFailed:
//     UpgradeStatusEnum), or Cancelled, fota's own for an upgrade deleted
//     before its start (the enum has none; the field is a plain string in
//     the SDK). Devices have the push spellings ("Device Accepted",
//     "Device Rejected", "Upgrade Pending", "Upgrade Success", "Upgrade
//     Failed", CampaignCancelled) with their reason in resultReason.
//     Beyond the SDK's model, an upgrade carries its endDate, and its
//     campaignName, firmwareFrom, make and model where the request or the
//     catalog gave them.
//   - GET of an upgrade lists every device; the reports by status list
//     none (GET the upgrade for them), as a page of a thousand upgrades
//     with their devices would not be a page.
//   - PUT answers each listed device's status afterwards: an appended one
//     as it joined ("Device Accepted", or "Device Rejected" with its
//     Reason), a removed one "Device Removed" (this server's; ThingSpace
//     names none). Removing the last accepted device cancels the upgrade.
//   - DELETE cancels an upgrade before its start ("The user can choose to
//     cancel the campaign in 'Queued' status",
//     https://thingspace.verizon.com/documentation/apis/software-management/getting-started/about_campaigns.html).
//     The push family has no abort: a started upgrade runs to its end
//     date, as ThingSpace's LwM2M path says ("Once the campaign has
//     started, it cannot be canceled",
//     https://thingspace.verizon.com/documentation/apis/software-management/api-reference-v3/cancel-an-upgrade-v3.html),
//     so DELETE after the start is refused (InvalidTransition).
//   - The reports by status page by a number (startIndex, then
//     lastSeenUpgradeId), while upgrade ids are UUIDs: the number is the
//     upgrade's index, fota.Campaign.Seq, which grows with every campaign
//     the store creates. A page holds the upgrades in the status whose
//     index is above startIndex, lowest first; building it reads every
//     campaign of the account. upgradeStatus also accepts Cancelled.
//   - A device's upgrade history (GET /reports/{acc}/devices/{deviceId})
//     covers six months (fota.UpgradeHistoryPeriod) and lists the device's
//     campaigns of the path's family: push upgrades under /v1
//     (DeviceUpgradeHistory, with upgradeStartTime once started), HTTP
//     campaigns under /v2 (DeviceSoftwareUpgrade, whose required reason is
//     "" when the status has none).
//
// # Wire choices where the SDK and ThingSpace's prose disagree
//
//   - Campaign status (WireCampaignStatus). The SDK's CampaignStatusEnum
//     lists CampaignRequestQueued, not the prose's CampaignQueued, and has
//     no in-progress member; fota has CampaignQueued and its own
//     CampaignInProgress. A client comparing with the enum must match, so
//     queued campaigns are written CampaignRequestQueued, and in-progress
//     ones CampaignScheduled, the status ThingSpace shows from the start
//     until the end ("The campaign stays in 'Scheduled' status during the
//     device update",
//     https://thingspace.verizon.com/content/thingspace-portal/documentation/apis/software-management/getting-started/campaign-lifecycle-flow-for-v3.html). Every status field is a plain
//     string in the SDK, so nothing else changes for a lenient client; the
//     OpenAPI document lists the enum to keep the server to it. The
//     campaignStatus query accepts every spelling, and CampaignScheduled
//     there also lists in-progress campaigns, so a filter finds what the
//     list shows.
//   - clientType in the check-in history is a string (the SDK throws on a
//     number): the documented name ("RovaClient", "Uknown" as ThingSpace
//     spells it), or the decimal number for one the list does not name.
//     Device check-ins send it as a number, as before.
//   - POST /campaigns/software/{acc} answers hours as strings, as its SDK
//     model (DownloadTimeWindow) has them; both schedule routes read hours
//     as numbers or digit strings. GET and the date change answer numbers
//     (V2TimeWindow).
//   - Make and model: neither SDK schedule request carries them; ThingSpace
//     takes them from the software package. So does this server: a request
//     whose softwareName (firmwareName in /v1) is one of the account's
//     packages in the catalog (Options.Packages, a Catalog, which the
//     Manager reads as its fota.PackageCatalog) takes its make, model and
//     versions from it, and is refused, naming the field, where it says
//     otherwise. A name the catalog does not know keeps fota's optional
//     make and model fields (empty: any).
//   - The software catalog (GET /software/{acc}, /v1 GET /firmware/{acc})
//     lists an account's packages. SoftwarePackage requires a launchDate,
//     a distributionType and a devicePlatformId that fota.Package does not
//     have: a Catalog keeps them beside it (Listing). A package for several
//     distribution types is listed once per type; /v1 lists the packages
//     for LWM2M or OMA-DM devices, with the account as participantName.
//     The catalog file format is ParsePackages'.
//   - Licences are answered per device, as the SDK's examples are: a device
//     that does not exist (or is another account's) is {"status":
//     "Failure", "resultReason": "Device does not exist."}, removing a
//     licence a device does not hold is LicenseRemoveFailed with "No
//     license attached to device", beside the others' LicenseAssignSuccess,
//     LicenseRemoveSuccess and LicenseRemoveFailed (ever upgraded). Each
//     device is its own Manager call, so one refusal does not undo
//     another's success; a malformed list (empty, a device twice) is still
//     refused whole. licTotalCount (/v1: licCount; totalLicense and
//     totalLicenses in the licence status) is the account's
//     Subscription.LicenseCount, the licences it bought, which fota does not
//     know; licUsedCount (assignedLicenses) is Manager.Licenses' count of
//     the licences assigned through the Manager, which live in its store;
//     licences an Inventory reports itself are not counted. The total is
//     reported, not enforced.
//   - Licence status pages: /v2 by lastSeenDeviceId like every /v2 report;
//     /v1 by index, as the SDK's example pages by 1000: startIndex 0 first,
//     then the lastSeenDeviceId the last page gave, the number of devices
//     listed so far. An index counts devices, so a licence assigned or
//     removed between two pages shifts the rest by one.
//   - The licence cancel list (/v1 POST and DELETE /licenses/{acc}/cancel,
//     GET /licenses/{acc}/cancel/index/{startIndex}; /v2 GET, POST and
//     DELETE /licenses/{acc}/cancel; the SDK marks them deprecated) is an
//     account's list of licences "to remove", which ThingSpace releases at
//     the end of the billing cycle without saying when that is. This
//     server takes the cycle to be the calendar month in UTC, by the
//     Manager's clock (Options.Clock): a device listed during a month has
//     its licence removed, through the Manager as POST
//     /licenses/{acc}/remove removes one, at the first instant of the next
//     month (ReleaseTime). The release is applied when the account's next
//     ThingSpace call arrives at or after that instant, before that call
//     is answered (as a start that fell due shows at once), so every answer
//     is as of now; the command's -speed makes the month pass faster. A
//     device that ever upgraded keeps its licence (LicenseRemoveFailed, as
//     /remove answers) and leaves the list like the others.
//     POST with type "append" adds devices, and without a type replaces the
//     list, taking the others off it; DELETE empties it. A device taken off
//     the list before its release keeps its licence; one whose licence
//     /remove removes leaves the list. Every listed device must be the
//     account's and hold a licence assigned through the Manager (the only
//     licences it can remove): a device unknown or of another account
//     (answered alike), one without such a licence, an empty, repeated or
//     over-long id (fota.MaxIDBytes) refuses the request whole, 400 naming
//     deviceList and the device, and so do a type other than "append" and
//     a /v2 count other than the number of devices listed. The POST answer
//     lists the devices the request put on the list (count is their
//     number). GET answers a page of Options.PageSize devices (1,000 by
//     default, as the SDK pages by 1000) from startIndex ("0" first, then
//     1000, 2000, …), in device-id order, with count the whole list's
//     length and updateTime its last change ("" in /v2, left out in /v1,
//     for a list never written). The lists are kept in memory, per
//     account, and do not survive a restart.
//   - The account's devices (/v2 GET /devices/{acc}, /v1 GET
//     /devices/{acc}/index/{startIndex}) are the inventory's
//     (Options.Inventory, when it is a DeviceLister), in device-id order.
//     /v1's startIndex is "0", then the last page's lastSeenDeviceId, a
//     number as the SDK's model has it (a string of digits for an id with
//     a leading zero, which the SDK reads too). The inventory has no MDN,
//     so mdn is ""; appFotaEligible is fotaEligible for HTTP devices (whose
//     OEM client is an app) and false for push ones; softwareList holds the
//     version the inventory reports, with name and upgradeTime "" (the
//     inventory does not know which package installed it, or when);
//     licenseAssigned is a licence assigned through the Manager or one the
//     inventory reports.
//   - Subscriptions are configured on the server (Options.Subscriptions,
//     ParseSubscriptions); an account without one is NotFound. updateTime
//     is ISO 8601 in /v1 and "2021-06-03 00:03:56.079 +0000 UTC" in /v2, as
//     the SDK's examples write them.
//   - Configuration files (POST and GET /files/{acc}, POST
//     /campaigns/files/{acc}). An upload is the SDK's multipart/form-data:
//     the file in part fileupload, named by its file name, and fileVersion,
//     make, model and localTargetPath (the upload is a body like any
//     other: at most Options.MaxBodyBytes, form included, else TooLarge).
//     fileVersion is required although the SDK has it optional: it is the
//     version a campaign installs. The name is listed as uploaded, and a
//     campaign names the file so (ThingSpace's examples list an uploaded
//     hello-world.txt of Verizon VZW1 devices as
//     "configfile-Verizon_VZW1_hello-world.txt"; this server adds no such
//     prefix). A file is kept in the Catalog, in memory, as a package of
//     the Manager's (make, model, softwareTo its version,
//     a download path, size and SHA-256), beside the software but not
//     listed with it; a file and a software package cannot share a name,
//     an upload under a file's name replaces it, and an account holds at
//     most MaxFiles (the listing has no paging, and the SDK's
//     documentation caps it at 100). The listing requires distributionType,
//     as the SDK sends it; files are for HTTP devices, so another type
//     lists none.
//     A file campaign is scheduled through the Manager exactly as POST
//     /campaigns/software/{acc} schedules software, with the file as the
//     software: the same dates, windows, pilot gate, device checks,
//     statuses, reports and callbacks (GET /campaigns/{acc}/{campaignId}
//     shows it with the file's name as softwareName). It answers
//     UploadAndScheduleFileResponse with fileName and fileVersion. What the
//     SDK's request cannot say: a fota campaign upgrades its devices from
//     one version (softwareFrom, required and checked against each
//     device's), and a file request names none. So softwareFrom is the
//     version the listed devices report in the inventory (those of the
//     account, and of the file's make and model when it has them); a list
//     of devices of two versions is refused, naming the first device of
//     the second, and the client schedules one campaign per version. A
//     device that installed a file counts as upgraded, as after software
//     (its licence can no longer be removed).
//     Devices fetch the file from this server: the check-in's downloadUrl
//     is /api/fota/device/files/{fileId} (a reference relative to the
//     server), with its size and sha256, and localTargetPath says where the
//     file goes. A replaced version stays downloadable for the campaigns
//     scheduled with it: it is dropped at a later upload of its name once
//     no campaign that has not ended downloads it. Without a catalog
//     (Options.Packages) the three routes answer Unsupported; so does a
//     file campaign without an inventory (Options.Inventory) to read the
//     devices' versions from.
//   - Callbacks (package callback): /v2 registers one URL per account,
//     /v1 one per service, whose only name is "Fota"; /v2 changes (HTTP
//     devices, licences) go to the /v2 URL, push-family changes to the /v1
//     one. POST registers or replaces, PUT replaces an existing
//     registration only (NotFound otherwise), DELETE of nothing is
//     NotFound, and GET of nothing is {} (url is optional in
//     CallbackSummary). url is required although the SDK's /v2 model has
//     it optional: there is nothing to register without it. The /v1
//     listing leaves the password out. Messages carry the /v1
//     registration's username and password, "as plain text in the
//     callback message" as ThingSpace does. A callback reports a change of
//     the status ThingSpace shows (the Manager's observer is
//     fota.WireOnly(dispatcher)): a device that downloads, then installs,
//     is one UpgradePending message, not three.
//   - Bodies are parsed as JSON whatever their Content-Type: the SDK sends
//     most of its JSON bodies as "*/*".
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
//   - Answers the SDK does not read (the two logging DELETEs) and those
//     without a ThingSpace body (a log upload) are {"success": true}.
//   - Empty lists are [] rather than null.
//   - Times (expiryDate, logTime, timeCompleted, until, retryAt) are
//     RFC 3339 in UTC, as fota's types write them; the SDK reads them as
//     plain strings.
//   - A log bundle's uploadedAt is stamped by the Manager; a device cannot
//     choose its own purge time.
//   - Reads answer as of now: a start or end that fell due shows at once
//     (the Manager applies it to what it answers); Manager.Run, which a
//     host runs in the background (examples/server does), writes it and
//     moves the devices.
//
// # Bounds and logging
//
// Bodies are bounded (Options.MaxBodyBytes, 1 MiB by default), and so is
// every string a request carries, in the body, the path or the query
// (Options.MaxStringBytes, 2 KiB by default): longer strings, invalid
// UTF-8 and NUL are 400 naming the field.
//
// Bodies decode strictly: a top-level field that the request's model
// does not have is 400 BadRequest naming it, so a misspelt optional field
// (downloadTimeWindowsList) cannot schedule a campaign that silently
// ignores it. Every field of the SDK's request models is known (the SDK
// sends optional ones such as V2LicenseIMEI's accountName, which must
// then be the path's account). Keys match regardless of case, as
// encoding/json matches them. Options.Lenient (the command's -lenient)
// ignores unknown fields instead, for clients that send extra ones.
//
// Every request is logged once to Options.Logger at Info: method, route
// (the pattern that matched, "(none)" for no route), status and duration.
// Refused credentials and internal errors have a record of their own; a
// token never appears in the log.
//
// # Calls into the Manager
//
// Every call into the Manager is in fleet.go, one method per operation,
// each naming the account. The Manager scopes campaigns and devices to
// it: another account's campaign is not found, and a device its
// inventory records for another account is answered as an unknown one
// (rejected "Device not found." in a schedule, not found in licence,
// logging and history calls), so ids do not leak.
package api
