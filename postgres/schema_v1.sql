-- perkey schema, version 1. {{s}} is the schema (a quoted identifier),
-- {{ready}}, {{done}}, {{cancel}} and {{events}} the notification channels
-- (string literals).
--
-- States (scheduler.State): 0 Queued, 1 Pending (admitted: ready to be
-- claimed), 2 Running, 3 Succeeded, 4 Failed, 5 Dropped, 6 Expired,
-- 7 Canceled.
--
-- Admission by promotion: a keyed invocation is admitted when it takes one
-- of its key's Limit slots (slot is set while it is Pending or Running, and
-- a unique index over (kd, slot) lets no key hold more). Every change of a
-- key's admissions (submit, completion, expiry, replace) holds the key's
-- transaction lock and promotes the oldest waiting invocations into free
-- slots. Claiming only moves admitted rows from Pending to Running, with
-- SKIP LOCKED, oldest ready_at first: round robin over ready keys, and a
-- key's waiting backlog is never scanned.

CREATE TABLE {{s}}.keyspaces (
	name  text PRIMARY KEY,
	lim   int NOT NULL CHECK (lim >= 1),
	rate  float8 NOT NULL DEFAULT 0 CHECK (rate >= 0), -- starts per second; 0 means none
	burst int NOT NULL DEFAULT 1 CHECK (burst >= 1)
);

CREATE TABLE {{s}}.tasks (
	name          text PRIMARY KEY,
	ks            text REFERENCES {{s}}.keyspaces (name),
	policy        smallint NOT NULL, -- 0 Wait, 1 Drop, 2 Replace
	dedupe        smallint NOT NULL, -- 0 none, 1 UntilStart, 2 UntilDone
	max_wait      interval,
	max_queued    int NOT NULL DEFAULT 0, -- per key; 0 means unbounded
	spec          jsonb NOT NULL,
	registered_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE {{s}}.invocations (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	task         text NOT NULL,
	ks           text,            -- keyspace; NULL without a Running scope
	key          text NOT NULL DEFAULT '',
	kd           bytea,           -- digest of (ks, key); NULL without a Running scope
	rd           bytea,           -- digest of the Registration key; NULL without one
	absorbing    boolean NOT NULL DEFAULT false, -- takes matching submissions (dedupe)
	state        smallint NOT NULL CHECK (state BETWEEN 0 AND 7),
	slot         int,             -- the admitted slot, while Pending or Running
	replaced     boolean NOT NULL DEFAULT false, -- a newer Replace submission cancelled it
	attempt      int NOT NULL DEFAULT 0,
	worker       text,            -- the process that runs (or last ran) it
	lease_until  timestamptz,
	label        text,
	args         json,
	result       json,
	err          text,
	err_kind     smallint NOT NULL DEFAULT 0, -- 0 error, 1 panic, 2 goexit, 3 replaced, 4 closed, 5 decode
	submitted_at timestamptz NOT NULL DEFAULT now(),
	ready_at     timestamptz,
	started_at   timestamptz,
	finished_at  timestamptz,
	expire_at    timestamptz,
	CHECK ((slot IS NOT NULL) = (kd IS NOT NULL AND state IN (1, 2)))
);

CREATE UNIQUE INDEX invocations_slot ON {{s}}.invocations (kd, slot) WHERE slot IS NOT NULL;
CREATE INDEX invocations_waiting ON {{s}}.invocations (kd, id) WHERE state = 0;
CREATE INDEX invocations_ready ON {{s}}.invocations (ready_at, id) WHERE state = 1;
CREATE INDEX invocations_running ON {{s}}.invocations (lease_until) WHERE state = 2;
CREATE UNIQUE INDEX invocations_dedupe ON {{s}}.invocations (task, rd) WHERE absorbing;
CREATE INDEX invocations_finished ON {{s}}.invocations (finished_at) WHERE state >= 3;
CREATE INDEX invocations_expiring ON {{s}}.invocations (expire_at) WHERE state <= 1 AND expire_at IS NOT NULL;

-- Per-key rate state (GCRA): tat is the theoretical arrival time of the
-- next start. A row exists only while its key is not rested.
CREATE TABLE {{s}}.rates (
	kd  bytea PRIMARY KEY,
	tat timestamptz NOT NULL
);

-- Processes whose scheduler has event listeners (a monitor, a timeline,
-- metrics): while any is here, every process publishes its state changes
-- on the events channel. A row lapses unless renewed.
CREATE TABLE {{s}}.listeners (
	worker text PRIMARY KEY,
	until  timestamptz NOT NULL
);

-- Inserting a listener tells every process at once (notify_listen).
CREATE FUNCTION {{s}}.notify_listen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify({{listen}}, NEW.worker);
	RETURN NULL;
END $$;
CREATE TRIGGER listeners_notify AFTER INSERT ON {{s}}.listeners
	FOR EACH ROW EXECUTE FUNCTION {{s}}.notify_listen();

-- lock_id maps a key digest to the bigint of its transaction lock.
CREATE FUNCTION {{s}}.lock_id(d bytea) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT ('x' || encode(substring(d FROM 1 FOR 8), 'hex'))::bit(64)::bigint
$$;

-- lock_keys takes the transaction locks of the digests ds (NULLs
-- ignored), in one order whatever the caller: lock_id order, so that two
-- transactions that lock overlapping sets never wait for each other in a
-- cycle. One statement for the whole set.
CREATE FUNCTION {{s}}.lock_keys(ds bytea[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(l) FROM (
		SELECT DISTINCT {{s}}.lock_id(d) AS l FROM unnest(ds) d WHERE d IS NOT NULL ORDER BY 1) ordered;
END $$;

-- ev is one event line for the events channel: invocation i in its
-- state; ev_state the same line with another state (for a change the row
-- has gone past already, such as the Queued of work admitted at once).
CREATE FUNCTION {{s}}.ev_state(i {{s}}.invocations, st smallint, deduped boolean) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'i', i.id, 't', i.task, 'k', left(i.key, 256), 'l', left(i.label, 256),
		's', st, 'at', (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
		'w', i.worker, 'e', left(i.err, 256), 'x', i.err_kind, 'd', deduped)::text || E'\n'
$$;

CREATE FUNCTION {{s}}.ev(i {{s}}.invocations, deduped boolean) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT {{s}}.ev_state(i, i.state, deduped)
$$;

CREATE FUNCTION {{s}}.ev_queued(i {{s}}.invocations) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT {{s}}.ev_state(i, 0::smallint, false)
$$;

-- notify_text sends lines on channel ch, in payloads under the 8000-byte
-- limit.
CREATE FUNCTION {{s}}.notify_text(ch text, lines text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	chunk text := '';
	line  text;
BEGIN
	IF lines IS NULL OR lines = '' THEN
		RETURN;
	END IF;
	FOREACH line IN ARRAY string_to_array(rtrim(lines, E'\n'), E'\n') LOOP
		IF octet_length(chunk) + octet_length(line) > 7000 THEN
			PERFORM pg_notify(ch, chunk);
			chunk := '';
		END IF;
		chunk := chunk || line || E'\n';
	END LOOP;
	IF chunk <> '' THEN
		PERFORM pg_notify(ch, chunk);
	END IF;
END $$;

-- notify_ids sends ids on channel ch, comma separated.
CREATE FUNCTION {{s}}.notify_ids(ch text, ids bigint[]) RETURNS void
LANGUAGE sql AS $$
	SELECT {{s}}.notify_text(ch, string_agg(c, E'\n'))
	FROM (SELECT string_agg(id::text, ',') AS c
	      FROM (SELECT id, (row_number() OVER ()) / 500 AS g FROM unnest(ids) id) x
	      GROUP BY g) y
$$;

-- due returns when key d may start its next invocation under the rate of
-- keyspace k, given that pending more admitted invocations will start
-- first: now, or later.
CREATE FUNCTION {{s}}.due(k {{s}}.keyspaces, d bytea, pending int) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN k.rate <= 0 THEN now() ELSE greatest(now(),
		coalesce((SELECT tat FROM {{s}}.rates WHERE kd = d), now())
		+ make_interval(secs => (pending - (k.burst - 1)) / k.rate)) END
$$;

-- promote admits the oldest waiting invocations of key d into its free
-- slots, and returns them. The caller holds the key's lock.
CREATE FUNCTION {{s}}.promote(p_ks text, d bytea) RETURNS SETOF {{s}}.invocations
LANGUAGE plpgsql AS $$
DECLARE
	k        {{s}}.keyspaces;
	used     int[];
	unstarted int;
	slot_no  int;
	next_id  bigint;
	at       timestamptz;
	r        {{s}}.invocations;
BEGIN
	SELECT * INTO k FROM {{s}}.keyspaces WHERE name = p_ks;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'perkey: no keyspace %', p_ks USING ERRCODE = 'P0002';
	END IF;
	LOOP
		SELECT coalesce(array_agg(i.slot), '{}'), count(*) FILTER (WHERE i.state = 1)
		INTO used, unstarted
		FROM {{s}}.invocations i WHERE i.kd = d AND i.slot IS NOT NULL;
		EXIT WHEN cardinality(used) >= k.lim;
		-- A replaced invocation still running keeps its successor out.
		EXIT WHEN EXISTS (SELECT 1 FROM {{s}}.invocations i
			WHERE i.kd = d AND i.slot IS NOT NULL AND i.replaced);
		at := now();
		IF k.rate > 0 THEN
			-- One admitted invocation waits for its start at a time, so
			-- that every start is measured against the one before.
			EXIT WHEN unstarted > 0;
			at := {{s}}.due(k, d, 0);
		END IF;
		SELECT i.id INTO next_id FROM {{s}}.invocations i
		WHERE i.kd = d AND i.state = 0 ORDER BY i.id LIMIT 1;
		EXIT WHEN next_id IS NULL;
		SELECT min(g) INTO slot_no FROM generate_series(0, k.lim - 1) g WHERE g <> ALL (used);
		UPDATE {{s}}.invocations i SET state = 1, slot = slot_no, ready_at = at
		WHERE i.id = next_id RETURNING i.* INTO r;
		RETURN NEXT r;
	END LOOP;
END $$;

-- promote_set is promote for many keys at once, set-based, for keys
-- without a rate (the caller promotes rated keys with promote): each key
-- admits its oldest waiting invocations into its free slots, unless a
-- replaced invocation still holds one of them. The caller holds the keys'
-- locks.
CREATE FUNCTION {{s}}.promote_set(p_ks text[], p_kd bytea[]) RETURNS SETOF {{s}}.invocations
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY
	WITH keys AS (
		SELECT DISTINCT x.kd, k.lim
		FROM unnest(p_ks, p_kd) AS x(ks, kd) JOIN {{s}}.keyspaces k ON k.name = x.ks
		WHERE x.kd IS NOT NULL AND k.rate = 0
		  AND NOT EXISTS (SELECT 1 FROM {{s}}.invocations i
			WHERE i.kd = x.kd AND i.slot IS NOT NULL AND i.replaced)
	), free AS (
		SELECT keys.kd, g AS slot, row_number() OVER (PARTITION BY keys.kd ORDER BY g) AS n
		FROM keys
		CROSS JOIN LATERAL (SELECT coalesce(array_agg(i.slot), '{}') AS used FROM {{s}}.invocations i
			WHERE i.kd = keys.kd AND i.slot IS NOT NULL) u
		CROSS JOIN LATERAL generate_series(0, keys.lim - 1) g
		WHERE g <> ALL (u.used)
	), next AS (
		SELECT w.id, keys.kd, row_number() OVER (PARTITION BY keys.kd ORDER BY w.id) AS n
		FROM keys CROSS JOIN LATERAL (
			SELECT i.id FROM {{s}}.invocations i
			WHERE i.kd = keys.kd AND i.state = 0 ORDER BY i.id LIMIT keys.lim) w
	)
	UPDATE {{s}}.invocations i SET state = 1, slot = free.slot, ready_at = now()
	FROM next JOIN free ON free.kd = next.kd AND free.n = next.n
	WHERE i.id = next.id
	RETURNING i.*;
END $$;

-- promote_all promotes the given keys: set-based for keys without a rate,
-- one by one for rated keys. The caller holds the keys' locks.
CREATE FUNCTION {{s}}.promote_all(p_ks text[], p_kd bytea[]) RETURNS SETOF {{s}}.invocations
LANGUAGE plpgsql AS $$
DECLARE
	c      record;
	one_ks text[];
	one_kd bytea[];
	set_ks text[];
	set_kd bytea[];
BEGIN
	-- Keys of Limit 1 without a rate, the common case, take a shorter
	-- path: their one slot is free or not, and nothing else matters.
	SELECT array_agg(x.ks) FILTER (WHERE k.lim = 1), array_agg(x.kd) FILTER (WHERE k.lim = 1),
		array_agg(x.ks) FILTER (WHERE k.lim > 1), array_agg(x.kd) FILTER (WHERE k.lim > 1)
	INTO one_ks, one_kd, set_ks, set_kd
	FROM (SELECT DISTINCT ks, kd FROM unnest(p_ks, p_kd) AS u(ks, kd) WHERE kd IS NOT NULL) x
	JOIN {{s}}.keyspaces k ON k.name = x.ks AND k.rate = 0;
	IF one_kd IS NOT NULL THEN
		RETURN QUERY
		UPDATE {{s}}.invocations i SET state = 1, slot = 0, ready_at = now()
		FROM unnest(one_kd) AS f(kd)
		CROSS JOIN LATERAL (
			SELECT w.id FROM {{s}}.invocations w
			WHERE w.kd = f.kd AND w.state = 0 ORDER BY w.id LIMIT 1) n
		WHERE i.id = n.id
		  AND NOT EXISTS (SELECT 1 FROM {{s}}.invocations h WHERE h.kd = f.kd AND h.slot IS NOT NULL)
		RETURNING i.*;
	END IF;
	IF set_kd IS NOT NULL THEN
		RETURN QUERY SELECT * FROM {{s}}.promote_set(set_ks, set_kd);
	END IF;
	FOR c IN SELECT DISTINCT x.ks, x.kd FROM unnest(p_ks, p_kd) AS x(ks, kd)
		JOIN {{s}}.keyspaces k ON k.name = x.ks WHERE x.kd IS NOT NULL AND k.rate > 0 LOOP
		RETURN QUERY SELECT * FROM {{s}}.promote(c.ks, c.kd);
	END LOOP;
END $$;

-- busy reports whether a Drop submission for key d must be dropped: the
-- key holds its Limit of admitted invocations, or has work waiting, or
-- has no rate token for it.
CREATE FUNCTION {{s}}.busy(k {{s}}.keyspaces, d bytea) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
	admitted  int;
	unstarted int;
BEGIN
	SELECT count(*), count(*) FILTER (WHERE i.state = 1) INTO admitted, unstarted
	FROM {{s}}.invocations i WHERE i.kd = d AND i.slot IS NOT NULL;
	IF admitted >= k.lim OR EXISTS (SELECT 1 FROM {{s}}.invocations i WHERE i.kd = d AND i.state = 0) THEN
		RETURN true;
	END IF;
	RETURN k.rate > 0 AND {{s}}.due(k, d, unstarted) > now();
END $$;

-- submit creates one invocation per element of the arrays, or finds the
-- one it collapses into, and returns each with its state. It holds the
-- locks of every key it touches, taken in one order.
CREATE FUNCTION {{s}}.submit(p_task text[], p_key text[], p_kd bytea[], p_rd bytea[],
	p_label text[], p_args json[], p_events boolean)
RETURNS TABLE (r_id bigint, r_state smallint, r_deduped boolean)
LANGUAGE plpgsql AS $$
DECLARE
	n       int := coalesce(cardinality(p_task), 0);
	l       bigint;
	t       {{s}}.tasks;
	k       {{s}}.keyspaces;
	found_r {{s}}.invocations;
	r       {{s}}.invocations;
	p       {{s}}.invocations;
	ready   boolean := false;
	done    bigint[] := '{}';
	cancels bigint[] := '{}';
	evs     text := '';
	waiting int;
BEGIN
	PERFORM {{s}}.lock_keys(p_kd || p_rd);
	FOR idx IN 1 .. n LOOP
		SELECT * INTO t FROM {{s}}.tasks WHERE name = p_task[idx];
		IF NOT FOUND THEN
			RAISE EXCEPTION 'perkey: task % is not registered', p_task[idx] USING ERRCODE = 'P0002';
		END IF;
		IF p_rd[idx] IS NOT NULL THEN
			SELECT * INTO found_r FROM {{s}}.invocations i
			WHERE i.task = p_task[idx] AND i.rd = p_rd[idx] AND i.absorbing FOR SHARE;
			IF FOUND THEN
				r_id := found_r.id; r_state := found_r.state; r_deduped := true;
				IF p_events THEN evs := evs || {{s}}.ev(found_r, true); END IF;
				RETURN NEXT;
				CONTINUE;
			END IF;
		END IF;
		IF p_kd[idx] IS NULL THEN
			INSERT INTO {{s}}.invocations AS i (task, key, rd, absorbing, state, label, args, ready_at, expire_at)
			VALUES (p_task[idx], p_key[idx], p_rd[idx], p_rd[idx] IS NOT NULL, 1, p_label[idx], p_args[idx],
				now(), now() + t.max_wait)
			RETURNING i.* INTO r;
			ready := true;
			IF p_events THEN
				r.state := 0; evs := evs || {{s}}.ev(r, false);
				r.state := 1; evs := evs || {{s}}.ev(r, false);
			END IF;
			r_id := r.id; r_state := 1; r_deduped := false;
			RETURN NEXT;
			CONTINUE;
		END IF;
		SELECT * INTO k FROM {{s}}.keyspaces WHERE name = t.ks;
		IF t.max_queued > 0 THEN
			SELECT count(*) INTO waiting FROM {{s}}.invocations i WHERE i.kd = p_kd[idx] AND i.state <= 1;
			IF waiting >= t.max_queued THEN
				RAISE EXCEPTION 'perkey: task % key % has % invocations waiting (MaxQueued %)',
					p_task[idx], left(p_key[idx], 200), waiting, t.max_queued USING ERRCODE = 'P0003';
			END IF;
		END IF;
		IF t.policy = 1 AND {{s}}.busy(k, p_kd[idx]) THEN
			INSERT INTO {{s}}.invocations AS i (task, ks, key, kd, state, label, finished_at)
			VALUES (p_task[idx], t.ks, p_key[idx], p_kd[idx], 5, p_label[idx], now())
			RETURNING i.* INTO r;
			IF p_events THEN
				r.state := 0; evs := evs || {{s}}.ev(r, false);
				r.state := 5; evs := evs || {{s}}.ev(r, false);
			END IF;
			r_id := r.id; r_state := 5; r_deduped := false;
			RETURN NEXT;
			CONTINUE;
		END IF;
		IF t.policy = 2 THEN
			FOR p IN UPDATE {{s}}.invocations i SET state = 7, err_kind = 3, slot = NULL,
					finished_at = now(), absorbing = false
				WHERE i.kd = p_kd[idx] AND i.task = p_task[idx] AND i.state IN (0, 1)
				RETURNING i.* LOOP
				done := done || p.id;
				IF p_events THEN evs := evs || {{s}}.ev(p, false); END IF;
			END LOOP;
			FOR p IN UPDATE {{s}}.invocations i SET replaced = true
				WHERE i.kd = p_kd[idx] AND i.task = p_task[idx] AND i.state = 2 AND NOT i.replaced
				RETURNING i.* LOOP
				cancels := cancels || p.id;
			END LOOP;
		END IF;
		INSERT INTO {{s}}.invocations AS i (task, ks, key, kd, rd, absorbing, state, label, args, expire_at)
		VALUES (p_task[idx], t.ks, p_key[idx], p_kd[idx], p_rd[idx], p_rd[idx] IS NOT NULL, 0,
			p_label[idx], p_args[idx], now() + t.max_wait)
		RETURNING i.* INTO r;
		IF p_events THEN evs := evs || {{s}}.ev(r, false); END IF;
		r_state := 0;
		FOR p IN SELECT * FROM {{s}}.promote(t.ks, p_kd[idx]) LOOP
			ready := true;
			IF p.id = r.id THEN r_state := 1; END IF;
			IF p_events THEN evs := evs || {{s}}.ev(p, false); END IF;
		END LOOP;
		r_id := r.id; r_deduped := false;
		RETURN NEXT;
	END LOOP;
	IF ready THEN PERFORM pg_notify({{ready}}, ''); END IF;
	PERFORM {{s}}.notify_ids({{done}}, done);
	PERFORM {{s}}.notify_ids({{cancel}}, cancels);
	IF p_events THEN PERFORM {{s}}.notify_text({{events}}, evs); END IF;
END $$;

-- submit_simple is submit for a batch of tasks that wait, do not
-- dedupe, have no MaxQueued and no rate: set-based, in one statement each
-- for the inserts and the promotions. Ids follow the batch's order.
CREATE FUNCTION {{s}}.submit_simple(p_task text[], p_key text[], p_kd bytea[],
	p_label text[], p_args json[], p_events boolean)
RETURNS TABLE (r_id bigint, r_state smallint, r_deduped boolean)
LANGUAGE plpgsql AS $$
DECLARE
	l       bigint;
	ids     bigint[];
	ks      text[];
	kds     bytea[];
	evs     text := '';
	ready   boolean;
	pending bigint[];
BEGIN
	-- Insert first, then lock and promote: the locks are held for the
	-- promotion only. A completion that holds a key's lock meanwhile does
	-- not see these rows, but this promotion, which waits for that lock,
	-- does; so no key is left with free slots and waiting work.
	WITH ins AS (
		INSERT INTO {{s}}.invocations AS i (task, ks, key, kd, state, label, args, ready_at, expire_at)
		SELECT x.task, t.ks, x.key, x.kd, CASE WHEN x.kd IS NULL THEN 1 ELSE 0 END, x.label, x.args,
			CASE WHEN x.kd IS NULL THEN now() END, now() + t.max_wait
		FROM unnest(p_task, p_key, p_kd, p_label, p_args) WITH ORDINALITY AS x(task, key, kd, label, args, ord)
		JOIN {{s}}.tasks t ON t.name = x.task
		ORDER BY x.ord
		RETURNING i
	)
	SELECT array_agg((ins.i).id ORDER BY (ins.i).id), array_agg((ins.i).ks), array_agg((ins.i).kd),
		-- Unkeyed ones are Pending at once: Queued, then Pending.
		coalesce(string_agg(CASE WHEN (ins.i).kd IS NULL THEN {{s}}.ev_queued(ins.i) ELSE '' END
			|| {{s}}.ev(ins.i, false), '' ORDER BY (ins.i).id) FILTER (WHERE p_events), ''),
		bool_or((ins.i).state = 1)
	INTO ids, ks, kds, evs, ready
	FROM ins;
	IF coalesce(cardinality(ids), 0) <> coalesce(cardinality(p_task), 0) THEN
		RAISE EXCEPTION 'perkey: a task of the batch is not registered' USING ERRCODE = 'P0002';
	END IF;
	PERFORM {{s}}.lock_keys(p_kd);
	WITH p AS (SELECT * FROM {{s}}.promote_all(ks, kds))
	SELECT array_agg(p.id), evs || coalesce(string_agg({{s}}.ev(p, false), '') FILTER (WHERE p_events), '')
	INTO pending, evs FROM p;
	IF coalesce(ready, false) OR cardinality(pending) > 0 THEN
		PERFORM pg_notify({{ready}}, '');
	END IF;
	IF p_events THEN PERFORM {{s}}.notify_text({{events}}, evs); END IF;
	RETURN QUERY
		SELECT x.id, CASE WHEN x.id = ANY (pending) OR i.kd IS NULL THEN 1::smallint ELSE 0::smallint END, false
		FROM unnest(ids) WITH ORDINALITY AS x(id, ord)
		JOIN {{s}}.invocations i ON i.id = x.id
		ORDER BY x.ord;
END $$;

-- claim takes up to p_n ready invocations of the named tasks, oldest
-- ready_at first, and starts them under a lease held by p_worker. It waits
-- for no lock: rows another claimer holds are skipped. A start of a rated
-- key spends a token; the caller then promotes that key (promote_keys),
-- in its own transaction.
CREATE FUNCTION {{s}}.claim(p_worker text, p_n int, p_tasks text[], p_lease interval, p_events boolean)
RETURNS TABLE (r_id bigint, r_task text, r_key text, r_ks text, r_kd bytea, r_args json, r_attempt int,
	r_label text, r_submitted_at timestamptz, r_replaced boolean, r_rated boolean)
LANGUAGE plpgsql
-- A queue table's statistics are always stale: left to itself, the planner
-- may fetch every ready row and sort them (a bitmap scan) to take the first
-- few. The ready index already yields them in order: use it.
SET enable_bitmapscan = off SET enable_seqscan = off SET enable_sort = off
AS $$
BEGIN
	RETURN QUERY
	WITH c AS (
		SELECT i.id FROM {{s}}.invocations i
		WHERE i.state = 1 AND i.ready_at <= now() AND i.task = ANY (p_tasks)
		  AND (i.expire_at IS NULL OR i.expire_at > now())
		ORDER BY i.ready_at, i.id
		LIMIT p_n
		FOR UPDATE SKIP LOCKED
	), u AS (
		UPDATE {{s}}.invocations i SET state = 2, worker = p_worker, attempt = i.attempt + 1,
			started_at = now(), lease_until = now() + p_lease,
			absorbing = i.absorbing AND t.dedupe = 2
		FROM c, {{s}}.tasks t
		WHERE i.id = c.id AND t.name = i.task
		RETURNING i
	), rated AS (
		SELECT (u.i).id, (u.i).kd, k.rate FROM u JOIN {{s}}.keyspaces k ON k.name = (u.i).ks WHERE k.rate > 0
	), spend AS (
		-- A start spends a token: tat moves one interval past the later
		-- of itself and now.
		INSERT INTO {{s}}.rates AS x (kd, tat)
		SELECT rated.kd, now() + make_interval(secs => 1 / rated.rate) FROM rated
		ON CONFLICT (kd) DO UPDATE SET tat = greatest(x.tat, now()) + (excluded.tat - now())
	), published AS (
		SELECT {{s}}.notify_text({{events}}, string_agg({{s}}.ev(u.i, false), '')) AS done
		FROM u WHERE p_events
	)
	SELECT (u.i).id, (u.i).task, (u.i).key, (u.i).ks, (u.i).kd, (u.i).args, (u.i).attempt, (u.i).label,
		(u.i).submitted_at, (u.i).replaced, rated.id IS NOT NULL
	FROM u LEFT JOIN rated ON rated.id = (u.i).id CROSS JOIN published;
END $$;

-- promote_keys promotes the given keys under their locks: after the start
-- of a rated key, its next invocation may be admitted.
CREATE FUNCTION {{s}}.promote_keys(p_ks text[], p_kd bytea[], p_events boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	c     record;
	d     bytea;
	p     {{s}}.invocations;
	evs   text := '';
	ready boolean := false;
BEGIN
	PERFORM {{s}}.lock_keys(p_kd);
	FOR c IN SELECT DISTINCT ks, kd FROM unnest(p_ks, p_kd) AS x(ks, kd) WHERE kd IS NOT NULL LOOP
		FOR p IN SELECT * FROM {{s}}.promote(c.ks, c.kd) LOOP
			ready := true;
			IF p_events THEN evs := evs || {{s}}.ev(p, false); END IF;
		END LOOP;
	END LOOP;
	IF ready THEN PERFORM pg_notify({{ready}}, ''); END IF;
	IF p_events THEN PERFORM {{s}}.notify_text({{events}}, evs); END IF;
END $$;

-- complete ends the invocations that p_worker ran (attempt p_attempt), in
-- p_state: a final state, or 1 to put it back at the head of its key (work
-- that Close cancelled). A replaced invocation ends Canceled whatever its
-- task returned. An invocation whose lease was lost (run again elsewhere)
-- is left alone: r_applied is false. The freed slots promote the next
-- waiting invocations of their keys. Set-based: a few statements whatever
-- the batch's size.
CREATE FUNCTION {{s}}.complete(p_worker text, p_id bigint[], p_attempt int[], p_state smallint[],
	p_result json[], p_err text[], p_kind smallint[], p_events boolean)
RETURNS TABLE (r_id bigint, r_state smallint, r_applied boolean)
LANGUAGE plpgsql AS $$
DECLARE
	l          bigint;
	back_ids   bigint[];
	fin_ids    bigint[];
	fin_states smallint[];
	fks        text[];
	fkds       bytea[];
	evs        text;
	pending    bigint[];
BEGIN
	PERFORM {{s}}.lock_keys(ARRAY(SELECT i.kd FROM {{s}}.invocations i WHERE i.id = ANY (p_id)));
	WITH x AS (
		SELECT * FROM unnest(p_id, p_attempt, p_state, p_result, p_err, p_kind)
			AS x(id, attempt, state, result, err, kind)
	), back AS (
		UPDATE {{s}}.invocations i SET state = 1, worker = NULL, lease_until = NULL
		FROM x
		WHERE x.state = 1 AND i.id = x.id AND i.state = 2 AND i.worker = p_worker
		  AND i.attempt = x.attempt AND NOT i.replaced
		RETURNING i
	), fin AS (
		UPDATE {{s}}.invocations i SET
			state = CASE WHEN i.replaced OR x.state = 1 THEN 7 ELSE x.state END,
			err_kind = CASE WHEN i.replaced THEN 3 WHEN x.state = 1 THEN 4 ELSE x.kind END,
			result = x.result, err = x.err,
			slot = NULL, lease_until = NULL, absorbing = false, finished_at = now()
		FROM x
		WHERE i.id = x.id AND i.state = 2 AND i.worker = p_worker AND i.attempt = x.attempt
		  AND (x.state <> 1 OR i.replaced)
		RETURNING i
	)
	SELECT (SELECT array_agg((b.i).id) FROM back b),
		(SELECT array_agg((f.i).id) FROM fin f),
		(SELECT array_agg((f.i).state) FROM fin f),
		(SELECT array_agg((f.i).ks) FROM fin f WHERE (f.i).kd IS NOT NULL),
		(SELECT array_agg((f.i).kd) FROM fin f WHERE (f.i).kd IS NOT NULL),
		CASE WHEN p_events THEN
			coalesce((SELECT string_agg({{s}}.ev(b.i, false), '') FROM back b), '') ||
			coalesce((SELECT string_agg({{s}}.ev(f.i, false), '') FROM fin f), '')
		ELSE '' END
	INTO back_ids, fin_ids, fin_states, fks, fkds, evs;
	WITH p AS (SELECT * FROM {{s}}.promote_all(fks, fkds))
	SELECT array_agg(p.id), evs || coalesce(string_agg({{s}}.ev(p, false), '') FILTER (WHERE p_events), '')
	INTO pending, evs FROM p;
	IF cardinality(back_ids) > 0 OR cardinality(pending) > 0 THEN
		PERFORM pg_notify({{ready}}, '');
	END IF;
	IF cardinality(fin_ids) > 0 THEN
		PERFORM {{s}}.notify_ids({{done}}, fin_ids);
	END IF;
	IF p_events THEN PERFORM {{s}}.notify_text({{events}}, evs); END IF;
	RETURN QUERY
		SELECT x.id,
			CASE WHEN x.id = ANY (coalesce(back_ids, '{}')) THEN 1::smallint ELSE f.state END,
			x.id = ANY (coalesce(back_ids, '{}')) OR f.id IS NOT NULL
		FROM unnest(p_id) AS x(id)
		LEFT JOIN unnest(fin_ids, fin_states) AS f(id, state) ON f.id = x.id;
END $$;

-- heartbeat renews the leases of the invocations p_worker runs, and
-- returns those it still holds, with whether a Replace asked to cancel
-- them.
CREATE FUNCTION {{s}}.heartbeat(p_worker text, p_id bigint[], p_attempt int[], p_lease interval)
RETURNS TABLE (r_id bigint, r_replaced boolean)
LANGUAGE sql AS $$
	UPDATE {{s}}.invocations i SET lease_until = now() + p_lease
	FROM unnest(p_id, p_attempt) AS h(id, attempt)
	WHERE i.id = h.id AND i.attempt = h.attempt AND i.state = 2 AND i.worker = p_worker
	RETURNING i.id, i.replaced
$$;

-- rescue puts back every running invocation whose lease has expired (its
-- process died or lost the database): at the head of its key, in its own
-- slot, to run again; or, if it was replaced meanwhile, ends it Canceled.
CREATE FUNCTION {{s}}.rescue(p_events boolean) RETURNS TABLE (r_id bigint, r_state smallint)
LANGUAGE plpgsql AS $$
DECLARE
	c     record;
	r     {{s}}.invocations;
	p     {{s}}.invocations;
	evs   text := '';
	done  bigint[] := '{}';
	ready boolean := false;
BEGIN
	FOR c IN SELECT i.id, i.kd FROM {{s}}.invocations i
		WHERE i.state = 2 AND i.lease_until < now()
		ORDER BY {{s}}.lock_id(i.kd) NULLS FIRST, i.id LIMIT 1000 LOOP
		-- A key busy elsewhere is left for the next pass: waiting for
		-- its lock while holding the rows done so far could deadlock.
		CONTINUE WHEN c.kd IS NOT NULL AND NOT pg_try_advisory_xact_lock({{s}}.lock_id(c.kd));
		UPDATE {{s}}.invocations i SET
			state = CASE WHEN i.replaced THEN 7 ELSE 1 END,
			err_kind = CASE WHEN i.replaced THEN 3 ELSE i.err_kind END,
			slot = CASE WHEN i.replaced THEN NULL ELSE i.slot END,
			finished_at = CASE WHEN i.replaced THEN now() END,
			absorbing = i.absorbing AND NOT i.replaced,
			worker = CASE WHEN i.replaced THEN i.worker END,
			lease_until = NULL
		WHERE i.id = c.id AND i.state = 2 AND i.lease_until < now()
		RETURNING i.* INTO r;
		CONTINUE WHEN NOT FOUND;
		IF p_events THEN evs := evs || {{s}}.ev(r, false); END IF;
		IF r.state = 7 THEN
			done := done || r.id;
			IF r.kd IS NOT NULL THEN
				FOR p IN SELECT * FROM {{s}}.promote(r.ks, r.kd) LOOP
					IF p_events THEN evs := evs || {{s}}.ev(p, false); END IF;
				END LOOP;
			END IF;
		END IF;
		ready := true;
		r_id := r.id; r_state := r.state;
		RETURN NEXT;
	END LOOP;
	IF ready THEN PERFORM pg_notify({{ready}}, ''); END IF;
	PERFORM {{s}}.notify_ids({{done}}, done);
	IF p_events THEN PERFORM {{s}}.notify_text({{events}}, evs); END IF;
END $$;

-- expire ends Expired every invocation still Queued or Pending past its
-- MaxWait, and promotes what follows it.
CREATE FUNCTION {{s}}.expire(p_events boolean) RETURNS TABLE (r_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	c    record;
	r    {{s}}.invocations;
	p    {{s}}.invocations;
	evs  text := '';
	done bigint[] := '{}';
	ready boolean := false;
BEGIN
	FOR c IN SELECT i.id, i.kd FROM {{s}}.invocations i
		WHERE i.state <= 1 AND i.expire_at IS NOT NULL AND i.expire_at <= now()
		ORDER BY {{s}}.lock_id(i.kd) NULLS FIRST, i.id LIMIT 1000 LOOP
		-- A key busy elsewhere is left for the next pass: waiting for
		-- its lock while holding the rows done so far could deadlock.
		CONTINUE WHEN c.kd IS NOT NULL AND NOT pg_try_advisory_xact_lock({{s}}.lock_id(c.kd));
		UPDATE {{s}}.invocations i SET state = 6, slot = NULL, absorbing = false, finished_at = now()
		WHERE i.id = c.id AND i.state <= 1
		RETURNING i.* INTO r;
		CONTINUE WHEN NOT FOUND;
		done := done || r.id;
		IF p_events THEN evs := evs || {{s}}.ev(r, false); END IF;
		IF r.kd IS NOT NULL THEN
			FOR p IN SELECT * FROM {{s}}.promote(r.ks, r.kd) LOOP
				ready := true;
				IF p_events THEN evs := evs || {{s}}.ev(p, false); END IF;
			END LOOP;
		END IF;
		r_id := r.id;
		RETURN NEXT;
	END LOOP;
	IF ready THEN PERFORM pg_notify({{ready}}, ''); END IF;
	PERFORM {{s}}.notify_ids({{done}}, done);
	IF p_events THEN PERFORM {{s}}.notify_text({{events}}, evs); END IF;
END $$;
