package faults

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestSlowClientBoundedMemory: a client that reads a 400 MB result
// slowly makes pgmantle stop reading from PostgreSQL (backpressure)
// instead of buffering: pgmantle's resident memory stays within a bound
// far below the result's size while the client dawdles, and the client
// still gets every row.
func TestSlowClientBoundedMemory(t *testing.T) {
	ctx := pgtest.Context(t)
	p := startPgmantle(t, "")
	if err := selectOne(ctx, p, "slow-warmup"); err != nil {
		t.Fatal(err)
	}
	before, err := p.RSS()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url(p, "postgres", "", "slow-client"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	const rows, width = 400_000, 1000
	rs, err := conn.Query(ctx, "SELECT g, repeat('x', 1000) FROM generate_series(1, 400000) g", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	var peak int64
	sample := func() {
		if r, err := p.RSS(); err == nil && r > peak {
			peak = r
		}
	}
	n, bytes := 0, 0
	for rs.Next() {
		n++
		bytes += len(rs.RawValues()[1])
		if n <= 20 {
			// Dawdle over the first rows: PostgreSQL has the whole result
			// ready; only backpressure keeps it out of pgmantle's memory.
			time.Sleep(200 * time.Millisecond)
			sample()
		} else if n%10000 == 0 {
			sample()
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	if n != rows || bytes != rows*width {
		t.Fatalf("got %d rows, %d bytes", n, bytes)
	}
	growth := peak - before
	t.Logf("pgmantle RSS %d MB before, peak %d MB during a %d MB result read slowly", before>>20, peak>>20, rows*width>>20)
	if growth > 64<<20 {
		t.Fatalf("pgmantle grew by %d MB while the client read slowly: no backpressure", growth>>20)
	}
}
