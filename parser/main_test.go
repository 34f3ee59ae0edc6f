package parser_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/examples/bookkeeping"
	"github.com/pgmantle/pgmantle/internal/pgcluster"
	"github.com/pgmantle/pgmantle/internal/pgtest"
	"github.com/pgmantle/pgmantle/parser"
	"github.com/pgmantle/pgmantle/policy"
)

// TestMain starts one throwaway PostgreSQL for the package.
func TestMain(m *testing.M) {
	pgtest.Main(m, pgcluster.Options{})
}

// testSchema extends the bookkeeping example with what the analysis tests
// need: invoices joined on tokenized USCCs, a schema with a clean table of
// the same name as a protected one, views that compute from protected
// columns, and functions inside and outside the policy's allow-list.
const testSchema = `
CREATE TABLE bk.invoices (
    id          int PRIMARY KEY,
    company_id  int REFERENCES bk.client_companies(id),
    buyer_uscc  char(18) NOT NULL,
    issued_on   date NOT NULL,
    amount      numeric(12,2) NOT NULL,
    tax         numeric(12,2) NOT NULL
);
CREATE TABLE bk.departments (company_id int, employee varchar(20), dept text);
CREATE SCHEMA staging;
CREATE TABLE staging.contacts (id int, name text, id_no text, note text);
CREATE VIEW bk.contact_regions AS
    SELECT id, left(id_no, 6) AS region, upper(email) AS email_upper FROM bk.contacts;
CREATE VIEW bk.payroll_public AS SELECT id, company_id, month FROM bk.payroll;
CREATE FUNCTION bk.fiscal_quarter(d date) RETURNS int LANGUAGE sql IMMUTABLE
    AS 'SELECT extract(quarter FROM d)::int';
CREATE FUNCTION bk.leak() RETURNS SETOF text LANGUAGE sql AS 'SELECT id_no FROM bk.contacts';
`

const testPolicy = `
classes:
  cn_id:       [bk.contacts.id_no, bk.payroll.id_no]
  cn_mobile:   [bk.contacts.mobile]
  person_name: [bk.contacts.name, bk.payroll.employee, bk.client_companies.legal_rep, bk.departments.employee]
  bank_card:   [bk.bank_accounts.card_no]
  salary:      [bk.payroll.amount, bk.payroll.bonus]
  email:       ["bk.*.email"]
  address:     [bk.contacts.address]
  birthday:    [bk.contacts.birthday]
  uscc:        [bk.client_companies.uscc, bk.invoices.buyer_uscc]
functions: [bk.fiscal_quarter]
roles:
  bookkeeper: {unrestricted: true}
  analyst:
    rules:
      cn_id:       tokenize
      uscc:        tokenize
      bank_card:   {mask: bank_card}
      cn_mobile:   hash
      person_name: {mask: cn_name}
      salary:      {mask: round, to: 1000}
      email:       {mask: email}
      address:     {mask: address, level: district}
      birthday:    {mask: generalize, unit: year}
  auditor:
    inherits: [analyst]
    rules:
      salary: clear
  intern:
    rules:
      "*": deny
      person_name: {mask: cn_name}
default:
  rules: {"*": deny}
`

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
		if _, envErr = conn.Exec(ctx, bookkeeping.Schema+testSchema); envErr != nil {
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
		if pol, envErr = policy.Parse("test-policy.yaml", []byte(testPolicy)); envErr != nil {
			return
		}
		env = parser.NewEnv(snap, pol.ClassOf(snap), pol.Functions)
	})
	if envErr != nil {
		tb.Fatal(envErr)
	}
	return env, pol
}
