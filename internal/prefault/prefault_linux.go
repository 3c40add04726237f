package prefault

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14 and later), which
// package syscall does not name.
const madvPopulateWrite = 23

var (
	pageSize = uintptr(os.Getpagesize())
	// unsupported is set once the kernel refused the advice: an older
	// kernel is not asked again.
	unsupported atomic.Bool
)

// populate backs the whole pages inside b: the partial pages at its ends
// may hold other objects, and are left to be faulted in as they are
// written.
func populate(b []byte) {
	if unsupported.Load() {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (start+pageSize-1)&^(pageSize-1) - start
	hi := (start+uintptr(len(b)))&^(pageSize-1) - start
	if hi <= lo {
		return
	}
	if err := syscall.Madvise(b[lo:hi], madvPopulateWrite); err == syscall.EINVAL || err == syscall.ENOSYS {
		unsupported.Store(true)
	}
}
