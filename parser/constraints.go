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

// setAny reports whether the write may set one of rel's columns attnums.
func (e *writeEffect) setAny(snap *catalog.Snapshot, rel *catalog.Relation, attnums []int16) bool {
	if e.setUnknown {
		return true
	}
	for _, n := range attnums {
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
// fails or moves it by the key's protected columns.
//
// Writes that a referenced row's deletion or re-keying sets off in the
// referencing relation (ON DELETE CASCADE, SET NULL, ...) are followed
// as a deletion and an update of its foreign key columns there, whatever
// the action: the constraints those would check are charged too.
func (a *analyzer) constraints(it *fromItem, eff *writeEffect) {
	if a.definer || it.rel == nil {
		return
	}
	a.constraintsOf(a.env.snap.WrittenRelations(it.rel.OID), eff, map[cascade]bool{})
}

// constraintsOf charges the constraints of rels that eff checks, and
// those of the writes a referenced row's deletion or re-keying sets off;
// cascaded lists the foreign keys already followed that way (a
// self-referencing one, or a cycle, is followed once).
func (a *analyzer) constraintsOf(rels []*catalog.Relation, eff *writeEffect, cascaded map[cascade]bool) {
	snap := a.env.snap
	for _, rel := range rels {
		if len(rel.PartitionKey) > 0 && eff.updates && eff.setAny(snap, rel, rel.PartitionKey) {
			a.chargeConstraint(rel, rel.PartitionKey)
		}
		for _, c := range rel.Constraints {
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
				a.constraintsOf(snap.WrittenRelations(other.OID), then, cascaded)
			}
		}
	}
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
