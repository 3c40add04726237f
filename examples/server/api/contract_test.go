package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/fotakit/fota/examples/server/api"
)

// contract is the OpenAPI document the server serves, loaded once, with
// a router that finds an operation for a request.
var contract = sync.OnceValues(func() (*contractDoc, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &contractDoc{doc: doc, router: router}, nil
})

type contractDoc struct {
	doc    *openapi3.T
	router routers.Router
}

// checkContract validates one answer the server gave to req against the
// OpenAPI document: the operation's schema for its status, or, for a
// request no operation matches (an unknown route, a wrong method), the
// error body. Every test request goes through it (fixture.do), so no
// answer can drift from the document.
func checkContract(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	c, err := contract()
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if req.URL.Path == "/openapi.json" {
		return
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		if status < 400 {
			t.Errorf("%s %s: %d for a request the document has no operation for", req.Method, req.URL.Path, status)
		}
		var e api.Error
		if err := json.Unmarshal(body, &e); err != nil || e.ErrorCode == "" || e.ErrorMessage == "" {
			t.Errorf("%s %s: %d answer is not the error body: %s", req.Method, req.URL.Path, status, body)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s: %d answer breaks the OpenAPI document: %v\nbody: %s", req.Method, req.URL.Path, status, err, body)
	}
}
