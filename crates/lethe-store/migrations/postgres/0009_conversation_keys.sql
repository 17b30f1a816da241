-- A conversation's data key is always read with it, so the wrapped key moves into the
-- conversation row: one index probe per search result instead of a join. Deleting the
-- row destroys the key with the data it seals; mask mode replaces it in place.
-- Consumers, requests and apps keep theirs in data_keys. The deleted data_keys rows
-- are copies of keys that stay live in their conversations, so what their dead tuples
-- hold until vacuumed is no more than the conversation rows hold.
ALTER TABLE conversations ADD COLUMN kek_id TEXT;
ALTER TABLE conversations ADD COLUMN wrapped_key BYTEA;
UPDATE conversations c SET kek_id = k.kek_id, wrapped_key = k.wrapped
FROM data_keys k
WHERE k.account_id = c.account_id AND k.owner_kind = 'conversation' AND k.owner_id = c.conversation_id;
DELETE FROM data_keys WHERE owner_kind = 'conversation';
