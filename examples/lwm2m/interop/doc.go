// Package interop proves examples/lwm2m's host against an LwM2M client
// written by someone else: Telefonica's lwm2m-node-lib 1.4.0 (npm), run
// by node from testdata/client.js. It holds only that test: a /v1 campaign
// of fota's Manager for the one device, carried out over CoAP by a replica
// of the host (package replica), through registration, the Write of the
// package URI, Execute, and the state and result the client reports
// through Observe, to "Upgrade Success" in the Manager; a second run whose
// client reports Update Result 8 ends "Upgrade Failed" with the reason
// "Firmware update to device failed." and the result beside it. Both
// campaigns end Finished.
//
// The test installs the pinned package (testdata/package.json and its
// package-lock.json) into testdata/node_modules with npm ci the first time,
// and reuses it afterwards; node_modules is never committed. Without node or
// npm the test fails when the CI environment variable is set, and skips
// otherwise, naming what is missing.
//
// What the test shows about lwm2m-node-lib 1.4.0, and what the server does
// about it:
//
//   - It registers with b=U, lwm2m=1.0 and no Content-Format, from a
//     different socket for each request (a new node-coap Agent), and then
//     listens on the port it registered from.
//   - It answers Reads and notifications of single resources in plain text
//     without a Content-Format option, and refuses a Read of /5/0 (4.04):
//     the server reads /5/0/3 and /5/0/5 one by one for it.
//   - Its notifications carry node-coap's Observe counter (1, 2, 3, ...).
//   - It downloads the package with node-coap's Block2 support.
package interop
