// Command write-metrics shows the Kodo Go client's write path: it creates a
// workspace (or uses -token/-secret/-db), streams points through a kodoclient.Writer
// (signed DATAFLUX, gzip, batched by size and interval, retried on
// 429/5xx), closes it so every point is either stored or returned as an
// error, and checks with a count query that the gateway holds them all.
//
//	go run ./examples/write-metrics -url http://127.0.0.1:9527 -points 20000
//
// It exits non-zero when anything fails or a point is missing.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/kodo/kodoclient"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:9527", "Kodo gateway")
	adminKey := flag.String("admin-key", os.Getenv("KODO_ADMIN_KEY"), "admin key (management calls)")
	token := flag.String("token", "", "workspace token (default: create a workspace)")
	secret := flag.String("secret", os.Getenv("KODO_SECRET"), "the token's workspace secret (with -token; empty: sign with the body MD5, for workspaces that still allow it)")
	db := flag.String("db", "", "db_uuid of the token's database (with -token)")
	points := flag.Int("points", 10000, "points to write")
	hosts := flag.Int("hosts", 10, "distinct host tags (series)")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	err := run(ctx, *url, *adminKey, *token, *secret, *db, *points, *hosts)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "write-metrics:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, adminKey, token, secret, db string, n, hosts int) error {
	if n <= 0 || hosts <= 0 {
		return errors.New("-points and -hosts must be positive")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	admin, err := kodoclient.New(url, kodoclient.Options{AdminKey: adminKey, Logger: log})
	if err != nil {
		return err
	}
	if token == "" {
		ws, err := admin.CreateWorkspace(ctx, kodoapi.CreateWorkspaceRequest{Name: "write-metrics"})
		if err != nil {
			return fmt.Errorf("creating a workspace: %w", err)
		}
		token, secret, db = ws.Token, ws.Secret, ws.DBUUID
		fmt.Printf("workspace %s, database %s\n", ws.WorkspaceUUID, db)
	} else if db == "" {
		return errors.New("-token needs -db (the database to check the count in)")
	}

	c, err := kodoclient.New(url, kodoclient.Options{Token: token, Secret: secret, AdminKey: adminKey, Logger: log,
		BatchSize: 5000, FlushInterval: 200 * time.Millisecond})
	if err != nil {
		return err
	}
	w, err := c.NewWriter(kodoclient.WriterOptions{
		// Called as soon as a request fails for good; Close returns it too.
		OnError: func(e *kodoclient.WriteError) { log.Error("request failed", "points", e.Failed, "err", e.Err) },
	})
	if err != nil {
		return err
	}

	// A measurement of its own per run, so counts start from zero even
	// with -token.
	measurement := fmt.Sprintf("demo_%d", time.Now().UnixNano())
	start := time.Now()
	t0 := start.Add(-time.Duration(n) * time.Millisecond)
	for i := 0; i < n; i++ {
		p := kodoclient.Point{
			Measurement: measurement,
			Tags:        map[string]string{"host": fmt.Sprintf("web%02d", i%hosts), "region": "cn-east"},
			Fields:      map[string]any{"usage": float64(i%100) / 100, "requests": i},
			Time:        t0.Add(time.Duration(i) * time.Millisecond),
		}
		if err := w.Add(ctx, p); err != nil {
			_ = w.Close(ctx)
			return fmt.Errorf("adding point %d: %w", i, err)
		}
	}
	if err := w.Close(ctx); err != nil {
		var failed int
		var we *kodoclient.WriteError
		for _, e := range unjoin(err) {
			if errors.As(e, &we) {
				failed += we.Failed
			}
		}
		return fmt.Errorf("%d of %d points not stored: %w", failed, n, err)
	}
	elapsed := time.Since(start)
	fmt.Printf("wrote %d points in %s (%.0f points/s)\n", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())

	res, err := c.Query(ctx, db, fmt.Sprintf("SELECT count(requests) FROM %q", measurement))
	if err != nil {
		return fmt.Errorf("counting: %w", err)
	}
	if len(res.Results) != 1 || len(res.Results[0].Series) != 1 {
		return fmt.Errorf("count query answered no series: %+v", res)
	}
	got, err := res.Results[0].Series[0].Values[0][1].(json.Number).Int64()
	if err != nil {
		return fmt.Errorf("count query: %w", err)
	}
	if got != int64(n) {
		return fmt.Errorf("the gateway holds %d points of %s, want %d", got, measurement, n)
	}
	fmt.Printf("count(requests) = %d: every point is stored\n", got)
	return nil
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
