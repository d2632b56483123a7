// Command embed-server shows Kodo embedded in another Go program: it opens
// a kodo.Server (embedded InfluxDB engine, SQLite metadata) and serves its
// API on the program's own http.ServeMux, next to the program's own
// handlers, on one listener. It then drives itself with the Go client
// (workspace, signed write, read), calls the Pandora TSDB v4 API with the
// tsdb client, calls its own handler, and shuts down.
//
//	go run ./examples/embed-server              # self-check, then exit
//	go run ./examples/embed-server -keep        # keep serving until Ctrl-C
//
// It starts its own gateway (no -url) and exits non-zero on failure.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/kodo-project/kodo/kodo"
	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/kodo/kodoclient"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
	"github.com/kodo-project/kodo/tsdb/tsdbclient"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	data := flag.String("data", "", "data directory (default: a temporary one, removed at exit)")
	keep := flag.Bool("keep", false, "keep serving after the self-check until interrupted")
	timeout := flag.Duration("timeout", time.Minute, "give up the self-check after")
	flag.Parse()
	if err := run(*listen, *data, *keep, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "embed-server:", err)
		os.Exit(1)
	}
}

func run(listen, data string, keep bool, timeout time.Duration) (err error) {
	if data == "" {
		dir, err := os.MkdirTemp("", "kodo-embed-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		data = dir
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// The gateway: opened here, served by our own http.Server below.
	// A Pandora key pair for the /v4 API; a real program reads it from its
	// configuration.
	ak, sk := "embed-ak", fmt.Sprintf("embed-sk-%d", time.Now().UnixNano())
	gw, err := kodo.New(kodo.Options{DataDir: data, Logger: log, TSDBAccessKey: ak, TSDBSecretKey: sk})
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = errors.Join(err, gw.Shutdown(ctx))
	}()

	mux := http.NewServeMux()
	mux.Handle("/v1/", gw.Handler()) // Kodo metrics API
	mux.Handle("/v4/", gw.Handler()) // Pandora TSDB API
	mux.HandleFunc("GET /app/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "hello from the host program\n")
	})

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, hs.Shutdown(ctx))
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}()
	base := "http://" + ln.Addr().String()
	fmt.Println("serving on", base)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := selfCheck(ctx, base, ak, sk); err != nil {
		return err
	}
	fmt.Println("self-check ok")

	if keep {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		fmt.Println("serving until interrupted")
		<-sig
	}
	return nil
}

// selfCheck uses the gateway through the mux, as any client would.
func selfCheck(ctx context.Context, base, ak, sk string) error {
	c, err := kodoclient.New(base, kodoclient.Options{})
	if err != nil {
		return err
	}
	ping, err := c.Ping(ctx)
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	fmt.Println("kodo version", ping.Version)

	ws, err := c.CreateWorkspace(ctx, kodoapi.CreateWorkspaceRequest{Name: "embedded"})
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	w, err := kodoclient.New(base, kodoclient.Options{Token: ws.Token, Secret: ws.Secret})
	if err != nil {
		return err
	}
	now := time.Now()
	if err := w.Write(ctx,
		kodoclient.Point{Measurement: "jobs", Tags: map[string]string{"queue": "mail"}, Fields: map[string]any{"done": 3}, Time: now.Add(-time.Second)},
		kodoclient.Point{Measurement: "jobs", Tags: map[string]string{"queue": "mail"}, Fields: map[string]any{"done": 4}, Time: now},
	); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	res, err := w.Query(ctx, ws.DBUUID, "SELECT sum(done) FROM jobs WHERE time > now() - 1m")
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	if len(res.Results) != 1 || len(res.Results[0].Series) != 1 {
		return fmt.Errorf("query answered no series")
	}
	if sum := res.Results[0].Series[0].Values[0][1]; sum != json.Number("7") {
		return fmt.Errorf("sum(done) = %v, want 7", sum)
	}
	fmt.Println("sum(done) = 7")

	// The Pandora TSDB v4 API is on the same mux.
	tc, err := tsdbclient.NewClient(base, ak, sk, nil)
	if err != nil {
		return err
	}
	if err := tc.CreateRepo(ctx, "embedded", tsdbapi.CreateRepoInput{Region: "nb"}); err != nil {
		return fmt.Errorf("tsdb create repo: %w", err)
	}
	repos, err := tc.ListRepos(ctx)
	if err != nil {
		return fmt.Errorf("tsdb list repos: %w", err)
	}
	if len(repos) != 1 || repos[0].Name != "embedded" {
		return fmt.Errorf("tsdb repos: %+v", repos)
	}
	fmt.Println("tsdb repo", repos[0].Name)

	// The host program's own handler shares the listener.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/app/hello", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello from the host program\n" {
		return fmt.Errorf("/app/hello answered %d %q", resp.StatusCode, body)
	}
	fmt.Print("/app/hello: ", string(body))
	return nil
}
