package loadgen

import (
	"testing"
	"time"
)

func FuzzParseMix(f *testing.F) {
	for _, s := range []string{"write=9,query=1", "", "write", "query=0,write=1", "rewrite=3", "write=-1", "write=1,write=1", "=,=,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMix(s)
		if err != nil {
			if _, ok := err.(*ConfigError); !ok {
				t.Fatalf("error %T, want *ConfigError", err)
			}
			return
		}
		sched := m.Schedule()
		if len(sched) != m.Total() {
			t.Fatalf("schedule of %d ops for total weight %d", len(sched), m.Total())
		}
		again, err := ParseMix(m.String())
		if err != nil || again.Total() != m.Total() {
			t.Fatalf("String() %q does not parse back: %v", m.String(), err)
		}
	})
}

func FuzzParseProcStatus(f *testing.F) {
	for _, s := range []string{"VmRSS:\t1 kB\nVmHWM:\t2 kB\n", "", "VmRSS:", "VmRSS: 99999999999999999999 kB", "VmHWM:\t1 kB\nVmRSS:\t1 MB"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseProcStatus(b)
		if err != nil {
			if _, ok := err.(*ProcStatusError); !ok {
				t.Fatalf("error %T, want *ProcStatusError", err)
			}
			return
		}
		if m.RSS < 0 || m.HWM < 0 {
			t.Fatalf("negative sizes %+v", m)
		}
	})
}

func FuzzCheckLoopback(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:9527", "http://localhost", "http://[::1]:1", "http://10.0.0.1", "http://%31%32%37.0.0.1", "http://127.0.0.1@evil.com", "http://evil.com#@127.0.0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := CheckLoopback(s)
		if err != nil {
			return
		}
		if !IsLoopbackHost(u.Hostname()) {
			t.Fatalf("%q accepted with host %q", s, u.Hostname())
		}
	})
}

func FuzzGeneratorShape(f *testing.F) {
	f.Add("cpu", "host", "v", 3, 7)
	f.Add("m", "a", "b", 1, 1)
	f.Fuzz(func(t *testing.T, m, tag, field string, series, lines int) {
		if series > 1000 || lines > 1000 {
			return // keep each case cheap
		}
		g, err := NewGenerator(Shape{Measurement: m, TagKeys: []string{tag}, FieldKeys: []string{field}, Series: series, LinesPerBody: lines},
			time.Unix(1_700_000_000, 0), time.Second, 1)
		if err != nil {
			if _, ok := err.(*ConfigError); !ok {
				t.Fatalf("error %T, want *ConfigError", err)
			}
			return
		}
		checkParses(t, g.AppendBody(nil, 0), g.Shape().LinesPerBody)
	})
}
