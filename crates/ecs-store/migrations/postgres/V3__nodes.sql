-- Several nodes on one database: who is alive, who holds each saga, and where servers run.
--
-- Every time here is the database's (now(), clock_timestamp()), never a node's clock: nodes
-- whose clocks disagree still agree on whose lease has run out.

-- One row per node name. `incarnation` goes up each time a process joins under the name, so
-- that a process that was replaced (and does not know it) fails to renew. `lease_until` is
-- renewed every heartbeat; a node whose lease has passed is dead for every other node, which
-- then adopts the sagas it held. Capacity is what the node offers to placement.
CREATE TABLE nodes (
    name TEXT PRIMARY KEY,
    incarnation BIGINT NOT NULL,
    address TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL,
    lease_until TIMESTAMPTZ NOT NULL,
    vcpus BIGINT NOT NULL,
    memory_mib BIGINT NOT NULL
);

-- The holder of each saga. `owner_epoch` is the fencing token: every write to the saga's log
-- first reads it (FOR SHARE) and is refused unless it is the writer's; adopting a saga adds
-- one. `owner_incarnation` tells a node's own running sagas (this incarnation) from those of
-- an earlier one, which it takes back when it starts; NULL: recorded for a host by another
-- node, not started yet. `host_node`: the node whose VMs the saga acts on, when only that node
-- can run it (NULL: any node can).
ALTER TABLE sagas
    ADD COLUMN owner_node TEXT,
    ADD COLUMN owner_incarnation BIGINT,
    ADD COLUMN owner_epoch BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN host_node TEXT,
    ADD COLUMN adopted_at TIMESTAMPTZ;
CREATE INDEX sagas_open_owner ON sagas (owner_node) WHERE NOT done;

-- Who wrote each event, with which epoch, and when: the record that shows a stale node wrote
-- nothing after its saga was adopted.
ALTER TABLE saga_events
    ADD COLUMN node TEXT,
    ADD COLUMN epoch BIGINT,
    ADD COLUMN at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp();

-- The node a server was placed on (NULL for servers created before there were nodes).
ALTER TABLE servers ADD COLUMN host TEXT;
CREATE INDEX servers_host ON servers (host, flavor_id);
