package meta_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kodo-project/kodo/storage/meta"
)

func TestErrorFormatAndUnwrap(t *testing.T) {
	tests := []struct {
		err  *meta.Error
		want string
		is   []error
	}{
		{&meta.Error{Op: "Workspace", Key: `workspace "w"`, Kind: meta.ErrNotFound}, `meta: Workspace workspace "w": not found`, []error{meta.ErrNotFound}},
		{&meta.Error{Op: "CreateCQ", Kind: meta.ErrConflict, Err: io.EOF}, `meta: CreateCQ: already exists: EOF`, []error{meta.ErrConflict, io.EOF}},
		{&meta.Error{Op: "Instances", Err: io.ErrUnexpectedEOF}, `meta: Instances: unexpected EOF`, []error{io.ErrUnexpectedEOF}},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
			for _, target := range tt.is {
				assert.ErrorIs(t, tt.err, target)
			}
			wrapped := fmt.Errorf("handler: %w", tt.err)
			var me *meta.Error
			assert.ErrorAs(t, wrapped, &me)
		})
	}
	assert.NotErrorIs(t, &meta.Error{Op: "X", Kind: meta.ErrNotFound}, meta.ErrConflict)
}

func TestValidate(t *testing.T) {
	okDB := meta.Database{UUID: "d", WorkspaceUUID: "w", Name: "n", InstanceUUID: "i", RPs: []string{"a", "b"}}
	okCQ := meta.ContinuousQuery{UUID: "c", WorkspaceUUID: "w", DBUUID: "d", Measurement: "m", AggrFunc: "mean"}
	tests := []struct {
		name  string
		err   error
		valid bool
	}{
		{"workspace ok", meta.Workspace{UUID: "w", Token: "t"}.Validate("Op"), true},
		{"workspace no token", meta.Workspace{UUID: "w"}.Validate("Op"), false},
		{"workspace no uuid", meta.Workspace{Token: "t"}.Validate("Op"), false},
		{"database ok", okDB.Validate("Op"), true},
		{"database nil rps", meta.Database{UUID: "d", WorkspaceUUID: "w", Name: "n", InstanceUUID: "i"}.Validate("Op"), true},
		{"database no name", meta.Database{UUID: "d", WorkspaceUUID: "w", InstanceUUID: "i"}.Validate("Op"), false},
		{"database repeated rp", meta.Database{UUID: "d", WorkspaceUUID: "w", Name: "n", InstanceUUID: "i", RPs: []string{"a", "a"}}.Validate("Op"), false},
		{"update ok", meta.Database{UUID: "d", RPs: []string{"a"}}.ValidateUpdate("Op"), true},
		{"update no uuid", meta.Database{RPs: []string{"a"}}.ValidateUpdate("Op"), false},
		{"update empty rp", meta.Database{UUID: "d", RPs: []string{""}}.ValidateUpdate("Op"), false},
		{"instance ok", meta.Instance{UUID: "i"}.Validate("Op"), true},
		{"instance no uuid", meta.Instance{URL: "http://x"}.Validate("Op"), false},
		{"key pair ok", meta.KeyPair{AccessKey: "a", SecretKey: "s", WorkspaceUUID: "w"}.Validate("Op"), true},
		{"key pair equal keys", meta.KeyPair{AccessKey: "a", SecretKey: "a", WorkspaceUUID: "w"}.Validate("Op"), false},
		{"key pair no workspace", meta.KeyPair{AccessKey: "a", SecretKey: "s"}.Validate("Op"), false},
		{"cq ok", okCQ.Validate("Op"), true},
		{"cq no db", meta.ContinuousQuery{UUID: "c", WorkspaceUUID: "w", Measurement: "m", AggrFunc: "mean"}.Validate("Op"), false},
		{"cq update without db ok", meta.ContinuousQuery{UUID: "c", WorkspaceUUID: "w", Measurement: "m", AggrFunc: "mean"}.ValidateUpdate("Op"), true},
		{"cq no func", meta.ContinuousQuery{UUID: "c", WorkspaceUUID: "w", DBUUID: "d", Measurement: "m"}.Validate("Op"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.valid {
				assert.NoError(t, tt.err)
				return
			}
			assert.ErrorIs(t, tt.err, meta.ErrInvalid)
			var me *meta.Error
			if assert.ErrorAs(t, tt.err, &me) {
				assert.Equal(t, "Op", me.Op)
			}
		})
	}
}

// ExampleError shows how a handler turns a store error into a status.
func ExampleError() {
	err := fmt.Errorf("create cq: %w", &meta.Error{Op: "CreateCQ", Key: `continuous query "cq_1"`, Kind: meta.ErrConflict})
	switch {
	case errors.Is(err, meta.ErrNotFound):
		fmt.Println(404)
	case errors.Is(err, meta.ErrConflict):
		fmt.Println(409, err)
	}
	// Output: 409 create cq: meta: CreateCQ continuous query "cq_1": already exists
}

func ExampleDatabase_Validate() {
	err := meta.Database{UUID: "ifdb_1", WorkspaceUUID: "wksp_1", Name: "db1", InstanceUUID: "iflx_1", RPs: []string{"rp1", "rp1"}}.Validate("CreateDatabase")
	fmt.Println(errors.Is(err, meta.ErrInvalid), err)
	// Output: true meta: CreateDatabase database "ifdb_1": invalid record: retention policy "rp1" listed twice in RPs
}
