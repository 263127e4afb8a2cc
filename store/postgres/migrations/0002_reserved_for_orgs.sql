-- Placeholder so that 0003 applies on this branch: version 0002 belongs to
-- the organizations branch. DELETE THIS FILE when merging that branch.
SELECT 1;
