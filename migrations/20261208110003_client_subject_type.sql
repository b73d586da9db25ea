-- Issue 10, point 5: pairwise subject identifiers (OIDC Core §8.1). Every existing client keeps
-- public subjects (its citizens' `sub` must not change); sector_identifier is the host whose
-- clients share pairwise subjects (NULL for public clients).
ALTER TABLE clients ADD COLUMN subject_type TEXT NOT NULL DEFAULT 'public';
ALTER TABLE clients ADD COLUMN sector_identifier TEXT;
