// Package analysiscases is the table of query-analysis cases shared by the
// parser's unit tests and the end-to-end run through pgmantle: a schema
// extending the bookkeeping example, seeded rows whose protected values
// the end-to-end run searches for in everything a client receives, a
// policy, and the cases, each with the side channel it exercises.
package analysiscases

// Schema extends examples/bookkeeping's schema: invoices joined on
// tokenized USCCs, departments for payroll reports, a schema with a clean
// table named like a protected one, views that compute from protected
// columns, and functions inside and outside the policy's allow-list.
const Schema = `
CREATE TABLE bk.invoices (
    id          int PRIMARY KEY,
    company_id  int REFERENCES bk.client_companies(id),
    buyer_uscc  char(18) NOT NULL,
    issued_on   date NOT NULL,
    amount      numeric(12,2) NOT NULL,
    tax         numeric(12,2) NOT NULL
);
CREATE TABLE bk.departments (payroll_id int, dept text);
CREATE SCHEMA staging;
CREATE TABLE staging.contacts (id int, name text, id_no text, note text);
CREATE VIEW bk.contact_regions AS
    SELECT id, left(id_no, 6) AS region, upper(email) AS email_upper FROM bk.contacts;
CREATE VIEW bk.payroll_public AS SELECT id, company_id, month FROM bk.payroll;
CREATE FUNCTION bk.fiscal_quarter(d date) RETURNS int LANGUAGE sql IMMUTABLE
    AS 'SELECT extract(quarter FROM d)::int';
CREATE FUNCTION bk.leak() RETURNS SETOF text LANGUAGE sql AS 'SELECT id_no FROM bk.contacts';
-- Residents partitioned by region (the first six digits of the ID
-- number): a plain read returns them region by region. Pay split by hand
-- (inheritance) by a CHECK on the salary.
CREATE TABLE bk.residents (id int, id_no char(18) NOT NULL, note text) PARTITION BY LIST (left(id_no, 6));
CREATE TABLE bk.residents_sh PARTITION OF bk.residents FOR VALUES IN ('310105', '310115');
CREATE TABLE bk.residents_bj PARTITION OF bk.residents FOR VALUES IN ('110101');
CREATE VIEW bk.resident_ids AS SELECT id FROM bk.residents;
-- Partitioned by a clean column, one partition sub-partitioned by region.
CREATE TABLE bk.members (id int, id_no char(18) NOT NULL, kind text NOT NULL) PARTITION BY LIST (kind);
CREATE TABLE bk.members_a PARTITION OF bk.members FOR VALUES IN ('a') PARTITION BY LIST (left(id_no, 6));
CREATE TABLE bk.members_a_sh PARTITION OF bk.members_a FOR VALUES IN ('310105', '310115');
CREATE TABLE bk.members_a_bj PARTITION OF bk.members_a FOR VALUES IN ('110101');
CREATE TABLE bk.members_b PARTITION OF bk.members FOR VALUES IN ('b');
CREATE VIEW bk.first_residents AS SELECT id FROM bk.residents LIMIT 2;
CREATE TABLE bk.pay_split (id int, amount numeric(12,2) NOT NULL, note text);
CREATE TABLE bk.pay_split_high (CHECK (amount >= 12200)) INHERITS (bk.pay_split);
GRANT USAGE ON SCHEMA bk, staging TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA bk, staging TO PUBLIC;
`

// Data seeds the tables. Every protected value is distinctive, so that a
// leak is found by searching for it.
const Data = `
INSERT INTO bk.client_companies VALUES
  (1, '上海申江会计服务有限公司', '91310101MA1FPX1234', '陈国华', '上海市黄浦区中山东一路1号'),
  (2, '上海浦东贸易有限公司', '91310115MA1GQY5678', '刘德明', '上海市浦东新区世纪大道88号');
INSERT INTO bk.contacts VALUES
  (1, 1, '张伟明', '310105198807158033', '13812345678', 'zhang.weiming@example.cn', '上海市黄浦区南京东路100号', '1988-07-15'),
  (2, 1, '李秀英', '310115199203041122', '13987654321', 'li.xiuying@example.cn', '上海市浦东新区张杨路500号', '1992-03-04'),
  (3, 2, '王建国', '310225197509112260', NULL, NULL, '上海市徐汇区漕溪北路200号', '1975-09-11');
INSERT INTO bk.bank_accounts VALUES
  (1, 1, '中国工商银行', '6222021234567890128', '2020-05-01'),
  (2, 2, '中国建设银行', '6217009876543210981', '2021-08-15');
INSERT INTO bk.payroll VALUES
  (1, 1, '张伟明', '310105198807158033', '2026-01-01', 12345.67, 23457),
  (2, 1, '赵丽华', '110101198001011232', '2026-01-01', 18765.43, 34561),
  (3, 2, '王建国', '310225197509112260', '2026-02-01', 9876.54, 12983);
INSERT INTO bk.invoices VALUES
  (1, 1, '91310101MA1FPX1234', '2026-01-15', 50000.00, 3000.00),
  (2, 1, '91310101MA1FPX1234', '2026-02-20', 42000.00, 2520.00),
  (3, 2, '91310115MA1GQY5678', '2026-02-28', 77000.00, 4620.00);
INSERT INTO bk.departments VALUES (1, '财务部'), (2, '财务部'), (3, '销售部');
INSERT INTO staging.contacts VALUES (1, 'test', 'ID-1', 'clean');
INSERT INTO bk.residents VALUES
  (1, '310105198807158033', 'a'), (2, '110101198001011232', 'b'), (3, '310115199203041122', 'a');
INSERT INTO bk.pay_split_high VALUES (1, 12345.67, 'a');
INSERT INTO bk.pay_split VALUES (2, 9876.54, 'b');
`

// Secrets are the seeded protected values by class.
var Secrets = map[string][]string{
	"cn_id":       {"310105198807158033", "310115199203041122", "310225197509112260", "110101198001011232"},
	"cn_mobile":   {"13812345678", "13987654321"},
	"person_name": {"张伟明", "李秀英", "王建国", "赵丽华", "陈国华", "刘德明"},
	"bank_card":   {"6222021234567890128", "6217009876543210981"},
	"salary":      {"12345.67", "18765.43", "9876.54", "23457", "34561", "12983"},
	"email":       {"zhang.weiming@example.cn", "li.xiuying@example.cn"},
	"address":     {"南京东路100号", "张杨路500号", "漕溪北路200号"},
	"birthday":    {"1988-07-15", "1992-03-04", "1975-09-11"},
	"uscc":        {"91310101MA1FPX1234", "91310115MA1GQY5678"},
}

// Policy classifies the columns and gives each role its rules.
const Policy = `
classes:
  cn_id:       [bk.contacts.id_no, bk.payroll.id_no, bk.residents.id_no, bk.members.id_no]
  cn_mobile:   [bk.contacts.mobile]
  person_name: [bk.contacts.name, bk.payroll.employee, bk.client_companies.legal_rep]
  bank_card:   [bk.bank_accounts.card_no]
  salary:      [bk.payroll.amount, bk.payroll.bonus, bk.pay_split.amount]
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

// Roles are the database roles the cases log in as.
var Roles = []string{"bookkeeper", "analyst", "auditor", "intern"}

// Clear lists, per role, the classes it sees in clear (excluded from the
// leak search).
var Clear = map[string][]string{"auditor": {"salary"}}

// Case is one statement, the role that sends it, and what must happen.
type Case struct {
	// Channel is the side channel (ARCHITECTURE 3.1) or "usability".
	Channel string
	Role    string
	// Setup statements run first in the same session, each on its own.
	Setup []string
	SQL   string
	// Params are text values for $1, $2, ...; cases with parameters run
	// over the extended protocol only.
	Params []string
	// Allow: the statement is allowed; otherwise it is refused with
	// SQLSTATE 42501 before it reaches PostgreSQL.
	Allow bool
	// Detok: allowed only when literals and parameters compared with a
	// tokenized column can be detokenized (the tokenization hook);
	// refused without it.
	Detok bool
	// Masks, when not nil, is the class each result column is shown
	// masked as ("" for clean).
	Masks []string
}
