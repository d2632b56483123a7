package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/meta/sqlite"
)

// Example opens the embedded store, creates a workspace with its database
// and resolves the workspace from its token, as the write path does.
func Example() {
	dir, err := os.MkdirTemp("", "kodo-meta-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "meta.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	w := meta.Workspace{
		UUID:  "wksp_0123456789abcdef0123456789abcdef",
		Name:  "demo",
		Token: "tkn_0123456789abcdef0123456789abcdef",
	}
	db := meta.Database{
		UUID:         "ifdb_0123456789abcdef0123456789abcdef",
		Name:         "db_demo",
		InstanceUUID: "iflx_0123456789abcdef0123456789abcdef",
		DefaultRP:    "rp1",
		CQRP:         "autogen",
		RPs:          []string{"rp1", "rp2"},
	}
	if err := s.CreateWorkspace(ctx, w, db); err != nil {
		fmt.Println(err)
		return
	}

	got, err := s.WorkspaceByToken(ctx, w.Token)
	fmt.Println(got.UUID, got.Name, err)

	// Creating it again is a conflict; the *meta.Error says what clashed.
	err = s.CreateWorkspace(ctx, w, db)
	var me *meta.Error
	if errors.As(err, &me) {
		fmt.Println(errors.Is(err, meta.ErrConflict), me.Op, me.Key)
	}

	_, err = s.WorkspaceByToken(ctx, "tkn_unknown")
	fmt.Println(errors.Is(err, meta.ErrNotFound), err)
	// Output:
	// wksp_0123456789abcdef0123456789abcdef demo <nil>
	// true CreateWorkspace workspace "wksp_0123456789abcdef0123456789abcdef"
	// true meta: WorkspaceByToken workspace of the given token: not found
}
