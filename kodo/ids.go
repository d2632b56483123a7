package kodo

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
)

// newID returns prefix + 32 lowercase hex digits (128 random bits), the
// shape of every Kodo identifier (wksp_, tkn_, ifdb_, iflx_, cq_).
func newID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return prefix + hex.EncodeToString(b[:])
}

func itoa(n int) string { return strconv.Itoa(n) }
