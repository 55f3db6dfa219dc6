#!/usr/bin/env bash
# Provision the local development PostgreSQL used by `make run` and `make test`.
#
#   * DATABASE_URL set: only wait (up to ~30 s) until that server answers.
#   * Otherwise make sure the app's default DSN works:
#       postgres://thoughts:thoughts@127.0.0.1:5432/thoughts?sslmode=disable
#     installing PostgreSQL (Debian/Ubuntu, apt) if needed, starting or creating a
#     Debian cluster on port 5432, and creating the role `thoughts` (LOGIN, CREATEDB:
#     the tests create one database per package) and the database `thoughts`.
#
# Idempotent: when the DSN already works this is a fast no-op that needs no privileges.
# The cluster's configuration files are never changed (fsync etc. stay as they are). A
# cluster this script starts or creates runs with max_connections = 300 (a command-line
# option, not a setting in its files): the test suite runs two packages at once, and a
# process with the Postgres event backend holds a connection per consumer besides its
# pools, so the default 100 ran out (SQLSTATE 53300). A cluster that is already running
# keeps what it has; restart it through this script to get the larger limit
# (pg_ctlcluster VER NAME stop, then make test).
set -euo pipefail

readonly HOST=127.0.0.1
readonly PORT=5432
readonly ROLE=thoughts
readonly PASSWORD=thoughts
readonly DB=thoughts
readonly DEFAULT_DSN="postgres://${ROLE}:${PASSWORD}@${HOST}:${PORT}/${DB}?sslmode=disable"
readonly WAIT_SECONDS=30
readonly MAX_CONNECTIONS=300

log() { printf 'dev-postgres: %s\n' "$*" >&2; }
die() {
	printf 'dev-postgres: error: %s\n' "$*" >&2
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# Run a command as root (directly, or through sudo).
as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif have sudo; then
		sudo "$@"
	else
		die "need root for: $* (not root and sudo is not installed)"
	fi
}

# Run a command as the given OS user (the cluster owner), from a directory it can read.
as_user() {
	local user=$1
	shift
	if [[ $(id -un) == "$user" ]]; then
		(cd / && "$@")
	elif [[ $EUID -eq 0 ]]; then
		(cd / && runuser -u "$user" -- "$@")
	elif have sudo; then
		(cd / && sudo -u "$user" -- "$@")
	else
		die "need to run as OS user '$user': $* (not root and sudo is not installed)"
	fi
}

# wait_ready SECONDS pg_isready-args...: poll until the server accepts connections.
wait_ready() {
	local deadline=$((SECONDS + $1))
	shift
	until pg_isready -q -t 2 "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

# True when the default DSN logs in with a password over TCP and the role may create databases.
dsn_works() {
	have psql || return 1
	local out
	out=$(PGCONNECT_TIMEOUT=3 PGPASSWORD=$PASSWORD psql -X -w -qtA \
		"postgresql://${ROLE}@${HOST}:${PORT}/${DB}?sslmode=disable" \
		-c 'SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user' 2>/dev/null) || return 1
	[[ $out == t ]]
}

# ---------------------------------------------------------------------------
# 1. An explicit DATABASE_URL: the user manages that server; just wait for it.
# ---------------------------------------------------------------------------
if [[ -n ${DATABASE_URL:-} ]]; then
	if ! have pg_isready; then
		log "DATABASE_URL is set; pg_isready not installed, not waiting"
		exit 0
	fi
	target=$DATABASE_URL
	rc=0
	pg_isready -q -t 2 -d "$target" 2>/dev/null || rc=$?
	if [[ $rc -eq 3 && $target == *://*\?* ]]; then
		# libpq rejected the parameters (e.g. pgx-only query options): probe without them.
		target=${target%%\?*}
		rc=0
		pg_isready -q -t 2 -d "$target" 2>/dev/null || rc=$?
	fi
	if [[ $rc -eq 3 ]]; then
		err=$(pg_isready -t 1 -d "$target" 2>&1 || true)
		die "DATABASE_URL is not a DSN libpq understands (${err#pg_isready: })"
	fi
	if [[ $rc -ne 0 ]]; then
		log "waiting for the server in DATABASE_URL"
		wait_ready "$WAIT_SECONDS" -d "$target" ||
			die "the server in DATABASE_URL did not become ready within ${WAIT_SECONDS}s"
	fi
	exit 0
fi

# ---------------------------------------------------------------------------
# 2. Fast path: everything is already in place.
# ---------------------------------------------------------------------------
# libpq/pg_wrapper variables from the caller's shell must not redirect our checks or the
# administrative psql runs (PGHOST would send them elsewhere, PGCLUSTER picks a cluster).
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGOPTIONS \
	PGSSLMODE PGTARGETSESSIONATTRS PGCLUSTER
if dsn_works; then
	exit 0
fi

# Serialize concurrent runs (e.g. two `make` invocations) for the slow path. The lock's
# descriptor (9) must never reach a server we start, or the postmaster would hold the lock
# for its lifetime: every command that may start one runs with 9>&-.
lock="${TMPDIR:-/tmp}/thoughts-dev-postgres.$(id -u).lock"
if have flock && { exec 9>>"$lock"; } 2>/dev/null; then
	flock -w 120 9 || die "another dev-postgres.sh still holds ${lock} after 120s"
	if dsn_works; then
		exit 0
	fi
fi

# ---------------------------------------------------------------------------
# 3. PostgreSQL server binaries.
# ---------------------------------------------------------------------------
server_versions() {
	local f
	for f in /usr/lib/postgresql/*/bin/pg_ctl; do
		[[ -x $f ]] && basename "$(dirname "$(dirname "$f")")"
	done | sort -n
}

if [[ -z $(server_versions) ]]; then
	have apt-get || die "no PostgreSQL server found and apt-get is unavailable; install PostgreSQL or set DATABASE_URL"
	log "installing PostgreSQL (apt-get install postgresql)"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 9>&-
	[[ -n $(server_versions) ]] || die "apt-get install postgresql did not provide /usr/lib/postgresql/*/bin/pg_ctl"
fi
for tool in pg_isready psql pg_lsclusters pg_ctlcluster pg_createcluster; do
	have "$tool" || die "$tool not found (expected from Debian's postgresql-common/postgresql-client)"
done

# ---------------------------------------------------------------------------
# 4. A server on 127.0.0.1:5432.
# ---------------------------------------------------------------------------
# The Debian cluster configured for our port, if any: "ver name port status owner datadir logfile".
cluster_on_port() {
	pg_lsclusters -h 2>/dev/null | awk -v p="$PORT" '$3 == p { print; exit }'
}

owner=postgres # OS user that administers the server (peer auth over the local socket)
cluster=$(cluster_on_port)
if [[ -n $cluster ]]; then
	read -r c_ver c_name _ c_status c_owner _ c_log <<<"$cluster"
	owner=$c_owner
fi

if pg_isready -q -t 2 -h "$HOST" -p "$PORT"; then
	log "using the server already running on ${HOST}:${PORT}"
else
	if [[ -z $cluster ]]; then
		others=$(pg_lsclusters -h 2>/dev/null | awk '{ printf "%s%s/%s on port %s", sep, $1, $2, $3; sep = ", " }')
		if [[ -n $others ]]; then
			die "no PostgreSQL cluster uses port ${PORT} (found: ${others}). Either move one to port ${PORT} (pg_conftool VER NAME set port ${PORT}; pg_ctlcluster VER NAME restart) or set DATABASE_URL, e.g. DATABASE_URL='postgres://${ROLE}:${PASSWORD}@${HOST}:PORT/${DB}?sslmode=disable' (create the role/database yourself)"
		fi
		c_ver=$(server_versions | tail -n1)
		c_name=main
		log "creating cluster ${c_ver}/${c_name} on port ${PORT}"
		as_root pg_createcluster "$c_ver" "$c_name" -p "$PORT" >/dev/null 9>&-
		as_root pg_ctlcluster "$c_ver" "$c_name" start -- -o "-c max_connections=${MAX_CONNECTIONS}" 9>&- ||
			die "could not start the new cluster ${c_ver}/${c_name}"
		cluster=$(cluster_on_port)
		[[ -n $cluster ]] || die "pg_createcluster did not create a cluster on port ${PORT}"
		read -r c_ver c_name _ c_status c_owner _ c_log <<<"$cluster"
		owner=$c_owner
	elif [[ $c_status != online* ]]; then
		log "starting cluster ${c_ver}/${c_name}"
		as_root pg_ctlcluster "$c_ver" "$c_name" start -- -o "-c max_connections=${MAX_CONNECTIONS}" 9>&- ||
			die "could not start cluster ${c_ver}/${c_name}; see ${c_log}"
	fi
	# Wait until the server answers over TCP, or over its local socket only (misconfigured).
	deadline=$((SECONDS + WAIT_SECONDS))
	until pg_isready -q -t 2 -h "$HOST" -p "$PORT"; do
		if pg_isready -q -t 2 -p "$PORT" && ! { sleep 2 && pg_isready -q -t 2 -h "$HOST" -p "$PORT"; }; then
			listen=$(as_user "$owner" psql -X -qtA -p "$PORT" -d postgres -c 'SHOW listen_addresses' 2>/dev/null || true)
			die "cluster ${c_ver}/${c_name} runs but does not accept TCP connections on ${HOST}:${PORT} (listen_addresses = '${listen}'); make it include localhost (pg_conftool ${c_ver} ${c_name} set listen_addresses localhost; pg_ctlcluster ${c_ver} ${c_name} restart)"
		fi
		((SECONDS < deadline)) || die "PostgreSQL on ${HOST}:${PORT} is not ready after ${WAIT_SECONDS}s; see ${c_log:-the server log}"
		sleep 0.5
	done
fi

# ---------------------------------------------------------------------------
# 5. Role and database (as the cluster owner, over the local socket with peer auth).
# ---------------------------------------------------------------------------
log "ensuring role '${ROLE}' (LOGIN, CREATEDB) and database '${DB}'"
sql="SET client_min_messages = warning;
SET password_encryption = 'scram-sha-256';
SELECT 'CREATE ROLE ${ROLE}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}')\\gexec
ALTER ROLE ${ROLE} WITH LOGIN CREATEDB PASSWORD '${PASSWORD}';
SELECT 'CREATE DATABASE ${DB} OWNER ${ROLE}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${DB}')\\gexec
ALTER DATABASE ${DB} OWNER TO ${ROLE};"
if ! as_user "$owner" psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres <<<"$sql" >/dev/null; then
	die "could not create role/database as OS user '${owner}' over the local socket on port ${PORT} (is the server on ${HOST}:${PORT} a local Debian cluster?). Create them yourself: CREATE ROLE ${ROLE} LOGIN CREATEDB PASSWORD '${PASSWORD}'; CREATE DATABASE ${DB} OWNER ${ROLE};"
fi

# ---------------------------------------------------------------------------
# 6. Check password login over TCP (pg_hba.conf).
# ---------------------------------------------------------------------------
if ! dsn_works; then
	err=$(PGCONNECT_TIMEOUT=3 PGPASSWORD=$PASSWORD psql -X -w -qtA "$DEFAULT_DSN" -c 'SELECT 1' 2>&1 >/dev/null || true)
	rules=$(as_user "$owner" psql -X -qtA -F ' ' -p "$PORT" -d postgres -c \
		"SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules WHERE type LIKE 'host%'" 2>/dev/null || true)
	die "password login over TCP fails for ${DEFAULT_DSN}: ${err:-unknown error}
pg_hba.conf host rules (line type database user address method):
${rules:-  (unavailable)}
A rule like 'host all all 127.0.0.1/32 scram-sha-256' must match before any reject/ident rule; edit pg_hba.conf and reload."
fi

log "ready: ${DEFAULT_DSN}"
