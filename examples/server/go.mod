module github.com/fotakit/fota/examples/server

go 1.26.8

require (
	github.com/fotakit/fota v0.0.0-00010101000000-000000000000
	pgregory.net/rapid v1.3.0
)

require github.com/looplab/fsm v1.0.3 // indirect

replace github.com/fotakit/fota => ../../
