package pgcluster

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// connect opens a superuser connection over TCP (trusted in pg_hba.conf).
func (c *Cluster) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, c.SuperDSN(""))
	if err != nil {
		return nil, fmt.Errorf("pgcluster: connect as %s: %w", c.SuperUser, err)
	}
	return conn, nil
}

// Exec runs sql as the superuser on a fresh connection. Without args it
// uses the simple protocol, so sql may hold several statements.
func (c *Cluster) Exec(ctx context.Context, sql string, args ...any) error {
	c.mu.Lock()
	stopped := c.stopped
	c.mu.Unlock()
	if stopped {
		return errStopped
	}
	return c.exec(ctx, sql, args...)
}

func (c *Cluster) exec(ctx context.Context, sql string, args ...any) error {
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("pgcluster: exec: %w", err)
	}
	return nil
}

// roleAttr matches role options such as SUPERUSER, CREATEDB or
// CONNECTION LIMIT 5; anything else is refused rather than spliced in.
var roleAttr = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_ ]*$`)

func createRoleSQL(name, password string, attrs []string) (string, error) {
	var b strings.Builder
	b.WriteString("CREATE ROLE ")
	b.WriteString(pgx.Identifier{name}.Sanitize())
	b.WriteString(" LOGIN")
	for _, a := range attrs {
		if !roleAttr.MatchString(a) {
			return "", fmt.Errorf("pgcluster: invalid role attribute %q", a)
		}
		b.WriteString(" " + a)
	}
	if password != "" {
		if strings.ContainsRune(password, 0) {
			return "", fmt.Errorf("pgcluster: password contains NUL")
		}
		b.WriteString(" PASSWORD " + quoteLiteral(password))
	}
	return b.String(), nil
}

// quoteLiteral quotes s as an SQL string literal, using the E'...' form when s
// holds backslashes so the result is independent of
// standard_conforming_strings.
func quoteLiteral(s string) string {
	s = strings.ReplaceAll(s, "'", "''")
	if strings.Contains(s, `\`) {
		return `E'` + strings.ReplaceAll(s, `\`, `\\`) + `'`
	}
	return "'" + s + "'"
}
