module github.com/fotakit/fota/examples/lwm2m

go 1.26.8

replace github.com/fotakit/fota => ../../
