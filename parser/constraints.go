package parser

import (
	"slices"

	"github.com/pgmantle/pgmantle/catalog"
)

// writeEffect is what a write does to its target's rows; which of the
// target's constraints PostgreSQL checks depends on it.
type writeEffect struct {
	inserts, updates, deletes bool
	// set are the origins of the columns an UPDATE (ON CONFLICT DO
	// UPDATE, MERGE ... UPDATE) sets; setUnknown: one of them has none.
	set        []catalog.ColumnRef
	setUnknown bool
	// written names the target's columns an INSERT (COPY FROM, MERGE
	// ... INSERT) gives values: the others take their defaults.
	written []string
}

// assign records that the write sets column name of rel.
func (e *writeEffect) assign(snap *catalog.Snapshot, rel *catalog.Relation, name string) {
	col, ok := rel.ColumnByName(name)
	if !ok {
		e.setUnknown = true
		return
	}
	ref, _, ok := snap.Origin(rel.OID, col.Num)
	if !ok {
		e.setUnknown = true
		return
	}
	e.set = append(e.set, ref)
}

// setAny reports whether the write may set one of rel's columns attnums,
// a stored generated column counting as set when a column it is computed
// from is (PostgreSQL recomputes it).
func (e *writeEffect) setAny(snap *catalog.Snapshot, rel *catalog.Relation, attnums []int16) bool {
	if e.setUnknown {
		return true
	}
	for _, n := range attnums {
		if col, ok := rel.Column(n); ok && col.Generated && e.setAny(snap, rel, col.GeneratedFrom) {
			return true
		}
		ref, _, ok := snap.Origin(rel.OID, n)
		if !ok || slices.Contains(e.set, ref) {
			return true
		}
	}
	return false
}

// checks reports whether the write makes PostgreSQL check constraint c
// of rel against a row: a CHECK when a row is updated (a new row holds
// only values the write itself supplies, charged as its sources); a key
// when a row is added or its key columns set; a reference to rel when a
// referenced row is deleted or re-keyed.
func (e *writeEffect) checks(snap *catalog.Snapshot, rel *catalog.Relation, c catalog.Constraint) bool {
	switch c.Kind {
	case catalog.ConstraintCheck:
		// A NOT VALID constraint may fail for a row already there, on
		// an UPDATE of any of its columns.
		return e.updates && (!c.Validated || e.setAny(snap, rel, c.Columns))
	case catalog.ConstraintUnique, catalog.ConstraintExclusion, catalog.ConstraintForeignKey:
		return e.inserts || e.updates && e.setAny(snap, rel, c.Columns)
	case catalog.ConstraintReferenced:
		return e.deletes || e.updates && e.setAny(snap, rel, c.Columns)
	case catalog.ConstraintIndex:
		return false // compares nothing; only its functions matter
	}
	return true
}

// constraints charges, as UseConstraint, the protected columns of every
// constraint a write to it makes PostgreSQL check: whether the write
// passes (or where a row goes) answers a comparison of those columns
// with values the client chose, or with other rows'. CHECK (tax <=
// amount) answers an UPDATE of tax with amount's order; UNIQUE
// (company_id, name) answers moving a row with whether two names are
// equal; a foreign key answers whether a key exists on the other side.
// A partition key read by an UPDATE's new values routes the row, which
// fails or moves it by the key's protected columns; a view's WITH CHECK
// OPTION compares each row written through it with the view's WHERE.
//
// Writes that a referenced row's deletion or re-keying sets off in the
// referencing relation (ON DELETE CASCADE, SET NULL, ...) are followed
// as a deletion and an update of its foreign key columns there, whatever
// the action: the constraints those would check are charged too.
func (a *analyzer) constraints(it *fromItem, eff *writeEffect) error {
	if a.definer || it.rel == nil {
		return nil
	}
	return a.constraintsOf(a.env.snap.WrittenRelations(it.rel.OID), eff, map[cascade]bool{})
}

// constraintsOf charges the constraints of rels that eff checks, and
// those of the writes a referenced row's deletion or re-keying sets off;
// cascaded lists the foreign keys already followed that way (a
// self-referencing one, or a cycle, is followed once). It refuses the
// write if one of those relations has a trigger eff fires whose function
// the policy does not trust.
func (a *analyzer) constraintsOf(rels []*catalog.Relation, eff *writeEffect, cascaded map[cascade]bool) error {
	snap := a.env.snap
	checkOption := false
	for _, rel := range rels {
		checkOption = checkOption || rel.CheckOption
	}
	for _, rel := range rels {
		if err := a.triggers(rel, eff); err != nil {
			return err
		}
		if err := a.defaults(rel, eff); err != nil {
			return err
		}
		if checkOption && (eff.inserts || eff.updates) && rel.Kind == catalog.KindView {
			// WITH CHECK OPTION: each row written through the views
			// must satisfy their WHERE (a cascaded option checks the
			// views under it too; all are counted).
			for _, s := range a.env.viewCheck(rel) {
				a.use(Use{Kind: UseConstraint, Source: s})
			}
		}
		if len(rel.PartitionKey) > 0 && eff.updates && eff.setAny(snap, rel, rel.PartitionKey) {
			a.chargeConstraint(rel, rel.PartitionKey)
		}
		for _, c := range rel.Constraints {
			if f := a.env.unlisted(c.Functions); f != "" && (eff.inserts || eff.updates) {
				// The function can compare the row with anything (a
				// salary in another table): as for triggers.
				return a.refuse("writing to %s.%s, whose constraint or index %s calls %s, a function the policy does not list (pgmantle cannot see what it compares; list it under functions: to trust it)",
					rel.Schema, rel.Name, c.Name, f)
			}
			if !eff.checks(snap, rel, c) {
				continue
			}
			a.chargeConstraint(rel, c.Columns)
			other := snap.Relation(c.Ref)
			if other == nil {
				continue
			}
			a.chargeConstraint(other, c.RefColumns)
			if key := (cascade{other.OID, c.Name}); c.Kind == catalog.ConstraintReferenced && !cascaded[key] {
				cascaded[key] = true
				then := &writeEffect{deletes: eff.deletes, updates: true}
				for _, n := range c.RefColumns {
					if col, ok := other.Column(n); ok {
						then.assign(snap, other, col.Name)
					}
				}
				if err := a.constraintsOf(snap.WrittenRelations(other.OID), then, cascaded); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// triggers refuses a write that fires one of rel's triggers whose
// function the policy's functions: list does not name: a trigger can
// compare the row with anything (a salary in another table) and fail the
// write, or copy protected values into the columns written.
func (a *analyzer) triggers(rel *catalog.Relation, eff *writeEffect) error {
	var events byte
	if eff.inserts {
		events |= catalog.TriggerInsert
	}
	if eff.updates {
		events |= catalog.TriggerUpdate
	}
	if eff.deletes {
		events |= catalog.TriggerDelete
	}
	for _, tg := range rel.Triggers {
		if tg.Events&events != 0 && a.env.unlisted([]string{tg.Function}) != "" {
			return a.refuse("writing to %s.%s, whose trigger %s runs %s, a function the policy does not list (pgmantle cannot see what it compares or writes; list it under functions: to trust it)",
				rel.Schema, rel.Name, tg.Name, tg.Function)
		}
	}
	return nil
}

// defaults refuses a write that makes PostgreSQL compute a column of rel
// from a function the policy's functions: list does not name: a stored
// generated column on every INSERT and UPDATE, a default (the column's
// or its domain's) when an INSERT leaves the column out or a statement
// writes DEFAULT. Such a function can read anything, and fail the write
// or copy what it read into the row.
func (a *analyzer) defaults(rel *catalog.Relation, eff *writeEffect) error {
	if !eff.inserts && !eff.updates {
		return nil
	}
	for _, col := range rel.Columns {
		f := a.env.unlisted(col.DefaultFunctions)
		computed := col.Generated ||
			(eff.inserts && !slices.Contains(eff.written, col.Name)) || a.defaulted
		if f == "" && !col.Generated {
			f = a.env.unlisted(a.env.snap.DomainFunctions(col.TypeName))
		}
		if f != "" && computed {
			return a.refuse("writing to %s.%s, whose column %s is computed by %s, a function the policy does not list (pgmantle cannot see what it reads; list it under functions: to trust it)",
				rel.Schema, rel.Name, col.Name, f)
		}
	}
	return nil
}

// cascade names a foreign key by its referencing relation and name.
type cascade struct {
	rel  uint32
	name string
}

// chargeConstraint charges rel's protected columns among attnums as
// UseConstraint.
func (a *analyzer) chargeConstraint(rel *catalog.Relation, attnums []int16) {
	for i, col := range rel.Columns {
		if !slices.Contains(attnums, col.Num) {
			continue
		}
		for _, s := range a.env.columnValue(rel, col, i).srcs {
			a.use(Use{Kind: UseConstraint, Source: s})
		}
	}
}
