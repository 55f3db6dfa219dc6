package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// loadSchema is what dropForLoad took away: secondary indexes and foreign keys
// of the loaded tables, as the server prints their definitions, to be put back
// exactly.
type loadSchema struct {
	indexes []namedDef // name, CREATE INDEX statement
	fks     []namedDef // table.constraint, constraint definition
}

type namedDef struct {
	Table, Name, Def string
}

// dropForLoad drops the loaded tables' secondary indexes (those not backing a
// primary key, unique or exclusion constraint) and foreign keys, and disables
// the counter triggers: building an index once after a bulk load is several
// times faster than maintaining it row by row, and one validating join per
// foreign key is faster than a lookup per row.
func dropForLoad(ctx context.Context, pool *pgxpool.Pool) (*loadSchema, error) {
	s := &loadSchema{}
	rows, err := pool.Query(ctx, `SELECT c.relname, ic.relname, pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indrelid
		JOIN pg_class ic ON ic.oid = i.indexrelid
		WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1)
			AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
		ORDER BY c.relname, ic.relname`, loadedTables)
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	s.indexes, err = pgx.CollectRows(rows, pgx.RowToStructByPos[namedDef])
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	rows, err = pool.Query(ctx, `SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE k.contype = 'f' AND c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1)
		ORDER BY c.relname, k.conname`, loadedTables)
	if err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	s.fks, err = pgx.CollectRows(rows, pgx.RowToStructByPos[namedDef])
	if err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	for _, fk := range s.fks {
		if _, err := pool.Exec(ctx, `ALTER TABLE `+pgx.Identifier{fk.Table}.Sanitize()+` DROP CONSTRAINT `+pgx.Identifier{fk.Name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("drop foreign key %s.%s: %w", fk.Table, fk.Name, err)
		}
	}
	for _, ix := range s.indexes {
		if _, err := pool.Exec(ctx, `DROP INDEX `+pgx.Identifier{ix.Name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", ix.Name, err)
		}
	}
	if err := setCounterTriggers(ctx, pool, false); err != nil {
		return nil, err
	}
	return s, nil
}

// bySize orders the loaded tables by their size after the load, biggest first.
var bySize = []string{"thoughts", "likes", "follows", "boosts", "thought_tags", "thought_mentions", "tags"}

// restoreIndexes rebuilds the dropped indexes on two connections, biggest
// table first.
func (s *loadSchema) restoreIndexes(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	work := make(chan namedDef)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for w := range errs {
		wg.Go(func() {
			errs[w] = pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error {
				if _, err := c.Exec(ctx, `SET maintenance_work_mem = '256MB'`); err != nil {
					return fmt.Errorf("set maintenance_work_mem: %w", err)
				}
				for ix := range work {
					began := time.Now()
					if _, err := c.Exec(ctx, ix.Def); err != nil {
						return fmt.Errorf("rebuild index %s: %w", ix.Name, err)
					}
					log.Info("generate: index built", "index", ix.Name, "seconds", fmt.Sprintf("%.1f", time.Since(began).Seconds()))
				}
				return nil
			})
			for range work { // drain after a failure so the sender ends
			}
		})
	}
	// The slowest first (the GIN index, then the biggest tables), so the two
	// connections finish together.
	rank := func(ix namedDef) int {
		if strings.Contains(ix.Def, "USING gin") {
			return -1
		}
		return slices.Index(bySize, ix.Table)
	}
	queue := slices.Clone(s.indexes)
	slices.SortStableFunc(queue, func(a, b namedDef) int { return rank(a) - rank(b) })
	for _, ix := range queue {
		work <- ix
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

// restoreForeignKeys adds the dropped foreign keys back; each is validated by
// one join over its table.
func (s *loadSchema) restoreForeignKeys(ctx context.Context, pool *pgxpool.Pool) error {
	for _, fk := range s.fks {
		if _, err := pool.Exec(ctx, `ALTER TABLE `+pgx.Identifier{fk.Table}.Sanitize()+` ADD CONSTRAINT `+
			pgx.Identifier{fk.Name}.Sanitize()+` `+fk.Def); err != nil {
			return fmt.Errorf("restore foreign key %s.%s: %w", fk.Table, fk.Name, err)
		}
	}
	return nil
}

// setCounterTriggers enables or disables the triggers that keep thought_stats
// (those whose function mentions it: found by what they do, not by name, so
// a renamed or split trigger is still found). Other triggers of the loaded
// tables stay enabled: slower, but never wrong.
func setCounterTriggers(ctx context.Context, pool *pgxpool.Pool, enable bool) error {
	rows, err := pool.Query(ctx, `SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
		JOIN pg_class c ON c.oid = t.tgrelid
		JOIN pg_proc p ON p.oid = t.tgfoid
		WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1)
			AND p.prosrc LIKE '%thought_stats%'
		ORDER BY 1, 2`, loadedTables)
	if err != nil {
		return fmt.Errorf("list triggers: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[namedDef])
	if err != nil {
		return fmt.Errorf("list triggers: %w", err)
	}
	for _, table := range countedTables {
		if !slices.ContainsFunc(found, func(t namedDef) bool { return t.Table == table }) {
			return fmt.Errorf("no trigger on %s keeps thought_stats: the schema changed, teach the generator how the counters are kept now", table)
		}
	}
	verb := "DISABLE"
	if enable {
		verb = "ENABLE"
	}
	for _, t := range found {
		if _, err := pool.Exec(ctx, `ALTER TABLE `+pgx.Identifier{t.Table}.Sanitize()+` `+verb+` TRIGGER `+pgx.Identifier{t.Name}.Sanitize()); err != nil {
			return fmt.Errorf("%s trigger %s: %w", verb, t.Name, err)
		}
	}
	return nil
}
