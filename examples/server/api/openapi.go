package api

import (
	_ "embed"
)

// OpenAPI is the OpenAPI 3 document of every ThingSpace Software
// Management /v1 and /v2 operation and of the device routes, as served
// at GET /openapi.json (see the package documentation).
//
//go:embed openapi.json
var OpenAPI []byte

var specJSON = OpenAPI
