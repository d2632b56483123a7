package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ProcMem is the memory of a process as /proc/<pid>/status reports it.
type ProcMem struct {
	RSS int64 // VmRSS, bytes
	HWM int64 // VmHWM (peak RSS over the process's life), bytes
}

// ProcStatusError is a /proc/<pid>/status that could not be read or parsed.
type ProcStatusError struct {
	PID  int
	Line int // 1-based line of a bad entry; 0 if the file as a whole failed
	Msg  string
	Err  error
}

func (e *ProcStatusError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("loadgen: /proc/%d/status line %d: %s", e.PID, e.Line, e.Msg)
	}
	if e.Err != nil {
		return fmt.Sprintf("loadgen: /proc/%d/status: %s: %v", e.PID, e.Msg, e.Err)
	}
	return fmt.Sprintf("loadgen: /proc/%d/status: %s", e.PID, e.Msg)
}
func (e *ProcStatusError) Unwrap() error { return e.Err }

// ParseProcStatus reads VmRSS and VmHWM ("VmRSS:   1234 kB") from the
// text of /proc/<pid>/status. Both must be present (a kernel thread or a
// zombie has neither).
func ParseProcStatus(data []byte) (ProcMem, error) {
	var m ProcMem
	var haveRSS, haveHWM bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return ProcMem{}, &ProcStatusError{Line: line, Msg: fmt.Sprintf("%s: want \"<n> kB\", got %q", key, strings.TrimSpace(val))}
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return ProcMem{}, &ProcStatusError{Line: line, Msg: fmt.Sprintf("%s: bad size %q", key, f[0])}
		}
		if key == "VmRSS" {
			m.RSS, haveRSS = n*1024, true
		} else {
			m.HWM, haveHWM = n*1024, true
		}
	}
	if err := sc.Err(); err != nil {
		return ProcMem{}, &ProcStatusError{Msg: "reading", Err: err}
	}
	if !haveRSS || !haveHWM {
		return ProcMem{}, &ProcStatusError{Msg: "no VmRSS/VmHWM lines (not a user process, or it exited)"}
	}
	return m, nil
}

// ReadProcMem reads /proc/<pid>/status.
func ReadProcMem(pid int) (ProcMem, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcMem{}, &ProcStatusError{PID: pid, Msg: "is the server running with this pid?", Err: err}
	}
	m, err := ParseProcStatus(b)
	if pe, ok := err.(*ProcStatusError); ok {
		pe.PID = pid
	}
	return m, err
}

// userHZ is the unit of the times in /proc/<pid>/stat: USER_HZ, 100 on
// every Linux architecture Go supports (the kernel ABI fixes it).
const userHZ = 100

// ParseProcStat reads the CPU time a process has used, user plus system
// (utime and stime, fields 14 and 15), from the text of /proc/<pid>/stat.
// The fields are counted after the command name's closing parenthesis,
// since the name may hold spaces and parentheses.
func ParseProcStat(data []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, &ProcStatusError{Msg: "stat: no command name"}
	}
	f := strings.Fields(string(data[i+1:])) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, &ProcStatusError{Msg: fmt.Sprintf("stat: %d fields after the name, want at least 13", len(f))}
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, &ProcStatusError{Msg: fmt.Sprintf("stat: bad CPU time %q", s)}
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// ReadProcCPU reads /proc/<pid>/stat.
func ReadProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, &ProcStatusError{PID: pid, Msg: "is the server running with this pid?", Err: err}
	}
	d, err := ParseProcStat(b)
	if pe, ok := err.(*ProcStatusError); ok {
		pe.PID = pid
	}
	return d, err
}

// rssSampler polls a process's memory until stopped, keeping the largest
// VmRSS seen, and takes its CPU time at the start and at the end.
type rssSampler struct {
	pid     int
	cpu0    time.Duration // CPU time at the start; -1 if unreadable
	mu      sync.Mutex
	maxRSS  int64
	last    ProcMem
	samples int
	lastErr error
	done    chan struct{}
	cancel  context.CancelFunc
}

func startRSSSampler(pid int, every time.Duration) (*rssSampler, error) {
	first, err := ReadProcMem(pid)
	if err != nil {
		return nil, err
	}
	cpu0, err := ReadProcCPU(pid)
	if err != nil {
		cpu0 = -1
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &rssSampler{pid: pid, cpu0: cpu0, maxRSS: first.RSS, last: first, samples: 1, done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s, nil
}

func (s *rssSampler) sample() {
	m, err := ReadProcMem(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.lastErr = err
		return
	}
	s.samples++
	s.last = m
	s.maxRSS = max(s.maxRSS, m.RSS)
}

// stop takes a last sample and returns the memory figures.
func (s *rssSampler) stop() ServerMem {
	s.cancel()
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := ServerMem{PID: s.pid, MaxRSS: s.maxRSS, HWM: s.last.HWM, Samples: s.samples}
	if s.lastErr != nil {
		out.Error = s.lastErr.Error()
	}
	if cpu, err := ReadProcCPU(s.pid); err == nil && s.cpu0 >= 0 {
		out.CPUSeconds = (cpu - s.cpu0).Seconds()
	}
	return out
}
