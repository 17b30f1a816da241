-- How many survey answers a conversation has, kept in its row: a search asks for the
-- answers only of conversations that have some (about a quarter of them), instead of
-- probing the survey_answers index once per result.
ALTER TABLE conversations ADD COLUMN survey_count INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET survey_count = (
    SELECT COUNT(*) FROM survey_answers s
    WHERE s.account_id = conversations.account_id AND s.conversation_id = conversations.conversation_id
)
WHERE EXISTS (
    SELECT 1 FROM survey_answers s
    WHERE s.account_id = conversations.account_id AND s.conversation_id = conversations.conversation_id
);
