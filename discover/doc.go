// Package discover finds columns that look like personal data: by their
// content, with the validators of the Chinese formats (check digits for
// resident IDs, bank cards and USCCs; patterns for mobiles, e-mail and
// passports; heuristics for names and addresses), and by their names
// (English and pinyin: id_card, sfz, shenfenzheng, mobile, shouji, ...).
//
// It stops at judging samples: reading the database (sampling under a
// row and time budget) and writing the proposed policy are the command
// line's.
package discover
