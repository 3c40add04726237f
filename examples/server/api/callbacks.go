package api

import (
	"net/http"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/examples/server/callback"
)

// CallbackRegistrationV1 is the /v1 registration body
// (FotaV1CallbackRegistrationRequest): name is the service, "Fota".
type CallbackRegistrationV1 struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// CallbackRegistrationResultV1 answers a /v1 registration
// (FotaV1CallbackRegistrationResult).
type CallbackRegistrationResultV1 struct {
	AccountName string `json:"accountName"`
	ServiceName string `json:"serviceName"`
}

// RegisteredCallback is one /v1 registration as listed
// (RegisteredCallbacks: "aname" is the account). The password is not
// listed: the model has it, but a listing is no place for a secret.
type RegisteredCallback struct {
	AccountName string `json:"aname"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	Username    string `json:"username,omitempty"`
}

// CallbackURL is the /v2 registration body, its answer and its listing
// (FotaV2CallbackRegistrationRequest, FotaV2CallbackRegistrationResult,
// CallbackSummary); the listing of an account without one is {}.
type CallbackURL struct {
	URL string `json:"url,omitempty"`
}

// callbacks returns the dispatcher, or CodeUnsupported when the server
// runs without one.
func (s *server) callbacks() (*callback.Dispatcher, error) {
	if s.opts.Callbacks == nil {
		return nil, &httpError{status: http.StatusBadRequest, code: CodeUnsupported, msg: "this server delivers no callbacks"}
	}
	return s.opts.Callbacks, nil
}

// listCallbacksV1: GET /api/fota/v1/callbacks/{acc}.
func (s *server) listCallbacksV1(_ *http.Request, acc string) (any, error) {
	d, err := s.callbacks()
	if err != nil {
		return nil, err
	}
	out := []RegisteredCallback{}
	if reg, ok := d.Registration(acc, callback.ServiceV1); ok {
		out = append(out, RegisteredCallback{AccountName: acc, Name: reg.Service, URL: reg.URL, Username: reg.Username})
	}
	return out, nil
}

// registerCallbackV1: POST /api/fota/v1/callbacks/{acc}.
func (s *server) registerCallbackV1(r *http.Request, acc string) (any, error) {
	d, err := s.callbacks()
	if err != nil {
		return nil, err
	}
	var req CallbackRegistrationV1
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.Name != callback.ServiceV1 {
		return nil, &fota.RequestError{Field: "name", Value: req.Name, Reason: `want "` + callback.ServiceV1 + `"`}
	}
	reg := callback.Registration{Account: acc, Service: req.Name, URL: req.URL, Username: req.Username, Password: req.Password}
	if err := d.Register(reg); err != nil {
		return nil, err
	}
	return CallbackRegistrationResultV1{AccountName: acc, ServiceName: req.Name}, nil
}

// deregisterCallbackV1: DELETE /api/fota/v1/callbacks/{acc}/name/{service}.
func (s *server) deregisterCallbackV1(r *http.Request, acc string) (any, error) {
	d, err := s.callbacks()
	if err != nil {
		return nil, err
	}
	service := r.PathValue("service")
	if service != callback.ServiceV1 {
		return nil, &fota.RequestError{Field: "service", Value: service, Reason: `want "` + callback.ServiceV1 + `"`}
	}
	if err := d.Deregister(acc, service); err != nil {
		return nil, err
	}
	return Success{Success: true}, nil
}

// listCallbackV2: GET /api/fota/v2/callbacks/{acc}.
func (s *server) listCallbackV2(_ *http.Request, acc string) (any, error) {
	d, err := s.callbacks()
	if err != nil {
		return nil, err
	}
	reg, _ := d.Registration(acc, callback.ServiceV2)
	return CallbackURL{URL: reg.URL}, nil
}

// registerCallbackV2 (POST) and updateCallbackV2 (PUT):
// /api/fota/v2/callbacks/{acc}. POST registers or replaces; PUT replaces
// an existing registration only.
func (s *server) registerCallbackV2(r *http.Request, acc string) (any, error) {
	return s.setCallbackV2(r, acc, false)
}

func (s *server) updateCallbackV2(r *http.Request, acc string) (any, error) {
	return s.setCallbackV2(r, acc, true)
}

func (s *server) setCallbackV2(r *http.Request, acc string, update bool) (any, error) {
	d, err := s.callbacks()
	if err != nil {
		return nil, err
	}
	var req CallbackURL
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.URL == "" { // optional in the SDK's model, but there is nothing to register without it
		return nil, &fota.RequestError{Field: "url", Value: "", Reason: "required"}
	}
	set := d.Register
	if update {
		set = d.Update
	}
	if err := set(callback.Registration{Account: acc, Service: callback.ServiceV2, URL: req.URL}); err != nil {
		return nil, err
	}
	return CallbackURL{URL: req.URL}, nil
}

// deregisterCallbackV2: DELETE /api/fota/v2/callbacks/{acc}.
func (s *server) deregisterCallbackV2(_ *http.Request, acc string) (any, error) {
	d, err := s.callbacks()
	if err != nil {
		return nil, err
	}
	if err := d.Deregister(acc, callback.ServiceV2); err != nil {
		return nil, err
	}
	return Success{Success: true}, nil
}
