// Package verboselog implements ThingSpace's verbose logging for HTTP FOTA
// devices: per-device logging sessions, the uploaded log bundles and their
// retention, and the check-in history. It is pure: no goroutines, no I/O, no
// clock; every function takes now and returns new values, and the host (the
// Manager) stores them.
//
// # The rules, from the source
//
// ThingSpace's About Campaigns page, "Verbose Logging for HTTP FOTA devices":
//
//	If pilot campaigns are not successful, developers have the option to
//	enable and fetch logs for up to 20 devices. Developers initially need to
//	enable logging with the Verbose Logging API. Logging turns off
//	automatically after seven days to avoid unnecessary device resource
//	usage. When the device checks in after that setting is enabled, the
//	device starts collecting logs. The device periodically uploads those
//	logs to ThingSpace and purges them from the device. After at least 24
//	hours, the developer can call the Verbose Logging API again to fetch the
//	logs for analysis or can view the check-in history as reported by the
//	FOTA server. After 30 days, the logs are purged from ThingSpace.
//
// And the API notes: logging is "available on HTTP devices with OEM
// support"; check-in history is "independent of enabled or disabled
// logging"; DeviceLog.logType is "one of SoftwareUpdate, Event,
// UserNotification, AgentService, Wireless, WirelessWeb,
// MobileBroadbandModem, WindowsMDM"; CheckInHistoryItem.clientType is "0-
// Uknown, 1 - Device, 3 - RovaContainer, 5 - WiFiClient, 6 - RovaClient, 7 -
// RovaClientAppStore …" (sic).
//
// # How the pieces fit
//
//   - Policy holds the numbers (20 devices, 7 days, 24 hours, 30 days, and
//     the history bounds); DefaultPolicy has ThingSpace's.
//   - Session is one device's logging, a value moved by Enable, CheckIn,
//     Expire (or Current) and Disable along the lifecycle declared once in
//     Events and compiled into Table (diagram below).
//   - Bundle is an uploaded DeviceLog: Upload says whether the session
//     accepts it, Fetch serves the kept ones once ready, Purge drops the old.
//   - CheckIn and History keep the check-ins, paged with a Cursor.
//   - Account is the in-memory reference holding all of it for one account,
//     with Tick returning the next deadline.
//
// # The session lifecycle
//
// Drawn by lifecycle.Diagram from Events (a test keeps this copy current):
//
//	stateDiagram-v2
//	    [*] --> Off
//	    Collecting --> Disabled: disable
//	    Collecting --> Expired: expire
//	    Disabled --> Enabled: enable
//	    Enabled --> Collecting: checkIn
//	    Enabled --> Disabled: disable
//	    Enabled --> Expired: expire
//	    Expired --> Enabled: enable
//	    Off --> Enabled: enable
//
// # Choices where the sources are silent
//
//   - The limit counts sessions that are on (Enabled or Collecting) at now;
//     the caller counts them and passes the count to Enable, since the
//     limit is per account and a Session knows only its device. A session
//     past its expiry counts as off even before a tick (Current).
//   - "After seven days" is exact: a session enabled at t is on at
//     t+7d-1ns and off at t+7d (ExpiresAt). Its EndedAt is t+7d even if the
//     expiry is applied later. Likewise logs are ready at exactly
//     EnabledAt+24h and a bundle is gone at exactly UploadedAt+30d.
//   - Enabling a session that is on is an error (*SessionError), not a
//     no-op and not a restart: a restart would let logging run past seven
//     days. Enabling again after expiry or disable starts a new session
//     (new EnabledAt, new seven days, new 24 hours).
//   - Fetch is gated by the latest enabling: after enabling again, the
//     device's kept bundles wait for the new 24 hours too. So no bundle is
//     ever served sooner than 24 hours after the enabling that governs it.
//   - Collection starts at the first check-in at or after EnabledAt; a
//     check-in that does not find the session Enabled changes nothing but
//     the history.
//   - Uploads are accepted while Collecting, and after the session ended if
//     it had collected and the log predates the end: the device learns that
//     logging stopped only at its next check-in, so its last upload comes
//     late. The device's logTime is compared only with EndedAt.
//   - UploadedAt is this library's field (ThingSpace's DeviceLog has none);
//     purging is measured from it, stamped by the host at upload.
//   - logTime, timeCompleted and our uploadedAt travel as RFC 3339 times
//     (time.Time's JSON); the sources do not give their format.
//   - logType must be one of the eight documented values; the payload is
//     carried as sent (base64 is not decoded).
//   - clientType's list is incomplete ("…"), so any non-negative number is
//     accepted; unlisted ones print as ClientType(n). 0 keeps the wire
//     spelling "Uknown"; "Unknown" is accepted when parsing. The result and
//     failureType lists are unavailable, so they are free text.
//   - History keeps at most HistoryMax (default 1,000) check-ins per device
//     for HistoryRetention (default 180 days, as v1's six-month upgrade
//     history; zero keeps them until the cap). It pages newest first, as
//     ThingSpace's reports, at most MaxPage (1,000) a page, with a Cursor of
//     (time, how many at that time were seen) so equal times are neither
//     lost nor repeated.
package verboselog
