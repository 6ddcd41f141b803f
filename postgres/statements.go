package postgres

// statements are the backend's SQL, rendered for its schema once.
type statements struct {
	insertKeyspace, keyspace, insertTask, taskSpec  string
	submit, submitSimple, claim, promoteKeys        string
	complete, heartbeat                             string
	rescue, expire, retain, retainLock, retainRates string
	outcome, lookup, finished, nextDue              string
	listen, unlisten, listeners                     string
	gauges, keyLoad, keysLoad, taskKeyspace         string
}

func newStatements(n names) statements {
	r := n.render
	return statements{
		insertKeyspace: r(`INSERT INTO {{s}}.keyspaces (name, lim, rate, burst) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING`),
		keyspace:       r(`SELECT lim, rate, burst FROM {{s}}.keyspaces WHERE name = $1`),
		insertTask: r(`INSERT INTO {{s}}.tasks (name, ks, policy, dedupe, max_wait, max_queued, spec)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING`),
		taskSpec:     r(`SELECT spec FROM {{s}}.tasks WHERE name = $1`),
		taskKeyspace: r(`SELECT ks FROM {{s}}.tasks WHERE name = $1`),
		submit: r(`SELECT r_id, r_state, r_deduped FROM {{s}}.submit($1::text[], $2::text[], $3::bytea[], $4::bytea[],
			$5::text[], $6::json[], $7)`),
		submitSimple: r(`SELECT r_id, r_state, r_deduped FROM {{s}}.submit_simple($1::text[], $2::text[], $3::bytea[],
			$4::text[], $5::json[], $6)`),
		claim: r(`SELECT r_id, r_task, r_key, r_ks, r_kd, r_args, r_attempt, r_label, r_submitted_at, r_replaced, r_rated
			FROM {{s}}.claim($1, $2, $3::text[], $4::interval, $5)`),
		promoteKeys: r(`SELECT {{s}}.promote_keys($1::text[], $2::bytea[], $3)`),
		complete: r(`SELECT r_id, r_state, r_applied FROM {{s}}.complete($1, $2::bigint[], $3::int[], $4::smallint[],
			$5::json[], $6::text[], $7::smallint[], $8)`),
		heartbeat: r(`SELECT r_id, r_replaced FROM {{s}}.heartbeat($1, $2::bigint[], $3::int[], $4::interval)`),
		rescue:    r(`SELECT r_id, r_state FROM {{s}}.rescue($1)`),
		expire:    r(`SELECT r_id FROM {{s}}.expire($1)`),
		// Final invocations past the retention, a batch at a time, by one
		// process at a time.
		retainLock: `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`,
		retain: r(`WITH gone AS (
				SELECT id FROM {{s}}.invocations
				WHERE state >= 3 AND finished_at < now() - $1::interval
				ORDER BY finished_at LIMIT 5000)
			DELETE FROM {{s}}.invocations i USING gone WHERE i.id = gone.id`),
		// Rate state of rested keys: a fresh bucket is the same.
		retainRates: r(`DELETE FROM {{s}}.rates WHERE tat <= now()`),
		outcome: r(`SELECT task, key, state, result, err, err_kind, coalesce(worker, '')
			FROM {{s}}.invocations WHERE id = $1`),
		lookup: r(`SELECT key, state FROM {{s}}.invocations WHERE id = $1 AND task = $2`),
		// Final, or gone (deleted after the retention): nothing to wait for.
		finished: r(`SELECT x FROM unnest($1::bigint[]) x
			WHERE NOT EXISTS (SELECT 1 FROM {{s}}.invocations i WHERE i.id = x AND i.state < 3)`),
		nextDue: r(`SELECT min(ready_at) FROM {{s}}.invocations
			WHERE state = 1 AND ready_at > now() AND task = ANY ($1::text[])`),
		listen: r(`INSERT INTO {{s}}.listeners (worker, until) VALUES ($1, now() + $2::interval)
			ON CONFLICT (worker) DO UPDATE SET until = excluded.until`),
		unlisten:  r(`DELETE FROM {{s}}.listeners WHERE worker = $1`),
		listeners: r(`SELECT EXISTS (SELECT 1 FROM {{s}}.listeners WHERE until > now())`),
		gauges: r(`SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 1),
				count(*) FILTER (WHERE state = 2), count(DISTINCT kd)
			FROM {{s}}.invocations WHERE state <= 2`),
		keyLoad: r(`SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 1),
				count(*) FILTER (WHERE state = 2)
			FROM {{s}}.invocations WHERE kd = $1 AND state <= 2`),
		keysLoad: r(`SELECT ks, key, count(*) FILTER (WHERE state = 0) AS q, count(*) FILTER (WHERE state = 1) AS p,
				count(*) FILTER (WHERE state = 2) AS r
			FROM {{s}}.invocations WHERE state <= 2 AND kd IS NOT NULL
			GROUP BY ks, key ORDER BY count(*) DESC, ks, key LIMIT $1`),
	}
}
