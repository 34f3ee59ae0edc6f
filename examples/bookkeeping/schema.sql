-- A Shanghai bookkeeping firm's database, reduced to the tables that hold
-- personal data. Roles: bookkeeper (the accounting application,
-- unrestricted), analyst, auditor, intern.
CREATE SCHEMA IF NOT EXISTS bk;

CREATE TABLE bk.client_companies (
    id          int PRIMARY KEY,
    name        text NOT NULL,
    uscc        char(18) NOT NULL,          -- 统一社会信用代码
    legal_rep   varchar(20) NOT NULL,       -- 法定代表人
    address     text
);

CREATE TABLE bk.contacts (
    id          int PRIMARY KEY,
    company_id  int REFERENCES bk.client_companies(id),
    name        varchar(20) NOT NULL,
    id_no       char(18),                   -- 居民身份证号
    mobile      varchar(20),
    email       text,
    address     text,
    birthday    date
);

CREATE TABLE bk.bank_accounts (
    id          int PRIMARY KEY,
    company_id  int REFERENCES bk.client_companies(id),
    bank        text NOT NULL,
    card_no     varchar(19) NOT NULL,
    opened_at   timestamptz NOT NULL
);

CREATE TABLE bk.payroll (
    id          int PRIMARY KEY,
    company_id  int REFERENCES bk.client_companies(id),
    employee    varchar(20) NOT NULL,
    id_no       char(18) NOT NULL,
    month       date NOT NULL,
    amount      numeric(12,2) NOT NULL,
    bonus       int
);

CREATE VIEW bk.contact_directory AS
    SELECT c.name AS contact, c.mobile AS phone, co.name AS company
    FROM bk.contacts c JOIN bk.client_companies co ON co.id = c.company_id;

CREATE TABLE bk.employees (                 -- the client companies' employees
    id          int PRIMARY KEY,
    company_id  int REFERENCES bk.client_companies(id),
    name        varchar(20) NOT NULL,
    id_no       char(18) NOT NULL,
    mobile      varchar(20),
    hired_on    date NOT NULL
);

CREATE TABLE bk.sales_invoices (            -- 发票
    id          int PRIMARY KEY,
    company_id  int REFERENCES bk.client_companies(id),
    invoice_no  char(20) NOT NULL,          -- 发票号码
    issued_on   date NOT NULL,
    buyer       text NOT NULL,              -- 购买方 (a company)
    amount      numeric(14,2) NOT NULL,
    tax         numeric(14,2) NOT NULL
);

CREATE TABLE bk.ledger_vouchers (            -- 记账凭证 lines
    id          int PRIMARY KEY,
    company_id  int REFERENCES bk.client_companies(id),
    voucher_no  text NOT NULL,              -- 记-2026-11-0001
    posted_on   date NOT NULL,
    account     text NOT NULL,              -- 会计科目
    summary     text NOT NULL,              -- 摘要
    debit       numeric(14,2) NOT NULL,
    credit      numeric(14,2) NOT NULL
);
