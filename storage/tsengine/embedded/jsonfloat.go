package embedded

import (
	"math"
	"strconv"
)

// appendJSONFloat appends f the way encoding/json (and so InfluxDB's /query
// answer) writes a float64: shortest round-trip digits, exponent form only
// below 1e-6 or from 1e21, with a two-digit minimum exponent trimmed
// ("1e-07" -> "1e-7"). The embedded engine uses it so its numbers match the
// remote engine's byte for byte, without a json.Marshal per value.
func appendJSONFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
