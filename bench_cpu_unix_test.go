//go:build unix

package fota_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process used so far, user and system,
// or false where it cannot tell.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
