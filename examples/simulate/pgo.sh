#!/bin/sh
# pgo.sh writes default.pgo, the CPU profile that go build, go run and
# go test apply to this command (profile-guided optimisation: the hot calls
# of a million-device run are inlined): the profiles of a default run and
# of an LwM2M run, a million devices each, merged. Run it from this
# directory after a change to the hot path, and commit what it writes.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -pgo=off -o "$dir/simulate" .
"$dir/simulate" -devices 1000000 -cpuprofile "$dir/http.prof" >/dev/null
"$dir/simulate" -devices 1000000 -protocol lwm2m -cpuprofile "$dir/lwm2m.prof" >/dev/null
go tool pprof -proto "$dir/http.prof" "$dir/lwm2m.prof" >default.pgo
