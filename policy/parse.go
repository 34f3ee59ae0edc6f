package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/pgmantle/pgmantle/masking"
)

// Load reads and parses a policy file (without checking it against a
// catalog; see Check).
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return Parse(path, data)
}

// Parse parses policy text; file names it in error messages. All problems
// are reported together, one per line, each with file:line.
func Parse(file string, data []byte) (*Policy, error) {
	p := &parser{file: file}
	pol := p.parse(data)
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	return pol, nil
}

// Errors is a list of policy problems, each with its file:line.
type Errors []string

func (e Errors) Error() string { return strings.Join(e, "\n") }

func (e Errors) err() error {
	if len(e) == 0 {
		return nil
	}
	sort.SliceStable(e, func(i, j int) bool { return lineOf(e[i]) < lineOf(e[j]) })
	return e
}

// lineOf extracts the line number from "file:line: msg" for sorting.
func lineOf(msg string) int {
	var line int
	if i := strings.Index(msg, ": "); i > 0 {
		head := msg[:i]
		if j := strings.LastIndexByte(head, ':'); j >= 0 {
			fmt.Sscanf(head[j+1:], "%d", &line)
		}
	}
	return line
}

type parser struct {
	file string
	errs Errors
}

func (p *parser) at(n *yaml.Node) position { return position{file: p.file, line: n.Line} }

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	pos := position{file: p.file}
	if n != nil {
		pos.line = n.Line
	}
	p.errs = append(p.errs, pos.String()+": "+fmt.Sprintf(format, args...))
}

func (p *parser) parse(data []byte) *Policy {
	pol := &Policy{File: p.file, Roles: map[string]*Role{}}
	doc, ok := p.document(data)
	if !ok {
		return nil
	}
	if len(doc.Content) == 0 {
		p.errorf(nil, "empty policy: it needs at least classes and roles")
		return nil
	}
	root := doc.Content[0]
	if !p.mapping(root, "the policy") {
		return nil
	}
	// Classes and roles listed twice get their own messages below.
	own := map[*yaml.Node]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i].Value; k == "classes" || k == "roles" {
			own[root.Content[i+1]] = true
		}
	}
	if p.duplicateKeys(root, own); len(p.errs) > 0 {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "classes":
			pol.Classes = p.classes(v)
		case "roles":
			if p.mapping(v, "roles") {
				for j := 0; j+1 < len(v.Content); j += 2 {
					name := v.Content[j].Value
					if _, dup := pol.Roles[name]; dup {
						p.errorf(v.Content[j], "role %q is listed twice", name)
					}
					pol.Roles[name] = p.role(name, v.Content[j], v.Content[j+1])
				}
			}
		case "default":
			pol.Default = p.role("default", k, v)
		case "functions":
			pol.Functions = p.functions(v)
		case "keys":
			pol.TokenKeyVersion = p.keys(v)
		default:
			p.errorf(k, "unknown key %q (want classes, roles, default, functions or keys)", k.Value)
		}
	}
	if pol.Default == nil {
		// Roles not listed see nothing protected: fail closed.
		pol.Default = &Role{Name: "default", Rules: map[string]Action{"*": {Kind: Deny}}}
	}
	p.checkStatic(pol)
	return pol
}

// document decodes the policy's one YAML document. Syntax errors name
// file:line; a second document (after ---) is refused, not ignored.
func (p *parser) document(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		p.errs = append(p.errs, yamlError(p.file, data, err))
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.errs = append(p.errs, yamlError(p.file, data, err))
		return nil, false
	default:
		p.errorf(&next, "a second YAML document: a policy is one document (remove the ---)")
		return nil, false
	}
	return &doc, true
}

// yamlError turns a yaml.v3 error into file:line: message. Errors
// yaml.v3 gives without a line (bad UTF-8, control characters) get the
// line of the first offending byte.
func yamlError(file string, data []byte, err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if line, text, ok := strings.Cut(rest, ": "); ok {
			return file + ":" + line + ": " + text
		}
	}
	if line := badByteLine(data); line > 0 {
		return fmt.Sprintf("%s:%d: %s", file, line, msg)
	}
	return file + ": " + msg // yaml.v3 did not say where, and no byte is to blame
}

// badByteLine is the line of the first byte that is not valid UTF-8 or
// is a control character YAML does not allow (0 if there is none).
func badByteLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 || r < ' ' && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return line
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return 0
}

// duplicateKeys reports every key repeated in a mapping of the document:
// yaml.v3 keeps both in a Node and the parser would let the last win
// (cn_id: deny, then cn_id: clear).
// Mappings in skip are not checked themselves (their children are).
func (p *parser) duplicateKeys(n *yaml.Node, skip map[*yaml.Node]bool) {
	if n.Kind == yaml.MappingNode && !skip[n] {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if first, dup := seen[k.Value]; dup && k.Kind == yaml.ScalarNode {
				p.errorf(k, "key %q already defined at line %d", k.Value, first)
				continue
			}
			seen[k.Value] = k.Line
		}
	}
	for _, c := range n.Content {
		p.duplicateKeys(c, skip)
	}
}

// keys parses `keys: {tokenize_version: N}`: the key version that
// tokenizes (absent or 0: the newest the key source has).
func (p *parser) keys(n *yaml.Node) int {
	if !p.mapping(n, "keys") {
		return 0
	}
	v := 0
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Value != "tokenize_version" {
			p.errorf(k, "keys: unknown key %q (want tokenize_version)", k.Value)
			continue
		}
		if err := val.Decode(&v); err != nil || v < 0 {
			p.errorf(val, "keys: tokenize_version must be a key version number (1, 2, ...)")
			v = 0
		}
	}
	return v
}

// functions parses `functions: [schema.name, ...]`: functions outside
// pg_catalog that restricted roles may call.
func (p *parser) functions(n *yaml.Node) []string {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "functions must be a list of schema.function names")
		return nil
	}
	var out []string
	for _, item := range n.Content {
		schema, name, ok := strings.Cut(item.Value, ".")
		if item.Kind != yaml.ScalarNode || !ok || schema == "" || name == "" || strings.Contains(name, ".") {
			p.errorf(item, "functions: %q is not a schema.function name", item.Value)
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

func (p *parser) mapping(n *yaml.Node, what string) bool {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping", what)
		return false
	}
	return true
}

// classes parses `classes: {class: [schema.table.column, ...]}`.
func (p *parser) classes(n *yaml.Node) []ClassColumns {
	if !p.mapping(n, "classes") {
		return nil
	}
	var out []ClassColumns
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "*" || k.Value == "" {
			p.errorf(k, "invalid class name %q", k.Value)
			continue
		}
		if seen[k.Value] {
			p.errorf(k, "class %q is defined twice", k.Value)
		}
		seen[k.Value] = true
		cc := ClassColumns{Class: k.Value}
		items := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			items = v.Content
		}
		for _, it := range items {
			if it.Kind != yaml.ScalarNode {
				p.errorf(it, "class %s: want a list of schema.table.column", k.Value)
				continue
			}
			parts := strings.Split(it.Value, ".")
			if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
				p.errorf(it, "class %s: %q is not schema.table.column", k.Value, it.Value)
				continue
			}
			cc.Patterns = append(cc.Patterns, Pattern{Schema: parts[0], Table: parts[1], Column: parts[2], pos: p.at(it)})
		}
		out = append(out, cc)
	}
	return out
}

// role parses one role's entry: {unrestricted, inherits, rules}.
func (p *parser) role(name string, key, n *yaml.Node) *Role {
	r := &Role{Name: name, Rules: map[string]Action{}, pos: p.at(key)}
	if !p.mapping(n, "role "+name) {
		return r
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "unrestricted":
			if err := v.Decode(&r.Unrestricted); err != nil {
				p.errorf(v, "role %s: unrestricted must be true or false", name)
			}
		case "inherits":
			if err := v.Decode(&r.Inherits); err != nil {
				p.errorf(v, "role %s: inherits must be a list of role names", name)
			}
		case "rules":
			if p.mapping(v, "rules of "+name) {
				for j := 0; j+1 < len(v.Content); j += 2 {
					r.Rules[v.Content[j].Value] = p.action(name, v.Content[j], v.Content[j+1])
				}
			}
		default:
			p.errorf(k, "role %s: unknown key %q (want unrestricted, inherits or rules)", name, k.Value)
		}
	}
	return r
}

// action parses `clear | tokenize | hash | deny | {mask: NAME, option:
// value...} | {action: tokenize, option: value...}`.
func (p *parser) action(role string, key, n *yaml.Node) Action {
	a := Action{pos: p.at(key)}
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "clear":
			a.Kind = Clear
		case "tokenize":
			a.Kind = Tokenize
		case "hash":
			a.Kind = Hash
		case "deny":
			a.Kind = Deny
		case "mask":
			p.errorf(n, "role %s, class %s: mask needs a name: {mask: partial, ...}", role, key.Value)
		default:
			p.errorf(n, "role %s, class %s: unknown action %q (want clear, mask, tokenize, hash or deny)", role, key.Value, n.Value)
		}
		return a
	}
	if !p.mapping(n, fmt.Sprintf("role %s, class %s", role, key.Value)) {
		return a
	}
	optNode := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line}
	var kindKey *yaml.Node // the mask or action key seen
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "action" || k.Value == "mask" {
			if kindKey != nil {
				p.errorf(k, "role %s, class %s: %s and %s in one rule (give one)", role, key.Value, kindKey.Value, k.Value)
				continue
			}
			kindKey = k
		}
		if k.Value == "action" {
			if v.Value != "tokenize" {
				p.errorf(v, "role %s, class %s: action %q takes no options (only tokenize does, e.g. keep_surname)", role, key.Value, v.Value)
				continue
			}
			a.Kind = Tokenize
			continue
		}
		if k.Value == "mask" {
			a.Kind, a.Mask = Mask, v.Value
			if !knownMask(v.Value) {
				p.errorf(v, "role %s, class %s: unknown mask %q (want one of %s)", role, key.Value, v.Value, strings.Join(maskNames(), ", "))
			}
			continue
		}
		if !maskOptionKeys[k.Value] {
			p.errorf(k, "role %s, class %s: unknown mask option %q", role, key.Value, k.Value)
			continue
		}
		optNode.Content = append(optNode.Content, k, v)
	}
	if a.Kind != Mask && a.Kind != Tokenize {
		p.errorf(n, "role %s, class %s: a rule mapping needs mask: NAME (or action: tokenize)", role, key.Value)
		return a
	}
	if err := optNode.Decode(&a.Options); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, m := range te.Errors {
				line, msg, _ := strings.Cut(strings.TrimPrefix(m, "line "), ": ")
				p.errs = append(p.errs, fmt.Sprintf("%s:%s: role %s, class %s: %s", p.file, line, role, key.Value, msg))
			}
		} else {
			p.errorf(n, "role %s, class %s: %v", role, key.Value, err)
		}
	}
	return a
}

func knownMask(name string) bool {
	for _, n := range maskNames() {
		if n == name {
			return true
		}
	}
	return false
}

// maskNames are the masks a `mask:` rule may name: every mask but
// tokenize, which is an action of its own (its decisions differ).
func maskNames() []string {
	var out []string
	for _, n := range masking.Names() {
		if n != "tokenize" {
			out = append(out, n)
		}
	}
	return out
}

// maskOptionKeys are the yaml keys of masking.Options.
var maskOptionKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeOf(masking.Options{})
	for i := 0; i < t.NumField(); i++ {
		if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" {
			keys[tag] = true
		}
	}
	return keys
}()

// checkStatic validates what needs no catalog: classes named by rules
// exist, inherited roles exist without cycles, the default is restrictive.
func (p *parser) checkStatic(pol *Policy) {
	classes := map[string]bool{}
	for _, c := range pol.Classes {
		classes[c.Class] = true
	}
	check := func(r *Role) {
		if r.Unrestricted && len(r.Rules) > 0 {
			p.errs = append(p.errs, fmt.Sprintf("%s: role %s is unrestricted; its rules would never apply", r.pos, r.Name))
		}
		for class, a := range r.Rules {
			if class != "*" && !classes[class] {
				p.errs = append(p.errs, fmt.Sprintf("%s: role %s: unknown class %q", a.pos, r.Name, class))
			}
		}
		for _, parent := range r.Inherits {
			if _, ok := pol.Roles[parent]; !ok {
				p.errs = append(p.errs, fmt.Sprintf("%s: role %s inherits %q, which the policy does not define", r.pos, r.Name, parent))
			}
		}
	}
	for _, name := range sortedRoleNames(pol) {
		check(pol.Roles[name])
		if cycle := inheritCycle(pol, name); cycle != "" {
			p.errs = append(p.errs, fmt.Sprintf("%s: role %s: inheritance cycle %s", pol.Roles[name].pos, name, cycle))
		}
	}
	check(pol.Default)
	if pol.Default.Unrestricted {
		p.errs = append(p.errs, fmt.Sprintf("%s: default must be restrictive, not unrestricted", pol.Default.pos))
	}
	for _, class := range slices.Sorted(maps.Keys(pol.Default.Rules)) {
		if a := pol.Default.Rules[class]; a.Kind == Clear {
			p.errs = append(p.errs, fmt.Sprintf("%s: default must be restrictive: it cannot show %s in clear (give the roles that may see it a rule of their own)", a.pos, class))
		}
	}
	if len(pol.Default.Inherits) > 0 {
		p.errs = append(p.errs, fmt.Sprintf("%s: default cannot inherit", pol.Default.pos))
	}
}

func sortedRoleNames(pol *Policy) []string {
	names := make([]string, 0, len(pol.Roles))
	for n := range pol.Roles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// inheritCycle returns "a -> b -> a" if role name reaches itself.
func inheritCycle(pol *Policy, name string) string {
	var walk func(cur string, path []string) string
	walk = func(cur string, path []string) string {
		r := pol.Roles[cur]
		if r == nil {
			return ""
		}
		for _, parent := range r.Inherits {
			if parent == name {
				return strings.Join(append(path, parent), " -> ")
			}
			for _, seen := range path {
				if seen == parent {
					return "" // a cycle not through name; reported for its own members
				}
			}
			if c := walk(parent, append(path, parent)); c != "" {
				return c
			}
		}
		return ""
	}
	return walk(name, []string{name})
}
