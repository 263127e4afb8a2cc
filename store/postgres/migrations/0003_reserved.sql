-- Placeholder so that 0005 applies on this branch: version 0003 belongs to
-- another branch. DELETE THIS FILE when merging that branch.
SELECT 1;
