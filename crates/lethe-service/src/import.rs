//! Bulk NDJSON import: records are validated as they are read and written in batches,
//! one transaction each. Every record is idempotent, so re-running a file after a
//! failure finishes the job without duplicating anything.

use crate::error::{ServiceError, ServiceResult};
use crate::ingest::seal_survey;
use crate::lookup::Lookup;
use crate::sealing::*;
use crate::wire::{ConsumerInput, ConversationInput, ImportLine, ParsedConversation};
use crate::Lethe;
use lethe_crypto::DataKey;
use lethe_domain::conversation::{ConsumerProfile, ParticipantPii};
use lethe_domain::{ConsumerId, SiteId};
use lethe_store::{
    AttributeWrite, ConsumerWrite, ConversationWrite, ImportBatch, ImportCounts, ImportedConversation, KeyOwnerKind,
};
use std::collections::HashMap;

/// A validated line, ready to seal.
pub(crate) enum PreparedLine {
    Consumer(ConsumerId, Box<ConsumerInput>),
    Conversation(Box<(ConversationInput, ParsedConversation)>),
}

fn prepare(site: &SiteId, line: ImportLine) -> ServiceResult<PreparedLine> {
    Ok(match line {
        ImportLine::Consumer(input) => {
            let id = input
                .id
                .as_deref()
                .ok_or_else(|| ServiceError::invalid("consumer.id", "is required in an import"))?;
            PreparedLine::Consumer(ConsumerId::parse(id)?, Box::new(input))
        }
        ImportLine::Conversation(input) => {
            let parsed = input.to_domain(site)?;
            PreparedLine::Conversation(Box::new((*input, parsed)))
        }
    })
}

/// Seals and writes records in one transaction. `Ok(Err(reason))` means a record
/// conflicted with stored data and nothing of the batch was written.
pub(crate) async fn write_lines(
    lethe: &Lethe,
    site: &SiteId,
    lines: Vec<ImportLine>,
) -> ServiceResult<Result<ImportCounts, String>> {
    let prepared = lines
        .into_iter()
        .map(|l| prepare(site, l))
        .collect::<ServiceResult<Vec<_>>>()?;
    write_prepared(lethe, site, &prepared).await
}

async fn write_prepared(
    lethe: &Lethe,
    site: &SiteId,
    lines: &[PreparedLine],
) -> ServiceResult<Result<ImportCounts, String>> {
    let account = site.as_str();
    let now = lethe.now();
    let conversations: Vec<&ConversationInput> = lines
        .iter()
        .filter_map(|l| match l {
            PreparedLine::Conversation(boxed) => Some(&boxed.0),
            PreparedLine::Consumer(..) => None,
        })
        .collect();
    lethe.refuse_erased_batch(site, &conversations).await?;
    let consumers: Vec<(&ConsumerId, &ConsumerInput)> = lines
        .iter()
        .filter_map(|l| match l {
            PreparedLine::Consumer(id, input) => Some((id, input.as_ref())),
            PreparedLine::Conversation(_) => None,
        })
        .collect();
    let ids: Vec<String> = consumers.iter().map(|(id, _)| id.as_str().to_owned()).collect();
    let keys = lethe.consumer_keys(account, &ids).await?;
    let mut batch = ImportBatch::default();
    let mut profiles: HashMap<&str, ParticipantPii> = HashMap::new();
    for ((id, input), key) in consumers.iter().zip(&keys) {
        let profile = input.profile();
        batch
            .consumers
            .push(seal_consumer(lethe, account, id, &profile, key, now));
        profiles.insert(id.as_str(), profile.pii);
    }
    let mut blobs = Vec::new();
    for line in lines {
        let PreparedLine::Conversation(boxed) = line else {
            continue;
        };
        let (input, parsed) = boxed.as_ref();
        let participant = match (&parsed.conversation.participant, &parsed.conversation.consumer_id) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(consumer)) => match profiles.get(consumer.as_str()) {
                Some(p) => Some(p.clone()),
                None => stored_participant(lethe, site, consumer).await?,
            },
            (None, None) => None,
        };
        let (item, files) = seal_conversation(lethe, site, input, parsed, participant.as_ref(), now);
        for (key, sealed) in files {
            lethe.blobs.put(&key, sealed).await?;
            blobs.push((item.conversation.conversation_id.clone(), key));
        }
        batch.conversations.push(item);
    }
    let result = lethe.store.import_batch(account, &batch).await;
    let orphaned: Vec<&String> = match &result {
        Ok(Ok(counts)) => blobs
            .iter()
            .filter(|(c, _)| counts.unchanged_ids.contains(c))
            .map(|(_, k)| k)
            .collect(),
        _ => blobs.iter().map(|(_, k)| k).collect(),
    };
    for key in orphaned {
        lethe.blobs.delete(key).await?;
    }
    Ok(result?)
}

async fn stored_participant(
    lethe: &Lethe,
    site: &SiteId,
    consumer: &ConsumerId,
) -> ServiceResult<Option<ParticipantPii>> {
    match lethe.consumer(site, consumer).await {
        Ok(view) => Ok(Some(view.profile.pii)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn seal_consumer(
    lethe: &Lethe,
    account: &str,
    id: &ConsumerId,
    profile: &ConsumerProfile,
    key: &DataKey,
    now: i64,
) -> ConsumerWrite {
    let mut lookups = Vec::new();
    if let Some(email) = &profile.pii.email {
        lookups.push(lethe.lookup_hash(account, Lookup::Email(email)));
    }
    if let Some(phone) = &profile.pii.phone {
        lookups.push(lethe.lookup_hash(account, Lookup::Phone(phone)));
    }
    for identity in &profile.channel_identities {
        lookups.push(lethe.lookup_hash(account, Lookup::ChannelUser(&identity.cid)));
    }
    for value in profile.attributes.values() {
        lookups.push(lethe.lookup_hash(account, Lookup::ConsumerAttribute(value)));
    }
    ConsumerWrite {
        consumer_id: id.as_str().to_owned(),
        sealed_profile: key.seal(PROFILE, &serde_json::to_vec(profile).expect("profiles serialise")),
        lookup_hashes: lookups,
        now,
    }
}

/// Seals one conversation record; returns it and its files' sealed bytes by blob key.
fn seal_conversation(
    lethe: &Lethe,
    site: &SiteId,
    input: &ConversationInput,
    parsed: &ParsedConversation,
    participant: Option<&ParticipantPii>,
    now: i64,
) -> (ImportedConversation, Vec<(String, Vec<u8>)>) {
    let account = site.as_str();
    let c = &parsed.conversation;
    let (key, stored_key) = lethe.new_data_key(account, KeyOwnerKind::Conversation, c.id.as_str());
    let canonical = serde_json::to_vec(input).expect("conversation inputs serialise");
    let attributes = c
        .attributes
        .iter()
        .enumerate()
        .map(|(i, a)| AttributeWrite {
            kind: a.kind.as_str().to_owned(),
            value_hash: lethe.lookup_hash(account, Lookup::Attribute(a.kind, &a.value)),
            sealed: key.seal(
                &attribute_context(i),
                &serde_json::to_vec(a).expect("attributes serialise"),
            ),
        })
        .collect();
    let conversation = ConversationWrite {
        conversation_id: c.id.as_str().to_owned(),
        kind: c.kind.as_str().to_owned(),
        status: if c.closing.is_some() { "closed" } else { "open" }.to_owned(),
        consumer_id: c.consumer_id.as_ref().map(|id| id.as_str().to_owned()),
        bot_id: c.bot_id.as_ref().map(|id| id.as_str().to_owned()),
        cid_hash: c
            .channel_user_id
            .as_deref()
            .map(|cid| lethe.lookup_hash(account, Lookup::ChannelUser(cid))),
        start_time: c.start_time,
        end_time: c.closing.as_ref().map(|x| x.end_time),
        close_reason: c.closing.as_ref().and_then(|x| x.close_reason.clone()),
        source: c.routing.source.clone(),
        device: c.routing.device.clone(),
        agent_id: c.routing.agent_id.clone(),
        skill_id: c.routing.skill_id.clone(),
        csat: c.closing.as_ref().and_then(|x| x.ratings.csat),
        mcs: c.closing.as_ref().and_then(|x| x.ratings.mcs),
        sealed_participant: participant
            .map(|p| key.seal(PARTICIPANT, &serde_json::to_vec(p).expect("participants serialise"))),
        content_mac: lethe.keyring.content_mac(account, &canonical),
        key: stored_key,
        attributes,
        created_at: now,
    };
    let messages = parsed
        .messages
        .iter()
        .zip(&input.messages)
        .map(|(m, raw)| lethe.seal_message(site, &key, raw, m))
        .collect();
    let survey_answers = parsed.surveys.iter().flat_map(|s| seal_survey(&key, s)).collect();
    let mut files = Vec::new();
    let mut blobs = Vec::new();
    for file in &parsed.files {
        let record = lethe.seal_file(site, &c.id, &key, file);
        blobs.push((
            record.blob_key.clone(),
            key.seal(&file_context(file.id.as_str()), &file.bytes),
        ));
        files.push(record);
    }
    let item = ImportedConversation {
        conversation,
        messages,
        survey_answers,
        files,
    };
    (item, blobs)
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub lines: u64,
    pub batches: u64,
    pub consumers: u64,
    pub conversations_created: u64,
    pub conversations_unchanged: u64,
    pub messages: u64,
}

/// Why an import stopped, and how far it had got.
#[derive(Debug)]
pub struct ImportFailure {
    /// The 1-based line at fault (for a conflicting batch, its first line).
    pub line: u64,
    /// Lines committed before the failure; the rest were not written.
    pub committed_lines: u64,
    pub error: ServiceError,
}

/// Streams NDJSON lines into batches.
pub struct Importer {
    lethe: Lethe,
    site: SiteId,
    batch_size: usize,
    pending: Vec<PreparedLine>,
    first_pending: u64,
    report: ImportReport,
}

impl Importer {
    /// Starts an import into an existing account.
    pub async fn new(lethe: Lethe, site: SiteId, batch_size: usize) -> ServiceResult<Self> {
        lethe.require_account(&site).await?;
        Ok(Self {
            lethe,
            site,
            batch_size: batch_size.max(1),
            pending: Vec::new(),
            first_pending: 0,
            report: ImportReport::default(),
        })
    }

    /// What has been committed so far.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }

    /// Validates one line and writes a batch when enough have gathered.
    pub async fn push(&mut self, line_no: u64, text: &str) -> Result<(), ImportFailure> {
        if text.trim().is_empty() {
            return Ok(());
        }
        let fail = |error: ServiceError, committed| ImportFailure {
            line: line_no,
            committed_lines: committed,
            error,
        };
        let line: ImportLine = serde_json::from_str(text).map_err(|e| {
            fail(
                ServiceError::invalid(format!("line {line_no}"), e.to_string()),
                self.report.lines,
            )
        })?;
        self.push_record(line_no, line).await
    }

    /// Validates one parsed record and writes a batch when enough have gathered.
    pub async fn push_record(&mut self, line_no: u64, line: ImportLine) -> Result<(), ImportFailure> {
        let prepared = prepare(&self.site, line).map_err(|error| ImportFailure {
            line: line_no,
            committed_lines: self.report.lines,
            error,
        })?;
        if self.pending.is_empty() {
            self.first_pending = line_no;
        }
        self.pending.push(prepared);
        if self.pending.len() >= self.batch_size {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes what is pending and returns the totals.
    pub async fn finish(mut self) -> Result<ImportReport, ImportFailure> {
        self.flush().await?;
        Ok(self.report)
    }

    async fn flush(&mut self) -> Result<(), ImportFailure> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let fail = |error: ServiceError, report: &ImportReport, line| ImportFailure {
            line,
            committed_lines: report.lines,
            error,
        };
        let counts = match write_prepared(&self.lethe, &self.site, &self.pending).await {
            Ok(Ok(counts)) => counts,
            Ok(Err(reason)) => return Err(fail(ServiceError::Conflict(reason), &self.report, self.first_pending)),
            Err(e) => return Err(fail(e, &self.report, self.first_pending)),
        };
        let r = &mut self.report;
        r.lines += self.pending.len() as u64;
        r.batches += 1;
        r.consumers += counts.consumers;
        r.conversations_created += counts.conversations_created;
        r.conversations_unchanged += counts.conversations_unchanged;
        r.messages += counts.messages;
        self.pending.clear();
        Ok(())
    }
}
