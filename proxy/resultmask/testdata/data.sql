-- A few rows of the bookkeeping example, with valid check digits.
INSERT INTO bk.client_companies VALUES
  (1, '上海申江会计服务有限公司', '91350100M000100Y43', '欧阳明', '上海市浦东新区世纪大道100号'),
  (2, '苏州吴门贸易有限公司', '91350100M000100Y43', '王芳', '江苏省苏州市姑苏区人民路1号');
INSERT INTO bk.contacts VALUES
  (1, 1, '张伟', '310105199003078032', '13812345678', 'zhangwei@163.com', '上海市浦东新区张江路88弄3号', '1990-03-07'),
  (2, 1, '欧阳娜娜', '11010519491231002X', '+86 139-0000-1234', 'nana@example.cn', '上海市徐汇区漕溪北路9号', '1949-12-31'),
  (3, 2, '李娜', NULL, NULL, NULL, NULL, NULL);
INSERT INTO bk.bank_accounts VALUES
  (1, 1, '中国工商银行', '6222021234567894', '2020-01-02 09:00:00+08');
INSERT INTO bk.payroll VALUES
  (1, 1, '张伟', '310105199003078032', '2026-10-01', 18765.43, 2500),
  (2, 1, '欧阳娜娜', '11010519491231002X', '2026-10-01', 23456.78, NULL);
