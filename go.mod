module github.com/fotakit/fota

go 1.26.8

require (
	github.com/benbjohnson/clock v1.3.5
	github.com/looplab/fsm v1.0.3
	pgregory.net/rapid v1.3.0
)
