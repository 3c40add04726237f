//go:build unix

package sim_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used so far (user and system,
// every thread: the collector's included), or 0 where it cannot be read.
// On a shared machine it varies less with the load than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
