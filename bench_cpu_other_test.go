//go:build !unix

package fota_test

import "time"

// cpuTime returns the CPU time the process used so far, user and system,
// or false where it cannot tell.
func cpuTime() (time.Duration, bool) { return 0, false }
