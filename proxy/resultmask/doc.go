// Package resultmask is the result layer of pgmantle's enforcement: it
// implements proxy.Interceptor for sessions of restricted roles, masking
// every protected column of every result set by the policy.
//
// For each result set it maps each column, by the (table OID, attribute
// number) that RowDescription reports, through the catalog snapshot to its
// base column (views and partitions resolve to the columns they expose),
// then to the column's data class and to the role's action for it, and
// builds one masker per protected column. Rows are then masked in place with
// per-column scratch buffers: no allocation per row.
//
// It fails closed. A column the role may not see at all (deny), a result
// that may carry protected data through a column whose origin cannot be
// established, and a COPY that may export protected data end the session
// with SQLSTATE 42501: the result layer cannot refuse a statement that has
// already run. The query layer (package parser, next) refuses such
// statements before they reach PostgreSQL.
//
// It stops at results: it does not look at the SQL beyond a conservative
// check of the relation names it mentions.
package resultmask
