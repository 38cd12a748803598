-- Push requests find their alert source by the SHA-256 of the key they carry,
-- never by the key itself: a B-tree search on the plain key compares it
-- byte by byte and would answer faster the fewer leading bytes match. The
-- plain key stays in `integration_key` because an administrator can read it
-- back (integrations.md); after the lookup it is compared in constant time.
ALTER TABLE integrations ADD COLUMN integration_key_hash TEXT;
UPDATE integrations SET integration_key_hash = sha256_hex(integration_key)
    WHERE integration_key IS NOT NULL;
DROP INDEX integrations_key;
CREATE UNIQUE INDEX integrations_key_hash ON integrations(integration_key_hash)
    WHERE integration_key_hash IS NOT NULL;
