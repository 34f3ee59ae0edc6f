package parser

import (
	"container/list"
	"strings"
	"sync"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Plan is the decided analysis of one SQL text: one Decision per
// statement, in order.
type Plan struct {
	Statements []*Decision
	// Catalog is the Version of the catalog snapshot the plan was made
	// on ("" without one): the result layer compares it with the current
	// one when a statement may have waited for a DDL's lock.
	Catalog string
}

// Refusal returns the first statement's refusal, or "".
func (p *Plan) Refusal() string {
	for _, d := range p.Statements {
		if d.Refusal != "" {
			return d.Refusal
		}
	}
	return ""
}

// Cache is a bounded LRU of plans keyed by SQL text, search_path
// settings, role and Env (which changes with the policy generation and
// the catalog snapshot). Texts whose statements read or change session
// state (SET search_path, PREPARE, EXECUTE, DECLARE, FETCH, ...) are never
// cached. It is safe for concurrent use.
type Cache struct {
	mu  sync.Mutex
	max int
	ll  *list.List // of *cacheEntry, most recent first
	m   map[cacheKey]*list.Element
}

type cacheKey struct {
	env        *Env
	role       string
	paths      string
	sql        string
	normalized bool // sql is a normalizeKey
}

type cacheEntry struct {
	key  cacheKey
	plan *Plan
}

// NewCache returns a cache holding at most max plans.
func NewCache(max int) *Cache {
	return &Cache{max: max, ll: list.New(), m: map[cacheKey]*list.Element{}}
}

// Plan returns the plan of sql for a session: from the cache, or analysed
// (updating st) and decided with the role's rules.
func (c *Cache) Plan(sql string, env *Env, st *State, role string, rules Rules, canDetokenize bool) *Plan {
	key := cacheKey{env: env, role: role, paths: strings.Join(st.settings, "\x00"), sql: sql}
	nkey := key
	var normalized bool
	if c != nil {
		if p := c.get(key); p != nil {
			return p
		}
		if nkey.sql, normalized = normalizeKey(sql); normalized {
			nkey.normalized = true
			if p := c.get(nkey); p != nil {
				return p
			}
		}
	}
	a := Analyze(sql, env, st)
	p := &Plan{Statements: make([]*Decision, len(a.Statements))}
	if env != nil && env.snap != nil {
		p.Catalog = env.snap.Version
	}
	shareable := normalized && !a.literalDependent
	for i, s := range a.Statements {
		p.Statements[i] = Decide(s, role, rules, canDetokenize)
		// Detokenization sites are byte offsets into this very text.
		shareable = shareable && len(p.Statements[i].Detokenize) == 0
	}
	switch {
	case c == nil || a.stateful:
	case shareable:
		c.put(nkey, p)
	default:
		c.put(key, p)
	}
	return p
}

func (c *Cache) get(key cacheKey) *Plan {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*cacheEntry).plan
	}
	return nil
}

func (c *Cache) put(key cacheKey, p *Plan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return
	}
	c.m[key] = c.ll.PushFront(&cacheEntry{key: key, plan: p})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.m, last.Value.(*cacheEntry).key)
	}
}

// Len returns the number of cached plans.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// stateful reports whether a statement reads or changes session state
// that a cache key does not capture.
func stateful(n *pg_query.Node) bool {
	switch x := n.GetNode().(type) {
	case *pg_query.Node_SelectStmt:
		set, ok := setConfigSet(x.SelectStmt)
		return ok && set.Name == "search_path"
	case *pg_query.Node_VariableSetStmt:
		return lower(x.VariableSetStmt.Name) == "search_path" || x.VariableSetStmt.Kind == pg_query.VariableSetKind_VAR_RESET_ALL
	case *pg_query.Node_PrepareStmt, *pg_query.Node_ExecuteStmt, *pg_query.Node_DeallocateStmt,
		*pg_query.Node_DeclareCursorStmt, *pg_query.Node_FetchStmt, *pg_query.Node_ClosePortalStmt,
		*pg_query.Node_DiscardStmt:
		return true
	}
	return false
}

// Forget drops every plan made against env (a policy reload or a catalog
// refresh replaced it), so that the old snapshot can be freed.
func (c *Cache) Forget(env *Env) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.ll.Front(); e != nil; {
		next := e.Next()
		if ce := e.Value.(*cacheEntry); ce.key.env == env {
			c.ll.Remove(e)
			delete(c.m, ce.key)
		}
		e = next
	}
}
