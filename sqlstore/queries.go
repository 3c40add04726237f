package sqlstore

import "strings"

// queries holds every statement with the schema filled in, built once by
// Open. pgx prepares and caches each on every connection, so a statement
// is parsed and planned once per connection, not once per call.
type queries struct {
	seqName string // the sequence, qualified, for nextval($1::regclass)

	campaign, putCampaign, campaigns, campaignExists, lockCampaigns string

	member, memberLocked, members, membersPlain, counts, anyMember, deviceMembers, dueMembers, nextDue string
	upsertMembers, deleteMembers, existingMembers, memberKnown                                         string

	devicesFrom, upsertDevices, deviceRecords string

	deviceContextNoWait, deviceContextWait, lockDeviceMember   string
	casDevice, insDevice, casSession, insSession, putMemberDev string

	addCheckIn, checkIns string

	upsertDeadlines, deleteDeadlines, due, nextDeadline string

	gate, putGate string

	session, putSession, sessions string

	addBundle, bundles, deleteBundles string

	nextSeq, analyze string
}

const campaignColumns = `id, seq, account, name, family, protocol, status, target_account, software_name,
	software_from, software_to, make, model, package, timing, starts_at, ends_at, on_demand, pilot,
	cursor, swept, revision, created_at, updated_at`

// memberColumns are a member's columns after campaign_id and device_id.
const memberColumns = `state, reason, updated_at, push_protocol, push_attempt, push_flags,
	push_machine, push_result, due_at, lease`

// deviceColumns are a devices row's columns after device_id.
const deviceColumns = `active_campaign, recorded, account, license, licensed_at, ever_upgraded, last_campaign`

// deviceContext is what a device transaction reads first, in one
// statement: the device's row, whether it has a check-in history, its
// logging session, the campaign it is about ($2, or else its active
// campaign) with the device's member record in it, locked. Missing rows
// read as NULLs turned into placeholders, with a flag each. {lock} is
// NOWAIT or empty.
const deviceContext = `WITH d AS (
		SELECT xmin::text AS ver, ` + deviceColumns + ` FROM {s}.devices WHERE device_id = $1
	), k AS (
		SELECT coalesce($2::text, (SELECT active_campaign FROM d), '') AS cid
	), m AS (
		SELECT ` + memberColumns + ` FROM {s}.members
		WHERE campaign_id = (SELECT cid FROM k) AND device_id = $1 FOR NO KEY UPDATE {lock}
	)
	SELECT d.ver IS NOT NULL, coalesce(d.ver, ''), coalesce(d.active_campaign, ''), coalesce(d.recorded, false),
		coalesce(d.account, ''), coalesce(d.license, 0), d.licensed_at, coalesce(d.ever_upgraded, false),
		coalesce(d.last_campaign, ''),
		h.device_id IS NOT NULL,
		s.device_id IS NOT NULL, coalesce(s.xmin::text, ''), coalesce(s.account, ''), coalesce(s.state, 0),
		s.enabled_at, s.collecting_at, s.ended_at,
		k.cid,
		c.id IS NOT NULL, coalesce(c.id, ''), coalesce(c.seq, 0), coalesce(c.account, ''), coalesce(c.name, ''),
		coalesce(c.family, 0), coalesce(c.protocol, 0), coalesce(c.status, 0), coalesce(c.target_account, ''),
		coalesce(c.software_name, ''), coalesce(c.software_from, ''), coalesce(c.software_to, ''),
		coalesce(c.make, ''), coalesce(c.model, ''), coalesce(c.package, '{}'), coalesce(c.timing, '{}'),
		c.starts_at, c.ends_at, coalesce(c.on_demand, false), coalesce(c.pilot, false), coalesce(c.cursor, ''),
		coalesce(c.swept, false), coalesce(c.revision, 0), coalesce(c.created_at, 'epoch'),
		coalesce(c.updated_at, 'epoch'),
		m.state IS NOT NULL, coalesce(m.state, 0), coalesce(m.reason, 0), coalesce(m.updated_at, 'epoch'),
		coalesce(m.push_protocol, 0), coalesce(m.push_attempt, 0), coalesce(m.push_flags, 0),
		coalesce(m.push_machine, 0), coalesce(m.push_result, 0), m.due_at, coalesce(m.lease, 0)
	FROM k
	LEFT JOIN d ON true
	LEFT JOIN {s}.histories AS h ON h.device_id = $1
	LEFT JOIN {s}.sessions AS s ON s.device_id = $1
	LEFT JOIN {s}.campaigns AS c ON c.id = k.cid
	LEFT JOIN m ON true`

func buildQueries(schema string) queries {
	x := func(q string) string { return expand(q, schema) }
	return queries{
		seqName: schema + ".seq",

		campaign: x(`SELECT ` + campaignColumns + ` FROM {s}.campaigns WHERE id = $1`),
		// xmax = 0 on the returned row says it was inserted, not updated.
		putCampaign: x(`INSERT INTO {s}.campaigns (` + campaignColumns + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
			ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, account = EXCLUDED.account, name = EXCLUDED.name,
				family = EXCLUDED.family, protocol = EXCLUDED.protocol, status = EXCLUDED.status,
				target_account = EXCLUDED.target_account, software_name = EXCLUDED.software_name,
				software_from = EXCLUDED.software_from, software_to = EXCLUDED.software_to,
				make = EXCLUDED.make, model = EXCLUDED.model, package = EXCLUDED.package,
				timing = EXCLUDED.timing, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
				on_demand = EXCLUDED.on_demand, pilot = EXCLUDED.pilot, cursor = EXCLUDED.cursor,
				swept = EXCLUDED.swept, revision = EXCLUDED.revision,
				created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
			RETURNING xmax = 0`),
		campaigns: x(`SELECT ` + campaignColumns + ` FROM {s}.campaigns
			WHERE account = $1 AND id > $2 ORDER BY id LIMIT $3`),
		campaignExists: x(`SELECT EXISTS (SELECT 1 FROM {s}.campaigns WHERE id = $1)`),
		// Campaign rows first, in id order: the head of the lock order.
		lockCampaigns: x(`SELECT id FROM {s}.campaigns WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`),

		member:       x(`SELECT ` + memberColumns + ` FROM {s}.members WHERE campaign_id = $1 AND device_id = $2`),
		memberLocked: x(`SELECT ` + memberColumns + ` FROM {s}.members WHERE campaign_id = $1 AND device_id = $2 FOR NO KEY UPDATE`),
		// A page of members with their devices' rows: a sweep releases
		// each device it moves, and reads nothing more.
		// The page is taken first, in the primary key's order (whatever
		// the planner's statistics say of a campaign just filled), then
		// each member's device row by its key: the LIMIT keeps the
		// lateral subquery from being flattened into a join, which the
		// planner would make a hash join over every device row (60 ms
		// a page at 100,000 devices, against 8 ms for 1,000 lookups).
		members: x(`SELECT m.device_id, m.state, m.reason, m.updated_at, m.push_protocol, m.push_attempt,
				m.push_flags, m.push_machine, m.push_result, m.due_at, m.lease,
				d.device_id IS NOT NULL, coalesce(d.active_campaign, ''), coalesce(d.recorded, false),
				coalesce(d.account, ''), coalesce(d.license, 0), d.licensed_at, coalesce(d.ever_upgraded, false),
				coalesce(d.last_campaign, '')
			FROM (SELECT * FROM {s}.members WHERE campaign_id = $1 AND device_id > $2
				ORDER BY campaign_id, device_id LIMIT $3) AS m
			LEFT JOIN LATERAL (SELECT * FROM {s}.devices AS d WHERE d.device_id = m.device_id LIMIT 1) AS d ON true
			ORDER BY m.device_id`),
		membersPlain: x(`SELECT device_id, ` + memberColumns + ` FROM {s}.members
			WHERE campaign_id = $1 AND device_id > $2 ORDER BY campaign_id, device_id LIMIT $3`),
		// From the (campaign_id, state) index: an index-only scan.
		counts: x(`SELECT state, count(*) FROM {s}.members WHERE campaign_id = $1 GROUP BY state`),
		// One probe of the (campaign_id, state) index per state asked.
		anyMember: x(`SELECT EXISTS (SELECT 1 FROM {s}.campaigns WHERE id = $1),
			EXISTS (SELECT 1 FROM {s}.members WHERE campaign_id = $1 AND state = ANY($2::smallint[]))`),
		deviceMembers: x(`SELECT campaign_id, ` + memberColumns + ` FROM {s}.members WHERE device_id = $1 ORDER BY campaign_id`),
		dueMembers: x(`SELECT campaign_id, device_id, ` + memberColumns + ` FROM {s}.members
			WHERE due_at IS NOT NULL AND due_at <= $1 ORDER BY due_at, campaign_id, device_id LIMIT $2
			FOR NO KEY UPDATE SKIP LOCKED`),
		nextDue: x(`SELECT due_at FROM {s}.members WHERE due_at IS NOT NULL ORDER BY due_at LIMIT 1`),
		// Written in the order given (device id order): rows are locked
		// as they are inserted or updated.
		upsertMembers: x(`INSERT INTO {s}.members AS m (campaign_id, device_id, ` + memberColumns + `)
			SELECT c, d, st, r, u, pp, pa, pf, pm, pr, du, l FROM unnest($1::text[], $2::text[], $3::smallint[],
				$4::smallint[], $5::timestamptz[], $6::smallint[], $7::smallint[], $8::smallint[], $9::integer[],
				$10::integer[], $11::timestamptz[], $12::bigint[]) WITH ORDINALITY
				AS u(c, d, st, r, u, pp, pa, pf, pm, pr, du, l, o) ORDER BY o
			ON CONFLICT (campaign_id, device_id) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason,
				updated_at = EXCLUDED.updated_at, push_protocol = EXCLUDED.push_protocol,
				push_attempt = EXCLUDED.push_attempt, push_flags = EXCLUDED.push_flags,
				push_machine = EXCLUDED.push_machine, push_result = EXCLUDED.push_result,
				due_at = EXCLUDED.due_at, lease = EXCLUDED.lease`),
		deleteMembers: x(`DELETE FROM {s}.members WHERE (campaign_id, device_id) IN
			(SELECT * FROM unnest($1::text[], $2::text[]))`),
		existingMembers: x(`SELECT device_id FROM {s}.members WHERE campaign_id = $1 AND device_id = ANY($2::text[])`),
		memberKnown:     x(`SELECT EXISTS (SELECT 1 FROM {s}.members WHERE device_id = $1)`),

		// Rows from $1 on, in id order: a read of one device that also
		// tells which ids after it have no row (see devCache).
		devicesFrom: x(`SELECT device_id, ` + deviceColumns + ` FROM {s}.devices
			WHERE device_id >= $1 ORDER BY device_id LIMIT $2`),
		upsertDevices: x(`INSERT INTO {s}.devices AS d (device_id, ` + deviceColumns + `)
			SELECT i, a, rd, ac, li, la, e, lc FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[],
				$5::smallint[], $6::timestamptz[], $7::boolean[], $8::text[]) WITH ORDINALITY
				AS u(i, a, rd, ac, li, la, e, lc, o) ORDER BY o
			ON CONFLICT (device_id) DO UPDATE SET active_campaign = EXCLUDED.active_campaign,
				recorded = EXCLUDED.recorded, account = EXCLUDED.account, license = EXCLUDED.license,
				licensed_at = EXCLUDED.licensed_at, ever_upgraded = EXCLUDED.ever_upgraded,
				last_campaign = EXCLUDED.last_campaign`),
		deviceRecords: x(`SELECT device_id, ` + deviceColumns + ` FROM {s}.devices
			WHERE recorded AND account = $1 AND device_id > $2 ORDER BY device_id LIMIT $3`),

		deviceContextNoWait: x(replaceLock(deviceContext, "NOWAIT")),
		deviceContextWait:   x(replaceLock(deviceContext, "")),
		lockDeviceMember: x(`SELECT 1 FROM {s}.members
			WHERE campaign_id = coalesce($2::text, (SELECT active_campaign FROM {s}.devices WHERE device_id = $1), '')
				AND device_id = $1 FOR NO KEY UPDATE`),
		// A device transaction writes a devices row or a session only if
		// it is the version it read ($2, its xmin): otherwise another
		// transaction changed it since, and stale() fails the transaction
		// with a serialization failure, to be run again.
		casDevice: x(`WITH u AS (
				UPDATE {s}.devices SET active_campaign = $3, recorded = $4, account = $5, license = $6,
					licensed_at = $7, ever_upgraded = $8, last_campaign = $9
				WHERE device_id = $1 AND xmin::text = $2 RETURNING 1
			) SELECT {s}.stale('device ' || $1) WHERE NOT EXISTS (SELECT 1 FROM u)`),
		insDevice: x(`WITH i AS (
				INSERT INTO {s}.devices (device_id, ` + deviceColumns + `) VALUES ($1, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (device_id) DO NOTHING RETURNING 1
			) SELECT {s}.stale('device ' || $1 || $2) WHERE NOT EXISTS (SELECT 1 FROM i)`),
		casSession: x(`WITH u AS (
				UPDATE {s}.sessions SET account = $3, state = $4, enabled_at = $5, collecting_at = $6, ended_at = $7
				WHERE device_id = $1 AND xmin::text = $2 RETURNING 1
			) SELECT {s}.stale('session ' || $1) WHERE NOT EXISTS (SELECT 1 FROM u)`),
		insSession: x(`WITH i AS (
				INSERT INTO {s}.sessions (device_id, account, state, enabled_at, collecting_at, ended_at)
				VALUES ($1, $3, $4, $5, $6, $7) ON CONFLICT (device_id) DO NOTHING RETURNING 1
			) SELECT {s}.stale('session ' || $1 || $2) WHERE NOT EXISTS (SELECT 1 FROM i)`),
		// The member is locked: the device transaction read it first.
		putMemberDev: x(`UPDATE {s}.members SET state = $3, reason = $4, updated_at = $5, push_protocol = $6,
				push_attempt = $7, push_flags = $8, push_machine = $9, push_result = $10, due_at = $11, lease = $12
			WHERE campaign_id = $1 AND device_id = $2`),

		// One statement: number the check-in after the device's newest
		// (the histories row, locked by the update, so that two check-ins
		// of one device never take one number), insert it, and delete
		// what falls out of the kept window. CheckIns reads only the
		// window, so a check-in a concurrent statement did not see is
		// never shown beyond it.
		addCheckIn: x(`WITH h AS (
				INSERT INTO {s}.histories AS h (device_id, n, keep) VALUES ($1, 1, $6)
				ON CONFLICT (device_id) DO UPDATE SET n = h.n + 1, keep = EXCLUDED.keep
				RETURNING n
			), ins AS (
				INSERT INTO {s}.check_ins (device_id, n, at, client_type, result, failure_type)
				SELECT $1, n, $2, $3, $4, $5 FROM h
			)
			DELETE FROM {s}.check_ins WHERE device_id = $1 AND n <= (SELECT n FROM h) - $6`),
		checkIns: x(`SELECT c.client_type, c.result, c.failure_type, c.at
			FROM {s}.check_ins AS c JOIN {s}.histories AS h ON h.device_id = c.device_id
			WHERE c.device_id = $1 AND c.n > h.n - h.keep AND ($2::timestamptz IS NULL OR c.at < $2)
			ORDER BY c.at DESC, c.n DESC LIMIT $3`),

		upsertDeadlines: x(`INSERT INTO {s}.deadlines (kind, key, at)
			SELECT k, y, a FROM unnest($1::smallint[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS u(k, y, a, o) ORDER BY o
			ON CONFLICT (kind, key) DO UPDATE SET at = EXCLUDED.at`),
		deleteDeadlines: x(`DELETE FROM {s}.deadlines WHERE (kind, key) IN
			(SELECT * FROM unnest($1::smallint[], $2::text[]))`),
		// Deadlines another transaction is applying (it holds their
		// advisory lock, taken here) are skipped: replicas ticking at once
		// take disjoint work. The try-lock runs on the rows the index scan
		// reaches, in order, until the limit.
		due: x(`SELECT kind, key, at FROM {s}.deadlines WHERE at <= $1
			AND pg_try_advisory_xact_lock($3::integer, hashtext(kind::text || ':' || key))
			ORDER BY at, kind, key LIMIT $2`),
		nextDeadline: x(`SELECT at FROM {s}.deadlines ORDER BY at LIMIT 1`),

		gate: x(`SELECT state, pilots, lifted_at FROM {s}.gates
			WHERE account = $1 AND software_name = $2 AND software_from = $3 AND software_to = $4`),
		putGate: x(`INSERT INTO {s}.gates (account, software_name, software_from, software_to, state, pilots, lifted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (account, software_name, software_from, software_to) DO UPDATE SET
				state = EXCLUDED.state, pilots = EXCLUDED.pilots, lifted_at = EXCLUDED.lifted_at`),

		session: x(`SELECT account, state, enabled_at, collecting_at, ended_at FROM {s}.sessions WHERE device_id = $1`),
		putSession: x(`INSERT INTO {s}.sessions (device_id, account, state, enabled_at, collecting_at, ended_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (device_id) DO UPDATE SET account = EXCLUDED.account, state = EXCLUDED.state,
				enabled_at = EXCLUDED.enabled_at, collecting_at = EXCLUDED.collecting_at,
				ended_at = EXCLUDED.ended_at`),
		sessions: x(`SELECT device_id, account, state, enabled_at, collecting_at, ended_at FROM {s}.sessions
			WHERE account = $1 ORDER BY device_id`),

		addBundle: x(`INSERT INTO {s}.bundles (device_id, log_time, log_type, event_log, file_base64, file_name, uploaded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`),
		bundles: x(`SELECT log_time, log_type, event_log, file_base64, file_name, uploaded_at FROM {s}.bundles
			WHERE device_id = $1 ORDER BY uploaded_at, id`),
		deleteBundles: x(`DELETE FROM {s}.bundles WHERE device_id = $1 AND uploaded_at < $2`),

		nextSeq: `SELECT nextval($1::regclass)`,
		analyze: x(`ANALYZE {s}.members, {s}.devices`),
	}
}

// replaceLock fills deviceContext's lock option.
func replaceLock(q, lock string) string { return strings.ReplaceAll(q, "{lock}", lock) }
