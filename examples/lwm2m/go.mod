module github.com/fotakit/fota/examples/lwm2m

go 1.26.8

replace github.com/fotakit/fota => ../../

require (
	github.com/fxamacker/cbor/v2 v2.10.0 // indirect
	github.com/x448/float16 v0.8.4 // indirect
)
