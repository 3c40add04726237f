//go:build !unix

package sim_test

import "time"

// cpuTime cannot be read here: the benchmarks then report wall time only.
func cpuTime() time.Duration { return 0 }
