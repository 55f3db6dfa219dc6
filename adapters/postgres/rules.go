package postgres

import "strconv"

// The rules of who sees what, as SQL fragments spliced into the statements
// that apply them: each rule is written here once, so changing it changes
// every read, listing and notification together.
//
// They are fragments, not SQL functions: a function whose body holds a
// subquery is never inlined, so PostgreSQL would call it row by row as an
// opaque boolean, where a NOT EXISTS in a WHERE clause becomes an anti-join
// (an index probe the planner orders with the rest of the statement) and the
// feed's and search's plans depend on that.
//
// Arguments are SQL expressions (a column such as "t.author_id", or a
// parameter such as "$1::uuid"); the subqueries' aliases (blk, flw) are used
// nowhere else, so the expressions passed in always refer to the outer query.

// blocks is true when the user in blocker blocks the user in blocked.
func blocks(blocker, blocked string) string {
	return `EXISTS (SELECT 1 FROM blocks blk WHERE blk.blocker_id = ` + blocker + ` AND blk.blocked_id = ` + blocked + `)`
}

// notBlockedEitherWay is the block rule: neither of the users in a and b
// blocks the other. Between two such users nothing passes: no thought of one
// in the other's feed, tag or search listings, no notification, no hit in a
// user search. Two NOT EXISTS rather than one with an OR: in a WHERE clause
// each becomes an anti-join probing one of the two indexes of blocks.
func notBlockedEitherWay(a, b string) string {
	return `(NOT ` + blocks(a, b) + ` AND NOT ` + blocks(b, a) + `)`
}

// follows is true when the user in follower follows the user in following
// (an accepted follow: a pending request grants nothing).
func follows(follower, following string) string {
	return `EXISTS (SELECT 1 FROM follows flw WHERE flw.follower_id = ` + follower + ` AND flw.following_id = ` + following +
		` AND flw.state = 'accepted')`
}

// uuidParam is parameter $n as a uuid.
func uuidParam(n int) string { return "$" + strconv.Itoa(n) + "::uuid" }

// visibleTo is the visibility rule, for the thought aliased t and the viewer
// bound to parameter $n (NULL for an anonymous viewer). A viewer sees their
// own thoughts; others' if public or unlisted, or followers-only with an
// accepted follow; never those of an author who blocks them. It is applied by
// every read of a thought. Thoughts of an author the viewer blocks stay
// visible by link: leaving them out is the listings' business (listedTo).
func visibleTo(n int) string { return visibleToAs("t", n) }

// visibleToAs is visibleTo for the thought aliased alias.
func visibleToAs(alias string, n int) string {
	p, author := uuidParam(n), alias+".author_id"
	return `(` + author + ` = ` + p + ` OR (
		(` + alias + `.visibility <> 'followers' OR ` + follows(p, author) + `)
		AND NOT ` + blocks(author, p) + `))`
}

// listedTo is the rule of the listings of everyone's thoughts (a tag,
// search), for the thought aliased t and the viewer bound to $n: what the
// viewer may see, less unlisted thoughts (except the viewer's own) and
// anything by a user blocked either way.
//
// visibleTo already holds the author's side of the block rule (an author who
// blocks the viewer is invisible to them), so only the viewer's side is added
// here: spelling out notBlockedEitherWay again put a second, identical index
// probe on every row a search window scans.
func listedTo(n int) string {
	p := uuidParam(n)
	return `(t.visibility <> 'unlisted' OR t.author_id = ` + p + `) AND ` + visibleTo(n) +
		` AND NOT ` + blocks(p, "t.author_id")
}
