package resultmask

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pgmantle/pgmantle/catalog"
	"github.com/pgmantle/pgmantle/keys"
	"github.com/pgmantle/pgmantle/masking"
	"github.com/pgmantle/pgmantle/parser"
	"github.com/pgmantle/pgmantle/policy"
	"github.com/pgmantle/pgmantle/proxy"
)

// Engine builds the interceptor of each session from the catalog and the
// policy. Set its fields before use; Intercept is proxy.Server.Intercept.
type Engine struct {
	Catalog *catalog.Manager
	Policy  *policy.Store
	// KeyManager supplies the keys of the tokenize and hash actions (from
	// Vault or a key file); a rotation rebinds the policy. When nil, Keys
	// (fixed keys, for tests) is used.
	KeyManager *keys.Manager
	Keys       masking.KeySource
	Logger     *slog.Logger

	mu    sync.Mutex
	byDB  map[string]*binding
	cache *parser.Cache
}

// planCacheSize bounds the analysis cache shared by all sessions.
const planCacheSize = 4096

// plans returns the engine's analysis cache.
func (e *Engine) plans() *parser.Cache {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cache == nil {
		e.cache = parser.NewCache(planCacheSize)
	}
	return e.cache
}

// binding is a policy bound to one catalog snapshot: every protected base
// column with its class, and the relations that hold protected data.
type binding struct {
	pol  *policy.Policy
	snap *catalog.Snapshot
	// classOf maps a base column to its class.
	classOf map[catalog.ColumnRef]string
	// protectedRels are the names of relations (tables, partitions, views)
	// that hold or expose a protected column.
	protectedRels map[string]bool
	// env resolves names for the query analysis.
	env *parser.Env
	// renamed are the classes kept by columns renamed since the policy
	// named them (renamedClasses), already in classOf.
	renamed map[catalog.ColumnRef]string
	// generated are the classes generated columns take from the
	// protected columns they are computed from (generatedClasses),
	// already in classOf.
	generated map[catalog.ColumnRef]string
	// keys are the tokenize and hash keys under this policy (nil: none);
	// keyGen the key manager's generation they came from.
	keys   masking.KeySource
	keyGen uint64

	tokMu      sync.Mutex
	tokenizers map[tokenizerKey]*masking.Tokenizer

	rulesMu sync.Mutex
	rules   map[string]*policy.Rules // by login role
}

// rulesFor returns a login role's rules under the binding's policy.
func (b *binding) rulesFor(user string) *policy.Rules {
	b.rulesMu.Lock()
	defer b.rulesMu.Unlock()
	r := b.rules[user]
	if r == nil {
		r = b.pol.Resolve(user, memberOf(b.snap, user))
		b.rules[user] = r
	}
	return r
}

// catalogVersion names the catalog content b was analysed against ("" for
// a snapshot without one).
func (b *binding) catalogVersion() string {
	if b.snap == nil {
		return ""
	}
	return b.snap.Version
}

// Intercept is called when a session's login succeeds: unrestricted roles
// get no interceptor (the fast path), restricted roles get a masker.
func (e *Engine) Intercept(info *proxy.SessionInfo) (proxy.Interceptor, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	b, err := e.bind(ctx, info.Database)
	if err != nil {
		return nil, err
	}
	rules := b.pol.Resolve(info.User, memberOf(b.snap, info.User))
	if rules.Unrestricted {
		return nil, nil
	}
	return &session{e: e, info: info, b: b, rules: rules, plans: map[planKey]*colPlan{},
		state: parser.NewState(info.User)}, nil
}

// restrictedPlanner are the planner settings restricted sessions run
// with. An index scan returns rows in the order of the index's values,
// and a merge join in the order of its join keys: through an index over a
// protected column (WHERE bonus IS NOT NULL, a LIMIT, several tokens in
// one IN list, an index on (company_id, bonus) serving company_id = 1)
// the rows' order would rank values the role sees masked, tokenized or
// not at all. Bitmap scans (the planner's alternative for the same
// indexes) and hash joins return rows in an order of their own. Restricted
// roles may not change planner method or cost settings (parser:
// plannerSetting; a cost could outweigh the penalty on a disabled plan),
// nor set them when connecting (ProbeSession).
var restrictedPlanner = map[string]string{
	"enable_indexscan":     "off",
	"enable_indexonlyscan": "off",
	"enable_mergejoin":     "off",
}

// UpstreamParams is proxy.Server.UpstreamParams: restrictedPlanner for a
// login role the policy restricts in database (or when that cannot be
// told: the login then fails in Intercept), nothing for an unrestricted
// one.
func (e *Engine) UpstreamParams(user, database string) map[string]string {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	b, err := e.bind(ctx, database)
	if err == nil && b.pol.Resolve(user, memberOf(b.snap, user)).Unrestricted {
		return nil
	}
	return restrictedPlanner
}

func memberOf(snap *catalog.Snapshot, user string) []string {
	if r, ok := snap.Role(user); ok {
		return r.MemberOf
	}
	return nil
}

// bind returns the binding of the current policy to the current snapshot
// of database, rebuilding it when either has changed.
func (e *Engine) bind(ctx context.Context, database string) (*binding, error) {
	snap, err := e.Catalog.Get(ctx, database)
	if err != nil {
		return nil, &proxy.Error{Severity: "FATAL", Code: "08006", Err: err,
			Message: fmt.Sprintf("pgmantle cannot load the catalog of database %q, so it cannot protect this session", database)}
	}
	return e.bindTo(database, snap)
}

// bindCached is bind without loading: it uses the snapshot the catalog
// manager holds, for the client-to-server goroutine.
func (e *Engine) bindCached(database string) (*binding, error) {
	snap, ok := e.Catalog.Cached(database)
	if !ok {
		return nil, fmt.Errorf("no catalog snapshot of %q", database)
	}
	return e.bindTo(database, snap)
}

// bindTo returns the binding of the current policy to snap, reusing the
// database's binding when it is that one.
func (e *Engine) bindTo(database string, snap *catalog.Snapshot) (*binding, error) {
	pol := e.Policy.Current()
	gen := e.keyGeneration()
	e.mu.Lock()
	defer e.mu.Unlock()
	if b := e.byDB[database]; b != nil && b.pol == pol && b.snap == snap && b.keyGen == gen {
		return b, nil
	}
	ks, err := e.keysFor(pol)
	if err != nil {
		return nil, &proxy.Error{Severity: "FATAL", Code: "42501", Err: err,
			Message: "pgmantle has no usable keys for this policy, so it cannot protect this session"}
	}
	prev := e.byDB[database]
	byName := pol.ClassOf(snap)
	renamed := renamedClasses(prev, pol, snap, byName)
	if len(renamed) > 0 && (prev == nil || !maps.Equal(prev.renamed, renamed)) {
		cols := make([]string, 0, len(renamed))
		for ref := range renamed {
			cols = append(cols, ref.String())
		}
		slices.Sort(cols)
		e.logger().Warn("catalog: protected columns were renamed or moved; they keep their class until the policy names them (update the policy)",
			"database", database, "columns", strings.Join(cols, ", "))
	}
	maps.Copy(byName, renamed)
	derived := generatedClasses(snap, byName)
	if len(derived) > 0 {
		if prev == nil || !maps.Equal(prev.generated, derived) {
			cols := make([]string, 0, len(derived))
			for ref, class := range derived {
				cols = append(cols, ref.String()+" ("+class+")")
			}
			slices.Sort(cols)
			e.logger().Warn("catalog: generated columns computed from protected columns take their class; name them in the policy",
				"database", database, "columns", strings.Join(cols, ", "))
		}
		maps.Copy(byName, derived)
	}
	b := newBinding(pol, snap, byName)
	b.keys, b.keyGen, b.renamed, b.generated = ks, gen, renamed, derived
	e.replace(database, b)
	return b, nil
}

// keyGeneration is the key manager's generation (0 without one).
func (e *Engine) keyGeneration() uint64 {
	if e.KeyManager == nil {
		return 0
	}
	return e.KeyManager.Generation()
}

// keysFor returns the keys a policy uses: the key manager's set at the
// policy's tokenize version, or the fixed Keys.
func (e *Engine) keysFor(pol *policy.Policy) (masking.KeySource, error) {
	if e.KeyManager == nil {
		if e.Keys == nil {
			return nil, nil
		}
		return e.Keys, nil
	}
	return e.KeyManager.Set(pol.TokenKeyVersion)
}

// current reports whether b is still the binding to use: same policy,
// same snapshot (when one is cached) and same keys.
func (e *Engine) current(b *binding, snap *catalog.Snapshot, haveSnap bool) bool {
	return b.pol == e.Policy.Current() && (!haveSnap || snap == b.snap) && b.keyGen == e.keyGeneration()
}

// replace installs a database's new binding (e.mu held) and drops the
// cached plans of the one it replaces.
func (e *Engine) replace(database string, b *binding) {
	if e.byDB == nil {
		e.byDB = map[string]*binding{}
	}
	if old := e.byDB[database]; old != nil && e.cache != nil {
		e.cache.Forget(old.env)
	}
	e.byDB[database] = b
}

// renamedClasses returns the classes that columns of base tables had in
// effect under prev (their own, or their ancestor's through inheritance
// and partitioning) and that the policy does not give them in snap, by
// the name snap resolves them to: a column keeps its class, by table OID
// and attnum, when it or its table is renamed or moved to another
// schema, when two columns swap names, when its table becomes a child
// of another (INHERIT, ATTACH PARTITION: its origin is then the new
// parent's column) or stops being one (DETACH PARTITION). The policy
// names columns, so without this each of those would quietly change
// what the data is taken for. The identity wins over the name while it
// lasts; it is kept across policy reloads (for classes the new policy
// still has), and lost at a restart: the warning asks for the policy to
// be updated.
//
// byName is the policy's classes in snap.
func renamedClasses(prev *binding, pol *policy.Policy, snap *catalog.Snapshot, byName map[catalog.ColumnRef]string) map[catalog.ColumnRef]string {
	if prev == nil || prev.snap == nil || (prev.pol == pol && prev.snap == snap) {
		return nil
	}
	if prev.pol == pol && prev.snap.Version != "" && prev.snap.Version == snap.Version {
		// The same content (a periodic reload): the same names.
		return prev.renamed
	}
	known := map[string]bool{}
	for _, c := range pol.Classes {
		known[c.Class] = true
	}
	var out map[catalog.ColumnRef]string
	for _, rel := range prev.snap.Relations() {
		if rel.Kind == catalog.KindView || rel.Kind == catalog.KindMatView {
			continue
		}
		nrel := snap.Relation(rel.OID)
		if nrel == nil {
			continue
		}
		for _, col := range rel.Columns {
			ref, _, ok := prev.snap.Origin(rel.OID, col.Num)
			if !ok {
				continue
			}
			class := prev.classOf[ref]
			if class == "" || !known[class] {
				continue
			}
			if prev.pol != pol && prev.renamed[ref] == "" {
				// A new policy decides what it names; only classes kept
				// by identity carry over.
				continue
			}
			nref, _, ok := snap.Origin(nrel.OID, col.Num)
			if !ok || byName[nref] == class || out[nref] != "" {
				continue
			}
			if out == nil {
				out = map[catalog.ColumnRef]string{}
			}
			out[nref] = class
		}
	}
	return out
}

// computedByUnlisted reports whether col's generation expression (or
// default) calls a function the policy's functions: list does not name.
func (b *binding) computedByUnlisted(col catalog.Column) bool {
	for _, f := range col.DefaultFunctions {
		if !slices.Contains(b.pol.Functions, f) {
			return true
		}
	}
	return false
}

// newBinding binds pol to snap; classOf is the class of each base column
// (the policy's, and those kept by renamedClasses).
func newBinding(pol *policy.Policy, snap *catalog.Snapshot, classOf map[catalog.ColumnRef]string) *binding {
	b := &binding{pol: pol, snap: snap, classOf: classOf, protectedRels: map[string]bool{},
		rules: map[string]*policy.Rules{}, tokenizers: map[tokenizerKey]*masking.Tokenizer{}}
	for ref := range b.classOf {
		b.protectedRels[ref.Table] = true
	}
	b.env = parser.NewEnv(snap, b.classOf, pol.Functions)
	// Functions can return protected data through columns of unknown
	// origin: user-defined ones may read any table, and some built-in ones
	// run SQL given as a string or read files. A statement naming one is
	// treated like one naming a protected relation.
	for _, f := range snap.Functions() {
		if f.Schema != "pg_catalog" && f.Schema != "information_schema" {
			b.protectedRels[f.Name] = true
		}
	}
	for _, rel := range snap.Relations() {
		if b.protectedRels[rel.Name] || rel.Schema == "pg_catalog" || rel.Schema == "information_schema" {
			continue
		}
		for _, col := range rel.Columns {
			ref, _, ok := snap.Origin(rel.OID, col.Num)
			// A view column of unknown origin might compute from protected
			// data: count such views as protected (fail closed).
			if (!ok && (rel.Kind == catalog.KindView || rel.Kind == catalog.KindMatView)) || b.classOf[ref] != "" {
				b.protectedRels[rel.Name] = true
				break
			}
		}
	}
	return b
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.Default()
}
