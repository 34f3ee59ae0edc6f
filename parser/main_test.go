package parser_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/analysiscases"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/parser"
	"github.com/pgmantle/pgmantle/policy"
)

// TestMain starts one throwaway PostgreSQL for the package.
func TestMain(m *testing.M) {
	pgtest.Main(m, pgcluster.Options{})
}

var (
	envOnce sync.Once
	env     *parser.Env
	pol     *policy.Policy
	envErr  error
)

// testEnv loads the test schema into a database of the shared cluster
// once, and returns its analysis environment and policy.
func testEnv(tb testing.TB) (*parser.Env, *policy.Policy) {
	tb.Helper()
	envOnce.Do(func() {
		c := pgtest.Cluster(tb)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if envErr = c.Exec(ctx, "CREATE DATABASE analysis"); envErr != nil {
			return
		}
		conn := pgtest.Connect(tb, c.DSN(c.SuperUser, "", "analysis"))
		if _, envErr = conn.Exec(ctx, bookkeeping.Schema+analysiscases.Schema+analysiscases.Data); envErr != nil {
			return
		}
		for _, r := range bookkeeping.Roles {
			if _, envErr = conn.Exec(ctx, "CREATE ROLE "+r); envErr != nil {
				return
			}
		}
		var snap *catalog.Snapshot
		if snap, envErr = catalog.Load(ctx, conn, "analysis"); envErr != nil {
			return
		}
		if pol, envErr = policy.Parse("analysiscases.Policy", []byte(analysiscases.Policy)); envErr != nil {
			return
		}
		env = parser.NewEnv(snap, pol.ClassOf(snap), pol.Functions)
	})
	if envErr != nil {
		tb.Fatal(envErr)
	}
	return env, pol
}
