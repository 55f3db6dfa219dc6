// Package migrations embeds the numbered SQL migrations, applied with goose at
// start-up and by `thoughts migrate`.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
