package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/meta"
)

const killPathEnv = "KODO_META_KILL_HELPER_PATH"

// TestKillHelper is the child process of TestSurvivesSIGKILL: it creates
// workspaces forever and prints each token once CreateWorkspace returned.
func TestKillHelper(t *testing.T) {
	path := os.Getenv(killPathEnv)
	if path == "" {
		t.Skip("child process of TestSurvivesSIGKILL only")
	}
	ctx := context.Background()
	s, err := Open(ctx, path, nil)
	require.NoError(t, err)
	for i := 0; ; i++ {
		tok := fmt.Sprintf("tkn_%032d", i)
		w := meta.Workspace{UUID: fmt.Sprintf("wksp_%032d", i), Token: tok}
		d := meta.Database{UUID: fmt.Sprintf("ifdb_%032d", i), Name: fmt.Sprintf("db%d", i), InstanceUUID: "iflx_1"}
		require.NoError(t, s.CreateWorkspace(ctx, w, d))
		fmt.Println("ACK", tok) // the "200" of the gateway
	}
}

// TestSurvivesSIGKILL kills a writer right after it acknowledged a record
// and checks every acknowledged record is there after reopening: nothing
// may sit in a process buffer once a method returned.
func TestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "meta.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), killPathEnv+"="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	var acked []string
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(30 * time.Second)
	for len(acked) < 25 && time.Now().Before(deadline) && sc.Scan() {
		if tok, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
			acked = append(acked, tok)
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	require.NotEmpty(t, acked, "the child acknowledged nothing")

	s := openAt(t, path)
	for _, tok := range acked {
		_, err := s.WorkspaceByToken(context.Background(), tok)
		assert.NoError(t, err, "acknowledged %s lost", tok)
	}
}
