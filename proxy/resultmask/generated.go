package resultmask

import (
	"github.com/pgmantle/pgmantle/catalog"
)

// generatedClasses returns a class for each generated column that the
// policy does not name and whose expression reads a protected column of
// its table: the class of the first such column, by attnum. A stored
// generated column such as upper(id_no) or substr(id_no, 7, 8) holds the
// protected value (or part of it), so it is masked, tokenized, searched
// and refused as that column would be; without this it was read in
// clear. A column computed from columns of several classes takes the
// first one's: name it in the policy to choose.
//
// classOf is the class of each base column so far.
func generatedClasses(snap *catalog.Snapshot, classOf map[catalog.ColumnRef]string) map[catalog.ColumnRef]string {
	var out map[catalog.ColumnRef]string
	for _, rel := range snap.Relations() {
		if rel.Kind == catalog.KindView || rel.Kind == catalog.KindMatView {
			continue
		}
		for _, col := range rel.Columns {
			if len(col.GeneratedFrom) == 0 {
				continue
			}
			ref, _, ok := snap.Origin(rel.OID, col.Num)
			if !ok || classOf[ref] != "" || out[ref] != "" {
				continue
			}
			for _, src := range col.GeneratedFrom {
				sref, _, ok := snap.Origin(rel.OID, src)
				if class := classOf[sref]; ok && class != "" {
					if out == nil {
						out = map[catalog.ColumnRef]string{}
					}
					out[ref] = class
					break
				}
			}
		}
	}
	return out
}
