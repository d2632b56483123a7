package tsdbclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kodo-project/kodo/signer"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// Client calls the Pandora TSDB v4 API, signing every request with an
// access key / secret key pair. API failures are *tsdbapi.Error values
// carrying the E-code; use tsdbapi.CodeOf or
// errors.Is(err, &tsdbapi.Error{Code: "E6303"}).
type Client struct {
	endpoint string
	hc       *http.Client
}

// maxAnswerBytes caps how much of an answer the client reads.
const maxAnswerBytes = 256 << 20

// NewClient returns a client of the service at endpoint ("http://host:port",
// no trailing path). base carries the signed requests (nil =
// http.DefaultTransport).
func NewClient(endpoint, accessKey, secretKey string, base http.RoundTripper) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tsdb: endpoint %q must be http(s)://host[:port]", endpoint)
	}
	if accessKey == "" || secretKey == "" {
		return nil, errors.New("tsdb: the client needs an access key and a secret key")
	}
	return &Client{
		endpoint: strings.TrimRight(endpoint, "/"),
		hc:       &http.Client{Transport: signer.NewPandoraTransport(base, accessKey, secretKey)},
	}, nil
}

// QueryOptions tune Query.
type QueryOptions struct {
	// Timezone is the caller's offset from UTC ("+08", "-05"); time
	// literals of the query are read in it. "" = UTC.
	Timezone string
}

func repoPath(repo string, rest ...string) string {
	p := "/v4/repos/" + url.PathEscape(repo)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// do sends method path with body (JSON-encoded unless it is []byte, sent
// as text/plain) and decodes a 200 answer into out when out is non-nil.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "text/plain"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("tsdb: encoding request: %w", err)
		}
		rd, ctype = bytes.NewReader(data), "application/json"
	}
	u := c.endpoint + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("tsdb: %w", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("tsdb: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("tsdb: %s %s: reading answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return tsdbapi.ParseError(resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("tsdb: %s %s: decoding answer: %w", method, path, err)
		}
	}
	return nil
}

// CreateRepo creates a repo in a region ("nb" or one the server adds).
func (c *Client) CreateRepo(ctx context.Context, repo string, in tsdbapi.CreateRepoInput) error {
	return c.do(ctx, http.MethodPost, repoPath(repo), nil, in, nil)
}

// GetRepo describes a repo.
func (c *Client) GetRepo(ctx context.Context, repo string) (tsdbapi.RepoInfo, error) {
	var out tsdbapi.RepoInfo
	err := c.do(ctx, http.MethodGet, repoPath(repo), nil, nil, &out)
	return out, err
}

// ListRepos lists the key pair's repos.
func (c *Client) ListRepos(ctx context.Context) ([]tsdbapi.RepoInfo, error) {
	var out []tsdbapi.RepoInfo
	err := c.do(ctx, http.MethodGet, "/v4/repos", nil, nil, &out)
	return out, err
}

// UpdateRepoMetadata replaces a repo's metadata.
func (c *Client) UpdateRepoMetadata(ctx context.Context, repo string, md map[string]string) error {
	return c.do(ctx, http.MethodPost, repoPath(repo, "meta"), nil, tsdbapi.MetadataInput{Metadata: md}, nil)
}

// DeleteRepoMetadata clears a repo's metadata.
func (c *Client) DeleteRepoMetadata(ctx context.Context, repo string) error {
	return c.do(ctx, http.MethodDelete, repoPath(repo, "meta"), nil, nil, nil)
}

// DeleteRepo starts deleting a repo; it shows "deleting":"true" until done.
func (c *Client) DeleteRepo(ctx context.Context, repo string) error {
	return c.do(ctx, http.MethodDelete, repoPath(repo), nil, nil, nil)
}

// CreateSeries creates a series with a retention of "1d" to "30d".
func (c *Client) CreateSeries(ctx context.Context, repo, series string, in tsdbapi.CreateSeriesInput) error {
	return c.do(ctx, http.MethodPost, repoPath(repo, "series", series), nil, in, nil)
}

// GetSeries describes a series, metadata included.
func (c *Client) GetSeries(ctx context.Context, repo, series string) (tsdbapi.SeriesInfo, error) {
	var out tsdbapi.SeriesInfo
	err := c.do(ctx, http.MethodGet, repoPath(repo, "series", series), nil, nil, &out)
	return out, err
}

// ListSeries lists a repo's series; showMeta adds their metadata.
func (c *Client) ListSeries(ctx context.Context, repo string, showMeta bool) ([]tsdbapi.SeriesInfo, error) {
	var out []tsdbapi.SeriesInfo
	err := c.do(ctx, http.MethodGet, repoPath(repo, "series"), url.Values{"showMeta": {strconv.FormatBool(showMeta)}}, nil, &out)
	return out, err
}

// UpdateSeriesMetadata replaces a series' metadata.
func (c *Client) UpdateSeriesMetadata(ctx context.Context, repo, series string, md map[string]string) error {
	return c.do(ctx, http.MethodPost, repoPath(repo, "series", series, "meta"), nil, tsdbapi.MetadataInput{Metadata: md}, nil)
}

// DeleteSeriesMetadata clears a series' metadata.
func (c *Client) DeleteSeriesMetadata(ctx context.Context, repo, series string) error {
	return c.do(ctx, http.MethodDelete, repoPath(repo, "series", series, "meta"), nil, nil, nil)
}

// DeleteSeries starts deleting a series and its points.
func (c *Client) DeleteSeries(ctx context.Context, repo, series string) error {
	return c.do(ctx, http.MethodDelete, repoPath(repo, "series", series), nil, nil, nil)
}

// CreateView stores a named SELECT over the repo's series.
func (c *Client) CreateView(ctx context.Context, repo, view string, in tsdbapi.CreateViewInput) error {
	return c.do(ctx, http.MethodPost, repoPath(repo, "views", view), nil, in, nil)
}

// GetView describes a view.
func (c *Client) GetView(ctx context.Context, repo, view string) (tsdbapi.ViewInfo, error) {
	var out tsdbapi.ViewInfo
	err := c.do(ctx, http.MethodGet, repoPath(repo, "views", view), nil, nil, &out)
	return out, err
}

// ListViews lists a repo's views.
func (c *Client) ListViews(ctx context.Context, repo string) ([]tsdbapi.ViewInfo, error) {
	var out []tsdbapi.ViewInfo
	err := c.do(ctx, http.MethodGet, repoPath(repo, "views"), nil, nil, &out)
	return out, err
}

// DeleteView removes a view.
func (c *Client) DeleteView(ctx context.Context, repo, view string) error {
	return c.do(ctx, http.MethodDelete, repoPath(repo, "views", view), nil, nil, nil)
}

// WritePoints sends a line-protocol body (nanosecond timestamps). Every
// measurement must be a series of the repo.
func (c *Client) WritePoints(ctx context.Context, repo string, lines []byte) (tsdbapi.WriteResult, error) {
	var out tsdbapi.WriteResult
	if lines == nil {
		lines = []byte{}
	}
	err := c.do(ctx, http.MethodPost, repoPath(repo, "points"), nil, lines, &out)
	return out, err
}

// Query runs InfluxQL naming series (and views) bare.
func (c *Client) Query(ctx context.Context, repo, sql string, opt QueryOptions) (tsdbapi.QueryRet, error) {
	var out tsdbapi.QueryRet
	var q url.Values
	if opt.Timezone != "" {
		q = url.Values{"timezone": {opt.Timezone}}
	}
	err := c.do(ctx, http.MethodPost, repoPath(repo, "query"), q, tsdbapi.QueryInput{SQL: sql}, &out)
	return out, err
}
