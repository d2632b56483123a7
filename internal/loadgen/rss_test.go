package loadgen

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseProcStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ProcMem
		line int // want an error at this line (-1: an error without a line)
	}{
		{"typical", "Name:\tkodo\nVmPeak:\t 900 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads: 12\n", ProcMem{RSS: 100 << 20, HWM: 200 << 20}, 0},
		{"zero", "VmRSS:\t0 kB\nVmHWM:\t0 kB\n", ProcMem{}, 0},
		{"missing RSS", "Name:\tkthreadd\nVmHWM:\t1 kB\n", ProcMem{}, -1},
		{"empty", "", ProcMem{}, -1},
		{"bad unit", "VmRSS:\t12 MB\nVmHWM:\t1 kB\n", ProcMem{}, 1},
		{"bad number", "VmHWM:\t1 kB\nVmRSS:\tlots kB\n", ProcMem{}, 2},
		{"negative", "VmRSS:\t-5 kB\nVmHWM:\t1 kB\n", ProcMem{}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcStatus([]byte(tc.in))
			if tc.line == 0 {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			var pe *ProcStatusError
			require.ErrorAs(t, err, &pe)
			if tc.line > 0 {
				assert.Equal(t, tc.line, pe.Line)
			}
		})
	}
}

func TestReadProcMemOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	m, err := ReadProcMem(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, m.RSS)
	assert.GreaterOrEqual(t, m.HWM, m.RSS)

	_, err = ReadProcMem(1 << 30) // beyond pid_max
	var pe *ProcStatusError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, err.Error(), "pid")
}

func TestRSSSamplerSeesGrowth(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	first, err := ReadProcMem(os.Getpid())
	require.NoError(t, err)
	before := first.RSS
	s, err := startRSSSampler(os.Getpid(), 5*time.Millisecond)
	require.NoError(t, err)
	// Touch 64 MiB so VmRSS grows while the sampler runs.
	buf := make([]byte, 64<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	// Wait for a sample taken by the ticker after the growth (stop adds
	// one of its own, which alone would not show the sampler works).
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.maxRSS > before+32<<20
	}, 10*time.Second, time.Millisecond, "the sampler saw the growth")
	m := s.stop()
	assert.Greater(t, m.MaxRSS, before+32<<20, "the sampler saw the growth")
	assert.GreaterOrEqual(t, m.HWM, m.MaxRSS)
	assert.Greater(t, m.Samples, 1)
	assert.Equal(t, byte(1), buf[0])
	assert.Positive(t, m.CPUSeconds, "touching 64 MiB took CPU time")
}

func TestParseProcStat(t *testing.T) {
	// Fields 14 and 15 (utime, stime) are 250 and 50 ticks.
	tail := " S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0 100 2000 30\n"
	tests := []struct {
		name string
		in   string
		want time.Duration
		err  string
	}{
		{"plain", "42 (kodo)" + tail, 3 * time.Second, ""},
		{"name with spaces and parentheses", "42 (a b) (c)" + tail, 3 * time.Second, ""},
		{"no name", "42 kodo S 1", 0, "no command name"},
		{"short", "42 (kodo) S 1 2 3", 0, "want at least 13"},
		{"bad number", "42 (kodo) S 1 2 3 4 5 6 7 8 9 10 x 50 0", 0, `bad CPU time "x"`},
		{"negative", "42 (kodo) S 1 2 3 4 5 6 7 8 9 10 -1 50 0", 0, "bad CPU time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProcStat([]byte(tt.in))
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
