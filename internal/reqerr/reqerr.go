// Package reqerr holds the one sentinel every package's bad-input error
// matches, so that a host tells a refused request from a failure with one
// errors.Is, whichever package found the problem. Package fota re-exports
// it as fota.ErrBadRequest.
package reqerr

import "errors"

// ErrBadRequest is matched by every error that reports bad input: a
// request field that is missing, malformed or out of range. Each such
// error also names the field and the value.
var ErrBadRequest = errors.New("bad request")
