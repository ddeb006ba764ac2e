-- Energy history for the dashboard and /api/energy, /api/power, kept by the writer in
-- the transaction that stores the readings (and filled from the stored readings when
-- this migration runs: see storage/src/energy_history.cpp).
--
-- energy_days: per inverter and closed production day, the energy its ports served
-- that day (core/energy.h: what "today" said at the day's last reading, summed over
-- the ports). The day still open is production_cache's today_production. A day that
-- follows days without readings starts where the last one ended, so the energy
-- measured across a gap counts on the day it was measured.
CREATE TABLE energy_days (
    production_day date NOT NULL,
    serial_number  text NOT NULL,
    wh             bigint NOT NULL,
    PRIMARY KEY (production_day, serial_number)
);

-- energy_months: the same per calendar month of production days (its first day), so
-- that months and years over a decade read a few hundred rows.
CREATE TABLE energy_months (
    month         date NOT NULL,
    serial_number text NOT NULL,
    wh            bigint NOT NULL,
    PRIMARY KEY (month, serial_number)
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
