module github.com/fotakit/fota/examples/lwm2m

go 1.26.8

replace github.com/fotakit/fota => ../../

require (
	github.com/benbjohnson/clock v1.3.5
	github.com/fotakit/fota v0.0.0-00010101000000-000000000000
	github.com/fxamacker/cbor/v2 v2.10.0
	github.com/plgd-dev/go-coap/v3 v3.8.0
)

require github.com/jackc/puddle/v2 v2.2.3 // indirect

require (
	github.com/dsnet/golib/memfile v1.0.0 // indirect
	github.com/fotakit/fota/sqlstore v0.0.0-00010101000000-000000000000
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.12.0
	github.com/looplab/fsm v1.0.3 // indirect
	github.com/pion/dtls/v3 v3.1.15 // indirect
	github.com/pion/logging v0.2.4 // indirect
	github.com/pion/transport/v5 v5.1.4 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/exp v0.0.0-20261014143641-f0251eb4aa3e // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/fotakit/fota/sqlstore => ../../sqlstore
