// Package device holds what fota knows about one device in one campaign:
// the protocols and families, the device status set with its per-family
// wire spellings, the reason catalog, the device lifecycles, licences, IMEI
// validation and eligibility checks.
package device
