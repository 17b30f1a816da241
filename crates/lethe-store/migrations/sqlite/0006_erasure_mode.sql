-- A job erases in the mode the account had when its request became final, so changing
-- the setting later never mixes modes inside one job.
ALTER TABLE jobs ADD COLUMN erasure_mode TEXT NOT NULL DEFAULT 'delete' CHECK (erasure_mode IN ('delete', 'mask'));
ALTER TABLE jobs ADD COLUMN mask_marker TEXT;
