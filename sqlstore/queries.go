package sqlstore

// queries holds every statement with the schema filled in, built once by
// Open. pgx prepares and caches each on every connection, so a statement
// is parsed and planned once per connection, not once per call.
type queries struct {
	seqName string // the sequence, qualified, for nextval($1::regclass)

	campaign, putCampaign, campaigns, campaignExists string

	member, putMember, deleteMember, members, counts string

	deviceContext, setActive, release, device, putDevice string

	addCheckIn, checkIns string

	putDeadline, deleteDeadline, due, nextDeadline string

	gate, putGate string

	session, putSession, sessions string

	addBundle, bundles, deleteBundles string

	nextSeq string
}

const campaignColumns = `id, account, name, protocol, status, make, model, software_from, software_to,
	software_name, timing, starts_at, ends_at, on_demand, pilot, revision, created_at, updated_at`

func buildQueries(schema string) queries {
	x := func(q string) string { return expand(q, schema) }
	return queries{
		seqName: schema + ".seq",

		campaign: x(`SELECT ` + campaignColumns + ` FROM {s}.campaigns WHERE id = $1`),
		putCampaign: x(`INSERT INTO {s}.campaigns (` + campaignColumns + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
			ON CONFLICT (id) DO UPDATE SET account = EXCLUDED.account, name = EXCLUDED.name,
				protocol = EXCLUDED.protocol, status = EXCLUDED.status, make = EXCLUDED.make,
				model = EXCLUDED.model, software_from = EXCLUDED.software_from,
				software_to = EXCLUDED.software_to, software_name = EXCLUDED.software_name,
				timing = EXCLUDED.timing, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
				on_demand = EXCLUDED.on_demand, pilot = EXCLUDED.pilot, revision = EXCLUDED.revision,
				created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at`),
		campaigns: x(`SELECT ` + campaignColumns + ` FROM {s}.campaigns
			WHERE account = $1 AND id > $2 ORDER BY id LIMIT $3`),
		campaignExists: x(`SELECT EXISTS (SELECT 1 FROM {s}.campaigns WHERE id = $1)`),

		member: x(`SELECT state, reason, updated_at FROM {s}.members WHERE campaign_id = $1 AND device_id = $2`),
		// One statement, which puts nothing when the campaign is missing
		// (no row affected) instead of failing the foreign key and
		// aborting the transaction.
		putMember: x(`INSERT INTO {s}.members (campaign_id, device_id, state, reason, updated_at)
			SELECT $1::text, $2::text, $3::smallint, $4::smallint, $5::timestamptz
			WHERE EXISTS (SELECT 1 FROM {s}.campaigns WHERE id = $1)
			ON CONFLICT (campaign_id, device_id) DO UPDATE SET state = EXCLUDED.state,
				reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at`),
		deleteMember: x(`DELETE FROM {s}.members WHERE campaign_id = $1 AND device_id = $2`),
		members: x(`SELECT device_id, state, reason, updated_at FROM {s}.members
			WHERE campaign_id = $1 AND device_id > $2 ORDER BY device_id LIMIT $3`),
		counts: x(`SELECT state, count(*) FROM {s}.members WHERE campaign_id = $1 GROUP BY state`),

		// What a check-in asks about its device, in one statement: the
		// active campaign, the logging session, and the campaign's record
		// and the device's member in it. Missing rows read as NULLs (and
		// the campaign's NOT NULL columns as placeholders), with a flag.
		deviceContext: x(`SELECT coalesce(d.active_campaign, ''),
				s.device_id IS NOT NULL, coalesce(s.account, ''), coalesce(s.state, 0),
				s.enabled_at, s.collecting_at, s.ended_at,
				c.id IS NOT NULL, coalesce(c.id, ''), coalesce(c.account, ''), coalesce(c.name, ''),
				coalesce(c.protocol, 0), coalesce(c.status, 0), coalesce(c.make, ''), coalesce(c.model, ''),
				coalesce(c.software_from, ''), coalesce(c.software_to, ''), coalesce(c.software_name, ''),
				coalesce(c.timing, '{}'), c.starts_at, c.ends_at, coalesce(c.on_demand, false),
				coalesce(c.pilot, false), coalesce(c.revision, 0), coalesce(c.created_at, 'epoch'),
				coalesce(c.updated_at, 'epoch'),
				m.device_id IS NOT NULL, coalesce(m.state, 0), coalesce(m.reason, 0), coalesce(m.updated_at, 'epoch')
			FROM (SELECT $1::text AS id) AS k
			LEFT JOIN {s}.devices AS d ON d.device_id = k.id
			LEFT JOIN {s}.sessions AS s ON s.device_id = k.id
			LEFT JOIN {s}.campaigns AS c ON c.id = d.active_campaign
			LEFT JOIN {s}.members AS m ON m.campaign_id = d.active_campaign AND m.device_id = k.id`),
		setActive: x(`INSERT INTO {s}.devices (device_id, active_campaign) VALUES ($1, $2)
			ON CONFLICT (device_id) DO UPDATE SET active_campaign = EXCLUDED.active_campaign`),
		release: x(`UPDATE {s}.devices SET active_campaign = '' WHERE device_id = $1 AND active_campaign <> ''`),
		device:  x(`SELECT account, license, ever_upgraded FROM {s}.devices WHERE device_id = $1`),
		putDevice: x(`INSERT INTO {s}.devices (device_id, account, license, ever_upgraded) VALUES ($1, $2, $3, $4)
			ON CONFLICT (device_id) DO UPDATE SET account = EXCLUDED.account,
				license = EXCLUDED.license, ever_upgraded = EXCLUDED.ever_upgraded`),

		// One statement: count the device's stored check-ins, up to at
		// most $6, in its devices row; insert the new one; and delete the
		// oldest of the old ones beyond $6 - 1. Every part sees the
		// tables as they were before the statement, so "old" is the count
		// before this check-in. Reading only the oldest rows (none until
		// the history is full, then what goes) keeps a check-in's reads,
		// and so its serialization conflicts, to its own device.
		addCheckIn: x(`WITH old AS (
				SELECT coalesce((SELECT history FROM {s}.devices WHERE device_id = $1), 0) AS n
			), counted AS (
				INSERT INTO {s}.devices (device_id, history) VALUES ($1, 1)
				ON CONFLICT (device_id) DO UPDATE SET history = least((SELECT n FROM old) + 1, $6::bigint)
			), ins AS (
				INSERT INTO {s}.check_ins (device_id, at, client_type, result, failure_type)
				VALUES ($1, $2, $3, $4, $5)
			)
			DELETE FROM {s}.check_ins WHERE id IN (
				SELECT id FROM {s}.check_ins WHERE device_id = $1 ORDER BY at, id
				LIMIT greatest((SELECT n FROM old) + 1 - $6::bigint, 0)
			)`),
		checkIns: x(`SELECT client_type, result, failure_type, at FROM {s}.check_ins
			WHERE device_id = $1 AND ($2::timestamptz IS NULL OR at < $2)
			ORDER BY at DESC, id DESC LIMIT $3`),

		putDeadline: x(`INSERT INTO {s}.deadlines (kind, key, at) VALUES ($1, $2, $3)
			ON CONFLICT (kind, key) DO UPDATE SET at = EXCLUDED.at`),
		deleteDeadline: x(`DELETE FROM {s}.deadlines WHERE kind = $1 AND key = $2`),
		due: x(`SELECT kind, key, at FROM {s}.deadlines WHERE at <= $1
			ORDER BY at, kind, key LIMIT $2`),
		nextDeadline: x(`SELECT at FROM {s}.deadlines ORDER BY at LIMIT 1`),

		gate: x(`SELECT state, pilots, lifted_at FROM {s}.gates
			WHERE make = $1 AND model = $2 AND software_from = $3 AND software_to = $4`),
		putGate: x(`INSERT INTO {s}.gates (make, model, software_from, software_to, state, pilots, lifted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (make, model, software_from, software_to) DO UPDATE SET
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
	}
}
