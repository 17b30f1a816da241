-- A conversation's engagement attributes are always read with it, so their sealed values
-- move into the conversation row: one column instead of an index descent and a table
-- descent per search result. conversation_attributes keeps what `sdeSearch` matches on
-- (the kind and the keyed hash of the value). The column holds one frame per attribute,
-- in position order: the position and the sealed length (4 bytes each, big-endian), then
-- the sealed bytes (lethe-store's `sealed_list` reads and writes the same frames).
ALTER TABLE conversations ADD COLUMN sealed_attributes BLOB;
UPDATE conversations SET sealed_attributes = (
    SELECT unhex(group_concat(printf('%08X%08X', a.position, length(a.sealed)) || hex(a.sealed), '' ORDER BY a.position))
    FROM conversation_attributes a
    WHERE a.account_id = conversations.account_id AND a.conversation_id = conversations.conversation_id
)
WHERE EXISTS (
    SELECT 1 FROM conversation_attributes a
    WHERE a.account_id = conversations.account_id AND a.conversation_id = conversations.conversation_id
);
ALTER TABLE conversation_attributes DROP COLUMN sealed;
