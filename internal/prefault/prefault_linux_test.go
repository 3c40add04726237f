package prefault

import (
	"slices"
	"syscall"
	"testing"
	"unsafe"
)

// resident counts the pages of b that are in memory (mincore(2)).
func resident(t *testing.T, b []byte) int {
	t.Helper()
	vec := make([]byte, (len(b)+int(pageSize)-1)/int(pageSize))
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestPopulateBacksWholePages: on fresh memory that holds nothing yet,
// populate backs exactly the whole pages inside the range it is given
// (not the partial ones at its ends), writes no byte, and a kernel that
// refuses the advice is not asked again.
func TestPopulateBacksWholePages(t *testing.T) {
	const pages = 64
	m, err := syscall.Mmap(-1, 0, pages*int(pageSize), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	if n := resident(t, m); n != 0 {
		t.Fatalf("fresh memory: %d pages resident", n)
	}
	// From the middle of page 1 to the middle of page 41: pages 2 to 40
	// are whole.
	half := int(pageSize) / 2
	populate(m[int(pageSize)+half : 41*int(pageSize)+half])
	if unsupported.Load() {
		// The kernel (older than 5.14) refused: nothing is backed, and
		// the next call returns at once.
		if n := resident(t, m); n != 0 {
			t.Fatalf("refused advice: %d pages resident", n)
		}
		return
	}
	for p := range pages {
		n := resident(t, m[p*int(pageSize):(p+1)*int(pageSize)])
		if want := p >= 2 && p <= 40; (n == 1) != want {
			t.Errorf("page %d: resident %d, want %v", p, n, want)
		}
	}
	for i, c := range m {
		if c != 0 {
			t.Fatalf("byte %d is %d after populate", i, c)
		}
	}
}

// TestSliceKeepsContents: Slice changes nothing a slice holds, to its
// capacity, whatever its size and offset, and leaves a small slice alone;
// Make is make's slice, zeroed.
func TestSliceKeepsContents(t *testing.T) {
	if m := Make[uint64](3, 1<<20); len(m) != 3 || cap(m) != 1<<20 || slices.ContainsFunc(m[:cap(m)], func(v uint64) bool { return v != 0 }) {
		t.Fatalf("Make(3, 1<<20): len %d, cap %d", len(m), cap(m))
	}
	for _, n := range []int{0, 1, Min/8 - 1, Min / 8, Min/8 + 1, 1 << 20} {
		s := make([]uint64, n, n+3)
		for i := range s[:cap(s)] {
			s[:cap(s)][i] = uint64(i)*0x9e3779b97f4a7c15 + 1
		}
		Slice(s)
		if len(s) > 1 {
			Slice(s[1:]) // not page-aligned
		}
		for i, v := range s[:cap(s)] {
			if v != uint64(i)*0x9e3779b97f4a7c15+1 {
				t.Fatalf("n=%d: element %d changed to %d", n, i, v)
			}
		}
	}
}
