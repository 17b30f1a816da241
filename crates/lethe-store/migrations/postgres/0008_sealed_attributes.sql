-- A conversation's engagement attributes are always read with it, so their sealed values
-- move into the conversation row; conversation_attributes keeps what `sdeSearch` matches
-- on (the kind and the keyed hash of the value). One frame per attribute, in position
-- order: the position and the sealed length (4 bytes each, big-endian), then the sealed
-- bytes (lethe-store's `sealed_list` reads and writes the same frames). The dropped
-- column's old bytes stay in dead tuples until vacuumed: ciphertext under the
-- conversation's key, which erasure destroys.
ALTER TABLE conversations ADD COLUMN sealed_attributes BYTEA;
UPDATE conversations c SET sealed_attributes = a.frames
FROM (
    SELECT account_id, conversation_id,
           string_agg(int4send(position::int4) || int4send(length(sealed)) || sealed, ''::bytea ORDER BY position) AS frames
    FROM conversation_attributes
    GROUP BY account_id, conversation_id
) a
WHERE a.account_id = c.account_id AND a.conversation_id = c.conversation_id;
ALTER TABLE conversation_attributes DROP COLUMN sealed;
