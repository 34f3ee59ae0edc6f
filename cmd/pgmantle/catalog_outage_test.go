package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmantle/pgmantle/internal/config"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
)

// TestCatalogOutageFailsClosed: with catalog.check_interval and
// catalog.max_stale from the configuration, losing pgmantle's catalog
// connection (its role may no longer log in, its sessions ended) refuses a
// restricted role's statements once the snapshot is past max_stale, with
// /readyz 503 and the catalog metric at 1; unrestricted sessions go on;
// once the catalog can be read again, the same restricted session is
// served again without reconnecting.
func TestCatalogOutageFailsClosed(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	ctx := pgtest.Context(t)
	const catRole, catPassword = "pgm_catalog_outage", "outage-Pa55"
	if err := c.CreateRole(ctx, catRole, catPassword, pgcluster.AuthSCRAM); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Exec(context.Background(), "ALTER ROLE "+catRole+" LOGIN") })
	dir := t.TempDir()
	passfile := filepath.Join(dir, "pgpass")
	if err := os.WriteFile(passfile, []byte("*:*:*:"+catRole+":"+catPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startAuditServer(t, c, dir,
		func(o *overrides) { o.catalogDSN = c.DSN(catRole, "", "postgres") + "&passfile=" + passfile },
		func(cfg *config.Config) {
			cfg.Catalog.CheckInterval, cfg.Catalog.MaxStale = 100*time.Millisecond, 500*time.Millisecond
		})
	defer s.stop() // after the sessions below are closed: stop waits for open ones

	analyst := s.connect(t, "analyst", "pw")
	bookkeeper := s.connect(t, "bookkeeper", "pw")
	query := func() error {
		_, err := analyst.Exec(ctx, "SELECT name, id_no FROM bk.contacts")
		return err
	}
	if err := query(); err != nil {
		t.Fatal(err)
	}

	if err := c.Exec(ctx, "ALTER ROLE "+catRole+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '"+catRole+"'"); err != nil {
		t.Fatal(err)
	}
	var refused *pgconn.PgError
	for deadline := time.Now().Add(20 * time.Second); refused == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a restricted statement was still served 20 s after the catalog became unreadable (max_stale 500ms)")
		}
		if err := query(); err != nil && !errors.As(err, &refused) {
			t.Fatal(err)
		}
	}
	if refused.Code != "42501" || !strings.Contains(refused.Message, "cannot apply the current policy") {
		t.Errorf("refusal: %s %s", refused.Code, refused.Message)
	}
	if code := httpStatus(t, "http://"+s.admin+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz = %d while the catalog cannot be read", code)
	}
	if v := s.metric(t, "pgmantle_catalog_failing"); v != 1 {
		t.Errorf("pgmantle_catalog_failing = %v", v)
	}
	if _, err := bookkeeper.Exec(ctx, "SELECT id_no FROM bk.contacts"); err != nil {
		t.Errorf("an unrestricted session during the catalog outage: %v", err)
	}

	if err := c.Exec(ctx, "ALTER ROLE "+catRole+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); query() != nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("restricted statements stayed refused 20 s after the catalog became readable again")
		}
	}
	if code := httpStatus(t, "http://"+s.admin+"/readyz"); code != http.StatusOK {
		t.Errorf("readyz = %d once the catalog is read again", code)
	}
	analyst.Close(ctx)
	bookkeeper.Close(ctx)
}

// TestMembershipRevokedEndsSession: pgmantle serve re-decides sessions
// relayed untouched when the catalog changes, as on a policy reload: a
// login whose membership in the unrestricted bookkeeper role is revoked
// (and that is granted analyst) has its open session ended with 57P01
// instead of reading in clear for as long as it stays open (red-team
// finding, 2026-11-29).
func TestMembershipRevokedEndsSession(t *testing.T) {
	c := pgtest.Cluster(t)
	setupAuditDB(t, c)
	ctx := pgtest.Context(t)
	const role = "pgm_revoked_member"
	c.Exec(ctx, "DROP ROLE IF EXISTS "+role)
	if err := c.CreateRole(ctx, role, "pw", pgcluster.AuthSCRAM); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })
	if err := c.Exec(ctx, "GRANT bookkeeper TO "+role); err != nil {
		t.Fatal(err)
	}
	s := startAuditServer(t, c, t.TempDir(), nil, func(cfg *config.Config) {
		cfg.Catalog.CheckInterval = 200 * time.Millisecond
	})
	defer s.stop()
	time.Sleep(time.Second) // the catalog check sees the new role's membership
	conn := s.connect(t, role, "pw")
	defer conn.Close(context.Background()) // before s.stop, which waits for open sessions
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM bk.contacts").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, "REVOKE bookkeeper FROM "+role+"; GRANT analyst TO "+role); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := conn.QueryRow(ctx, "SELECT count(*) FROM bk.contacts").Scan(&n)
		if err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code != "57P01" {
				t.Fatalf("after the revoke: %v; want the session ended with 57P01", err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("15 s after the revoke the session is still relayed untouched")
		}
	}
}
