package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema step.
type Migration struct {
	Version int    // the number before the first "_"
	Name    string // the file name, for logs and errors
	SQL     string
}

// Error reports a migration file that cannot be used.
type Error struct {
	File   string
	Reason string
}

func (e *Error) Error() string { return "meta migration " + e.File + ": " + e.Reason }

// Load reads every *.sql file of dir in fsys, ordered by version. Versions
// must be positive, unique and contiguous from 1, so a missing or renumbered
// file is caught at build-test time rather than on a production database.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("meta migrations: read %s: %w", dir, err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		if !ok {
			return nil, &Error{File: name, Reason: `name must look like "0001_description.sql"`}
		}
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, &Error{File: name, Reason: fmt.Sprintf("version %q is not a positive integer", num)}
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("meta migrations: read %s: %w", name, err)
		}
		if strings.TrimSpace(string(body)) == "" {
			return nil, &Error{File: name, Reason: "empty file"}
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			if i > 0 && ms[i-1].Version == m.Version {
				return nil, &Error{File: m.Name, Reason: fmt.Sprintf("version %d also used by %s", m.Version, ms[i-1].Name)}
			}
			return nil, &Error{File: m.Name, Reason: fmt.Sprintf("expected version %d (versions must be contiguous from 1)", i+1)}
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("meta migrations: no .sql files in %s", dir)
	}
	return ms, nil
}
