-- Energy history for the dashboard and /api/energy, /api/power, kept by the writer in
-- the transaction that stores the readings (and filled from the stored readings when
-- this migration runs: see storage/src/energy_history.cpp).
--
-- energy_days: one row per port and closed production day, with the served total
-- (core/energy.h) when the day began and at its last reading. A day's energy is
-- end_wh - start_wh; the day still open is production_cache's today_production. A
-- day that follows days without readings starts where the last one ended, so the
-- energy measured across a gap is counted on the day it was measured.
CREATE TABLE energy_days (
    production_day date NOT NULL,
    serial_number  text NOT NULL,
    port_number    smallint NOT NULL,
    start_wh       bigint NOT NULL,
    end_wh         bigint NOT NULL,
    last_reading   timestamptz NOT NULL,
    PRIMARY KEY (production_day, serial_number, port_number)
);

-- power_5min: per inverter and five-minute bucket (UTC-aligned), the sum over its
-- good readings (linked, with a total) of the power of its ports that have a total,
-- and how many readings that is. A curve's point is sum_w / samples.
CREATE TABLE power_5min (
    bucket        timestamptz NOT NULL,
    serial_number text NOT NULL,
    sum_w         double precision NOT NULL,
    samples       integer NOT NULL,
    PRIMARY KEY (bucket, serial_number)
);
