package tsengine_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/kodo-project/kodo/storage/tsengine"
)

func ExampleValidateRetentionPolicies() {
	err := tsengine.ValidateRetentionPolicies("metrics", []tsengine.RetentionPolicy{
		{Name: "raw", Duration: 30 * time.Minute, Default: true},
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, tsengine.ErrInvalidRetentionPolicy))
	// Output:
	// retention policy "raw" on database "metrics": duration 30m0s is below the minimum of 1h0m0s (0 keeps data forever)
	// true
}

func ExampleShardGroupDuration() {
	for _, d := range []time.Duration{time.Hour, 7 * 24 * time.Hour, 0} {
		fmt.Println(d, "->", tsengine.ShardGroupDuration(d))
	}
	// Output:
	// 1h0m0s -> 1h0m0s
	// 168h0m0s -> 24h0m0s
	// 0s -> 168h0m0s
}

func ExampleEpochUnit() {
	u, _ := tsengine.EpochUnit("ms")
	fmt.Println(u)
	_, err := tsengine.EpochUnit("weeks")
	fmt.Println(err)
	// Output:
	// 1ms
	// unknown epoch "weeks": use ns, u, ms, s, m, h or empty for RFC3339 strings
}
