-- The served-energy model (core/energy.h): today_production is now the served total
-- minus the total when production_day began, and three columns keep what the model
-- needs across restarts: the DTU's raw counter at the last good reading, the offset a
-- counter reset introduced (served = raw + offset), whether the latest reading was
-- held over, when the latest reading (taken or not) came, and a rise or drop waiting
-- for the next readings to confirm it.
ALTER TABLE production_cache
    ADD COLUMN raw_total bigint,
    ADD COLUMN offset_wh bigint NOT NULL DEFAULT 0,
    ADD COLUMN held boolean NOT NULL DEFAULT false,
    ADD COLUMN latest timestamptz,
    ADD COLUMN suspect_first bigint NOT NULL DEFAULT 0,
    ADD COLUMN suspect_last bigint NOT NULL DEFAULT 0,
    ADD COLUMN suspect_count integer NOT NULL DEFAULT 0,
    ADD COLUMN suspect_low boolean NOT NULL DEFAULT false;
UPDATE production_cache SET raw_total = total_production, latest = last_updated;
