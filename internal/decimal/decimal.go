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

// Digits reports whether every byte of x, eight bytes of text (Load8),
// is a decimal digit.
func Digits(x uint64) bool {
	const high, six = 0xF0F0F0F0F0F0F0F0, 0x0606060606060606
	// Each byte 0x30..0x39: its high nibble is 3, and still is with 6 added.
	return x&high == Zeros && (x+six)&high == Zeros
}

// Eight reads x, eight bytes of text (Load8), as a decimal number. ok is
// false when a byte is not a digit.
func Eight(x uint64) (v uint64, ok bool) {
	if !Digits(x) {
		return 0, false
	}
	d := x - Zeros // the first digit in the lowest byte
	d = (d*10 + d>>8) & 0x00FF00FF00FF00FF
	d = (d*100 + d>>16) & 0x0000FFFF0000FFFF
	d = (d*10000 + d>>32) & 0xFFFFFFFF
	return d, true
}

// Parse reads s, 1 to 19 decimal digits, as a number. Text of 8 to 16
// bytes (an IMEI's 15) is read in two words: its first eight bytes and its
// last eight, of which the bytes the first word already read count as
// '0'; other lengths a byte at a time. ok is false when a byte is not a
// digit, or s is empty or longer than 19 bytes.
func Parse(s string) (v uint64, ok bool) {
	n := len(s)
	if n >= 8 && n <= 16 {
		hi, ok := Eight(Load8(s[:8]))
		if !ok || n == 8 {
			return hi, ok
		}
		lead := uint64(1)<<(8*(16-n)) - 1
		lo, ok := Eight(Load8(s[n-8:])&^lead | Zeros&lead)
		return hi*pow10[n-8] + lo, ok
	}
	if n == 0 || n > 19 {
		return 0, false
	}
	for i := range n {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + uint64(c)
	}
	return v, true
}

// pow10 holds 10^0 to 10^8.
var pow10 = [...]uint64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

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
