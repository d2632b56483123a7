package tsdb

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// TestWriteRefusesFuturePoints: a point past Config.MaxFuture is a bad
// line (E6000 naming it), and nothing of the body is written.
func TestWriteRefusesFuturePoints(t *testing.T) {
	eng := openEngine(t)
	f := newFixture(t, eng, func(c *Config) { c.MaxFuture = time.Hour })
	mustOK(t, f.call("POST", "/v4/repos/fut", `{"region":"nb"}`))
	mustOK(t, f.call("POST", "/v4/repos/fut/series/cpu", `{"retention":"7d"}`))
	now := time.Now()
	body := fmt.Sprintf("cpu v=1 %d\ncpu v=2 %d\n", now.UnixNano(), now.Add(2*time.Hour).UnixNano())
	a := f.call("POST", "/v4/repos/fut/points", []byte(body))
	mustErr(t, a, tsdbapi.CodeBadRequest)
	assert.Contains(t, a.errText(t), "line 2")
	assert.Contains(t, a.errText(t), "ahead of the server clock (limit MaxFuture)")
	mustOK(t, f.call("POST", "/v4/repos/fut/points", []byte(fmt.Sprintf("cpu v=1 %d\n", now.Add(30*time.Minute).UnixNano()))))
}

// TestWriteFieldTypeAcrossShards: a field written as a float yesterday
// refuses an integer today (another shard) with E6000 naming both types.
func TestWriteFieldTypeAcrossShards(t *testing.T) {
	eng := openEngine(t)
	f := newFixture(t, eng, nil)
	mustOK(t, f.call("POST", "/v4/repos/typed", `{"region":"nb"}`))
	mustOK(t, f.call("POST", "/v4/repos/typed/series/cpu", `{"retention":"7d"}`))
	now := time.Now()
	mustOK(t, f.call("POST", "/v4/repos/typed/points", []byte(fmt.Sprintf("cpu v=1.5 %d\n", now.Add(-24*time.Hour).UnixNano()))))
	a := f.call("POST", "/v4/repos/typed/points", []byte(fmt.Sprintf("cpu v=2i %d\n", now.UnixNano())))
	mustErr(t, a, tsdbapi.CodeBadRequest)
	assert.Contains(t, a.errText(t), `input field "v" on measurement "cpu" is type integer, already exists as type float`)
}
