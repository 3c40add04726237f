// Package decimal reads and writes eight decimal digits at once, in one
// 64-bit word (SWAR: the eight bytes' digits are checked, paired and
// combined together), for the numeric device ids (IMEIs) that the memory
// store keys its devices by and the simulator mints.
package decimal

// Zeros is eight '0' bytes.
const Zeros = 0x3030303030303030

// Load8 reads s's first eight bytes as a little-endian word: the first
// byte lowest. s must hold at least eight bytes.
func Load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Eight reads x, eight bytes of text (Load8), as a decimal number. ok is
// false when a byte is not a digit.
func Eight(x uint64) (v uint64, ok bool) {
	const high, six = 0xF0F0F0F0F0F0F0F0, 0x0606060606060606
	// Each byte 0x30..0x39: its high nibble is 3, and still is with 6 added.
	if x&high != Zeros || (x+six)&high != Zeros {
		return 0, false
	}
	d := x - Zeros // the first digit in the lowest byte
	d = (d*10 + d>>8) & 0x00FF00FF00FF00FF
	d = (d*100 + d>>16) & 0x0000FFFF0000FFFF
	d = (d*10000 + d>>32) & 0xFFFFFFFF
	return d, true
}

// Text8 writes x (below 10^8) as eight decimal digits, leading zeros
// included, in a little-endian word: the first digit lowest.
func Text8(x uint64) uint64 {
	hi := x / 10000
	v := hi | (x-hi*10000)<<32 // 32-bit lanes below 10,000
	q := (v * 5243 >> 19) & 0x0000007F0000007F
	v = q | (v-q*100)<<16 // 16-bit lanes below 100
	t := (v * 103 >> 10) & 0x000F000F000F000F
	v = t | (v-t*10)<<8 // bytes below 10
	return v + Zeros
}
