-- Schema v2: natural keys, timestamptz (UTC), one inverter_data row per inverter
-- per poll. Time is in every unique key of the reading tables (TimescaleDB) and the
-- serial in every key (Citus).

CREATE TABLE dtus (
    dtu_name      text PRIMARY KEY,
    serial_number text,
    transport     text,
    address       text,
    last_seen     timestamptz
);

CREATE TABLE inverters (
    serial_number text PRIMARY KEY,
    dtu_name      text,
    inverter_type text NOT NULL DEFAULT 'unknown',
    port_count    integer NOT NULL DEFAULT 0,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    metadata      jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE inverter_data (
    serial_number    text NOT NULL,
    "timestamp"      timestamptz NOT NULL,
    grid_voltage     double precision,
    grid_frequency   double precision,
    temperature      double precision,
    operating_status integer,
    alarm_code       integer,
    alarm_count      integer,
    link_status      smallint,
    PRIMARY KEY (serial_number, "timestamp")
);

CREATE TABLE port_data (
    serial_number    text NOT NULL,
    port_number      smallint NOT NULL,
    "timestamp"      timestamptz NOT NULL,
    pv_voltage       double precision,
    pv_current       double precision,
    pv_power         double precision,
    today_production integer,
    total_production bigint,
    PRIMARY KEY (serial_number, port_number, "timestamp")
);

-- Latest good energy values per port; production_day is the local day (TIMEZONE,
-- starting at RESET_HOUR) that today_production belongs to.
CREATE TABLE production_cache (
    serial_number    text NOT NULL,
    port_number      smallint NOT NULL,
    today_production integer NOT NULL DEFAULT 0,
    total_production bigint NOT NULL DEFAULT 0,
    production_day   date,
    last_updated     timestamptz NOT NULL,
    PRIMARY KEY (serial_number, port_number)
);

CREATE TABLE config_cache (
    key          text PRIMARY KEY,
    value        jsonb,
    last_updated timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE system_metrics (
    "timestamp"  timestamptz NOT NULL,
    metric_name  text NOT NULL,
    metric_value double precision,
    tags         jsonb
);

-- History newest-first and latest reading per inverter / port are served by the
-- primary keys (backward index scans). Metrics by name and time:
CREATE INDEX system_metrics_name_time_idx ON system_metrics (metric_name, "timestamp");
CREATE INDEX system_metrics_time_idx ON system_metrics ("timestamp");
-- Oldest / newest reading for /stats without a full scan:
CREATE INDEX port_data_time_idx ON port_data ("timestamp");
CREATE INDEX inverters_dtu_idx ON inverters (dtu_name);
