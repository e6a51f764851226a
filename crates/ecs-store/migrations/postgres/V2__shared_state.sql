-- The PostgreSQL schema of ecsd, version 2: the state that every node on this database must
-- see the same, which a node on SQLite keeps in its own process or data directory.

-- The simulated driver's disks (kind 'disk') and VMs (kind 'vm'): what SQLite's nodes keep in
-- the journal `sim/state.jsonl` of their data directory. Here, so that a saga adopted by
-- another node finds the disks the first one made. `body` is the driver's JSON record (TEXT,
-- as every body of version 1); every driver verb reads and writes these rows, and no node
-- keeps a copy of them.
CREATE TABLE sim_records (
    kind TEXT NOT NULL CHECK (kind IN ('disk', 'vm')),
    id TEXT COLLATE "C" NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);

-- The faults in force (the admin API's, and the configuration files'): a fault added through
-- one node fires on all of them. Each node keeps a copy that it refreshes a few times a second,
-- so that a step where no fault matches costs no query; a fault that matches is counted here
-- (`hits`, under the row's lock), so that one with `times` fires that often across all nodes.
-- `spec` is ecsd's JSON of the fault; `ord` keeps creation order, in which faults are matched.
CREATE TABLE faults (
    id TEXT PRIMARY KEY,
    ord BIGINT GENERATED ALWAYS AS IDENTITY,
    project_id TEXT,
    spec TEXT NOT NULL,
    times BIGINT CHECK (times IS NULL OR times > 0),
    hits BIGINT NOT NULL DEFAULT 0
);

-- Values written once by the first node to start and read by every other: the token secret
-- (`token_secret`), so that a token minted by one node is accepted by all, and the bootstrap
-- account (`bootstrap_account`, JSON), so that every node accepts the credential the first
-- one printed.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
