-- How many survey answers a conversation has, kept in its row: a search asks for the
-- answers only of conversations that have some (about a quarter of them), instead of
-- probing the survey_answers index once per result.
ALTER TABLE conversations ADD COLUMN survey_count BIGINT NOT NULL DEFAULT 0;
UPDATE conversations c SET survey_count = s.n
FROM (
    SELECT account_id, conversation_id, COUNT(*) AS n FROM survey_answers GROUP BY account_id, conversation_id
) s
WHERE s.account_id = c.account_id AND s.conversation_id = c.conversation_id;
