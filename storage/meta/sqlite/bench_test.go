package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kodo-project/kodo/storage/meta"
)

// BenchmarkWorkspaceByToken measures the lookup done on every write
// request, against a store holding 1,000 workspaces. SetBytes counts the
// token, so MB/s reads as token bytes resolved per second.
func BenchmarkWorkspaceByToken(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "meta.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 1000
	tokens := make([]string, n)
	for i := range n {
		tokens[i] = fmt.Sprintf("tkn_%032x", i)
		w := meta.Workspace{UUID: fmt.Sprintf("wksp_%032x", i), Name: "bench", Token: tokens[i]}
		d := meta.Database{UUID: fmt.Sprintf("ifdb_%032x", i), Name: fmt.Sprintf("db%d", i), InstanceUUID: "iflx_1"}
		if err := s.CreateWorkspace(ctx, w, d); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(tokens[0])))
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := s.WorkspaceByToken(ctx, tokens[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkWorkspaceByTokenParallel is the same lookup from concurrent
// requests, exercising the read pool.
func BenchmarkWorkspaceByTokenParallel(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "meta.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w := meta.Workspace{UUID: "wksp_1", Token: "tkn_1"}
	if err := s.CreateWorkspace(ctx, w, meta.Database{UUID: "ifdb_1", Name: "db1", InstanceUUID: "iflx_1"}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(w.Token)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.WorkspaceByToken(ctx, w.Token); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRememberSignature measures what -replay-cache adds to every
// signed request on SQLite: one durable (fsynced) insert.
func BenchmarkRememberSignature(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "meta.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		fresh, err := s.RememberSignature(ctx, fmt.Sprintf("sig_%032x", i), now, now.Add(30*time.Minute))
		if err != nil || !fresh {
			b.Fatal(fresh, err)
		}
		i++
	}
}
