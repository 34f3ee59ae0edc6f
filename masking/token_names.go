package masking

// Pseudonyms for person names (FORMATS.md: a deterministic pseudonym
// drawn from a name list keyed by HMAC; FF1 over one or two characters is
// below the domain minimum). Both lists are GB 2312 characters, so every
// client encoding pgmantle transcodes to can show them.

// commonSurnames are frequent single-character surnames.
var commonSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")

// givenChars are frequent characters of given names.
var givenChars = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红文辉玉梅鑫晨浩宇轩子涵欣怡梓睿思嘉俊博文雨萱佳琪一诺天佑晓东海燕春雪飞鹏凯宏斌婷倩颖琳然彤泽昊瑞航铭宁安乐新阳光荣德永林慧颖淑珍凤兰云峰健亮成立家兴学斌松楠蕾薇莉琴蓉瑶晶")
