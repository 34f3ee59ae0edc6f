package resultmask

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmantle/pgmantle/masking"
	"github.com/pgmantle/pgmantle/parser"
	"github.com/pgmantle/pgmantle/policy"
)

// Search by token: an equality (=, <>, IN) between a tokenized column and
// a literal or a bind parameter is served by detokenizing the literal or
// parameter before the statement reaches PostgreSQL. An analyst who
// copies a token from a result finds its row; a guessed real value
// detokenizes to some other value and finds nothing. The rewritten text
// holds real values, so it is never logged: only the client's text is.

// tokenizerKey identifies a tokenizer: a class and its rule's options.
type tokenizerKey struct {
	class       string
	keepSurname bool
}

// tokenizer returns the binding's tokenizer of a class under a rule.
func (b *binding) tokenizer(class string, a policy.Action) (*masking.Tokenizer, error) {
	k := tokenizerKey{class: class, keepSurname: a.Options.KeepSurname == nil || *a.Options.KeepSurname}
	b.tokMu.Lock()
	defer b.tokMu.Unlock()
	if t := b.tokenizers[k]; t != nil {
		return t, nil
	}
	t, err := masking.NewTokenizer(class, a.Options, b.keys)
	if err != nil {
		return nil, err
	}
	b.tokenizers[k] = t
	return t, nil
}

// site is one literal or parameter to detokenize, with its tokenizer.
type site struct {
	offset int // byte offset of a literal (or of the $n) in the analysed text
	param  int // $n, or 0 for a literal
	class  string
	t      *masking.Tokenizer
}

// detokenizeSites collects a plan's sites. A site compared with columns
// of two classes, or with a class whose tokens are one-way, is refused.
func (s *session) detokenizeSites(b *binding, rules parser.Rules, decisions []*parser.Decision) ([]site, error) {
	var sites []site
	add := func(st site) error {
		for _, o := range sites {
			if o.offset == st.offset && o.param == st.param {
				if o.t != st.t {
					return refuseStatement("a literal or parameter is compared with tokens of classes %s and %s at once; search one column at a time", o.class, st.class)
				}
				return nil
			}
		}
		sites = append(sites, st)
		return nil
	}
	for _, d := range decisions {
		for _, u := range d.Detokenize {
			class := u.Source.Class
			t, err := b.tokenizer(class, rules.Action(class))
			if err != nil {
				return nil, refuseStatement("tokens of class %s cannot be searched: the class has no usable key", class)
			}
			if !t.Reversible() {
				return nil, refuseStatement("role %q may not search class %s (%s) by token: its tokens are one-way pseudonyms", s.info.User, class, u.Source.Column)
			}
			for _, off := range u.Literals {
				if err := add(site{offset: off, class: class, t: t}); err != nil {
					return nil, err
				}
			}
			for i, p := range u.Params {
				if err := add(site{offset: u.ParamLocs[i], param: p, class: class, t: t}); err != nil {
					return nil, err
				}
			}
		}
	}
	return sites, nil
}

var (
	errLiteralForm = errors.New("literal form")
	errNoReverse   = errors.New("no reverse")
	errNonASCII    = errors.New("non-ASCII token")
)

// rewriteLiterals returns sql (UTF-8) with each literal site replaced by
// the quoted detokenized value. Only plain '...' and $$...$$ strings are
// rewritten; other literal forms are refused (their decoding depends on
// settings pgmantle would have to reproduce).
//
// asciiOnly (a session whose client encoding is not UTF-8) refuses tokens
// with other characters: their real values might not be representable in
// the session's encoding, and refusing only then would tell so. Tokens
// keep each character's kind, so an ASCII token stands for an ASCII value.
func rewriteLiterals(sql string, toks []*pg_query.ScanToken, sites []site, asciiOnly bool) (string, error) {
	lits := make([]site, 0, len(sites))
	for _, st := range sites {
		if st.param == 0 {
			lits = append(lits, st)
		}
	}
	if len(lits) == 0 {
		return sql, nil
	}
	// The lexer's own idea of where each string constant ends: a
	// constant continued on another line ('a' <newline or CR> 'b') is one
	// token, and must not be read as its first piece.
	ends := map[int]int{}
	for _, tok := range toks {
		if tok.Token == pg_query.Token_SCONST {
			ends[int(tok.Start)] = int(tok.End)
		}
	}
	slices.SortFunc(lits, func(a, b site) int { return b.offset - a.offset })
	out := sql
	var buf []byte
	for _, st := range lits {
		val, end, err := readString(out, st.offset)
		if err != nil {
			return "", err
		}
		if tokEnd, ok := ends[st.offset]; !ok || tokEnd != end {
			return "", errLiteralForm
		}
		if asciiOnly && !asciiToken(val) {
			return "", errNonASCII
		}
		buf, err = st.t.Detokenize(buf[:0], []byte(val))
		if err != nil {
			return "", errNoReverse
		}
		out = out[:st.offset] + quoteLiteral(string(buf)) + out[end:]
	}
	return out, nil
}

// readString decodes the string constant starting at off: a quoted one
// (a doubled quote stands for a quote; standard_conforming_strings is on
// for restricted roles) or a dollar-quoted one. It returns the value and the end offset.
func readString(sql string, off int) (string, int, error) {
	if off < 0 || off >= len(sql) {
		return "", 0, errLiteralForm
	}
	switch sql[off] {
	case '\'':
		var b strings.Builder
		i := off + 1
		for i < len(sql) {
			c := sql[i]
			if c == '\'' {
				if i+1 < len(sql) && sql[i+1] == '\'' {
					b.WriteByte('\'')
					i += 2
					continue
				}
				end := i + 1
				return b.String(), end, nil
			}
			b.WriteByte(c)
			i++
		}
	case '$':
		j := strings.IndexByte(sql[off+1:], '$')
		if j < 0 {
			break
		}
		tag := sql[off : off+j+2]
		body := off + len(tag)
		k := strings.Index(sql[body:], tag)
		if k < 0 {
			break
		}
		return sql[body : body+k], body + k + len(tag), nil
	}
	return "", 0, errLiteralForm
}

func quoteLiteral(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// paramsConfined checks that every parameter to be detokenized appears
// only where it is compared with a tokenized column: used anywhere else
// (SELECT $1, another predicate, a function), the real value it becomes
// would reach that place.
func paramsConfined(sql string, toks []*pg_query.ScanToken, sites []site) error {
	ps := paramSites(sites)
	if len(ps) == 0 {
		return nil
	}
	at := map[int]bool{}
	nums := map[int]bool{}
	for _, st := range ps {
		at[st.offset] = true
		nums[st.param] = true
	}
	for _, tok := range toks {
		if tok.Token != pg_query.Token_PARAM {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(sql[tok.Start:tok.End], "$"))
		if err != nil || !nums[n] || at[int(tok.Start)] {
			continue
		}
		return refuseStatement("parameter $%d is compared with a tokenized column and used elsewhere too; pass the token in a parameter of its own", n)
	}
	return nil
}

// asciiToken reports a token of ASCII characters, full-width forms of
// them (which tokens read as ASCII) included.
func asciiToken(s string) bool {
	for _, r := range s {
		if r >= 0x80 && !(r >= 0xFF01 && r <= 0xFF5E) && r != 0x3000 {
			return false
		}
	}
	return true
}

// textParamOIDs are the parameter types a detokenized string is sent as
// without conversion (0: PostgreSQL infers it from the comparison).
var textParamOIDs = map[uint32]bool{0: true, 25: true, 1043: true, 1042: true, 19: true, 705: true}

// paramTypesText refuses parameters to be detokenized that a Parse
// declares of another type: the real value would be converted, and a
// conversion error would tell something about it.
func paramTypesText(oids []uint32, sites []site) error {
	for _, st := range paramSites(sites) {
		if i := st.param - 1; i < len(oids) && !textParamOIDs[oids[i]] {
			return refuseStatement("parameter $%d is compared with a tokenized column but declared of a non-text type; send it untyped or as text", st.param)
		}
	}
	return nil
}

// paramSites returns the sites of bind parameters.
func paramSites(sites []site) []site {
	var ps []site
	for _, st := range sites {
		if st.param > 0 {
			ps = append(ps, st)
		}
	}
	return ps
}

// rewriteBind returns the encoded Bind with the parameter sites
// detokenized (in the client encoding), or nil when none applies.
func (s *session) rewriteBind(body []byte, sites []site, enc string) ([]byte, error) {
	var bind pgproto3.Bind
	if err := bind.Decode(body); err != nil {
		return nil, refuseStatement("a Bind message pgmantle cannot decode")
	}
	codec, err := codecFor(enc)
	if err != nil {
		return nil, refuseStatement("client_encoding %s cannot be checked", enc)
	}
	var buf []byte
	done := map[int]*masking.Tokenizer{}
	for _, st := range sites {
		if t, seen := done[st.param]; seen {
			if t != st.t {
				return nil, refuseStatement("parameter $%d is compared with tokens of two classes; search one column at a time", st.param)
			}
			continue // detokenized once for all its places
		}
		done[st.param] = st.t
		i := st.param - 1
		if i < 0 || i >= len(bind.Parameters) || bind.Parameters[i] == nil {
			continue // missing (PostgreSQL refuses the Bind) or NULL
		}
		v := bind.Parameters[i]
		if codec != nil {
			u, err := codec.NewDecoder().Bytes(v)
			if err != nil {
				return nil, refuseStatement("a parameter could not be decoded from %s", enc)
			}
			v = u
		}
		if codec != nil && !asciiToken(string(v)) {
			return nil, refuseStatement("in a %s session, search by token takes tokens of ASCII characters only (parameter $%d)", enc, st.param)
		}
		buf, err = st.t.Detokenize(buf[:0], v)
		if err != nil {
			return nil, refuseStatement("parameter $%d is not a token of class %s that pgmantle can search", st.param, st.class)
		}
		out := append([]byte(nil), buf...)
		if codec != nil {
			if out, err = codec.NewEncoder().Bytes(out); err != nil {
				return nil, refuseStatement("parameter $%d cannot be encoded in %s", st.param, enc)
			}
		}
		bind.Parameters[i] = out
	}
	return bind.Encode(nil)
}
