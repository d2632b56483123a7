package main

import (
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGCSettings: -gc-percent / -memory-limit (or their KODO_* twins) win
// over Go's GOGC / GOMEMLIMIT, which win over the defaults: GC target 200
// and half the machine's memory.
func TestGCSettings(t *testing.T) {
	const machine = 8 << 30
	cases := []struct {
		name        string
		args        []string
		env         map[string]string
		percent     int
		limit       int64
		setP, setL  bool
		unknownSize bool
	}{
		{name: "defaults", percent: 200, limit: 4 << 30, setP: true, setL: true},
		{name: "flags", args: []string{"-gc-percent", "150", "-memory-limit", "1073741824"}, percent: 150, limit: 1 << 30, setP: true, setL: true},
		{name: "KODO twins", env: map[string]string{"KODO_GC_PERCENT": "-1", "KODO_MEMORY_LIMIT": "-1"}, percent: -1, limit: -1, setP: true, setL: true},
		{name: "Go's variables stand", env: map[string]string{"GOGC": "50", "GOMEMLIMIT": "2GiB"}},
		{name: "flags over Go's variables", args: []string{"-gc-percent", "300"}, env: map[string]string{"GOGC": "50", "GOMEMLIMIT": "2GiB"}, percent: 300, setP: true},
		{name: "explicit 0 derives the limit even with GOMEMLIMIT", args: []string{"-memory-limit", "0"}, env: map[string]string{"GOMEMLIMIT": "2GiB"}, percent: 200, limit: 4 << 30, setP: true, setL: true},
		{name: "machine size unknown: no derived limit", percent: 200, setP: true, unknownSize: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			c, err := parseFlags(tc.args, env, io.Discard)
			require.NoError(t, err)
			m := int64(machine)
			if tc.unknownSize {
				m = 0
			}
			p, l, setP, setL := gcSettings(c, env, m)
			assert.Equal(t, tc.setP, setP, "set percent")
			assert.Equal(t, tc.setL, setL, "set limit")
			if setP {
				assert.Equal(t, tc.percent, p)
			}
			if setL {
				assert.Equal(t, tc.limit, l)
			}
		})
	}
}

func TestMachineMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("derived only on Linux")
	}
	assert.Positive(t, machineMemory(), "MemTotal is readable on Linux")
}

func TestPprofListenIsLoopbackOnly(t *testing.T) {
	err := startPprof("0.0.0.0:0", nil)
	assert.ErrorContains(t, err, "loopback")
}
