package catalog

import "context"

// SetBeforeLoad installs f to run, with the load's context, before every
// load m starts. Call it before m's first Get.
func SetBeforeLoad(m *Manager, f func(ctx context.Context, database string)) {
	m.beforeLoad = f
}

// SetAfterLoad installs f to run, with the load's context, after every
// load of m that succeeded. Call it before m's first Get.
func SetAfterLoad(m *Manager, f func(ctx context.Context, database string)) {
	m.afterLoad = f
}
