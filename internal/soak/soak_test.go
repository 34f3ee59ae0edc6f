package soak

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestSoak runs the soak for PGMANTLE_SOAK_DURATION (default 20s, the CI
// run; `go run ./bench/soak` makes the 10-minute one) with 50 clients:
// no unexpected error, exactly one audit record per statement sent, an
// intact audit chain, and flat memory.
func TestSoak(t *testing.T) {
	d := 20 * time.Second
	if s := os.Getenv("PGMANTLE_SOAK_DURATION"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+5*time.Minute)
	defer cancel()
	res, err := Run(ctx, Options{Duration: d, Clients: 50, Analysts: 15, Sizes: SmallSizes, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", res.Markdown())
	if res.Sent == 0 || res.ByRole["bookkeeper"] == 0 || res.ByRole["analyst"] == 0 || res.ByRole["auditor"] == 0 || res.Refused == 0 {
		t.Fatalf("the workload did not run as designed: %+v", res.ByRole)
	}
	if res.Unexpected != 0 {
		t.Errorf("%d unexpected errors: %q", res.Unexpected, res.FirstErrors)
	}
	if res.AuditRecords != res.Sent {
		t.Errorf("%d statements sent, %d audit statement records", res.Sent, res.AuditRecords)
	}
	if !res.AuditVerified {
		t.Errorf("audit verify: %s", res.AuditVerify)
	}
	if !res.Flat() {
		t.Errorf("memory grew: %v", res.RSS)
	}
}
